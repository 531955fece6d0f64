"""Classical baselines that keras_ae measures itself against, in numpy."""

from __future__ import annotations

from typing import Any

import numpy as np

from keras_ae import checks


class PCA:
    """Principal component analysis by SVD of the centred training data.

    ``reconstruct(x)`` projects onto the ``n_components`` directions of
    largest variance and back: the floor a linear autoencoder reaches.
    """

    def __init__(self, n_components: int) -> None:
        self.n_components = checks.positive_int("n_components", n_components)

    def fit(self, x: Any) -> PCA:
        """Learn the mean and the principal directions of ``x`` (N, ...)."""
        flat = checks.array("x", x).reshape(len(x), -1).astype("float64")
        if self.n_components > min(flat.shape):
            raise ValueError(
                f"`n_components` must be at most min(n_samples, n_features) = "
                f"{min(flat.shape)}. Received: n_components={self.n_components}"
            )
        self.shape_ = np.shape(x)[1:]
        self.mean_ = flat.mean(axis=0)
        _, _, vt = np.linalg.svd(flat - self.mean_, full_matrices=False)
        self.components_ = vt[: self.n_components]
        return self

    def transform(self, x: Any) -> np.ndarray:
        """Codes of ``x``: shape (N, n_components)."""
        flat = np.asarray(x, "float64").reshape(len(x), -1)
        return (flat - self.mean_) @ self.components_.T

    def inverse_transform(self, codes: Any) -> np.ndarray:
        """Reconstructions from codes, in the data's shape, float32."""
        flat = np.asarray(codes) @ self.components_ + self.mean_
        return flat.reshape((len(flat), *self.shape_)).astype("float32")

    def reconstruct(self, x: Any) -> np.ndarray:
        """Project ``x`` onto the components and back."""
        return self.inverse_transform(self.transform(x))


def rolling_zscore(series: Any, window: int) -> np.ndarray:
    """Anomaly score of a raw value against its recent past: a rolling z-score.

    ``score[t] = |x[t] - mean| / std`` over the ``window`` points before
    ``t`` (``x[t - window]`` to ``x[t - 1]``, population σ). Near the start
    fewer points are available and all of them are used; ``score[0]`` and
    ``score[1]`` are 0. Where the past is constant (σ below 1e-6 times the
    series' scale) the score is 0 if ``x[t]`` equals it and very large
    otherwise.

    Args:
        series: 1-D array of values.
        window: number of past points (>= 2).

    Returns:
        float32 array of the series' length; higher = more anomalous.
    """
    x = checks.array("series", series).astype("float64")
    if x.ndim != 1:
        raise ValueError(f"`series` must be 1-D. Received shape {x.shape}.")
    window = checks.positive_int("window", window)
    if window < 2:
        raise ValueError(f"`window` must be at least 2. Received: window={window}")
    x = x - x.mean()  # centred: the running sums lose less precision
    sums = np.concatenate([[0.0], np.cumsum(x)])
    squares = np.concatenate([[0.0], np.cumsum(x * x)])
    t = np.arange(len(x))
    low = np.maximum(t - window, 0)
    n = np.maximum(t - low, 1)
    mean = (sums[t] - sums[low]) / n
    std = np.sqrt(np.maximum((squares[t] - squares[low]) / n - mean**2, 0.0))
    floor = 1e-6 * max(float(np.abs(x).max()), 1e-12)
    score = np.abs(x - mean) / np.maximum(std, floor)
    score[np.abs(x - mean) <= floor] = 0.0
    score[:2] = 0.0
    return score.astype("float32")

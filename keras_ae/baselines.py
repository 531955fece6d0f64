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
        flat = checks.images("x", x).reshape(len(x), -1).astype("float64")
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

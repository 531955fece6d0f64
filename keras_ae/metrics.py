"""Evaluation figures: reconstruction MSE, PSNR and the PCA reference."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from keras_ae import checks
from keras_ae.baselines import PCA


def mse(x: Any, x_hat: Any) -> float:
    """Mean squared error over every value."""
    return float(np.mean(np.square(np.asarray(x, "float64") - np.asarray(x_hat, "float64"))))


def psnr(x: Any, x_hat: Any, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB, from the mean squared error over the whole set."""
    return float(10.0 * np.log10(data_range**2 / max(mse(x, x_hat), 1e-12)))


def reconstruction_mse(model: keras.Model, x: Any, batch_size: int = 256) -> float:
    """Test MSE of ``model.predict(x)`` against ``x``."""
    x = checks.images("x", x)
    return mse(x, model.predict(x, batch_size=batch_size, verbose=0))


def pca_mse(x_train: Any, x_test: Any, n_components: int) -> float:
    """Test MSE of PCA with ``n_components`` fitted on ``x_train``."""
    pca = PCA(n_components).fit(x_train)
    return mse(x_test, pca.reconstruct(x_test))

"""keras_ae.losses against NumPy: the loss terms, and the exact and estimated
Jacobian norms of a contractive penalty.

These check the ``keras.ops`` keras_ae.losses leans on, so they belong to the
Keras canary (``pytest -m canary``; see test_keras_canary.py)."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from keras_ae import losses

pytestmark = pytest.mark.canary


def test_losses_keras_ops_match_numpy():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(3, 4, 2)).astype("float32")
    p = rng.uniform(0.05, 0.95, size=(3, 4, 2)).astype("float32")
    bce = -(x * np.log(p) + (1 - x) * np.log(1 - p)).reshape(3, -1).sum(-1)
    np.testing.assert_allclose(losses.bernoulli_nll(x, p), bce, rtol=1e-5)
    nll = 0.5 * np.square(x - p).reshape(3, -1).sum(-1) + 0.5 * np.log(2 * np.pi) * 8
    np.testing.assert_allclose(losses.gaussian_nll(x, p), nll, rtol=1e-5)
    np.testing.assert_allclose(
        losses.mse_per_sample(x, p), np.square(x - p).reshape(3, -1).mean(-1), rtol=1e-5
    )
    mu, log_var = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    kl = -0.5 * np.sum(1 + log_var - mu**2 - np.exp(log_var), axis=-1)
    np.testing.assert_allclose(losses.gaussian_kl(mu, log_var), kl, rtol=1e-5)
    rho = np.array([0.1, 0.3], "float32")
    sparse_kl = np.sum(0.05 * np.log(0.05 / rho) + 0.95 * np.log(0.95 / (1 - rho)))
    np.testing.assert_allclose(losses.kl_sparsity(0.05, rho), sparse_kl, rtol=1e-5)


def test_jacobian_norms_match_the_numpy_jacobian():
    """The exact norm and the forward-tangent estimate (with the scaled basis as
    directions it is exact too) against J built in NumPy for tanh -> sigmoid."""
    rng = np.random.default_rng(1)
    n, hidden, code, batch = 6, 5, 3, 4
    stack = [keras.layers.Dense(hidden, "tanh"), keras.layers.Dense(code, "sigmoid")]
    stack[0].build((None, n))
    stack[1].build((None, hidden))
    x = rng.normal(size=(batch, n)).astype("float32")
    (w1, b1), (w2, b2) = ([np.asarray(v) for v in layer.weights] for layer in stack)
    h = np.tanh(x @ w1 + b1)
    c = 1 / (1 + np.exp(-(h @ w2 + b2)))
    jac = (c * (1 - c))[:, :, None] * w2.T[None] @ ((1 - h**2)[:, :, None] * w1.T[None])
    want = np.sum(jac**2, axis=(1, 2))
    np.testing.assert_allclose(losses.dense_jacobian_norm(x, stack), want, rtol=1e-4)
    basis = math.sqrt(n) * np.eye(n, dtype="float32")  # (k = n directions, n)
    directions = np.broadcast_to(basis[:, None, :], (n, batch, n)).copy()
    np.testing.assert_allclose(losses.jacobian_norm_estimate(x, stack, directions), want, rtol=1e-4)

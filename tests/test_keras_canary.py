"""The Keras canary: the Keras APIs keras_ae leans on, in a few seconds.

``pytest -m canary`` runs these tests alone. ``.ci/run`` runs them against the
lowest Keras that pyproject.toml allows (a venv of its own with JAX and
without TensorFlow) as well as the latest (the main run), so that a Keras
release that changes one of these APIs fails here, with a short traceback,
before the long tests:

- every model kind from its public builder: one ``fit`` step, then a
  ``.keras`` round trip (same class, same encoder and decoder outputs);
- the ``compute_loss`` override (reconstruction + the contractive penalty);
- ``keras.random.SeedGenerator`` inside the custom layers;
- ``keras.export.ExportArchive`` through :func:`keras_ae.export_saved_model`
  (TensorFlow and JAX, with TensorFlow installed to write the SavedModel);
- the ``keras.ops`` that :mod:`keras_ae.losses` uses, against NumPy;
- ``import keras_ae`` on JAX without importing TensorFlow.
"""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae import layers, losses

pytestmark = pytest.mark.canary

BACKEND = keras.backend.backend()
SHAPE = (28, 28, 1)

#: kind -> a small model from its public builder
KINDS = {
    "dense": lambda: keras_ae.build_dense_autoencoder(SHAPE, hidden_units=(16,), latent_dim=4),
    "tied": lambda: keras_ae.build_dense_autoencoder(
        SHAPE, hidden_units=(16,), latent_dim=4, tied_weights=True
    ),
    "conv": lambda: keras_ae.build_conv_autoencoder(SHAPE, filters=(4, 8), latent_dim=4),
    "denoising": lambda: keras_ae.build_denoising_autoencoder(
        SHAPE, architecture="dense", hidden_units=(16,), latent_dim=4, seed=1
    ),
    "sparse": lambda: keras_ae.build_sparse_autoencoder(SHAPE, hidden_units=(16,), latent_dim=8),
    "contractive": lambda: keras_ae.build_contractive_autoencoder(
        SHAPE, hidden_units=(16,), latent_dim=4, seed=1
    ),
    "vae": lambda: keras_ae.build_vae(SHAPE, latent_dim=2, hidden_units=(16,), seed=1),
    "lstm": lambda: keras_ae.build_lstm_autoencoder((12, 1), units=(8,), latent_dim=4),
}


@pytest.fixture(scope="module")
def digits():
    """32 embedded MNIST test digits."""
    return keras_ae.datasets.load_mnist(source="embedded")[1][0][:32]


def _inputs(kind: str, digits: np.ndarray) -> np.ndarray:
    if kind != "lstm":
        return digits
    t = np.arange(32)[:, None] + np.arange(12)[None, :]
    return np.sin(2 * np.pi * t / 12).astype("float32")[..., None]


def _as_list(outputs) -> list[np.ndarray]:
    return [np.asarray(o) for o in (outputs if isinstance(outputs, list | tuple) else [outputs])]


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_fits_one_step_and_round_trips_as_keras_file(kind, digits, tmp_path):
    model = KINDS[kind]()
    x = _inputs(kind, digits)
    history = model.fit(x, x, epochs=1, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"][0]), history.history

    path = keras_ae.save_keras(model, tmp_path / f"{kind}.keras")
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model)
    assert len(loaded.optimizer.variables) == len(model.optimizer.variables)
    codes = _as_list(model.encoder(x))
    for got, want in zip(_as_list(loaded.encoder(x)), codes, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        np.asarray(loaded.decoder(codes[0])), np.asarray(model.decoder(codes[0])), atol=1e-6
    )


def test_compute_loss_override_adds_the_contractive_penalty(digits):
    """``fit(x)`` without targets goes through the model's ``compute_loss``: the
    loss it reports is the compiled MSE plus weight times the exact penalty."""
    weight = 0.5
    model = keras_ae.build_contractive_autoencoder(
        SHAPE, hidden_units=(16,), latent_dim=4, contractive_weight=weight, penalty="exact"
    )
    model.compile(optimizer="adam", loss="mse")
    model.fit(digits, epochs=1, batch_size=32, verbose=0)  # no targets: the inputs are
    result = model.evaluate(digits, batch_size=32, verbose=0, return_dict=True)
    mse = np.mean(np.square(model.predict(digits, verbose=0) - digits))
    assert result["contractive_loss"] > 0
    np.testing.assert_allclose(result["loss"], mse + weight * result["contractive_loss"], rtol=1e-4)


def test_seed_generators_in_layers_repeat_by_seed_and_move_on_by_call():
    z_mean = np.zeros((4, 3), "float32")
    z_log_var = np.zeros((4, 3), "float32")
    first, again = layers.Sampling(seed=3), layers.Sampling(seed=3)
    a, b = np.asarray(first([z_mean, z_log_var])), np.asarray(first([z_mean, z_log_var]))
    np.testing.assert_allclose(np.asarray(again([z_mean, z_log_var])), a)  # same seed, same draws
    assert not np.allclose(a, b)  # the generator's state moves on
    restored = layers.Sampling.from_config(first.get_config())
    np.testing.assert_allclose(np.asarray(restored([z_mean, z_log_var])), a)

    noise = layers.GaussianCorruption(0.5, seed=2)
    x = np.full((2, 5), 0.5, "float32")
    np.testing.assert_array_equal(np.asarray(noise(x)), x)  # inference: no corruption
    noisy = np.asarray(noise(x, training=True))
    assert 0.1 < np.std(noisy - x) < 1.0
    np.testing.assert_allclose(
        np.asarray(layers.GaussianCorruption(0.5, seed=2)(x, training=True)), noisy
    )


@pytest.mark.skipif(BACKEND == "torch", reason="Keras cannot trace PyTorch into a SavedModel")
@pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None,
    reason="writing a SavedModel needs TensorFlow (the lowest-Keras venv has JAX only)",
)
def test_export_archive_endpoints_match_the_model(digits, tmp_path):
    import tensorflow as tf

    model = KINDS["dense"]()
    path = keras_ae.export_saved_model(model, tmp_path / "saved")
    served = tf.saved_model.load(str(path))
    np.testing.assert_allclose(
        np.asarray(served.reconstruct(tf.constant(digits))),
        model.predict(digits, verbose=0),
        atol=1e-5,
    )
    np.testing.assert_allclose(
        np.asarray(served.encode(tf.constant(digits))),
        model.encoder.predict(digits, verbose=0),
        atol=1e-5,
    )


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


@pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None,
    reason="TensorFlow is not installed: every test here already runs without it",
)
def test_import_on_jax_leaves_tensorflow_unloaded():
    """keras_ae builds and trains on JAX without importing TensorFlow."""
    code = (
        "import sys, numpy as np, keras_ae\n"
        "m = keras_ae.build_dense_autoencoder((4,), hidden_units=(3,), latent_dim=2)\n"
        "x = np.random.default_rng(0).uniform(size=(8, 4)).astype('float32')\n"
        "m.fit(x, x, epochs=1, verbose=0)\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]

"""The Keras canary: the Keras APIs keras_ae leans on, in well under a minute.

``pytest -m canary`` runs these tests and test_losses.py alone. ``.ci/run`` runs
them against the lowest Keras that pyproject.toml allows (a venv of its own with
JAX and without TensorFlow) as well as the latest (the main run), so that a Keras
release that changes one of these APIs fails here with a short traceback:

- every model kind from its public builder: one ``fit`` step, then a
  ``.keras`` round trip (same class, same encoder and decoder outputs);
- the ``compute_loss`` override (reconstruction + the contractive penalty);
- ``keras.random.SeedGenerator`` inside the custom layers;
- ``keras.export.ExportArchive`` through :func:`keras_ae.export_saved_model`
  (TensorFlow and JAX, with TensorFlow installed to write the SavedModel);
- the ``keras.ops`` that :mod:`keras_ae.losses` uses, against NumPy (in
  test_losses.py, marked ``canary`` as a whole);
- ``import keras_ae`` on JAX without importing TensorFlow.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae import layers

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

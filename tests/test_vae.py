"""The variational autoencoder: its layers, losses, export and reload.

KL annealing is tested in test_callbacks.py, the importance-weighted bound in
test_metrics.py, the denoising chain in test_sampling.py."""

from __future__ import annotations

import json
import textwrap

import keras
import numpy as np
import pytest
from conftest import call_without_keras_ae, run_python

import keras_ae
from keras_ae import layers, metrics

# A dense latent-16 VAE after 5 epochs on the embedded training set (batch 128)
# measured a test −ELBO of 136.0-138.0 nats over seeds 0-3 (keras 3.15, TF 2.21,
# CPU); the bound leaves a margin of about 12%.
NEG_ELBO_BOUND = 155.0


@pytest.fixture(scope="module")
def trained(trained_vae):
    """The session's trained VAE (conftest.py), with its History."""
    return trained_vae


# --- Sampling layer ---------------------------------------------------------------


def test_sampling_layer_config_and_serialization_round_trip():
    layer = layers.Sampling(seed=7, name="sampling")
    config = layer.get_config()
    assert config["seed"] == 7
    assert layers.Sampling.from_config(config).get_config() == config
    blob = json.dumps(keras.saving.serialize_keras_object(layer))
    restored = keras.saving.deserialize_keras_object(json.loads(blob))
    assert type(restored) is layers.Sampling
    assert restored.get_config() == config


def test_sampling_layer_draws_fresh_reproducible_standard_normals():
    mean = np.zeros((20000, 8), "float32")
    log_var = np.zeros_like(mean)
    layer = layers.Sampling(seed=3)
    first = keras.ops.convert_to_numpy(layer([mean, log_var]))
    second = keras.ops.convert_to_numpy(layer([mean, log_var]))
    assert first.shape == mean.shape
    assert not np.allclose(first, second)  # successive calls draw anew
    again = keras.ops.convert_to_numpy(layers.Sampling(seed=3)([mean, log_var]))
    np.testing.assert_array_equal(first, again)  # same seed, new layer: same draw
    # eps ~ N(0, 1): 160,000 draws put the mean within 0.01 and the std within 0.005
    # (4 standard errors); use twice that.
    assert abs(first.mean()) < 0.02
    assert abs(first.std() - 1.0) < 0.01
    # mean + exp(log_var / 2) * eps: N(3, 2²)
    z = keras.ops.convert_to_numpy(layer([mean + 3.0, log_var + np.log(4.0)]))
    assert abs(z.mean() - 3.0) < 0.04 and abs(z.std() - 2.0) < 0.02


# --- KL layer ---------------------------------------------------------------------


def test_kl_layer_adds_beta_times_the_known_kl():
    z_mean = np.array([[1.0, 0.0], [0.0, 0.0]], "float32")
    z_log_var = np.array([[0.0, np.log(2.0)], [0.0, 0.0]], "float32")
    # KL(N(μ, σ²) || N(0, 1)) = ½ Σ (μ² + σ² − 1 − log σ²): 1 − ½ log 2 and 0
    expected = (1.0 - 0.5 * np.log(2.0) + 0.0) / 2
    layer = layers.KLDivergence(beta=0.5)
    out_mean, out_log_var = layer([z_mean, z_log_var])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out_mean), z_mean)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out_log_var), z_log_var)
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), 0.5 * expected, rtol=1e-6)
    assert float(layer.kl_loss.result()) == 0.0  # reported by the model's compute_loss:
    layer.update_metrics()
    np.testing.assert_allclose(float(layer.kl_loss.result()), expected, rtol=1e-6)
    layer.beta.assign(2.0)  # beta is a variable: no rebuild needed
    layer([z_mean, z_log_var])
    np.testing.assert_allclose(float(layer.losses[0]), 2.0 * expected, rtol=1e-6)
    assert not layer.beta.trainable
    assert layer.get_config()["beta"] == 0.5


# --- fit / evaluate ---------------------------------------------------------------


def test_fit_and_evaluate_report_the_loss_terms(trained, mnist):
    vae, history = trained
    terms = ("loss", "reconstruction_loss", "kl_loss")
    assert set(history.history) >= {*terms, *(f"val_{t}" for t in terms)}
    for name in history.history:
        assert np.isfinite(history.history[name]).all()
    loss = np.array(history.history["val_loss"])
    parts = np.array(history.history["val_reconstruction_loss"]) + np.array(
        history.history["val_kl_loss"]
    )
    np.testing.assert_allclose(loss, parts, rtol=1e-5)  # β = 1
    x_test = mnist[1][0]
    try:
        vae.beta.assign(0.25)
        result = vae.evaluate(x_test, x_test, batch_size=128, return_dict=True, verbose=0)
    finally:
        vae.beta.assign(1.0)
    assert set(result) == set(terms)
    np.testing.assert_allclose(
        result["loss"], result["reconstruction_loss"] + 0.25 * result["kl_loss"], rtol=1e-5
    )
    assert result["kl_loss"] > 1.0  # the posterior is in use, not collapsed


# --- quality ----------------------------------------------------------------------


def test_short_training_reaches_the_neg_elbo_bound(trained, mnist):
    vae, _ = trained
    x_test = mnist[1][0]
    neg_elbo = metrics.negative_elbo(vae, x_test, seed=0)
    nll = metrics.importance_sampled_nll(vae, x_test[:500], num_samples=20, seed=0)
    print(f"test −ELBO {neg_elbo:.2f}, IWAE k=20 on 500 digits {nll:.2f} nats")
    assert neg_elbo < NEG_ELBO_BOUND


# --- export and reload ------------------------------------------------------------


def test_sample_endpoint_without_keras_ae(trained, tmp_path):
    import tensorflow as tf

    vae, _ = trained
    path = keras_ae.export_saved_model(vae, tmp_path / "sm")
    inputs = {
        "sample__a": np.array([6, 3]),
        "sample__b": np.array([6, 3]),
        "sample__c": np.array([6, 4]),
        "sample__one": np.array([1, 3]),
    }
    result = call_without_keras_ae(path, inputs, tmp_path)
    assert "sample" in result["__signatures__"]
    a, b, c = result["sample__a__0"], result["sample__b__0"], result["sample__c__0"]
    assert a.shape == (6, 28, 28, 1) and result["sample__one__0"].shape == (1, 28, 28, 1)
    assert 0.0 <= a.min() and a.max() <= 1.0
    np.testing.assert_array_equal(a, b)  # same seed, same images
    assert np.abs(a - c).max() > 0.1  # another seed, other images
    z = tf.random.stateless_normal((6, 16), seed=[3, 0]).numpy()
    np.testing.assert_allclose(a, vae.decode(z), atol=1e-5)  # decoded prior draws


_RELOAD_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import keras
    import keras_ae  # registers the keras_ae classes

    path, x_file, out_file = sys.argv[1:4]
    model = keras.saving.load_model(path, safe_mode=True)
    x = np.load(x_file)
    np.savez(
        out_file,
        cls=type(model).__name__,
        reconstruction=model.reconstruct(x),
        beta=float(model.beta.numpy()),
        loss=model.evaluate(x, x, verbose=0, return_dict=True)["loss"],
    )
    """
)


def test_keras_file_reloads_in_a_fresh_process_in_safe_mode(trained, x_small, tmp_path):
    vae, _ = trained
    vae.beta.assign(0.5)  # an annealed β travels with the weights
    try:
        path = keras_ae.save_keras(vae, tmp_path / "vae.keras")
    finally:
        vae.beta.assign(1.0)
    np.save(tmp_path / "x.npy", x_small)
    run_python(["-c", _RELOAD_SCRIPT, str(path), "x.npy", "out.npz"], tmp_path)
    with np.load(tmp_path / "out.npz") as out:
        assert str(out["cls"]) == "VariationalAutoencoder"
        np.testing.assert_allclose(out["reconstruction"], vae.reconstruct(x_small), atol=1e-5)
        assert float(out["beta"]) == 0.5
        assert np.isfinite(out["loss"])

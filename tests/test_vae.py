"""The variational autoencoder: its losses, training, export and reload.

Its Sampling and KLDivergence layers are tested in test_layers.py, KL annealing
in test_callbacks.py, the importance-weighted bound in test_metrics.py, the
denoising chain in test_sampling.py."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from conftest import call_without_keras_ae, run_python

import keras_ae
from keras_ae import metrics

# A dense latent-16 VAE after 5 epochs on the embedded training set (batch 128)
# measured a test −ELBO of 136.0-138.0 nats over seeds 0-3 (keras 3.15, TF 2.21,
# CPU); the bound leaves a margin of about 12%.
NEG_ELBO_BOUND = 155.0


@pytest.fixture(scope="module")
def trained(trained_vae):
    """The session's trained VAE (conftest.py), with its History."""
    return trained_vae


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

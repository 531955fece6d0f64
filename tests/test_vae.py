"""The variational autoencoder: its layers, losses, KL annealing, the
importance-weighted bound, export and reload; and the denoising chain."""

from __future__ import annotations

import json
import math
import textwrap

import keras
import numpy as np
import pytest
from conftest import call_without_keras_ae, run_python

import keras_ae
from keras_ae import layers, losses, metrics, sampling
from keras_ae.callbacks import KLAnnealing

# A dense latent-16 VAE after 5 epochs on the embedded training set (batch 128)
# measured a test −ELBO of 136.0-138.0 nats over seeds 0-3 (keras 3.15, TF 2.21,
# CPU); the bound leaves a margin of about 12%.
NEG_ELBO_BOUND = 155.0
QUALITY_EPOCHS = 5


@pytest.fixture(scope="module")
def trained(mnist):
    """A dense latent-16 VAE trained briefly, with its History."""
    (x_train, _), (x_test, _) = mnist
    keras.utils.set_random_seed(0)
    vae = keras_ae.build_vae(latent_dim=16, seed=0)
    history = vae.fit(
        x_train,
        x_train,
        epochs=QUALITY_EPOCHS,
        batch_size=128,
        validation_data=(x_test, x_test),
        verbose=0,
    )
    return vae, history


@pytest.fixture(scope="module")
def x_eval(mnist):
    """1,000 test digits for the Monte-Carlo checks."""
    return mnist[1][0][:1000]


def mc_standard_error(vae, x, seed=123):
    """Standard error of a one-sample Monte-Carlo mean over ``x``, from the
    spread of the log-weights of each image (10 draws per image)."""
    log_w = metrics.log_importance_weights(vae, x, 10, seed=seed)
    return math.sqrt(np.mean(log_w.var(axis=1, ddof=1)) / len(x))


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


# --- KL annealing -----------------------------------------------------------------


def fu_schedule(t, total, cycles, ratio, start, stop):
    """Fu et al. (2019), written out independently of KLAnnealing.value."""
    if t >= total:
        return stop
    period = total / cycles
    tau = (t - period * math.floor(t / period)) / period
    return start + (stop - start) * (tau / ratio if tau <= ratio else 1.0)


@pytest.fixture(scope="module")
def small_vae():
    """A small latent-2 VAE, shared so that its compiled train step is reused."""
    return keras_ae.build_vae(hidden_units=(32,), latent_dim=2, seed=1)


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        (
            {"schedule": "linear", "start": 0.1, "stop": 0.9, "duration": 4},
            lambda e: 0.1 + 0.8 * min(1.0, e / 4),
        ),
        (
            {"schedule": "cyclical", "cycles": 3, "ratio": 0.5},
            lambda e: fu_schedule(e, 9, 3, 0.5, 0.0, 1.0),
        ),
        (
            {"schedule": "cyclical", "cycles": 2, "ratio": 0.75, "start": 0.2, "duration": 8},
            lambda e: fu_schedule(e, 8, 2, 0.75, 0.2, 1.0),
        ),
    ],
)
def test_kl_annealing_sets_beta_epoch_by_epoch(small_vae, mnist, kwargs, expected):
    x = mnist[0][0][:256]
    vae = small_vae
    history = vae.fit(
        x, x, epochs=9, batch_size=64, verbose=0, callbacks=[KLAnnealing(**kwargs)]
    ).history
    want = [expected(e) for e in range(9)]
    np.testing.assert_allclose(history["beta"], want, atol=1e-6)
    assert len(set(np.round(want, 6))) > 2  # the schedule really moves
    # the loss used the annealed β of its epoch
    np.testing.assert_allclose(
        history["loss"],
        np.array(history["reconstruction_loss"]) + np.array(want) * history["kl_loss"],
        rtol=1e-4,
    )
    assert float(vae.beta.numpy()) == pytest.approx(want[-1], abs=1e-6)


def test_kl_annealing_per_step_follows_the_global_step(small_vae, mnist):
    x = mnist[0][0][:512]  # batch 8: 64 steps per epoch, 2 executions of 32 steps
    vae = small_vae
    seen = []

    class Record(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_begin(self, batch, logs=None):
            seen.append((self.epoch * 64 + batch, float(vae.beta.numpy())))

    annealing = KLAnnealing("linear", unit="step", duration=100, start=0.0, stop=2.0)
    vae.fit(x, x, epochs=3, batch_size=8, verbose=0, callbacks=[annealing, Record()])
    steps = [t for t, _ in seen]
    assert steps == [0, 32, 64, 96, 128, 160]
    np.testing.assert_allclose([b for _, b in seen], [2.0 * min(1, t / 100) for t in steps])


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"schedule": "cosine"}, "schedule"),
        ({"start": -0.1}, "start"),
        ({"stop": float("nan")}, "stop"),
        ({"duration": 0}, "duration"),
        ({"unit": "batch"}, "unit"),
        ({"cycles": 0}, "cycles"),
        ({"ratio": 1.5}, "ratio"),
        ({"ratio": 0.0}, "ratio"),
    ],
)
def test_kl_annealing_rejects_bad_arguments(kwargs, argument):
    with pytest.raises((ValueError, TypeError)) as err:
        KLAnnealing(**kwargs)
    assert f"`{argument}`" in str(err.value) and f"{argument}=" in str(err.value)


def test_kl_annealing_needs_a_model_with_beta(x_small):
    model = keras_ae.build_dense_autoencoder(hidden_units=(16,), latent_dim=4)
    with pytest.raises(ValueError, match="beta"):
        model.fit(x_small, x_small, epochs=1, verbose=0, callbacks=[KLAnnealing()])


# --- importance-weighted bound ----------------------------------------------------


def log_normal(v, mean, log_var):
    """log N(v; mean, exp(log_var)) summed over the last axis, in float64."""
    v, mean, log_var = (np.asarray(a, "float64") for a in (v, mean, log_var))
    return -0.5 * np.sum(
        np.log(2 * np.pi) + log_var + np.square(v - mean) / np.exp(log_var), axis=-1
    )


def sampled_neg_elbo(vae, x, seed, nll):
    """−ELBO with a sampled KL, log q(z|x) − log p(z), at the eps metrics draws."""
    z_mean, z_log_var = vae.encode(x)
    eps = np.random.default_rng(seed).standard_normal((len(x), 1, z_mean.shape[1]))
    z = (z_mean + np.exp(0.5 * z_log_var) * eps[:, 0].astype("float32")).astype("float32")
    recon = nll(x, vae.decode(z))
    sampled_kl = log_normal(z, z_mean, z_log_var) - log_normal(z, 0.0, 0.0)
    return float(np.mean(recon + sampled_kl))


def test_iwae_at_one_sample_is_the_neg_elbo_with_a_sampled_kl(trained, x_eval):
    vae, _ = trained

    def bernoulli(x, x_hat):
        x_hat = np.clip(np.asarray(x_hat, "float64"), losses.EPSILON, 1 - losses.EPSILON)
        bce = -(x * np.log(x_hat) + (1 - x) * np.log(1 - x_hat))
        return bce.reshape(len(x), -1).sum(axis=1)

    nll_1 = metrics.importance_sampled_nll(vae, x_eval, num_samples=1, seed=5)
    np.testing.assert_allclose(nll_1, sampled_neg_elbo(vae, x_eval, 5, bernoulli), rtol=1e-5)
    np.testing.assert_allclose(
        nll_1, metrics.negative_elbo(vae, x_eval, kl="sampled", seed=5), rtol=1e-12
    )
    # the draws don't depend on the batch size
    np.testing.assert_allclose(
        nll_1,
        metrics.importance_sampled_nll(vae, x_eval, num_samples=1, seed=5, batch_size=7),
        rtol=1e-6,
    )


def test_iwae_at_one_sample_agrees_with_evaluate(trained, x_eval):
    """In expectation the k = 1 bound is the −ELBO that ``evaluate`` reports
    (analytic KL, β = 1); the two differ by Monte-Carlo noise only."""
    vae, _ = trained
    evaluated = vae.evaluate(x_eval, x_eval, batch_size=200, return_dict=True, verbose=0)["loss"]
    tolerance = 4 * math.sqrt(2) * mc_standard_error(vae, x_eval)  # two independent estimates
    assert tolerance < 0.01 * evaluated  # the check is tight: well under 1%
    nll_1 = metrics.importance_sampled_nll(vae, x_eval, num_samples=1, seed=11)
    assert abs(nll_1 - evaluated) < tolerance
    analytic = metrics.negative_elbo(vae, x_eval, seed=11)
    assert abs(analytic - evaluated) < tolerance


def test_iwae_never_increases_with_more_samples(trained, x_eval):
    vae, _ = trained
    nll = {
        k: metrics.importance_sampled_nll(vae, x_eval, num_samples=k, seed=0) for k in (1, 5, 50)
    }
    noise = 3 * mc_standard_error(vae, x_eval)
    print({k: round(v, 3) for k, v in nll.items()}, f"noise {noise:.3f}")
    assert nll[5] <= nll[1] + noise
    assert nll[50] <= nll[5] + noise
    assert nll[50] < nll[1] - 1.0  # a real tightening: several nats on this model


def test_iwae_with_a_gaussian_likelihood(x_small):
    keras.utils.set_random_seed(2)
    vae = keras_ae.build_vae(hidden_units=(32,), latent_dim=3, likelihood="gaussian")

    def gaussian(x, x_hat):
        sq = np.square(np.asarray(x, "float64") - x_hat).reshape(len(x), -1)
        return 0.5 * sq.sum(axis=1) + 0.5 * sq.shape[1] * np.log(2 * np.pi)

    nll_1 = metrics.importance_sampled_nll(vae, x_small, num_samples=1, seed=4)
    np.testing.assert_allclose(nll_1, sampled_neg_elbo(vae, x_small, 4, gaussian), rtol=1e-5)
    assert metrics.importance_sampled_nll(vae, x_small, num_samples=20, seed=4) < nll_1


def test_iwae_rejects_bad_arguments(trained, x_small):
    vae, _ = trained
    with pytest.raises(ValueError, match="num_samples"):
        metrics.importance_sampled_nll(vae, x_small, num_samples=0)
    with pytest.raises(ValueError, match="likelihood"):
        metrics.importance_sampled_nll(vae, x_small, likelihood="poisson")
    with pytest.raises(TypeError, match="vae"):
        metrics.importance_sampled_nll(keras_ae.build_dense_autoencoder(), x_small)


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


# --- denoising chain --------------------------------------------------------------


@pytest.fixture(scope="module")
def dae(mnist):
    keras.utils.set_random_seed(0)
    model = keras_ae.build_denoising_autoencoder(
        filters=(8, 16), latent_dim=16, noise_level=0.4, seed=0
    )
    x = mnist[0][0][:2048]
    model.fit(x, x, epochs=1, batch_size=64, verbose=0)
    return model


def test_denoising_chain_shapes_range_and_moves(dae, x_small):
    x0 = x_small[:6]
    chain = sampling.denoising_chain(dae, x0, steps=5, seed=1)
    assert chain.shape == (6, *x0.shape) and chain.dtype == np.float32
    np.testing.assert_array_equal(chain[0], x0)
    assert chain.min() >= 0.0 and chain.max() <= 1.0
    assert np.abs(chain[-1] - x0).mean() > 0.02  # the chain changes the images
    assert np.abs(chain[2] - chain[1]).mean() > 1e-3  # each step corrupts anew
    np.testing.assert_array_equal(chain, sampling.denoising_chain(dae, x0, steps=5, seed=1))
    assert not np.array_equal(chain, sampling.denoising_chain(dae, x0, steps=5, seed=2))
    # without noise a step is the model's reconstruction
    quiet = sampling.denoising_chain(dae, x0, steps=1, noise_level=0.0)
    np.testing.assert_allclose(quiet[1], dae.predict(x0, verbose=0), atol=1e-6)


def test_denoising_chain_needs_a_noise_level_without_corruption_layer(x_small):
    model = keras_ae.build_dense_autoencoder(hidden_units=(16,), latent_dim=4)
    with pytest.raises(ValueError, match="noise_level"):
        sampling.denoising_chain(model, x_small[:2], steps=2)
    assert sampling.denoising_chain(model, x_small[:2], steps=2, noise_level=0.3).shape[0] == 3

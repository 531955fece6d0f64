"""keras_ae.metrics: the importance-weighted bound (IWAE) and the −ELBO of a VAE."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae import losses, metrics


@pytest.fixture(scope="module")
def trained(trained_vae):
    """The session's trained VAE (conftest.py), with its History."""
    return trained_vae


@pytest.fixture(scope="module")
def x_eval(mnist):
    """1,000 test digits for the Monte-Carlo checks."""
    return mnist[1][0][:1000]


def mc_standard_error(vae, x, seed=123):
    """Standard error of a one-sample Monte-Carlo mean over ``x``, from the
    spread of the log-weights of each image (10 draws per image)."""
    log_w = metrics.log_importance_weights(vae, x, 10, seed=seed)
    return math.sqrt(np.mean(log_w.var(axis=1, ddof=1)) / len(x))


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

"""Evaluation figures: reconstruction MSE, PSNR, the PCA reference, and a VAE's
−ELBO and importance-sampled negative log-likelihood."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from keras_ae import checks, losses
from keras_ae.baselines import PCA


def mse(x: Any, x_hat: Any) -> float:
    """Mean squared error over every value."""
    return float(np.mean(np.square(np.asarray(x, "float64") - np.asarray(x_hat, "float64"))))


def psnr(x: Any, x_hat: Any, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB, from the mean squared error over the whole set."""
    return psnr_from_mse(mse(x, x_hat), data_range)


def psnr_from_mse(mse: float, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB of a mean squared error."""
    return float(10.0 * np.log10(data_range**2 / max(mse, 1e-12)))


def reconstruction_mse(model: keras.Model, x: Any, batch_size: int = 256) -> float:
    """Test MSE of ``model.predict(x)`` against ``x``."""
    x = checks.array("x", x)
    return mse(x, model.predict(x, batch_size=batch_size, verbose=0))


def pca_mse(x_train: Any, x_test: Any, n_components: int) -> float:
    """Test MSE of PCA with ``n_components`` fitted on ``x_train``."""
    pca = PCA(n_components).fit(x_train)
    return mse(x_test, pca.reconstruct(x_test))


# Variational autoencoders: −ELBO and the importance-weighted bound, in nats per image.


def _vae_parts(vae: Any, likelihood: str | None) -> tuple[Any, Any, Callable[[Any, Any], Any]]:
    """``(encoder, decoder, per-image NLL)`` of ``vae``, validated."""
    encoder, decoder = getattr(vae, "encoder", None), getattr(vae, "decoder", None)
    if not (
        isinstance(encoder, keras.Model)
        and isinstance(decoder, keras.Model)
        and len(encoder.outputs) >= 2
    ):
        raise TypeError(
            "`vae` must have an `encoder` model (x -> [z_mean, z_log_var, ...]) and a "
            f"`decoder` model (z -> x_hat), like keras_ae.build_vae's. Received: vae={vae!r}"
        )
    if likelihood is None:
        likelihood = getattr(vae, "spec", {}).get("likelihood", "bernoulli")
    checks.choice("likelihood", likelihood, losses.LIKELIHOOD_NLL)
    return encoder, decoder, losses.LIKELIHOOD_NLL[likelihood]


def _numpy(tensor: Any) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(tensor), "float64")


def _vae_terms(
    vae: Any,
    x: Any,
    num_samples: int,
    batch_size: int | None,
    seed: int | None,
    likelihood: str | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Monte-Carlo terms of the bounds for every image and sample.

    Returns ``log p(x|z)`` and ``log p(z) - log q(z|x)`` of shape (N, k), and
    the analytic ``KL(q(z|x) || p(z))`` of shape (N,), float64, for
    ``z = mean + exp(log_var / 2) * eps`` with ``eps`` drawn by
    ``np.random.default_rng(seed)`` as one (N, k, latent) array, batch after
    batch, so the draws do not depend on ``batch_size``.
    """
    encoder, decoder, nll = _vae_parts(vae, likelihood)
    bernoulli = nll is losses.bernoulli_nll
    x = checks.array("x", x, shape=encoder.input_shape[1:], unit_range=bernoulli)
    k = checks.positive_int("num_samples", num_samples)
    step = (
        max(1, 2048 // k) if batch_size is None else checks.positive_int("batch_size", batch_size)
    )
    codes = encoder.predict(x, batch_size=256, verbose=0)
    z_mean, z_log_var = (np.asarray(v, "float32") for v in codes[:2])
    latent = z_mean.shape[-1]
    rng = np.random.default_rng(seed)
    log_px = np.empty((len(x), k))
    log_ratio = np.empty((len(x), k))
    for start in range(0, len(x), step):
        mu, log_var = z_mean[start : start + step], z_log_var[start : start + step]
        eps = rng.standard_normal((len(mu), k, latent)).astype("float32")
        z = (mu[:, None] + np.exp(0.5 * log_var)[:, None] * eps).reshape(-1, latent)
        x_hat = decoder(z, training=False)
        x_rep = np.repeat(x[start : start + step], k, axis=0)
        log_px[start : start + step] = -_numpy(nll(x_rep, x_hat)).reshape(-1, k)
        # log N(z; 0, I) and log N(z; mu, sigma²) = log N(eps; 0, I) - sum(log sigma)
        log_pz = -_numpy(losses.gaussian_nll(z, 0.0))
        log_qz = -_numpy(losses.gaussian_nll(eps.reshape(-1, latent), 0.0))
        log_qz = log_qz.reshape(-1, k) - 0.5 * log_var.sum(axis=-1, dtype="float64")[:, None]
        log_ratio[start : start + step] = log_pz.reshape(-1, k) - log_qz
    kl = _numpy(losses.gaussian_kl(z_mean, z_log_var))
    return log_px, log_ratio, kl


def log_importance_weights(
    vae: Any,
    x: Any,
    num_samples: int = 1,
    *,
    seed: int | None = 0,
    likelihood: str | None = None,
    batch_size: int | None = None,
) -> np.ndarray:
    """``log w = log p(x|z) + log p(z) - log q(z|x)`` for ``num_samples`` draws
    ``z ~ q(z|x)`` per image: an (N, num_samples) float64 array.

    See :func:`importance_sampled_nll` for the arguments.
    """
    log_px, log_ratio, _ = _vae_terms(vae, x, num_samples, batch_size, seed, likelihood)
    return log_px + log_ratio


def importance_sampled_nll(
    vae: Any,
    x: Any,
    num_samples: int = 100,
    *,
    batch_size: int | None = None,
    seed: int | None = 0,
    likelihood: str | None = None,
) -> float:
    """Test negative log-likelihood by the importance-weighted bound (Burda et al. 2015).

    ``-log p(x) ≈ -(logsumexp_k log w_k - log k)``, averaged over the images,
    in nats per image, with ``log w_k = log p(x|z_k) + log p(z_k) -
    log q(z_k|x)`` and ``z_k ~ q(z|x)``. The bound is an upper bound on
    ``-log p(x)`` that tightens (never increases in expectation) as
    ``num_samples`` grows.

    At ``num_samples=1`` it is ``-log w``: the −ELBO with a *sampled* KL,
    ``log q(z|x) - log p(z)``, equal with the same ``seed`` to
    ``negative_elbo(vae, x, seed=seed, kl="sampled")``. In expectation it
    equals the −ELBO with the analytic KL that ``vae.evaluate`` reports as
    ``loss`` when β = 1.

    Args:
        vae: a :func:`keras_ae.build_vae` model, or any object with an
            ``encoder`` model (x -> [z_mean, z_log_var, ...]) and a ``decoder``
            model (z -> x̂).
        x: the images, shape (N, *input_shape).
        num_samples: k, the draws per image.
        batch_size: images per step; each step decodes ``batch_size *
            num_samples`` codes (default: about 2048 codes per step). The
            result does not depend on it.
        seed: seed of the numpy generator that draws the ``eps``.
        likelihood: ``"bernoulli"`` or ``"gaussian"``; default ``vae.spec``'s
            (``"bernoulli"`` for a model without ``spec``). The per-image
            negative log-likelihoods are :mod:`keras_ae.losses`'s, the ones
            the VAE trains with.
    """
    log_w = log_importance_weights(
        vae, x, num_samples, batch_size=batch_size, seed=seed, likelihood=likelihood
    )
    return float(-np.mean(np.logaddexp.reduce(log_w, axis=1) - np.log(log_w.shape[1])))


def negative_elbo(
    vae: Any,
    x: Any,
    num_samples: int = 1,
    *,
    kl: str = "analytic",
    batch_size: int | None = None,
    seed: int | None = 0,
    likelihood: str | None = None,
) -> float:
    """−ELBO in nats per image: ``E_q[-log p(x|z)] + KL(q(z|x) || N(0, I))``.

    The expectation is a Monte-Carlo mean over ``num_samples`` draws per
    image. ``kl="analytic"`` uses the closed-form KL (the β = 1 ``loss`` of
    ``vae.evaluate``, up to Monte-Carlo noise); ``kl="sampled"`` uses
    ``log q(z|x) - log p(z)`` at the same draws, so that with
    ``num_samples=1`` it equals :func:`importance_sampled_nll` at k = 1 with
    the same ``seed``. Other arguments as in :func:`importance_sampled_nll`.
    """
    checks.choice("kl", kl, ("analytic", "sampled"))
    log_px, log_ratio, kl_analytic = _vae_terms(vae, x, num_samples, batch_size, seed, likelihood)
    if kl == "sampled":
        return float(-np.mean(log_px + log_ratio))
    return float(-np.mean(log_px) + np.mean(kl_analytic))

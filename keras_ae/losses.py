"""Loss terms as pure functions of tensors (``keras.ops``).

The two reconstruction losses used for probabilistic models are registered
Keras loss functions that sum over every non-batch axis, so a VAE's loss is
in nats per image and compares with published figures.
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

EPSILON = 1e-6


def _sum_per_sample(values: Any) -> Any:
    return ops.sum(ops.reshape(values, (ops.shape(values)[0], -1)), axis=-1)


@keras.saving.register_keras_serializable(package="keras_ae")
def bernoulli_nll(y_true: Any, y_pred: Any) -> Any:
    """Binary cross-entropy summed over pixels: −log p(x|z) for a Bernoulli decoder."""
    y_pred = ops.clip(y_pred, EPSILON, 1.0 - EPSILON)
    bce = -(y_true * ops.log(y_pred) + (1.0 - y_true) * ops.log(1.0 - y_pred))
    return _sum_per_sample(bce)


@keras.saving.register_keras_serializable(package="keras_ae")
def gaussian_nll(y_true: Any, y_pred: Any) -> Any:
    """−log N(x; x̂, 1) summed over pixels: a Gaussian decoder with fixed unit variance."""
    sq = ops.square(y_true - y_pred)
    return 0.5 * _sum_per_sample(sq) + 0.5 * math.log(2 * math.pi) * ops.cast(
        ops.prod(ops.shape(y_true)[1:]), sq.dtype
    )


def gaussian_kl(z_mean: Any, z_log_var: Any) -> Any:
    """KL(N(μ, σ²) ‖ N(0, I)) per sample: −½ Σ (1 + log σ² − μ² − σ²)."""
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


def kl_sparsity(target: float, rho_hat: Any) -> Any:
    """Σ_j KL(ρ ‖ ρ̂_j) for Bernoulli units; ρ̂ is kept in [ε, 1 − ε]."""
    rho_hat = ops.clip(rho_hat, EPSILON, 1.0 - EPSILON)
    return ops.sum(
        target * ops.log(target / rho_hat)
        + (1.0 - target) * ops.log((1.0 - target) / (1.0 - rho_hat))
    )


def sigmoid_jacobian_norm(code: Any, kernel: Any) -> Any:
    """Closed-form ‖J‖²_F per sample for a one-layer sigmoid encoder h = s(Wx + b):
    Σ_j (h_j (1 − h_j))² Σ_i W_ij² (``kernel`` has shape (inputs, units))."""
    return ops.sum(ops.square(code * (1.0 - code)) * ops.sum(ops.square(kernel), axis=0), axis=-1)


def jacobian_norm(encoder: keras.Model, x: Any) -> Any:
    """‖∂encoder(x)/∂x‖²_F per sample, by automatic differentiation.

    This is the one place where keras_ae needs TensorFlow in model code:
    ``keras.ops`` has no Jacobian. It costs one backward pass per code unit
    (vectorised by ``batch_jacobian``), i.e. roughly ``latent_dim`` times an
    encoder's backward pass per training step.
    """
    import tensorflow as tf

    with tf.GradientTape() as tape:
        tape.watch(x)
        code = encoder(x, training=True)
    jac = tape.batch_jacobian(code, x)  # (batch, latent, *input_shape)
    return _sum_per_sample(ops.square(jac))


def mse_per_sample(x: Any, x_hat: Any) -> Any:
    """Mean squared error per sample."""
    return ops.mean(ops.reshape(ops.square(x - x_hat), (ops.shape(x)[0], -1)), axis=-1)


#: A VAE's ``likelihood`` -> its per-image negative log-likelihood ``nll(x, x_hat)``.
LIKELIHOOD_NLL = {"bernoulli": bernoulli_nll, "gaussian": gaussian_nll}

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
    y_true, y_pred = ops.convert_to_tensor(y_true), ops.convert_to_tensor(y_pred)
    y_pred = ops.clip(y_pred, EPSILON, 1.0 - EPSILON)
    bce = -(y_true * ops.log(y_pred) + (1.0 - y_true) * ops.log(1.0 - y_pred))
    return _sum_per_sample(bce)


@keras.saving.register_keras_serializable(package="keras_ae")
def gaussian_nll(y_true: Any, y_pred: Any) -> Any:
    """−log N(x; x̂, 1) summed over pixels: a Gaussian decoder with fixed unit variance."""
    y_true, y_pred = ops.convert_to_tensor(y_true), ops.convert_to_tensor(y_pred)
    sq = ops.square(y_true - y_pred)
    return 0.5 * _sum_per_sample(sq) + 0.5 * math.log(2 * math.pi) * ops.cast(
        ops.prod(ops.shape(y_true)[1:]), sq.dtype
    )


def gaussian_kl(z_mean: Any, z_log_var: Any) -> Any:
    """KL(N(μ, σ²) ‖ N(0, I)) per sample: −½ Σ (1 + log σ² − μ² − σ²)."""
    z_mean, z_log_var = ops.convert_to_tensor(z_mean), ops.convert_to_tensor(z_log_var)
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


def kl_sparsity(target: float, rho_hat: Any) -> Any:
    """Σ_j KL(ρ ‖ ρ̂_j) for Bernoulli units; ρ̂ is kept in [ε, 1 − ε]."""
    rho_hat = ops.clip(rho_hat, EPSILON, 1.0 - EPSILON)
    return ops.sum(
        target * ops.log(target / rho_hat)
        + (1.0 - target) * ops.log((1.0 - target) / (1.0 - rho_hat))
    )


def _slope(activation: Any, pre: Any) -> tuple[Any, Any] | None:
    """``(activation(pre), activation'(pre))`` for the activations whose
    derivative has a closed form here, None for others."""
    name = getattr(activation, "__name__", None)
    if name == "linear":
        return pre, ops.ones_like(pre)
    if name == "relu":
        return ops.relu(pre), ops.cast(pre > 0, pre.dtype)
    if name == "sigmoid":
        h = ops.sigmoid(pre)
        return h, h * (1.0 - h)
    if name == "tanh":
        h = ops.tanh(pre)
        return h, 1.0 - ops.square(h)
    return None


def dense_jacobian_norm(x: Any, layers: list) -> Any | None:
    """Exact ‖∂code/∂x‖²_F per sample for a stack of Dense ``layers`` (input to
    code) after Flatten, in ``keras.ops``; None if an activation is not one of
    linear, ReLU, sigmoid or tanh.

    With h_l = a_l(h_{l-1} W_l + b_l), the Jacobian is
    J = D_L W_Lᵀ D_{L-1} ··· D_1 W_1ᵀ with D_l = diag(a_l'). It is built from
    the code back to the first hidden layer as a (batch, code, n_1) matrix M,
    and ‖J‖²_F = Σ (M G) ∘ M with G = W_1ᵀ W_1, so the widest product (with
    the input's size) is never formed per sample. For a one-layer sigmoid
    encoder this is Rifai et al.'s Σ_j (h_j (1 − h_j))² Σ_i W_ij².
    """
    h = ops.reshape(x, (ops.shape(x)[0], -1))
    slopes = []
    for layer in layers:
        step = _slope(layer.activation, ops.matmul(h, layer.kernel) + layer.bias)
        if step is None:
            return None
        h, slope = step
        slopes.append(slope)
    m = ops.expand_dims(slopes[-1], -1) * ops.eye(ops.shape(slopes[-1])[-1], dtype=h.dtype)
    for layer, slope in zip(reversed(layers[1:]), reversed(slopes[:-1]), strict=True):
        m = ops.matmul(m, ops.transpose(layer.kernel)) * ops.expand_dims(slope, 1)
    first = layers[0].kernel
    gram = ops.matmul(ops.transpose(first), first)
    return ops.sum(ops.matmul(m, gram) * m, axis=(1, 2))


def mse_per_sample(x: Any, x_hat: Any) -> Any:
    """Mean squared error per sample."""
    return ops.mean(ops.reshape(ops.square(x - x_hat), (ops.shape(x)[0], -1)), axis=-1)


#: A VAE's ``likelihood`` -> its per-image negative log-likelihood ``nll(x, x_hat)``.
LIKELIHOOD_NLL = {"bernoulli": bernoulli_nll, "gaussian": gaussian_nll}

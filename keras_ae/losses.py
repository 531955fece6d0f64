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


def _dense_slopes(x: Any, layers: list) -> list | None:
    """The slope ``a_l'(pre_l)`` of every Dense layer of ``layers`` on ``x``
    (flattened), None if an activation has no closed form in :func:`_slope`."""
    h = ops.reshape(x, (ops.shape(x)[0], -1))
    slopes = []
    for layer in layers:
        step = _slope(layer.activation, ops.matmul(h, layer.kernel) + layer.bias)
        if step is None:
            return None
        h, slope = step
        slopes.append(slope)
    return slopes


def dense_jacobian_norm(x: Any, layers: list) -> Any | None:
    """Exact ‖∂code/∂x‖²_F per sample for a stack of Dense ``layers`` (input to
    code) after Flatten, in ``keras.ops``; None if an activation is not one of
    linear, ReLU, sigmoid or tanh.

    With h_l = a_l(h_{l-1} W_l + b_l), the Jacobian is
    J = D_L W_Lᵀ D_{L-1} ··· D_1 W_1ᵀ with D_l = diag(a_l'). It is built from
    the code back to the first hidden layer as a (batch, code, n_1) matrix M
    (its first factor D_L W_Lᵀ by broadcasting, not as a product with a
    diagonal matrix), and ‖J‖²_F = Σ (M G) ∘ M with G = W_1ᵀ W_1, so the
    widest product (with the input's size) is never formed per sample. For a
    one-layer encoder, M = D_1 and ‖J‖²_F = Σ_j a_j'² G_jj: for a sigmoid
    encoder this is Rifai et al.'s Σ_j (h_j (1 − h_j))² Σ_i W_ij².
    """
    slopes = _dense_slopes(x, layers)
    if slopes is None:
        return None
    first = layers[0].kernel
    if len(layers) == 1:
        return ops.sum(ops.square(slopes[0]) * ops.sum(ops.square(first), axis=0), axis=-1)
    # D_L W_Lᵀ D_{L-1}: (batch, code, n_{L-1})
    m = ops.expand_dims(slopes[-1], -1) * ops.transpose(layers[-1].kernel)
    m = m * ops.expand_dims(slopes[-2], 1)
    for layer, slope in zip(reversed(layers[1:-1]), reversed(slopes[:-2]), strict=True):
        m = ops.matmul(m, ops.transpose(layer.kernel)) * ops.expand_dims(slope, 1)
    gram = ops.matmul(ops.transpose(first), first)
    return ops.sum(ops.matmul(m, gram) * m, axis=(1, 2))


def _linear_part(layer: Any, t: Any) -> Any:
    """A Dense or convolution ``layer``'s linear map (no bias, no activation) on ``t``."""
    if isinstance(layer, keras.layers.Dense):
        return ops.matmul(t, layer.kernel)
    return layer.convolution_op(t, layer.kernel)


def _bias(layer: Any, pre: Any) -> Any:
    if not layer.use_bias:
        return pre
    if isinstance(layer, keras.layers.Dense) or layer.data_format == "channels_last":
        return pre + layer.bias
    return pre + ops.reshape(layer.bias, (1, -1) + (1,) * (len(pre.shape) - 2))


#: Layers without weights that act linearly on every sample: a tangent goes through them as is.
LINEAR_LAYERS = (
    keras.layers.InputLayer,
    keras.layers.Flatten,
    keras.layers.Reshape,
    keras.layers.ZeroPadding1D,
    keras.layers.ZeroPadding2D,
)


def tangent_unsupported(layers: list) -> list[str]:
    """The names of the ``layers`` that :func:`jacobian_norm_estimate` cannot
    propagate tangents through: it takes Dense and Conv layers with linear,
    ReLU, sigmoid or tanh activations, and the weightless linear layers of
    :data:`LINEAR_LAYERS`."""

    def supported(layer: Any) -> bool:
        if isinstance(layer, LINEAR_LAYERS):
            return True
        if isinstance(layer, keras.layers.Dense | keras.layers.Conv1D | keras.layers.Conv2D):
            return getattr(layer.activation, "__name__", None) in SLOPES
        return False

    return [layer.name for layer in layers if not supported(layer)]


#: The activations whose derivative :func:`_slope` gives in closed form.
SLOPES = ("linear", "relu", "sigmoid", "tanh")


def jacobian_norm_estimate(x: Any, layers: list, directions: Any) -> Any:
    """An unbiased estimate of ‖∂code/∂x‖²_F per sample (Hutchinson): the mean
    of ‖J v‖² over the ``directions`` v, which are drawn from N(0, I) in input
    space, with shape ``(k, *x.shape)``.

    E_v ‖J v‖² = tr(Jᵀ J) = ‖J‖²_F. Each J v is exact, by forward tangent
    propagation through the chain of ``layers`` (input to code, see
    :func:`tangent_unsupported`): t ← linear_l(t) ∘ a_l'(pre_l), one extra
    forward pass of the encoder per direction, with ``keras.ops`` only. Its
    relative variance per sample, for Gaussian v, is
    2 ‖Jᵀ J‖²_F / ‖J‖⁴_F / k ≤ 2 / k.
    """
    k = ops.shape(directions)[0]
    batch = ops.shape(x)[0]
    h = x
    # the k tangents of each sample ride along the batch axis: (k * batch, ...)
    t = ops.reshape(directions, (-1, *x.shape[1:]))
    for layer in layers:
        if isinstance(layer, LINEAR_LAYERS):
            if not isinstance(layer, keras.layers.InputLayer):
                h, t = layer(h), layer(t)
            continue
        h, slope = _slope(layer.activation, _bias(layer, _linear_part(layer, h)))
        t = _linear_part(layer, t) * ops.tile(slope, (k,) + (1,) * (len(slope.shape) - 1))
    squares = ops.sum(ops.reshape(ops.square(t), (k, batch, -1)), axis=-1)
    return ops.mean(squares, axis=0)


def mse_per_sample(x: Any, x_hat: Any) -> Any:
    """Mean squared error per sample."""
    return ops.mean(ops.reshape(ops.square(x - x_hat), (ops.shape(x)[0], -1)), axis=-1)


#: A VAE's ``likelihood`` -> its per-image negative log-likelihood ``nll(x, x_hat)``.
LIKELIHOOD_NLL = {"bernoulli": bernoulli_nll, "gaussian": gaussian_nll}

"""Public builders: validate the arguments, assemble the model, compile it.

Every builder follows the same order: validate every argument (ValueError or
TypeError ending in "Received: arg=value", before any layer is built), make
the ``spec`` dict, construct the model class from :mod:`keras_ae.models`,
compile it with the documented defaults, return it.

Compile defaults (``model.compile(...)`` afterwards overrides all of them):

- optimizer ``keras.optimizers.Adam(1e-3)``;
- loss: binary cross-entropy for a sigmoid output (data in [0, 1]), mean
  squared error for a linear output (``output_activation=None``); VAEs use
  the per-image negative log-likelihood of their ``likelihood``;
- speed: dense trunks compile with XLA (``jit_compile=True``) and
  ``steps_per_execution=32``, about twice as fast on a CPU; conv trunks use
  Keras's defaults, because XLA slows convolutions down on a CPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

from keras_ae import checks
from keras_ae.models import Autoencoder
from keras_ae.trunks import ARCHITECTURES

DEFAULT_TRUNK = {"dense": {"hidden_units": (256, 128)}, "conv": {"filters": (32, 64)}}
FAST_COMPILE = {
    "dense": {"jit_compile": True, "steps_per_execution": 32},
    "conv": {},
}


def trunk_spec(
    architecture: str = "dense",
    input_shape: Sequence[int] = (28, 28, 1),
    hidden_units: Sequence[int] | None = None,
    filters: Sequence[int] | None = None,
    latent_dim: int = 32,
    activation: str | None = "relu",
    output_activation: str | None = "sigmoid",
    code_activation: str | None = None,
    kernel_size: int = 3,
) -> dict:
    """Validate the trunk arguments shared by every builder and return them as a dict.

    Args:
        architecture: ``"dense"`` or ``"conv"``.
        input_shape: one sample's shape, without the batch axis. Dense trunks
            take any shape; conv trunks take ``(H, W, C)`` (Conv2D) or
            ``(T, C)`` (Conv1D). Sizes that ``2 ** len(filters)`` does not
            divide are zero-padded in the encoder and cropped back in the
            decoder.
        hidden_units: Dense layer sizes from the input towards the code
            (dense trunk; default ``(256, 128)``).
        filters: Conv layer widths, each with stride 2 (conv trunk; default
            ``(32, 64)``).
        latent_dim: size of the code.
        activation: activation of the hidden layers (None for linear).
        output_activation: ``"sigmoid"`` for data in [0, 1], None for real values.
        code_activation: activation of the code layer (None: linear).
        kernel_size: convolution kernel size (conv trunk).
    """
    checks.choice("architecture", architecture, ARCHITECTURES)
    shape = checks.input_shape(input_shape, ARCHITECTURES[architecture].input_ranks)
    spec: dict[str, Any] = {
        "architecture": architecture,
        "input_shape": list(shape),
        "latent_dim": checks.positive_int("latent_dim", latent_dim),
        "activation": checks.activation("activation", activation),
        "output_activation": checks.activation("output_activation", output_activation),
        "code_activation": checks.activation("code_activation", code_activation),
    }
    if architecture == "dense":
        if filters is not None:
            raise ValueError(
                "`filters` applies to architecture='conv'; the dense trunk takes "
                f"`hidden_units`. Received: filters={filters!r}"
            )
        units = DEFAULT_TRUNK["dense"]["hidden_units"] if hidden_units is None else hidden_units
        spec["hidden_units"] = list(checks.int_tuple("hidden_units", units))
    else:
        if hidden_units is not None:
            raise ValueError(
                "`hidden_units` applies to architecture='dense'; the conv trunk takes "
                f"`filters`. Received: hidden_units={hidden_units!r}"
            )
        conv_filters = DEFAULT_TRUNK["conv"]["filters"] if filters is None else filters
        spec["filters"] = list(checks.int_tuple("filters", conv_filters, allow_empty=False))
        spec["kernel_size"] = checks.positive_int("kernel_size", kernel_size)
    return spec


def _reconstruction_loss(output_activation: str | None) -> str:
    return "binary_crossentropy" if output_activation == "sigmoid" else "mean_squared_error"


def compile_defaults(model: keras.Model, loss: Any, metrics: list | None = None) -> keras.Model:
    """Compile ``model`` with Adam(1e-3), ``loss`` and the trunk's speed settings."""
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=loss,
        metrics=metrics,
        **FAST_COMPILE[model.spec["architecture"]],
    )
    return model


def _autoencoder(kind: str, spec: dict, name: str | None) -> Autoencoder:
    spec = {"kind": kind, **spec}
    model = Autoencoder(spec, name=name or f"{kind}_autoencoder")
    return compile_defaults(model, _reconstruction_loss(spec["output_activation"]))


def build_dense_autoencoder(
    input_shape: Sequence[int] = (28, 28, 1),
    hidden_units: Sequence[int] = (256, 128),
    latent_dim: int = 32,
    activation: str | None = "relu",
    output_activation: str | None = "sigmoid",
    name: str | None = None,
    *,
    code_activation: str | None = None,
    tied_weights: bool = False,
) -> Autoencoder:
    """A dense (fully connected) autoencoder, compiled and ready for ``fit(x, x)``.

    The encoder is Flatten → Dense(``hidden_units``) → Dense(``latent_dim``,
    name "code"); the decoder mirrors it back to ``input_shape``.
    ``activation=None`` and ``output_activation=None`` give the linear
    autoencoder that learns PCA's subspace.

    Args:
        input_shape: one sample's shape, without the batch axis.
        hidden_units: hidden layer sizes from the input towards the code.
        latent_dim: size of the code.
        activation: hidden-layer activation, or None for linear.
        output_activation: "sigmoid" (loss: binary cross-entropy) or None
            (loss: mean squared error).
        name: model name; default "dense_autoencoder" ("tied_autoencoder"
            with ``tied_weights``).
        code_activation: activation of the code layer (default linear).
        tied_weights: the decoder reuses each encoder kernel, transposed, with
            biases of its own (:class:`keras_ae.layers.DenseTranspose`); this
            halves the kernel parameters.

    Returns:
        A compiled :class:`keras_ae.models.Autoencoder`.
    """
    if not isinstance(tied_weights, bool):
        raise TypeError(
            f"`tied_weights` must be True or False. Received: tied_weights={tied_weights!r}"
        )
    spec = trunk_spec(
        "dense",
        input_shape,
        hidden_units=hidden_units,
        latent_dim=latent_dim,
        activation=activation,
        output_activation=output_activation,
        code_activation=code_activation,
    )
    spec["tied_weights"] = tied_weights
    return _autoencoder("tied" if tied_weights else "dense", spec, name)


def build_conv_autoencoder(
    input_shape: Sequence[int] = (28, 28, 1),
    filters: Sequence[int] = (32, 64),
    latent_dim: int = 32,
    kernel_size: int = 3,
    activation: str | None = "relu",
    output_activation: str | None = "sigmoid",
    name: str | None = None,
    *,
    code_activation: str | None = None,
) -> Autoencoder:
    """A convolutional autoencoder for images ``(H, W, C)`` or series ``(T, C)``.

    The encoder has one stride-2 convolution per entry of ``filters``, then
    Flatten and Dense(``latent_dim``, name "code"); the decoder is Dense,
    Reshape, stride-2 transposed convolutions and a last convolution to ``C``
    channels. Any size works: sizes that ``2 ** len(filters)`` does not
    divide (e.g. 28 with three layers) are zero-padded at the encoder's input
    and cropped back at the decoder's output.

    Args:
        input_shape: ``(H, W, C)`` for Conv2D, ``(T, C)`` for Conv1D.
        filters: widths of the stride-2 convolutions, input to code.
        latent_dim: size of the code.
        kernel_size: convolution kernel size.
        activation: hidden-layer activation.
        output_activation: "sigmoid" (BCE loss) or None (MSE loss).
        name: model name; default "conv_autoencoder".
        code_activation: activation of the code layer (default linear).

    Returns:
        A compiled :class:`keras_ae.models.Autoencoder`.
    """
    spec = trunk_spec(
        "conv",
        input_shape,
        filters=filters,
        latent_dim=latent_dim,
        activation=activation,
        output_activation=output_activation,
        code_activation=code_activation,
        kernel_size=kernel_size,
    )
    return _autoencoder("conv", spec, name)

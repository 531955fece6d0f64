"""Encoder and decoder trunks shared by every model kind.

A trunk is the part of the hourglass between the data and the code. Each
architecture is one entry of ``ARCHITECTURES``: a function that turns an input
tensor into a flat feature vector (``features``) and a function that turns a
code tensor back into a tensor of the input's shape (``decode``). Builders
assemble them into the nested ``encoder`` and ``decoder`` models with
:func:`build_encoder` and :func:`build_decoder`; the heads on top of the
features (one code, or a VAE's mean and log-variance) are the only thing a
model kind chooses.

Convolutional geometry: every conv layer has stride 2, so each spatial size
must be a multiple of ``2 ** len(filters)``. Other sizes are zero-padded up to
the next multiple at the encoder's input and cropped back at the decoder's
output, so the model's output always has the input's shape.

Recurrent geometry (``"lstm"``, series ``(T, C)`` only): stacked LSTMs, the
last one returning only its final output; the decoder repeats the code ``T``
times (RepeatVector), runs LSTMs over it with ``return_sequences=True`` and
maps every step to ``C`` channels with a TimeDistributed Dense layer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

import keras
from keras import layers

Head = tuple[str, int, Any]  # (name, units, activation)

_CONV = {
    1: (layers.Conv1D, layers.Conv1DTranspose, layers.ZeroPadding1D, layers.Cropping1D),
    2: (layers.Conv2D, layers.Conv2DTranspose, layers.ZeroPadding2D, layers.Cropping2D),
}


def conv_padding(input_shape: Sequence[int], depth: int) -> list[tuple[int, int]]:
    """Zero padding (before, after) per spatial axis so that ``depth`` stride-2
    convolutions divide the size exactly."""
    factor = 2**depth
    pads = []
    for size in input_shape[:-1]:
        extra = math.ceil(size / factor) * factor - size
        pads.append((extra // 2, extra - extra // 2))
    return pads


def _pad_arg(pads: list[tuple[int, int]]) -> Any:
    return pads[0] if len(pads) == 1 else tuple(pads)


def dense_features(x: Any, trunk: Trunk, name: str) -> Any:
    """Flatten, then one Dense layer per entry of ``trunk.hidden_units``."""
    x = layers.Flatten(name=f"{name}_flatten")(x)
    for i, units in enumerate(trunk.hidden_units):
        x = layers.Dense(units, activation=trunk.activation, name=f"{name}_dense_{i + 1}")(x)
    return x


def dense_decode(z: Any, trunk: Trunk, name: str, tied_to: keras.Model | None = None) -> Any:
    """Mirror of :func:`dense_features`: Dense layers back to the input size.

    With ``tied_to`` (the encoder model), every layer is a
    :class:`keras_ae.layers.DenseTranspose` that reuses the transposed kernel
    of the matching encoder layer, with a bias of its own.
    """
    shape = trunk.input_shape
    units = [*reversed(trunk.hidden_units), math.prod(shape)]
    activations = [trunk.activation] * len(trunk.hidden_units) + [trunk.output_activation]
    if tied_to is not None:
        from keras_ae.layers import DenseTranspose

        # Encoder layers from the code layer down to the first hidden layer.
        sources = [tied_to.get_layer("code"), *reversed(encoder_dense_layers(tied_to))]
    x = z
    for i, (n, act) in enumerate(zip(units, activations, strict=True)):
        layer_name = f"{name}_dense_{i + 1}"
        if tied_to is None:
            x = layers.Dense(n, activation=act, name=layer_name)(x)
        else:
            x = DenseTranspose(sources[i], activation=act, name=layer_name)(x)
    return layers.Reshape(shape, name=f"{name}_reshape")(x)


def encoder_dense_layers(encoder: keras.Model) -> list[layers.Dense]:
    """A dense encoder's hidden Dense layers, input to code (the code layer excluded)."""
    return [
        layer
        for layer in encoder.layers
        if isinstance(layer, layers.Dense) and layer.name.startswith("encoder_dense_")
    ]


def conv_features(x: Any, trunk: Trunk, name: str) -> Any:
    """Optional zero padding, stride-2 convolutions, then Flatten."""
    shape, filters = trunk.input_shape, trunk.filters
    conv, _, pad, _ = _CONV[len(shape) - 1]
    pads = conv_padding(shape, len(filters))
    if any(p != (0, 0) for p in pads):
        x = pad(_pad_arg(pads), name=f"{name}_pad")(x)
    for i, f in enumerate(filters):
        x = _stride_2(conv, f, trunk, f"{name}_conv_{i + 1}")(x)
    return layers.Flatten(name=f"{name}_flatten")(x)


def _stride_2(layer: type, filters: int, trunk: Trunk, name: str) -> layers.Layer:
    """A stride-2 (transposed) convolution of the trunk's kernel size and activation."""
    return layer(
        filters,
        trunk.kernel_size,
        strides=2,
        padding="same",
        activation=trunk.activation,
        name=name,
    )


def conv_decode(z: Any, trunk: Trunk, name: str, tied_to: keras.Model | None = None) -> Any:
    """Mirror of :func:`conv_features`: Dense, Reshape, stride-2 transposed
    convolutions, a last convolution to the input's channels, then cropping.

    ``trunk.transposed_output`` makes the last layer a stride-1 transposed
    convolution (same receptive field and parameter count), which trains
    faster on a CPU than a convolution with so few output channels."""
    shape, filters = trunk.input_shape, trunk.filters
    conv, conv_t, _, crop = _CONV[len(shape) - 1]
    if trunk.transposed_output:
        conv = conv_t
    pads = conv_padding(shape, len(filters))
    factor = 2 ** len(filters)
    reduced = [(size + sum(p)) // factor for size, p in zip(shape[:-1], pads, strict=True)]
    x = layers.Dense(
        math.prod(reduced) * filters[-1], activation=trunk.activation, name=f"{name}_dense"
    )(z)
    x = layers.Reshape((*reduced, filters[-1]), name=f"{name}_reshape")(x)
    for i, f in enumerate(reversed(filters)):
        x = _stride_2(conv_t, f, trunk, f"{name}_deconv_{i + 1}")(x)
    x = conv(
        shape[-1],
        trunk.kernel_size,
        padding="same",
        activation=trunk.output_activation,
        name=f"{name}_output",
    )(x)
    if any(p != (0, 0) for p in pads):
        x = crop(_pad_arg(pads), name=f"{name}_crop")(x)
    return x


def lstm_features(x: Any, trunk: Trunk, name: str) -> Any:
    """One LSTM per entry of ``trunk.units``; all but the last return sequences,
    the last returns its final output (the features of the whole series)."""
    depth = len(trunk.units)
    for i, units in enumerate(trunk.units):
        x = layers.LSTM(
            units,
            activation=trunk.activation,
            return_sequences=i < depth - 1,
            name=f"{name}_lstm_{i + 1}",
        )(x)
    return x


def lstm_decode(z: Any, trunk: Trunk, name: str, tied_to: keras.Model | None = None) -> Any:
    """Mirror of :func:`lstm_features`: RepeatVector(T), LSTMs with
    ``return_sequences=True`` (widths reversed), then TimeDistributed Dense to C channels."""
    steps, channels = trunk.input_shape
    x = layers.RepeatVector(steps, name=f"{name}_repeat")(z)
    for i, units in enumerate(reversed(trunk.units)):
        x = layers.LSTM(
            units, activation=trunk.activation, return_sequences=True, name=f"{name}_lstm_{i + 1}"
        )(x)
    dense = layers.Dense(channels, activation=trunk.output_activation)
    return layers.TimeDistributed(dense, name=f"{name}_output")(x)


@dataclass(frozen=True)
class Architecture:
    """One trunk family: how to get features from an input and decode a code,
    which input ranks it takes, and its size argument with that argument's default."""

    features: Callable[[Any, Trunk, str], Any]
    decode: Callable[..., Any]
    input_ranks: tuple[int, ...]
    size_argument: str
    default_sizes: tuple[int, ...]


#: The trunk families. A new trunk is one row here and its two functions above.
ARCHITECTURES: dict[str, Architecture] = {
    "dense": Architecture(dense_features, dense_decode, (1, 2, 3), "hidden_units", (256, 128)),
    "conv": Architecture(conv_features, conv_decode, (2, 3), "filters", (32, 64)),
    "lstm": Architecture(lstm_features, lstm_decode, (2,), "units", (64,)),
}

#: The size argument of each architecture (``hidden_units``, ``filters``, ``units``).
SIZE_ARGUMENTS = tuple(a.size_argument for a in ARCHITECTURES.values())


@dataclass(frozen=True)
class Trunk:
    """The validated arguments of a trunk: what the encoder and the decoder are made of.

    Every model class takes one (or its ``get_config()`` dict) and every
    builder makes one from its keyword arguments, so the trunk's arguments are
    checked here and nowhere else. Each architecture takes its own size
    argument (``hidden_units``, ``filters`` or ``units``; None gives its
    default); passing another one raises ValueError.

    Attributes:
        input_shape: one sample's shape, without the batch axis. Dense trunks
            take any rank; conv trunks ``(H, W, C)`` (Conv2D) or ``(T, C)``
            (Conv1D); LSTM trunks series ``(T, C)``.
        architecture: ``"dense"``, ``"conv"`` or ``"lstm"``.
        hidden_units: Dense layer sizes, input towards the code (dense;
            default ``(256, 128)``).
        filters: stride-2 convolution widths (conv; default ``(32, 64)``).
        units: LSTM widths (lstm; default ``(64,)``).
        latent_dim: size of the code.
        kernel_size: convolution kernel size (conv).
        activation: hidden-layer activation (None for linear).
        output_activation: ``"sigmoid"`` for data in [0, 1], None for real values.
        code_activation: activation of the code layer (None: linear).
        normalize: a ``keras.layers.Normalization`` first and its inverse last,
            so the model takes and returns raw values (needs a linear output).
        transposed_output: a conv decoder's last layer is a stride-1
            transposed convolution (same receptive field and parameters; faster
            on a CPU).
    """

    input_shape: tuple[int, ...] = (28, 28, 1)
    architecture: str = "dense"
    hidden_units: tuple[int, ...] | None = None
    filters: tuple[int, ...] | None = None
    units: tuple[int, ...] | None = None
    latent_dim: int = 32
    kernel_size: int = 3
    activation: str | None = "relu"
    output_activation: str | None = "sigmoid"
    code_activation: str | None = None
    normalize: bool = False
    transposed_output: bool = False

    def __post_init__(self) -> None:
        from keras_ae import checks

        checks.choice("architecture", self.architecture, ARCHITECTURES)
        family = ARCHITECTURES[self.architecture]
        own = family.size_argument
        values = {
            "input_shape": checks.input_shape(self.input_shape, family.input_ranks),
            "latent_dim": checks.positive_int("latent_dim", self.latent_dim),
            "kernel_size": checks.positive_int("kernel_size", self.kernel_size),
            "normalize": checks.boolean("normalize", self.normalize),
            "transposed_output": checks.boolean("transposed_output", self.transposed_output),
        }
        for key in ("activation", "output_activation", "code_activation"):
            values[key] = checks.activation(key, getattr(self, key))
        for key in SIZE_ARGUMENTS:
            value = getattr(self, key)
            if key != own and value is not None:
                raise ValueError(
                    f"`{key}` does not apply to architecture={self.architecture!r}, whose trunk "
                    f"takes `{own}`. Received: {key}={value!r}"
                )
        sizes = family.default_sizes if getattr(self, own) is None else getattr(self, own)
        values[own] = checks.int_tuple(own, sizes, allow_empty=self.architecture == "dense")
        if self.normalize and values["output_activation"] is not None:
            raise ValueError(
                "normalize=True gives a linear output in the data's own units: pass "
                f"output_activation=None. Received: output_activation={self.output_activation!r}"
            )
        for key, value in values.items():
            object.__setattr__(self, key, value)

    @property
    def sizes(self) -> tuple[int, ...]:
        """The layer sizes of this architecture (``hidden_units``, ``filters`` or ``units``)."""
        return getattr(self, ARCHITECTURES[self.architecture].size_argument)

    def get_config(self) -> dict[str, Any]:
        """The arguments as JSON data (lists for tuples); the sizes of other
        architectures and defaults of arguments this trunk ignores are left out."""
        config = {f.name: getattr(self, f.name) for f in fields(self)}
        for key in SIZE_ARGUMENTS:
            if config[key] is None:
                del config[key]
        if self.architecture != "conv":
            del config["kernel_size"], config["transposed_output"]
        return {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()}

    @classmethod
    def from_config(cls, config: Trunk | dict[str, Any]) -> Trunk:
        """A Trunk from :meth:`get_config`'s dict (a Trunk is returned as it is)."""
        if isinstance(config, Trunk):
            return config
        if not isinstance(config, dict):
            raise TypeError(
                "`trunk` must be a keras_ae.trunks.Trunk or its get_config() dict. "
                f"Received: trunk={config!r}"
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ValueError(
                f"`trunk` has no argument {unknown[0]!r}; it takes {', '.join(sorted(known))}. "
                f"Received: trunk={config!r}"
            )
        return cls(**config)


def build_encoder(trunk: Trunk, heads: Sequence[Head], name: str = "encoder") -> keras.Model:
    """The nested encoder model: input -> trunk features -> one Dense per head.

    Args:
        trunk: the trunk's arguments.
        heads: ``(name, units, activation)`` per output; one head gives a
            single-output encoder.
        name: the model's name.
    """
    inputs = keras.Input(shape=trunk.input_shape, name=f"{name}_input")
    x = normalization(trunk, f"{name}_normalize")(inputs) if trunk.normalize else inputs
    x = ARCHITECTURES[trunk.architecture].features(x, trunk, name)
    outputs = [
        float32_output(layers.Dense(units, activation=act, name=hname)(x), f"{hname}_float32")
        for hname, units, act in heads
    ]
    return keras.Model(inputs, outputs[0] if len(outputs) == 1 else outputs, name=name)


def build_decoder(
    trunk: Trunk, tied_to: keras.Model | None = None, name: str = "decoder"
) -> keras.Model:
    """The nested decoder model: code -> reconstruction of the input's shape."""
    inputs = keras.Input(shape=(trunk.latent_dim,), name=f"{name}_input")
    outputs = ARCHITECTURES[trunk.architecture].decode(inputs, trunk, name, tied_to=tied_to)
    outputs = float32_output(outputs, f"{name}_float32")
    if trunk.normalize:
        outputs = normalization(trunk, f"{name}_denormalize", invert=True)(outputs)
    return keras.Model(inputs, outputs, name=name)


def normalization(trunk: Trunk, name: str, invert: bool = False) -> layers.Normalization:
    """A ``keras.layers.Normalization`` over every value of a sample (one mean and
    variance per input value), float32, to adapt on the training data.

    With ``trunk.normalize`` the encoder starts with one and the decoder ends
    with its inverse (``invert=True``, the same statistics), so the model takes
    and returns raw values while its trunk works on standardised ones.
    """
    axis = tuple(range(1, len(trunk.input_shape) + 1))
    return layers.Normalization(axis=axis, invert=invert, dtype="float32", name=name)


def float32_output(x: Any, name: str) -> Any:
    """``x`` cast to float32 when the global dtype policy computes in another
    type (mixed precision), ``x`` itself otherwise.

    Under ``keras.config.set_dtype_policy("mixed_bfloat16")`` (or
    ``"mixed_float16"``) the trunks compute in 16 bits, but the codes, the
    reconstructions and so the losses stay float32, as the Keras
    mixed-precision guide recommends. Under float32 no layer is added, so
    models built either way have the same weights.
    """
    if keras.config.dtype_policy().compute_dtype == "float32":
        return x
    return layers.Activation("linear", dtype="float32", name=name)(x)

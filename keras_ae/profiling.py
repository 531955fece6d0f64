"""FLOP counting from layer shapes, for the benchmark suite.

:func:`forward_flops` counts the multiply-adds of one forward pass of one
sample as 2 FLOPs each, from the layers' weight and output shapes:

- ``Dense`` / ``DenseTranspose``: ``2 * inputs * units`` (applied to every
  leading position of a sequence input);
- ``ConvND``: ``2 * prod(kernel) * in_channels * filters * prod(output spatial)``;
- ``ConvNDTranspose``: ``2 * prod(kernel) * in_channels * filters * prod(input spatial)``;
- ``LSTM``: ``2 * 4 * (inputs + units) * units`` per time step;
- everything else (activations, reshapes, padding, the loss): 0.

:func:`training_flops` is ``3 * forward_flops``: the backward pass costs about
twice the forward one. Nested models (``encoder``, ``decoder``) are counted
through their layers.
"""

from __future__ import annotations

import math

import keras


def _layer_flops(layer: keras.layers.Layer) -> int:
    if isinstance(layer, keras.Model):
        return sum(_layer_flops(inner) for inner in layer.layers)
    if isinstance(layer, keras.layers.InputLayer):
        return 0
    name = type(layer).__name__
    if name in ("Dense", "DenseTranspose"):
        out = layer.output.shape
        units = out[-1]
        inputs = layer.input.shape[-1]
        positions = math.prod(out[1:-1]) if len(out) > 2 else 1
        return 2 * inputs * units * positions
    if name.startswith("Conv") and hasattr(layer, "kernel"):
        kernel = layer.kernel.shape  # (*k, in, out) for Conv; (*k, out, in) for transposed
        spatial = layer.output.shape[1:-1] if "Transpose" not in name else layer.input.shape[1:-1]
        return 2 * math.prod(kernel) * math.prod(spatial)
    if name == "LSTM":
        units = layer.cell.units
        steps, inputs = layer.input.shape[1], layer.input.shape[-1]
        return 2 * 4 * (inputs + units) * units * steps
    if name == "TimeDistributed" and hasattr(layer.layer, "kernel"):
        return 2 * math.prod(layer.layer.kernel.shape) * layer.input.shape[1]
    return 0


def forward_flops(model: keras.Model) -> int:
    """FLOPs of one forward pass of one sample (see the module docstring)."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model. Received: model={model!r}")
    return sum(_layer_flops(layer) for layer in model.layers)


def training_flops(model: keras.Model) -> int:
    """FLOPs of one training step per sample: 3 × the forward pass."""
    return 3 * forward_flops(model)

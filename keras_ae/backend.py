"""What differs between the Keras backends, in one place.

keras_ae's models, layers and losses use ``keras.layers``, ``keras.ops`` and
``keras.random`` and run on TensorFlow, JAX and PyTorch alike. This module
holds the few choices that depend on the backend Keras runs on
(``KERAS_BACKEND``):

- :func:`tensorflow_only`: the hook to :mod:`keras_ae.tensorflow_backend`
  (TensorFlow's speed-ups and ``tf.distribute``), None on other backends;
- :class:`ModelHooks`: the mixin the model classes inherit: TensorFlow's
  fused XLA blocks there (:class:`TrainingSpeedups`), nothing (Keras's own
  loop) elsewhere, and compile configs that load under every backend;
- :func:`compile_speed`: the compile settings that train fastest, per
  backend and trunk (measured in ``benchmarks/run.py``);
- :func:`jacobian_norm`: ‖∂code/∂x‖²_F by each backend's automatic
  differentiation (``keras.ops`` has no Jacobian);
- :data:`STRATEGIES` and :func:`check_strategy`: the distribution
  strategies each backend supports.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import keras


def name() -> str:
    """The Keras backend in use: ``"tensorflow"``, ``"jax"`` or ``"torch"``."""
    return keras.backend.backend()


def tensorflow_only() -> ModuleType | None:
    """:mod:`keras_ae.tensorflow_backend` under the TensorFlow backend, else None.

    The only route from the rest of keras_ae to TensorFlow-only code: on JAX
    and PyTorch it returns None without importing anything."""
    if name() != "tensorflow":
        return None
    from keras_ae import tensorflow_backend

    return tensorflow_backend


if name() == "tensorflow":
    from keras_ae.tensorflow_backend import TensorFlowTraining as TrainingSpeedups
else:

    class TrainingSpeedups:  # type: ignore[no-redef]
        """Nothing to add on this backend: ``fit`` is Keras's own loop."""


def portable_compile_config(config: dict | None) -> dict | None:
    """``config`` (a model's compile config) with its optimizer named as
    ``keras.optimizers`` names it rather than by a backend's own class.

    Under PyTorch (and JAX) Keras records an optimizer by its backend module
    (``keras.src.backend.torch.optimizers.torch_adam``), so a ``.keras`` file
    saved there would rebuild PyTorch's optimizer under TensorFlow."""
    if not config or not isinstance(config.get("optimizer"), dict):
        return config
    optimizer = config["optimizer"]
    module = str(optimizer.get("module", ""))
    if module.startswith("keras.src.backend.") and hasattr(
        keras.optimizers, optimizer.get("class_name", "")
    ):
        optimizer = {**optimizer, "module": "keras.optimizers", "registered_name": None}
        config = {**config, "optimizer": optimizer}
    return config


class ModelHooks(TrainingSpeedups):
    """The hook keras_ae's model classes inherit: the backend's training
    speed-ups (:class:`TrainingSpeedups`) and compile configs that load under
    every backend."""

    def get_compile_config(self) -> dict | None:
        return portable_compile_config(super().get_compile_config())

    def compile_from_config(self, config: dict) -> None:
        """Keras's, with what this backend refuses left out: a file saved under
        TensorFlow or JAX asks for 32 steps per execution, which PyTorch refuses."""
        config = portable_compile_config(config)
        if config and name() == "torch":
            config = {**config, "steps_per_execution": 1, "jit_compile": False}
        super().compile_from_config(config)

"""What differs between the Keras backends, in one place.

keras_ae's models, layers and losses use ``keras.layers``, ``keras.ops`` and
``keras.random`` and run on TensorFlow, JAX and PyTorch alike. This module
holds the few choices that depend on the backend Keras runs on
(``KERAS_BACKEND``):

- :func:`tensorflow_only`: the hook to the ``tensorflow_backend`` module
  (TensorFlow's random draws, Jacobians and ``tf.distribute``), None on other
  backends;
- :class:`ModelHooks`: the mixin the model classes inherit: compile configs
  that load under every backend;
- :func:`compile_speed`: the compile settings that train fastest, per
  backend and trunk (measured in ``benchmarks/run.py``);
- :func:`jacobian_norm`: ‖∂code/∂x‖²_F by each backend's automatic
  differentiation (``keras.ops`` has no Jacobian);
- :data:`STRATEGIES` and :func:`check_strategy`: the distribution
  strategies each backend supports; :func:`process_count`,
  :func:`process_index` and :func:`agree_on` for training across processes.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import keras


def name() -> str:
    """The Keras backend in use: ``"tensorflow"``, ``"jax"`` or ``"torch"``."""
    return keras.backend.backend()


def tensorflow_only() -> ModuleType | None:
    """The ``tensorflow_backend`` module under the TensorFlow backend, else None.

    The only route from the rest of keras_ae to TensorFlow-only code: on JAX
    and PyTorch it returns None without importing anything."""
    if name() != "tensorflow":
        return None
    from keras_ae import tensorflow_backend

    return tensorflow_backend


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


class ModelHooks:
    """The hook keras_ae's model classes inherit: a checked ``validation_split``
    and compile configs that load under every backend."""

    def fit(self, *args: Any, **kwargs: Any) -> Any:
        """Keras's ``fit``, with ``validation_split`` checked first: Keras
        accepts a negative one and fails on a string with an unrelated error."""
        if kwargs.get("validation_split") is not None:
            from keras_ae import checks

            checks.open_unit_interval("validation_split", kwargs["validation_split"], True)
        return super().fit(*args, **kwargs)

    def get_compile_config(self) -> dict | None:
        return portable_compile_config(super().get_compile_config())

    def compile_from_config(self, config: dict) -> None:
        """Keras's, through the model's own ``compile`` (which Keras skips when a
        class overrides it), with what this backend refuses left out: a file
        saved under TensorFlow or JAX asks for 32 steps per execution, which
        PyTorch refuses."""
        config = portable_compile_config(config)
        if not config:
            return
        if name() == "torch":
            config = {**config, "steps_per_execution": 1, "jit_compile": False}
        self.compile(**keras.saving.deserialize_keras_object(config))
        if getattr(self, "optimizer", None) is not None and self.built:
            self.optimizer.build(self.trainable_variables)


#: backend -> trunk -> compile settings; ``"conv1d"`` is a conv trunk on
#: series ``(T, C)``, ``"conv"`` one on images. Measured on a 2-core CPU
#: (docs/benchmarks.md, ``benchmarks/conv_speed.py``, ``benchmarks/run.py
#: --ablation``): TensorFlow's dense trunks keep Keras's settings, since XLA
#: and 32 steps per execution, 1.2-1.7x faster per epoch once compiled, gained
#: only 0.89-1.13x over the dense kinds' whole runs of their own length in a
#: fresh process (compilation included); a Conv1D trunk trains 2.6x faster with
#: them (CPU time), while XLA slows the
#: Conv2D trunks (TensorFlow's oneDNN convolutions are faster than XLA's) and
#: costs more to compile an LSTM than it saves in runs of tens of epochs. JAX
#: always compiles with XLA; 32 steps per execution pays for dense trunks.
#: PyTorch trains eagerly (``torch.compile`` costs far more than it saves at
#: these sizes).
COMPILE_SPEED: dict[str, dict[str, dict[str, Any]]] = {
    "tensorflow": {
        "dense": {},
        "conv": {},
        "conv1d": {"jit_compile": True, "steps_per_execution": 32},
        "lstm": {},
    },
    "jax": {"dense": {"steps_per_execution": 32}, "conv": {}, "lstm": {}},
    "torch": {"dense": {}, "conv": {}, "lstm": {}},
}


def compile_speed(architecture: str, input_shape: Any = None) -> dict[str, Any]:
    """The compile settings (``jit_compile``, ``steps_per_execution``) for a
    trunk ``architecture`` on this backend, for one sample's ``input_shape``
    (a conv trunk on series ``(T, C)`` has settings of its own); none inside
    a distribution."""
    if in_distribution():
        return {}
    table = COMPILE_SPEED.get(name(), {})
    if architecture == "conv" and input_shape is not None and len(input_shape) == 2:
        return dict(table.get("conv1d", table.get("conv", {})))
    return dict(table.get(architecture, {}))


def in_distribution(model: keras.Model | None = None) -> bool:
    """True inside a ``tf.distribute`` strategy's scope (TensorFlow), under a
    ``keras.distribution`` distribution (JAX), or for a ``model`` built in one."""
    tf_only = tensorflow_only()
    if tf_only is not None:
        return tf_only.in_distribution_scope(model)
    return name() == "jax" and keras.distribution.distribution() is not None


def jacobian_norm(encoder: keras.Model, x: Any) -> Any:
    """‖∂encoder(x)/∂x‖²_F per sample, by the backend's automatic differentiation.

    It costs about one backward pass of the encoder per code unit. Dense
    trunks use the cheaper closed form in :func:`keras_ae.losses.dense_jacobian_norm`.
    """
    tf_only = tensorflow_only()
    if tf_only is not None:
        return tf_only.batch_jacobian_norm(encoder, x)
    if name() == "jax":
        import jax

        def one(sample: Any) -> Any:
            return encoder(sample[None], training=True)[0]

        jac = jax.vmap(jax.jacrev(one))(x)
    else:  # torch: the remaining backend that trains
        import torch

        # one backward pass per code unit (torch.func.vmap cannot batch Keras's
        # channels-last convolutions); samples are independent, so the gradient
        # of a code unit's sum over the batch is each sample's Jacobian row
        with torch.enable_grad():  # evaluate runs under no_grad
            x = x.detach().requires_grad_(True)
            code = encoder(x, training=True)
            rows = [
                torch.autograd.grad(code[:, j].sum(), x, create_graph=True)[0]
                for j in range(code.shape[1])
            ]
            jac = torch.stack(rows, 1)
    flat = keras.ops.reshape(jac, (keras.ops.shape(jac)[0], -1))
    return keras.ops.sum(keras.ops.square(flat), axis=-1)


#: backend -> the ``strategy`` values it supports (``keras-ae train --strategy``).
STRATEGIES: dict[str, tuple[str, ...]] = {
    "tensorflow": ("default", "mirrored"),
    "jax": ("default", "data-parallel"),
    "torch": ("default",),
}
#: every ``strategy`` value keras_ae knows, on some backend or none.
ALL_STRATEGIES = ("default", "mirrored", "data-parallel", "multiworker")


def check_strategy(strategy: str) -> str:
    """Return ``strategy`` if this backend supports it; otherwise raise a
    ValueError that says which backend does."""
    from keras_ae import checks

    checks.choice("strategy", strategy, ALL_STRATEGIES)
    if strategy == "multiworker":
        raise ValueError(
            "`strategy` 'multiworker' (tf.distribute.MultiWorkerMirroredStrategy) is broken "
            "with Keras 3; train across processes with strategy='data-parallel' under "
            "KERAS_BACKEND=jax. Received: strategy='multiworker'"
        )
    supported = STRATEGIES.get(name(), ("default",))
    if strategy not in supported:
        where = [b for b, values in STRATEGIES.items() if strategy in values]
        raise ValueError(
            f"`strategy` {strategy!r} needs KERAS_BACKEND={where[0]}; backend {name()!r} "
            f"supports {', '.join(repr(s) for s in supported)}. Received: strategy={strategy!r}"
        )
    return strategy


def process_count() -> int:
    """The processes training together (``keras.distribution.initialize``
    under JAX); 1 on other backends or in a single process. Never starts JAX."""
    if name() != "jax":
        return 1
    import jax

    return jax.process_count() if jax.distributed.is_initialized() else 1


def process_index() -> int:
    """This process's index among :func:`process_count` (0 writes the results)."""
    if name() != "jax":
        return 0
    import jax

    return jax.process_index() if jax.distributed.is_initialized() else 0


def agree_on(value: int) -> int:
    """Process 0's ``value``, in every process (a broadcast across processes)."""
    if process_count() == 1:
        return value
    import numpy as np
    from jax.experimental import multihost_utils

    return int(multihost_utils.broadcast_one_to_all(np.int32(value)))

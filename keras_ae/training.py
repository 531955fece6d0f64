"""Training that loses nothing: validated data, resumable epochs, no NaN on disk.

:func:`train` wraps ``model.fit`` with the safeguards every keras_ae entry
point shares: the data is checked first (shape, NaN/Inf, range for sigmoid
models), ``keras.callbacks.BackupAndRestore`` makes an interrupted run resume
from its last completed epoch when given ``resume_dir``, and a NaN loss stops
training with a clear error instead of producing a broken model.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from keras_ae import backend, checks


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN or Inf loss and was stopped."""


class _StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stop at the first batch whose loss is NaN or Inf, and remember it."""

    def __init__(self) -> None:
        super().__init__()
        self.bad_batch: tuple[int, int] | None = None
        self._epoch = 0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            self.bad_batch = (self._epoch, batch)
            self.model.stop_training = True


class _SafeBackupAndRestore(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` that never writes non-finite weights, keeps the previous
    checkpoint as a fallback, and keeps its folder when training was stopped by a
    non-finite loss (so the last good epoch can still be resumed)."""

    def __init__(self, backup_dir: str, guard: _StopOnNonFiniteLoss) -> None:
        super().__init__(backup_dir, double_checkpoint=True)
        self.guard = guard

    def _save_model(self) -> None:
        if self.guard.bad_batch is None and not checks.non_finite_weights(self.model):
            super()._save_model()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.guard.bad_batch is None:
            super().on_train_end(logs)


def check_data(model: keras.Model, name: str, x: Any) -> np.ndarray:
    """Validate ``x`` for ``model``: shape, finiteness, and [0, 1] for sigmoid outputs."""
    spec = getattr(model, "spec", {})
    return checks.images(
        name,
        x,
        shape=model.input_shape[1:],
        unit_range=spec.get("output_activation") == "sigmoid",
    )


def train(
    model: keras.Model,
    x: Any,
    y: Any = None,
    *,
    epochs: int = 10,
    batch_size: int = 128,
    validation_data: tuple | None = None,
    resume_dir: str | os.PathLike | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int | str = "auto",
) -> keras.callbacks.History:
    """Fit ``model`` on ``x`` (target ``y``, default ``x``) with keras_ae's safeguards.

    Args:
        model: a compiled Keras model (any keras_ae builder's output).
        x: training inputs; checked against the model's input shape. Integer
            images are converted (uint8 scaled by 1/255) with a note.
        y: targets; default ``x`` (an autoencoder).
        epochs: total number of epochs, counting epochs already done by a
            resumed run.
        batch_size: batch size.
        validation_data: ``(x_val, y_val)``, or ``(x_val,)`` / ``x_val`` for
            an autoencoder.
        resume_dir: a folder for ``keras.callbacks.BackupAndRestore``: a run
            that was killed resumes from its last completed epoch when called
            again with the same folder. The folder is removed when training
            completes.
        callbacks: more Keras callbacks.
        verbose: passed to ``fit``.

    Returns:
        The ``History`` of this call (resumed runs contain only the new epochs).

    Raises:
        NonFiniteLossError: the loss became NaN or Inf; the model's weights
            are not to be trusted and nothing was written.
    """
    epochs = checks.positive_int("epochs", epochs)
    batch_size = checks.positive_int("batch_size", batch_size)
    x = check_data(model, "x", x)
    y = x if y is None else np.asarray(y)
    if len(y) != len(x):
        raise ValueError(f"`y` must have one row per row of `x` ({len(x)}). Received {len(y)}.")
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)):
            validation_data = (validation_data,)
        x_val = check_data(model, "validation_data", validation_data[0])
        y_val = x_val if len(validation_data) < 2 else np.asarray(validation_data[1])
        validation_data = (x_val, y_val)
    guard = _StopOnNonFiniteLoss()
    all_callbacks = [guard, *callbacks]
    if resume_dir is not None:
        if not isinstance(resume_dir, (str, os.PathLike)):
            raise TypeError(
                f"`resume_dir` must be a path or None. Received: resume_dir={resume_dir!r}"
            )
        all_callbacks.append(_SafeBackupAndRestore(os.fspath(resume_dir), guard))
    history = model.fit(
        x,
        y,
        epochs=epochs,
        batch_size=batch_size,
        validation_data=validation_data,
        callbacks=all_callbacks,
        verbose=verbose,
    )
    if guard.bad_batch is not None:
        epoch, batch = guard.bad_batch
        raise NonFiniteLossError(
            f"Training stopped: the loss became NaN or Inf at epoch {epoch + 1}, batch "
            f"{batch + 1}. Nothing was saved. Lower the learning rate or check the data."
        )
    return history


def set_deterministic(seed: int) -> None:
    """Seed Python, NumPy and the backend (``keras.utils.set_random_seed``), and
    under TensorFlow turn on its op determinism, so that two trainings on the
    CPU give identical weights."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"`seed` must be an integer >= 0. Received: seed={seed!r}")
    keras.utils.set_random_seed(seed)
    tf_only = backend.tensorflow_only()
    if tf_only is not None:
        tf_only.enable_op_determinism()


#: every ``strategy`` keras_ae knows; :data:`keras_ae.backend.STRATEGIES` says
#: which ones each backend supports.
STRATEGIES = backend.ALL_STRATEGIES


def make_strategy(name: str = "default", cpu_replicas: int | None = None) -> Any:
    """A distribution to build and train under, for this backend.

    Args:
        name: ``"default"`` (one device, every backend); ``"mirrored"``
            (TensorFlow's ``MirroredStrategy``: every local GPU, or
            ``cpu_replicas`` logical CPU devices); ``"data-parallel"``
            (JAX: ``keras.distribution.DataParallel`` over every device of
            every process).
            ``"multiworker"`` is refused: ``MultiWorkerMirroredStrategy`` is
            broken with Keras 3.
        cpu_replicas: with ``"mirrored"`` on a machine without GPUs, split
            the CPU into this many logical devices. Must be called before
            TensorFlow has run any operation.

    Returns:
        A context manager: build and compile the model inside ``with
        strategy.scope():`` (TensorFlow) or ``with strategy:`` (any backend
        through :func:`strategy_scope`).

    Raises:
        ValueError: the backend does not support ``name``.
    """
    backend.check_strategy(name)
    tf_only = backend.tensorflow_only()
    if tf_only is not None:
        return tf_only.make_strategy(name, cpu_replicas)
    if name == "data-parallel":
        return keras.distribution.DataParallel(devices=keras.distribution.list_devices())
    return None


def strategy_scope(strategy: Any) -> Any:
    """The context to build, compile and fit a model under ``strategy`` (from
    :func:`make_strategy`): its ``scope()``, or nothing for the default one."""
    import contextlib

    if strategy is None:
        return contextlib.nullcontext()
    return strategy.scope()

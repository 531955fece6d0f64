"""Training that loses nothing: validated data, resumable epochs, no NaN on disk.

:func:`train` wraps ``model.fit`` with the safeguards every keras_ae entry
point shares: the data is checked first (shape, NaN/Inf, range for sigmoid
models), ``keras.callbacks.BackupAndRestore`` makes an interrupted run resume
from its last completed epoch when given ``resume_dir``, and a NaN loss stops
training with a clear error instead of producing a broken model.
:func:`set_deterministic` seeds everything so that two runs give the same
weights.

Training across devices and processes (strategies, sharded batches,
:func:`~keras_ae.distribution.gather_model`) lives in
:mod:`keras_ae.distribution`; its public names are also importable from here.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from keras_ae import backend, checks
from keras_ae.distribution import (  # noqa: F401 - also public here, as before
    PROCESS_VARIABLES,
    STRATEGIES,
    check_processes,
    data_parallel,
    gather_model,
    global_batches,
    make_strategy,
    strategy_scope,
)
from keras_ae.streaming import is_stream


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
    return checks.array(
        name,
        x,
        shape=model.input_shape[1:],
        unit_range=spec.get("output_activation") == "sigmoid",
    )


def check_stream(model: keras.Model, name: str, x: Any, y: Any = None) -> Any:
    """Validate a stream for ``model`` without reading it: no separate ``y`` (a stream
    yields its ``(x, target)`` pairs), and for ``tf.data`` the per-sample shape."""
    if y is not None:
        raise ValueError(
            f"`y` must be None when `{name}` is a dataset: the dataset yields (x, target) "
            f"pairs. Received: y of type {type(y).__name__}"
        )
    spec = getattr(x, "element_spec", None)
    first = spec[0] if isinstance(spec, tuple) else spec
    shape = getattr(first, "shape", None)
    if shape is not None and tuple(shape[1:]) != tuple(model.input_shape[1:]):
        raise ValueError(
            f"`{name}` must yield batches of shape (batch, "
            f"{', '.join(str(s) for s in model.input_shape[1:])}) for this model. "
            f"Received batches of shape {tuple(shape)}."
        )
    return x


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
            images are converted (uint8 scaled by 1/255) with a note. Or a
            stream of ``(x, target)`` batches (a ``tf.data.Dataset`` such as
            :func:`keras_ae.datasets.from_directory`'s, or a
            ``keras.utils.PyDataset``), read batch by batch.
        y: targets; default ``x`` (an autoencoder). None for a stream.
        epochs: total number of epochs, counting epochs already done by a
            resumed run.
        batch_size: batch size (a stream comes in its own batches). Under
            ``keras.distribution.DataParallel`` it is the global batch, which
            Keras splits between the processes; across processes a stream is
            re-cut into whole batches of ``batch_size`` rows, and the rows
            past the last whole batch of an epoch are left out.
        validation_data: ``(x_val, y_val)``, or ``(x_val,)`` / ``x_val`` for
            an autoencoder, or a stream of ``(x, target)`` batches.
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
    global_batch = batch_size  # under a distribution: every process's rows together
    if is_stream(x):
        x, batch_size = check_stream(model, "x", x, y), None
    else:
        x = check_data(model, "x", x)
        y = x if y is None else np.asarray(y)
        if len(y) != len(x):
            raise ValueError(f"`y` must have one row per row of `x` ({len(x)}). Received {len(y)}.")
    if is_stream(validation_data):
        validation_data = check_stream(model, "validation_data", validation_data)
    elif validation_data is not None:
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
        if backend.process_count() > 1:
            raise ValueError(
                "`resume_dir` works in one process: across processes each would need the "
                f"others' checkpoints. Received: resume_dir={os.fspath(resume_dir)!r}"
            )
        all_callbacks.append(_SafeBackupAndRestore(os.fspath(resume_dir), guard))
    fit_args: dict[str, Any] = {"x": x, "y": y, "batch_size": batch_size}
    distribution = data_parallel()
    if distribution is not None:  # Keras shards a tf.data pipeline per process
        fit_args = {"x": global_batches(distribution, "x", x, y, global_batch, shuffle=True)}
        if validation_data is not None:
            pair = validation_data if isinstance(validation_data, tuple) else (validation_data,)
            validation_data = global_batches(
                distribution, "validation_data", *pair, batch_size=global_batch
            )
    with warnings.catch_warnings():
        # a sharded pipeline's length is known only after its first epoch
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        history = model.fit(
            **fit_args,
            epochs=epochs,
            validation_data=validation_data,
            callbacks=all_callbacks,
            verbose=verbose,
            shuffle=distribution is None and not is_stream(x),  # a stream keeps its order
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
    seed = checks.seed("seed", seed, allow_none=False)
    keras.utils.set_random_seed(seed)
    tf_only = backend.tensorflow_only()
    if tf_only is not None:
        tf_only.enable_op_determinism()

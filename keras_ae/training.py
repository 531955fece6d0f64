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

from keras_ae import checks


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
    """Seed Python, NumPy and Keras, and turn on TensorFlow's op determinism,
    so that two trainings on the CPU give identical weights."""
    import tensorflow as tf

    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"`seed` must be an integer >= 0. Received: seed={seed!r}")
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


STRATEGIES = ("default", "mirrored", "multiworker")


def make_strategy(name: str = "default", cpu_replicas: int | None = None) -> Any:
    """Return a ``tf.distribute.Strategy`` to build and train under.

    Args:
        name: ``"default"`` (one device), ``"mirrored"``
            (``MirroredStrategy``: every local GPU, or ``cpu_replicas``
            logical CPU devices) or ``"multiworker"``
            (``MultiWorkerMirroredStrategy``; each machine runs the same
            command with its own ``TF_CONFIG``).
        cpu_replicas: with ``"mirrored"`` on a machine without GPUs, split
            the CPU into this many logical devices. Must be called before
            TensorFlow has run any operation.

    Build the model inside ``with strategy.scope():`` so its variables are
    mirrored; ``fit`` then splits each batch across the replicas.
    """
    import tensorflow as tf

    checks.choice("strategy", name, STRATEGIES)
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    devices = None
    if cpu_replicas is not None and not tf.config.list_physical_devices("GPU"):
        cpu_replicas = checks.positive_int("cpu_replicas", cpu_replicas)
        cpu = tf.config.list_physical_devices("CPU")[0]
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration()] * cpu_replicas
            )
        except RuntimeError as err:
            raise ValueError(
                "`cpu_replicas` must be set before TensorFlow runs its first operation. "
                f"Received: cpu_replicas={cpu_replicas}"
            ) from err
        devices = [f"/cpu:{i}" for i in range(cpu_replicas)]
    return tf.distribute.MirroredStrategy(devices)


#: Training steps (counted across ``fit`` calls) that run through Keras's own
#: train function before the fused blocks take over. Compiling the fused
#: blocks costs about 4 s once for a small dense model on a 2-core CPU and
#: saves about 1.2 ms a step, so short runs (tests, a tutorial's 15 epochs on
#: 8,000 digits) never pay for it and long ones repay it within a few
#: thousand steps.
FUSE_AFTER_STEPS = 2048


def fused_train_function(model: keras.Model, keras_function: Any) -> Any:
    """A ``train_function`` for ``model`` that runs each ``steps_per_execution``
    block of training steps as one XLA computation; ``keras_function`` (Keras's
    own) where that does not apply.

    Keras's TensorFlow trainer compiles one training step with XLA and calls
    it ``steps_per_execution`` times from a TensorFlow loop, paying the cost
    of launching an XLA computation (every weight and optimizer slot passed
    in and out) at every step. Here the block's batches are stacked and one
    XLA ``while`` loop runs ``model.train_step`` on each in turn, in the same
    order, with the same results. The block's leading batches of the first
    batch's shape run that way; the rest (a smaller last batch of an epoch,
    or batches of other shapes) run one step at a time, as in Keras. The
    batches are read in a graph loop and only those read are stacked, so a
    block cut short by the end of an epoch is not padded, and the block's
    graph does not grow with ``steps_per_execution``.

    The first :data:`FUSE_AFTER_STEPS` steps of a model's training (at least
    one block, which also builds the compiled metrics) go through
    ``keras_function``, so that only runs long enough to repay the extra
    compilation use the blocks; the results are the same either way. The
    blocks apply with the TensorFlow backend when the model is compiled with
    ``jit_compile=True`` and ``steps_per_execution > 1``, outside any
    ``tf.distribute`` strategy.

    This is the one place keras_ae reaches into Keras's TensorFlow training
    loop (Keras has no backend-neutral hook for it); the returned function
    has the contract of Keras's own ``train_function``: it takes a
    ``tf.data`` iterator, returns the last step's logs and raises
    ``StopIteration`` when the iterator is exhausted. Its ``fused_steps``
    attribute counts the steps that ran inside XLA blocks.
    """
    if keras.backend.backend() != "tensorflow":
        return keras_function
    import tensorflow as tf

    steps = int(model.steps_per_execution or 1)
    if (
        steps < 2
        or model.jit_compile is not True
        or model.run_eagerly
        or tf.distribute.has_strategy()
    ):
        return keras_function
    one_step = tf.function(model.train_step, jit_compile=True, reduce_retracing=True)

    @tf.function(jit_compile=True, reduce_retracing=True)
    def leading_steps(stacked: Any) -> Any:
        """``train_step`` on each batch of ``stacked`` in turn; the logs start as
        the metrics' current results, which have the logs' structure."""
        count = tf.shape(tf.nest.flatten(stacked)[0])[0]

        def body(i: Any, logs: Any) -> tuple[Any, Any]:
            return i + 1, model.train_step(tf.nest.map_structure(lambda t: t[i], stacked))

        start = (tf.constant(0), model.get_metrics_result())
        return tf.while_loop(lambda i, _: i < count, body, start)[1]

    def shape_of(value: Any) -> Any:
        return tf.concat([tf.shape(t) for t in tf.nest.flatten(value)], 0)

    def run_block(iterator: Any, first: Any) -> tuple[Any, Any]:
        """Stack ``first`` and the batches after it that have its shape, up to
        ``steps`` batches, and run them fused; then run the batch that ended the
        stack and the rest of the block one step at a time, as Keras does."""
        empty = tf.experimental.Optional.empty(iterator.element_spec)

        def next_batch(taken: Any) -> Any:
            """The next batch, if the block has taken fewer than ``steps``."""
            return tf.cond(taken < steps, iterator.get_next_as_optional, lambda: empty)

        def shaped_like_first(count: Any, arrays: list, optional: Any) -> Any:
            return tf.cond(
                optional.has_value(),
                lambda: tf.reduce_all(tf.equal(shape_of(optional.get_value()), shape_of(first))),
                lambda: tf.constant(False),
            )

        def stack(count: Any, arrays: list, optional: Any) -> tuple[Any, list, Any]:
            values = tf.nest.flatten(optional.get_value())
            arrays = [a.write(count, t) for a, t in zip(arrays, values, strict=True)]
            return count + 1, arrays, next_batch(count + 1)

        arrays = [
            tf.TensorArray(t.dtype, size=0, dynamic_size=True, element_shape=t.shape).write(0, t)
            for t in tf.nest.flatten(first)
        ]
        one = tf.constant(1)
        count, arrays, optional = tf.while_loop(
            shaped_like_first, stack, (one, arrays, next_batch(one))
        )
        logs = leading_steps(tf.nest.pack_sequence_as(first, [a.stack() for a in arrays]))

        def one_by_one(taken: Any, logs: Any, optional: Any) -> tuple[Any, Any, Any]:
            return taken + 1, one_step(optional.get_value()), next_batch(taken)

        _, logs, _ = tf.while_loop(
            lambda taken, logs, optional: optional.has_value(),
            one_by_one,
            (count + 1, logs, optional),
        )
        return logs, count

    @tf.function(reduce_retracing=True)
    def block(iterator: Any) -> tuple[Any, Any, Any]:
        first = iterator.get_next_as_optional()
        ran = first.has_value()
        return ran, *tf.cond(
            ran,
            lambda: run_block(iterator, first.get_value()),
            lambda: (model.get_metrics_result(), 0),
        )

    def function(iterator: Any) -> Any:
        # Keras's function runs at least the first block: it builds the compiled
        # metrics, whose results start the fused blocks' logs
        threshold = max(FUSE_AFTER_STEPS, 1)
        if not isinstance(iterator, tf.data.Iterator) or function.keras_steps < threshold:
            function.keras_steps += steps
            return keras_function(iterator)
        ran, logs, fused = block(iterator)
        if not bool(ran):
            raise StopIteration
        function.fused_steps += int(fused)
        return logs

    function.fused_steps = 0  # steps run inside whole XLA blocks, for tests and profiling
    function.keras_steps = 0  # steps (about) handed to Keras's own function first
    return function


class FusedSteps:
    """Mixin for a ``keras.Model`` subclass: ``fit`` uses
    :func:`fused_train_function` (each ``steps_per_execution`` block of
    training steps as one XLA computation) where it applies, and Keras's own
    train function elsewhere."""

    def make_train_function(self, force: bool = False) -> Any:
        """Keras's ``make_train_function``, with the fused blocks where they apply."""
        if self.train_function is not None and not force:
            return self.train_function
        super().make_train_function(force=True)
        self.train_function = fused_train_function(self, self.train_function)
        return self.train_function

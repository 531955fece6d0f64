"""Training that loses nothing: validated data, resumable epochs, no NaN on disk.

:func:`train` wraps ``model.fit`` with the safeguards every keras_ae entry
point shares: the data is checked first (shape, NaN/Inf, range for sigmoid
models), ``keras.callbacks.BackupAndRestore`` makes an interrupted run resume
from its last completed epoch when given ``resume_dir``, and a NaN loss stops
training with a clear error instead of producing a broken model.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np

from keras_ae import backend, checks

#: the environment variables ``keras.distribution.initialize()`` reads: the
#: ``host:port`` of every process (process 0's first, or process 0's alone),
#: how many processes train together, and this process's index.
PROCESS_VARIABLES = (
    "KERAS_DISTRIBUTION_JOB_ADDRESSES",
    "KERAS_DISTRIBUTION_NUM_PROCESSES",
    "KERAS_DISTRIBUTION_PROCESS_ID",
)


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


def is_stream(x: Any) -> bool:
    """True for data that streams batches: a ``tf.data.Dataset`` or a ``keras.utils.PyDataset``."""
    return isinstance(x, keras.utils.PyDataset) or hasattr(x, "element_spec")


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
    distribution = _data_parallel()
    if distribution is not None:  # Keras shards a tf.data pipeline per process
        fit_args = {"x": _batches(distribution, "x", x, y, global_batch, shuffle=True)}
        if validation_data is not None:
            pair = validation_data if isinstance(validation_data, tuple) else (validation_data,)
            validation_data = _batches(
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


def _data_parallel() -> Any:
    """The ``keras.distribution`` distribution in use (JAX), else None."""
    return keras.distribution.distribution() if backend.name() == "jax" else None


def _batches(
    distribution: Any,
    name: str,
    x: Any,
    y: np.ndarray | None = None,
    batch_size: int = 128,
    shuffle: bool = False,
) -> Any:
    """``(x, y)`` as a ``tf.data`` pipeline of global batches for ``distribution``;
    a stream ``x`` as it is in one process, in whole batches of ``batch_size``
    rows across processes.

    Keras's ``DataParallel.distribute_dataset`` splits each global batch into
    one slice per process (``rebatch``, then ``shard``), so each process reads
    only its own rows, and refuses NumPy arrays across processes. The
    processes shuffle with one seed (process 0's), so their slices partition
    each batch. Across processes every batch must be whole (a short last
    batch would give the processes unequal slices): the rows past the last
    whole batch of each epoch's shuffle are left out.
    """
    import tensorflow as tf

    processes = backend.process_count()
    if is_stream(x) and processes == 1:
        return x
    devices = int(np.size(distribution.device_mesh.devices))
    if processes > 1:
        if batch_size % devices:
            raise ValueError(
                f"`batch_size` is the global batch, split over the {devices} devices of "
                f"{processes} processes: it must be a multiple of {devices}. "
                f"Received: batch_size={batch_size}"
            )
        if is_stream(x):
            if not hasattr(x, "rebatch"):
                raise ValueError(
                    f"`{name}` must be a tf.data.Dataset (or arrays) to train across "
                    f"processes: Keras shards only those. Received: {type(x).__name__}"
                )
            return x.rebatch(batch_size, drop_remainder=True)
        if len(x) < devices:
            raise ValueError(
                f"`{name}` must have at least one row per device ({devices}) to train across "
                f"processes. Received: {len(x)} rows"
            )
        batch_size = min(batch_size, len(x) // devices * devices)
    if y is x:  # an autoencoder: one copy of the rows
        dataset = tf.data.Dataset.from_tensor_slices(x).map(lambda row: (row, row))
    else:
        dataset = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        seed = backend.agree_on(int(np.random.randint(2**31 - 1)))
        dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    # one process: keep the last batch when the devices can split it
    whole_only = processes > 1 or len(x) % batch_size % devices != 0
    return dataset.batch(batch_size, drop_remainder=whole_only)


def check_processes(strategy: str, environ: Mapping[str, str] | None = None) -> dict | None:
    """Validate the environment for training under ``strategy``, before anything runs.

    Returns:
        ``{"addresses": [...], "count": N, "index": i}`` when
        :data:`PROCESS_VARIABLES` describe processes that train together
        (under JAX with ``strategy="data-parallel"``), else None.

    Raises:
        ValueError: a variable is missing or malformed (the message names it),
            the variables are set on a backend other than JAX or with another
            strategy, or ``TF_CONFIG`` is not JSON for ``"multiworker"``.
    """
    environ = os.environ if environ is None else environ
    if strategy == "multiworker" and "TF_CONFIG" in environ:
        try:
            json.loads(environ["TF_CONFIG"])
        except ValueError as err:
            raise ValueError(
                f"TF_CONFIG is not JSON ({err}); and strategy 'multiworker' is broken with "
                "Keras 3 anyway: train across processes with strategy='data-parallel' under "
                f"KERAS_BACKEND=jax. Received: TF_CONFIG={environ['TF_CONFIG'][:60]!r}"
            ) from None
    present = [v for v in PROCESS_VARIABLES if v in environ]
    if not present:
        return None
    missing = [v for v in PROCESS_VARIABLES if v not in environ]
    if missing:
        raise ValueError(
            f"{missing[0]} is not set: training across processes needs all of "
            f"{', '.join(PROCESS_VARIABLES)}. Received: {present[0]}={environ[present[0]]!r}"
        )
    count = _env_int(environ, "KERAS_DISTRIBUTION_NUM_PROCESSES", 1, None)
    index = _env_int(environ, "KERAS_DISTRIBUTION_PROCESS_ID", 0, count - 1)
    addresses = _env_addresses(environ, "KERAS_DISTRIBUTION_JOB_ADDRESSES", count)
    if backend.name() != "jax":
        raise ValueError(
            f"{', '.join(PROCESS_VARIABLES)} are set: training across processes needs "
            f"KERAS_BACKEND=jax and strategy='data-parallel'. Received: "
            f"KERAS_BACKEND={backend.name()}"
        )
    if strategy != "data-parallel":
        raise ValueError(
            f"{', '.join(PROCESS_VARIABLES)} are set: training across processes needs "
            f"strategy='data-parallel'. Received: strategy={strategy!r}"
        )
    return {"addresses": addresses, "count": count, "index": index}


def _env_int(environ: Mapping[str, str], name: str, low: int, high: int | None) -> int:
    text = environ[name]
    try:
        value = int(text.strip())
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        expected = f"an integer >= {low}" if high is None else f"an integer in [{low}, {high}]"
        raise ValueError(f"{name} must be {expected}. Received: {name}={text!r}")
    return value


def _env_addresses(environ: Mapping[str, str], name: str, count: int) -> list[str]:
    text = environ[name]
    addresses = [a.strip() for a in text.split(",")]
    for address in addresses:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(
                f"{name} must list host:port addresses separated by commas (process 0's "
                f"first), e.g. 10.0.0.1:1234,10.0.0.2:1234. Received: {name}={text!r}"
            )
    if len(addresses) not in (1, count):
        raise ValueError(
            f"{name} must give process 0's address alone or one address per process "
            f"({count}, KERAS_DISTRIBUTION_NUM_PROCESSES). Received: {name}={text!r}"
        )
    return addresses


def gather_model(model: keras.Model) -> keras.Model | None:
    """After training across processes: the model for process 0 to evaluate,
    save and export, None on the other processes (they write nothing).

    On process 0 this is a copy of ``model`` outside the distribution, with its
    weights and optimizer state (every process holds them whole), made
    through a ``.keras`` file in a temporary folder. In a single process it is
    ``model`` itself.
    """
    if backend.process_count() == 1:
        return model
    if backend.process_index() != 0:
        return None
    import tempfile

    previous = keras.distribution.distribution()
    keras.distribution.set_distribution(None)
    try:
        with tempfile.TemporaryDirectory(prefix="keras-ae-") as folder:
            path = os.path.join(folder, "model.keras")
            model.save(path)
            return keras.saving.load_model(path, safe_mode=True)
    finally:
        keras.distribution.set_distribution(previous)


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
            every process; when :data:`PROCESS_VARIABLES` are set, it first
            joins the other processes with ``keras.distribution.initialize()``).
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
        ValueError: the backend does not support ``name``, or the environment
            is wrong for it (see :func:`check_processes`).
    """
    processes = check_processes(name)
    backend.check_strategy(name)
    tf_only = backend.tensorflow_only()
    if tf_only is not None:
        return tf_only.make_strategy(name, cpu_replicas)
    if name == "data-parallel":
        import jax

        if processes is not None and not jax.distributed.is_initialized():
            keras.distribution.initialize()  # reads PROCESS_VARIABLES
        return keras.distribution.DataParallel(devices=keras.distribution.list_devices())
    return None


def strategy_scope(strategy: Any) -> Any:
    """The context to build, compile and fit a model under ``strategy`` (from
    :func:`make_strategy`): its ``scope()``, or nothing for the default one."""
    import contextlib

    if strategy is None:
        return contextlib.nullcontext()
    return strategy.scope()

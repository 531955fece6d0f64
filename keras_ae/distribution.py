"""Training across devices and processes: strategies, sharded batches, one model to save.

:func:`make_strategy` gives the distribution to build and train under on this
backend (TensorFlow's ``MirroredStrategy``, or JAX's
``keras.distribution.DataParallel``, joining other processes when
:data:`PROCESS_VARIABLES` say so) and :func:`strategy_scope` its context;
:func:`check_processes` validates the environment before anything runs;
:func:`global_batches` cuts the data into the global batches Keras shards
per process; :func:`gather_model` gives process 0 the trained model to
evaluate, save and export. :func:`keras_ae.training.train` uses these.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import keras
import numpy as np

from keras_ae import backend
from keras_ae.streaming import is_stream

#: the environment variables ``keras.distribution.initialize()`` reads: the
#: ``host:port`` of every process (process 0's first, or process 0's alone),
#: how many processes train together, and this process's index.
PROCESS_VARIABLES = (
    "KERAS_DISTRIBUTION_JOB_ADDRESSES",
    "KERAS_DISTRIBUTION_NUM_PROCESSES",
    "KERAS_DISTRIBUTION_PROCESS_ID",
)

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


def data_parallel() -> Any:
    """The ``keras.distribution`` distribution in use (JAX), else None."""
    return keras.distribution.distribution() if backend.name() == "jax" else None


def global_batches(
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

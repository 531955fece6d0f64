"""Everything in keras_ae that runs only with the TensorFlow backend.

keras_ae's model code is backend-neutral (``keras.layers``, ``keras.ops``,
``keras.random``). What TensorFlow alone offers lives here, and the rest of
the package reaches it only through :func:`keras_ae.backend.tensorflow_only`,
which returns this module under ``KERAS_BACKEND=tensorflow`` and None under
JAX or PyTorch, so a user on those backends never imports it:

- :class:`TensorFlowTraining`, the mixin behind the model classes' ``fit``:
  batches read by row inside the train step (:class:`TrainingRows`) and
  blocks of ``steps_per_execution`` steps run as one XLA computation
  (:func:`fused_train_function`);
- :func:`philox_draws`: random numbers with the Philox algorithm named, which
  XLA compiles to a cheaper program than ``keras.random``'s;
- :func:`batch_jacobian_norm`: ‖∂code/∂x‖²_F by ``tf.GradientTape``;
- ``tf.distribute``: :func:`make_strategy`, :func:`in_distribution_scope`;
- :func:`enable_op_determinism`.

SavedModel export itself goes through ``keras.export.ExportArchive``, which
works under TensorFlow and JAX (:mod:`keras_ae.export`).
"""

from __future__ import annotations

import inspect
import numbers
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from keras_ae import checks


def philox_draws(
    distribution: str, shape: Any, seed_generator: keras.random.SeedGenerator, dtype: Any
) -> Any:
    """The numbers ``keras.random.normal`` (``"normal"``) or
    ``keras.random.uniform`` (``"uniform"``) draws from ``seed_generator``,
    with the Philox algorithm named rather than left to ``"auto_select"``.

    auto_select picks Philox on CPU and GPU, so the numbers are the same.
    What differs is XLA's program: auto_select derives Philox's key and
    counter in the graph, and XLA fuses that derivation into the loop over
    the numbers, repeating it for each one. In the dense VAE's train step on
    a 2-core CPU that loop took 1.2 ms of thread time a step (about 12%);
    with Philox named it drops out of the profile.
    """
    # keras.random's own cast of the generator's int64 state to an int32 seed
    seed = tf.cast(tf.math.floormod(seed_generator.next(), tf.int32.max - 1), tf.int32)
    draw = tf.random.stateless_normal if distribution == "normal" else tf.random.stateless_uniform
    return draw(shape, seed=seed, dtype=dtype, alg="philox")


def batch_jacobian_norm(encoder: keras.Model, x: Any) -> Any:
    """‖∂encoder(x)/∂x‖²_F per sample by ``tf.GradientTape.batch_jacobian``."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        code = encoder(x, training=True)
    jac = tape.batch_jacobian(code, x)  # (batch, latent, *input_shape)
    return tf.reduce_sum(tf.reshape(tf.square(jac), (tf.shape(jac)[0], -1)), axis=-1)


def enable_op_determinism() -> None:
    """TensorFlow's op determinism: identical results for identical seeds on the CPU."""
    tf.config.experimental.enable_op_determinism()


def in_distribution_scope(model: keras.Model | None = None) -> bool:
    """True inside a ``tf.distribute`` strategy's scope (other than the default
    one), or for a ``model`` built inside one."""
    if tf.distribute.has_strategy():
        return True
    return model is not None and model.distribute_strategy is not tf.distribute.get_strategy()


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
    checks.choice("strategy", name, ("default", "mirrored", "multiworker"))
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


#: Private switch for ``benchmarks/run.py --ablation``: False runs every step
#: through Keras's own train function.
_FUSED_BLOCKS = True


#: Trunk architectures whose steps the fused blocks do not run: a Conv1D
#: autoencoder's block of 32 steps as one XLA ``while`` loop trained at 0.23x
#: plain Keras on a 2-core CPU, where Keras's own loop of XLA steps runs faster
#: than plain Keras (``benchmarks/conv_speed.py``, docs/benchmarks.md).
UNFUSED_ARCHITECTURES = frozenset({"conv", "lstm"})


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
    ``tf.distribute`` strategy, except to the trunks in
    :data:`UNFUSED_ARCHITECTURES`.

    This is the one place keras_ae reaches into Keras's TensorFlow training
    loop (Keras has no backend-neutral hook for it); the returned function
    has the contract of Keras's own ``train_function``: it takes a
    ``tf.data`` iterator, returns the last step's logs and raises
    ``StopIteration`` when the iterator is exhausted. Its ``fused_steps``
    attribute counts the steps that ran inside XLA blocks.
    """
    steps = int(model.steps_per_execution or 1)
    spec = getattr(model, "spec", None)
    if (
        steps < 2
        or not _FUSED_BLOCKS
        or (isinstance(spec, dict) and spec.get("architecture") in UNFUSED_ARCHITECTURES)
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
        # metrics, whose results start the fused blocks' logs. Steps are counted
        # by the optimizer, so a block cut short by the end of an epoch counts
        # the steps it ran, not steps_per_execution.
        threshold = max(FUSE_AFTER_STEPS, 1)
        if (
            not _FUSED_BLOCKS
            or not isinstance(iterator, tf.data.Iterator)
            or function.keras_steps < threshold
        ):
            before = int(model.optimizer.iterations.numpy())
            try:
                return keras_function(iterator)
            finally:
                function.keras_steps += int(model.optimizer.iterations.numpy()) - before
        ran, logs, fused = block(iterator)
        if not bool(ran):
            raise StopIteration
        function.fused_steps += int(fused)
        return logs

    function.fused_steps = 0  # steps run inside whole XLA blocks, for tests and profiling
    function.keras_steps = 0  # steps run by Keras's own function
    return function


#: ``fit`` holds an in-memory training array of at most this many bytes for
#: :class:`TrainingRows`; larger arrays go through Keras's own input pipeline.
ONE_PASS_MAX_BYTES = 512 * 2**20

#: Private switch for ``benchmarks/run.py --ablation``: False sends every
#: ``fit`` to Keras's own input pipeline.
_TRAINING_ROWS = True

_KERAS_DATA_ARGS = ("sample_weight", "class_weight", "steps_per_epoch")


class TensorFlowTraining:
    """Mixin for keras_ae's model classes under the TensorFlow backend.

    - ``fit(x)`` / ``fit(x, x)`` on an in-memory float32 array of at most
      :data:`ONE_PASS_MAX_BYTES` holds ``x`` once while ``fit`` runs, and
      each step reads its batch's rows (:class:`TrainingRows`): the batch
      serves as input and target and never passes through an input pipeline
      (the default dense AE trains 1.10x faster than from a pipeline of the
      images on a 2-core CPU). ``batch_size``, ``shuffle``,
      ``validation_split`` and ``validation_data`` keep their Keras meaning;
      other cases (``sample_weight``, ``class_weight``, ``steps_per_epoch``,
      ``shuffle="batch"``, other targets, datasets) go to Keras unchanged.
    - Blocks of ``steps_per_execution`` steps run as one XLA computation
      (:func:`fused_train_function`) where the model is compiled for it.
    """

    def fit(self, *args: Any, **kwargs: Any) -> keras.callbacks.History:
        """``keras.Model.fit``, reading batches by row where that applies."""
        bound = _FIT_SIGNATURE.bind(self, *args, **kwargs)
        bound.apply_defaults()
        arguments = {k: v for k, v in bound.arguments.items() if k != "self"}
        x, y = arguments.pop("x"), arguments.pop("y")
        rows = self._rows()
        if _TRAINING_ROWS and (y is None or y is x):
            one_pass = _one_pass(self, rows, x, arguments)
            if one_pass is not None:
                (x, arguments), y = one_pass, None
        try:
            return super().fit(x, y, **arguments)
        finally:
            rows.release()

    def _rows(self) -> TrainingRows:
        rows = self.__dict__.get("_keras_ae_rows")
        if rows is None:
            rows = TrainingRows()
            self.__dict__["_keras_ae_rows"] = rows  # not a weight: outside Keras's tracking
        return rows

    def train_step(self, data: Any) -> Any:
        """Keras's ``train_step``; a batch of row indices (``fit`` on an
        in-memory array) is first replaced by those rows of the held array."""
        rows = self._rows()
        if rows.holding and _is_row_batch(data):
            data = rows.take(data)
        return super().train_step(data)

    def make_train_function(self, force: bool = False) -> Any:
        """Keras's ``make_train_function``, with the fused blocks where they apply."""
        if self.train_function is not None and not force:
            return self.train_function
        super().make_train_function(force=True)
        self.train_function = fused_train_function(self, self.train_function)
        return self.train_function


_FIT_SIGNATURE = inspect.signature(keras.Model.fit)


def _is_row_batch(data: Any) -> bool:
    """A batch of row indices: one integer tensor of rank 1 (an autoencoder's own
    batches have a rank of at least 2)."""
    shape = getattr(data, "shape", None)
    dtype = getattr(data, "dtype", None)
    return (
        shape is not None
        and dtype is not None
        and len(shape) == 1
        and "int" in keras.backend.standardize_dtype(dtype)
    )


def _one_pass(model: keras.Model, rows: TrainingRows, x: Any, kwargs: dict) -> Any:
    """``fit``'s ``x`` and keyword arguments rewritten to read every batch's rows
    from ``rows`` (see :class:`TensorFlowTraining`), or None when that path does
    not apply (a model of a ``tf.distribute`` strategy among those cases)."""
    simple = all(kwargs.get(key) is None for key in _KERAS_DATA_ARGS)
    if (
        not isinstance(x, np.ndarray)
        or x.dtype != np.float32
        or x.ndim < 2
        or x.nbytes > ONE_PASS_MAX_BYTES
        or not simple
        or kwargs["shuffle"] not in (True, False)
        or in_distribution_scope(model)
    ):
        return None
    kwargs = dict(kwargs)
    split = kwargs.pop("validation_split") or 0.0
    if isinstance(split, bool) or not isinstance(split, numbers.Real):
        raise TypeError(
            f"`validation_split` must be a number in [0, 1). Received: validation_split={split!r}"
        )
    if split and kwargs["validation_data"] is None:
        if not 0.0 < split < 1.0:
            raise ValueError(
                f"`validation_split` must be in [0, 1). Received: validation_split={split!r}"
            )
        split_at = int(np.floor(len(x) * (1.0 - split)))
        if split_at in (0, len(x)):
            raise ValueError(
                "`validation_split` leaves no training or no validation samples out of "
                f"{len(x)}. Received: validation_split={split!r}"
            )
        kwargs["validation_data"] = (x[split_at:],)
        x = x[:split_at]
    validation = kwargs.get("validation_data")
    if isinstance(validation, (tuple, list)) and len(validation) == 2:
        if validation[1] is validation[0]:
            kwargs["validation_data"] = (validation[0],)
    batch_size = kwargs.pop("batch_size") or 32
    dataset = rows.batches(x, batch_size, kwargs["shuffle"])
    kwargs["shuffle"] = False  # the dataset shuffles; Keras warns otherwise
    return dataset, kwargs


class TrainingRows:
    """An autoencoder's training array, held once in memory for one ``fit`` and
    read by row inside the train step.

    ``fit(x)`` on an in-memory array iterates over batches of row indices
    (:meth:`batches`), and the train step gathers each batch's rows
    (:meth:`take`) inside its own computation, XLA's where the model is
    compiled with it. Keras's own path for ``fit(x, x)`` slices every batch
    twice (inputs and targets) in its input pipeline and hands the batches
    to each step; here no image passes through the pipeline: in paired
    epochs on a 2-core CPU the default dense AE trained 1.10× faster than
    from a pipeline of the images, wider dense models 1.04×–1.06×, conv
    models as fast (docs/benchmarks.md). It holds one copy of ``x`` while ``fit`` runs (hence
    :data:`ONE_PASS_MAX_BYTES`) and none after :meth:`release`.

    This is the one TensorFlow-specific piece of the training path: Keras
    has no backend-neutral input pipeline, nor a variable whose shape can
    change from one ``fit`` to the next without retracing the train step.
    """

    def __init__(self) -> None:
        self._variable: Any = None
        self.sample_shape: tuple[int, ...] | None = None

    @property
    def holding(self) -> bool:
        """True while a ``fit`` reads its batches by row from here."""
        return self.sample_shape is not None

    def batches(self, x: np.ndarray, batch_size: int, shuffle: bool) -> Any:
        """Hold ``x`` (float32, ``(N, *sample_shape)``) and return a ``tf.data``
        pipeline of its batches of row indices: ``batch_size`` rows each (the
        last batch may be smaller), in a new order every epoch if ``shuffle``."""
        if self._variable is None:
            # an unknown shape: a later fit on more or fewer rows reuses the traced step
            self._variable = tf.Variable(
                x, trainable=False, shape=tf.TensorShape(None), name="training_rows"
            )
        else:
            self._variable.assign(x)
        self.sample_shape = tuple(x.shape[1:])
        rows = tf.data.Dataset.range(len(x))
        if shuffle:
            rows = rows.shuffle(len(x), reshuffle_each_iteration=True)
        return rows.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    def take(self, rows: Any) -> Any:
        """The samples at ``rows`` (a batch from :meth:`batches`), shaped
        ``(len(rows), *sample_shape)``."""
        # a gather from the variable itself (ResourceGather), not from a read of all of it
        return tf.reshape(tf.gather(self._variable, rows), (-1, *self.sample_shape))

    def release(self) -> None:
        """Drop the held array (the variable keeps its place, empty)."""
        if self._variable is not None and self.sample_shape is not None:
            self._variable.assign(np.zeros((0, *self.sample_shape), "float32"))
        self.sample_shape = None


# ------------------------------------------------------ ONNX and LiteRT files


def signature_io(saved_model: Any, name: str) -> dict[str, list[dict[str, Any]]]:
    """The inputs and outputs of endpoint ``name`` of a loaded SavedModel:
    ``{"inputs": [{"name", "shape", "dtype"}], "outputs": [...]}`` in call order."""
    function = saved_model.signatures[name]

    def describe(specs: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {"name": key, "shape": list(spec.shape.as_list()), "dtype": spec.dtype.name}
            for key, spec in specs.items()
        ]

    inputs = function.structured_input_signature[1]
    outputs = dict(sorted(function.structured_outputs.items(), key=lambda kv: _output_index(kv[0])))
    return {"inputs": describe(inputs), "outputs": describe(outputs)}


def _output_index(name: str) -> int:
    return int(name.rsplit("_", 1)[-1]) if name.rsplit("_", 1)[-1].isdigit() else 0


def write_onnx(saved_model: Any, name: str, path: str, opset: int) -> None:
    """Convert endpoint ``name`` of a loaded SavedModel to one ONNX file with
    tf2onnx (the converter ``keras.Model.export(format="onnx")`` uses), naming
    its inputs and outputs as the SavedModel's signature does.

    The signature is frozen first: its weights and the constants it captured
    (such as a fitted ``keras.layers.Normalization``'s statistics) become
    constants, so the ONNX graph's only inputs are the endpoint's own.
    """
    import onnx
    import tf2onnx
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    try:  # numpy 2 names tf2onnx still expects; Keras's own export applies the same patch
        from keras.src.export.tf2onnx_lib import patch_tf2onnx

        patch_tf2onnx()
    except ImportError:  # pragma: no cover - older or newer Keras without the patch
        pass
    io = signature_io(saved_model, name)
    frozen = convert_variables_to_constants_v2(saved_model.signatures[name])
    inputs = [t.name for t in frozen.inputs]
    outputs = [t.name for t in frozen.outputs]
    proto, _ = tf2onnx.convert.from_graph_def(
        frozen.graph.as_graph_def(), input_names=inputs, output_names=outputs, opset=opset
    )
    renames = dict(zip(inputs, [spec["name"] for spec in io["inputs"]], strict=True))
    renames.update(zip(outputs, [spec["name"] for spec in io["outputs"]], strict=True))
    for node in proto.graph.node:
        node.input[:] = [renames.get(i, i) for i in node.input]
        node.output[:] = [renames.get(o, o) for o in node.output]
    for value in [*proto.graph.input, *proto.graph.output]:
        value.name = renames[value.name]
    onnx.checker.check_model(proto)
    onnx.save(proto, path)


def write_litert(
    saved_model_dir: str,
    name: str,
    path: str,
    quantize: str | None = None,
    representative: Any | None = None,
) -> None:
    """Convert endpoint ``name`` of a SavedModel to one LiteRT (``.tflite``) file
    with TensorFlow's converter, the route ``keras.Model.export(format="litert")``
    takes. ``quantize``: None (float32), ``"int8"`` (int8 weights and
    activations, calibrated on the batches the callable ``representative``
    gives) or ``"dynamic"`` (int8 weights only)."""
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir, signature_keys=[name])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "int8":
        converter.representative_dataset = representative
    with open(path, "wb") as f:
        f.write(converter.convert())

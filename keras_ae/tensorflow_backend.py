"""Everything in keras_ae that runs only with the TensorFlow backend.

keras_ae's model code is backend-neutral (``keras.layers``, ``keras.ops``,
``keras.random``). What TensorFlow alone offers lives here, and the rest of
the package reaches it only through :func:`keras_ae.backend.tensorflow_only`,
which returns this module under ``KERAS_BACKEND=tensorflow`` and None under
JAX or PyTorch, so a user on those backends never imports it:

- :func:`philox_draws`: random numbers with the Philox algorithm named, which
  XLA compiles to a cheaper program than ``keras.random``'s;
- :func:`batch_jacobian_norm`: ‖∂code/∂x‖²_F by ``tf.GradientTape``;
- ``tf.distribute``: :func:`make_strategy`, :func:`in_distribution_scope`;
- :func:`enable_op_determinism`.

SavedModel export itself goes through ``keras.export.ExportArchive``, which
works under TensorFlow and JAX (:mod:`keras_ae.export`).
"""

from __future__ import annotations

from typing import Any

import keras
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

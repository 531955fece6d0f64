"""Export to TensorFlow SavedModel, ONNX and LiteRT with named endpoints, written atomically.

Each exportable class lists its endpoints in a method,
``export_endpoints(self) -> dict[str, Endpoint]`` (:func:`endpoints_for`
calls it). Every endpoint takes float32 tensors with a free batch axis (or
scalar int32 arguments for ``sample``):

- every autoencoder: ``serve`` and ``reconstruct`` (x → x̂), ``encode``
  (x → code), ``decode`` (code → x̂);
- a VAE: ``encode`` returns ``[z_mean, z_log_var]``, ``reconstruct`` and
  ``serve`` decode the mean (deterministic), ``sample(n, seed)`` decodes
  ``n`` draws of N(0, I);
- a :class:`~keras_ae.stacked.StackedClassifier`: ``serve``/``classify``
  and ``encode``; an :class:`~keras_ae.anomaly.AnomalyDetector`: its
  autoencoder's endpoints plus ``score`` and ``is_anomaly``;
- any other Keras model: ``serve``.

The SavedModel needs only TensorFlow to run: ``tf.saved_model.load(path)``,
or ``keras.layers.TFSMLayer(path, call_endpoint="encode")``. A SavedModel runs
its own graph: load only SavedModels you trust.

:func:`export_model` writes any of :data:`FORMATS`. ONNX and LiteRT files
hold one function each, so those formats are a folder with one file per
endpoint and ``endpoints.json`` (see :func:`export_model`); the converters
themselves live in the ``tensorflow_backend`` module.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keras
import numpy as np

from keras_ae import backend, checks

#: ``(fn, input_signature)``; or ``(compose, "other")`` for an endpoint composed
#: over the exported function of endpoint ``"other"`` (``compose(fn)`` returns
#: a ``tf.function``), such as a VAE's ``sample`` over ``decode``.
Endpoint = tuple[Callable[..., Any], Any]


class PathExistsError(FileExistsError, ValueError):
    """The export target exists and ``overwrite`` is False."""


def x_spec(model: keras.Model) -> Any:
    """The signature of an endpoint argument ``x``: float32 inputs of ``model``, any batch."""
    import tensorflow as tf

    return tf.TensorSpec((None, *model.input_shape[1:]), tf.float32, name="x")


def code_spec(size: int) -> Any:
    """The signature of an endpoint argument ``z``: float32 codes of ``size``, any batch."""
    import tensorflow as tf

    return tf.TensorSpec((None, size), tf.float32, name="z")


def model_endpoints(model: keras.Model) -> dict[str, Endpoint]:
    """``serve`` for any Keras model."""
    x = [x_spec(model)]
    return {"serve": (lambda t: model(t, training=False), x)}


def prior_sample(latent: int) -> Callable[[Any], Any]:
    """A composed endpoint: given the exported ``decode`` function, a
    ``tf.function`` ``sample(n, seed)`` that decodes ``n`` draws of N(0, I)
    made from ``seed`` (stateless, so the same seed gives the same images)."""

    def compose(decode: Any) -> Any:
        import tensorflow as tf

        @tf.function(
            input_signature=[
                tf.TensorSpec((), tf.int32, name="n"),
                tf.TensorSpec((), tf.int32, name="seed"),
            ]
        )
        def sample(n: Any, seed: Any) -> Any:
            z = tf.random.stateless_normal(tf.stack([n, latent]), seed=tf.stack([seed, 0]))
            return decode(z)

        return sample

    return compose


#: The keras_ae classes that offer ``export_endpoints()``, for error messages.
EXPORTABLE = (
    "Autoencoder",
    "VariationalAutoencoder",
    "StackedClassifier",
    "AnomalyDetector",
    "DetectorModel",
)


def _offers_endpoints(obj: Any) -> bool:
    """True for the objects with endpoints of their own (every keras_ae model)."""
    return callable(getattr(obj, "export_endpoints", None))


def endpoints_for(obj: Any) -> dict[str, Endpoint]:
    """The endpoints of ``obj``: its ``export_endpoints()``, else ``serve`` for any
    ``keras.Model``.

    Raises:
        TypeError: ``obj`` is neither.
    """
    if _offers_endpoints(obj):
        return obj.export_endpoints()
    if isinstance(obj, keras.Model):
        return model_endpoints(obj)
    raise TypeError(
        "`model` must be a keras.Model or an object with export_endpoints() "
        f"({', '.join(EXPORTABLE)}). Received: model={obj!r}"
    )


def tracked_model(obj: Any) -> keras.Model:
    """The Keras model behind an exportable object (itself, or a detector's ``model``)."""
    return obj if isinstance(obj, keras.Model) else obj.model


def check_finite_weights(model: keras.Model) -> None:
    """Raise ValueError if any weight of ``model`` is NaN or Inf."""
    bad = checks.non_finite_weights(model)
    if bad:
        raise ValueError(
            f"Weight {bad[0]!r} (and {len(bad) - 1} more) holds NaN or Inf values; refusing "
            "to write a broken model. Train again with a lower learning rate."
        )


def _rename_exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with Linux renameat2(RENAME_EXCHANGE)."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    if not hasattr(libc, "renameat2"):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return result == 0


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def publish(tmp: Path, path: Path) -> None:
    """Move the finished ``tmp`` to ``path`` so that ``path`` is always either
    the complete old content or the complete new one."""
    if not path.exists():
        os.rename(tmp, path)
        return
    if _rename_exchange(tmp, path):
        _remove(tmp)  # now holds the old content
        return
    if tmp.is_file() and path.is_file():
        os.replace(tmp, path)
        return
    old = path.with_name(f".{path.name}.old-{uuid.uuid4().hex[:8]}")
    os.rename(path, old)
    os.rename(tmp, path)
    _remove(old)


def staging_path(path: Path, suffix: str = "") -> Path:
    """A fresh hidden sibling of ``path`` to write into, after removing the
    ones that killed runs left behind."""
    for stale in path.parent.glob(f".{path.name}.partial-*"):
        _remove(stale)
    return path.with_name(f".{path.name}.partial-{uuid.uuid4().hex[:8]}{suffix}")


def _target(path: str | os.PathLike, overwrite: bool) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` must be a str or os.PathLike. Received: path={path!r}")
    if not isinstance(overwrite, bool):
        raise TypeError(f"`overwrite` must be True or False. Received: overwrite={overwrite!r}")
    target = Path(path)
    if target.exists() and not overwrite:
        raise PathExistsError(
            f"`path` already exists: {str(target)!r}. Pass overwrite=True to replace it."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def saved_model_supported() -> bool:
    """True where this Keras backend can write a SavedModel (TensorFlow, JAX);
    under PyTorch save a ``.keras`` file and export it on one of those."""
    return backend.name() in ("tensorflow", "jax")


def _refuse_torch(what: str) -> None:
    if not saved_model_supported():
        raise RuntimeError(
            f"{what} does not run under KERAS_BACKEND=torch (Keras cannot trace "
            "PyTorch functions into a SavedModel): save the model with keras_ae.save_keras, "
            "then export it under KERAS_BACKEND=tensorflow or jax with `keras-ae export "
            "MODEL.keras --out DIR`."
        )


def _write_saved_model(model: Any, endpoints: dict[str, Endpoint], directory: Path) -> None:
    """Write ``endpoints`` of ``model`` (non-atomically) as a SavedModel in ``directory``."""
    archive = keras.export.ExportArchive()
    archive.track(tracked_model(model))
    functions: dict[str, Any] = {}
    for name, (fn, signature) in endpoints.items():
        if isinstance(signature, str):
            functions[name] = archive.add_endpoint(name, fn(functions[signature]))
        else:
            functions[name] = archive.add_endpoint(name, fn, input_signature=signature)
    archive.write_out(str(directory), verbose=False)


def _write_atomically(target: Path, write: Callable[[Path], None]) -> Path:
    """Run ``write(tmp)`` on a hidden sibling folder, then publish it at ``target``."""
    tmp = staging_path(target)
    try:
        write(tmp)
        publish(tmp, target)
    except BaseException:
        _remove(tmp)
        raise
    return target


def export_saved_model(model: Any, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write ``model`` as a TensorFlow SavedModel with named endpoints.

    The SavedModel is first written to a hidden sibling directory, then moved
    into place atomically, so a failure (or a killed process) leaves any
    earlier model at ``path`` as it was.

    Args:
        model: a keras_ae model (or any ``keras.Model``, which gets ``serve``).
        path: target directory.
        overwrite: replace an existing ``path``.

    Returns:
        ``path`` as a :class:`pathlib.Path`.

    Raises:
        PathExistsError: ``path`` exists and ``overwrite`` is False.
        ValueError: the model has NaN or Inf weights.
        TypeError: ``model`` is not exportable.
    """
    _refuse_torch("export_saved_model")
    endpoints = endpoints_for(model)
    target = _target(path, overwrite)
    check_finite_weights(tracked_model(model))
    return _write_atomically(target, lambda tmp: _write_saved_model(model, endpoints, tmp))


# ------------------------------------------------------------ ONNX and LiteRT

#: The formats of :func:`export_model`.
FORMATS = ("saved_model", "onnx", "litert")
#: ``quantize`` values of :func:`export_model` (LiteRT only): float32; int8
#: weights and activations, calibrated; int8 weights with float32 activations.
QUANTIZE = (None, "int8", "dynamic")
#: File suffix per one-function format.
SUFFIX = {"onnx": ".onnx", "litert": ".tflite"}
#: The small JSON beside the one-function files.
ENDPOINTS_FILE = "endpoints.json"
#: ONNX opset of the exported files.
ONNX_OPSET = 17
#: Extra that installs each format's converter and runtime.
EXTRAS = {"onnx": ("tf2onnx", "onnx", "onnxruntime"), "litert": ("ai_edge_litert",)}


def _require_extra(format: str) -> None:
    import importlib.util

    for module in EXTRAS.get(format, ()):
        if importlib.util.find_spec(module) is None:
            raise ImportError(
                f"format={format!r} needs {module}, which is not installed: "
                f"pip install 'keras_ae[{format}]'"
            )


def _keras_ae_object(model: Any) -> Any:
    """Refuse anything but keras_ae's own exportable classes."""
    if not _offers_endpoints(model):
        raise TypeError(
            f"`model` must be a keras_ae model ({', '.join(EXPORTABLE)}). Received: model of "
            f"type {type(model).__name__}. A plain keras.Model exports with its own "
            "`model.export(path, format=...)`."
        )
    return model


def portable_endpoints(model: Any) -> dict[str, Endpoint]:
    """The endpoints of ``model`` as one-function formats hold them.

    ``serve`` (an alias of ``reconstruct``, or of ``classify``) is left out.
    An endpoint composed over another (a VAE's ``sample(n, seed)``, which draws
    its noise inside a SavedModel) becomes that endpoint with the noise as an
    explicit input named ``noise``: ONNX and LiteRT files hold no seeded random
    ops, so the caller draws the noise (N(0, I) of shape ``(n, latent_dim)``).
    """
    import tensorflow as tf

    endpoints = dict(endpoints_for(model))
    serve = endpoints.pop("serve")
    if not any(endpoint is serve for endpoint in endpoints.values()):
        endpoints["serve"] = serve
    for name, (_fn, signature) in list(endpoints.items()):
        if isinstance(signature, str):
            base_fn, base_signature = endpoints[signature]
            noise = [tf.TensorSpec(s.shape, s.dtype, name="noise") for s in base_signature]
            endpoints[name] = (base_fn, noise)
    return endpoints


def _layers(layer: Any) -> list[Any]:
    """``layer`` and every layer inside it, through nested models."""
    inner = getattr(layer, "layers", None) or getattr(layer, "_layers", [])
    return [layer, *(sub for child in inner for sub in _layers(child))]


@contextlib.contextmanager
def _unrolled_rnns(model: keras.Model) -> Iterator[None]:
    """Trace recurrent layers unrolled over their time steps (for ONNX and LiteRT).

    A traced ``keras.layers.RNN`` is a while loop over a tensor list whose
    element shape holds the free batch axis. LiteRT's builtin ops cannot hold
    such a list (only TensorFlow's "select" ops, which the LiteRT interpreter
    does not ship), and tf2onnx leaves the loop's weights as graph inputs.
    Unrolled over the window's fixed length, an LSTM becomes plain ops, with
    the same weights and the same outputs.
    """
    rnns = [layer for layer in _layers(model) if isinstance(layer, keras.layers.RNN)]
    before = [layer.unroll for layer in rnns]
    for layer in rnns:
        layer.unroll = True
    try:
        yield
    finally:
        for layer, unroll in zip(rnns, before, strict=True):
            layer.unroll = unroll


def _write_one_function_files(
    model: Any,
    format: str,
    directory: Path,
    quantize: str | None = None,
    calibration: np.ndarray | None = None,
) -> None:
    """One ``<endpoint>.onnx`` or ``.tflite`` file per endpoint in ``directory``,
    and :data:`ENDPOINTS_FILE` listing them with their inputs and outputs."""
    import tempfile

    import tensorflow as tf

    tf_only = backend.tensorflow_only()
    endpoints = portable_endpoints(model)
    directory.mkdir()
    listing: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as saved_model_dir:
        with _unrolled_rnns(tracked_model(model)):
            _write_saved_model(model, endpoints, Path(saved_model_dir))
        loaded = tf.saved_model.load(saved_model_dir)
        codes = None
        for name in endpoints:
            file = directory / f"{name}{SUFFIX[format]}"
            io = tf_only.signature_io(loaded, name)
            if format == "onnx":
                tf_only.write_onnx(loaded, name, str(file), ONNX_OPSET)
            else:
                representative = None
                if calibration is not None:
                    if io["inputs"][0]["name"] != "x" and codes is None:
                        codes = _codes(loaded, calibration)
                    batches = calibration if io["inputs"][0]["name"] == "x" else codes
                    representative = _calibration_batches(batches)
                tf_only.write_litert(saved_model_dir, name, str(file), quantize, representative)
            listing[name] = {"file": file.name, **io}
    manifest = {
        "format": format,
        "quantize": quantize,
        "model": type(model).__name__,
        "endpoints": listing,
    }
    (directory / ENDPOINTS_FILE).write_text(json.dumps(manifest, indent=2) + "\n")


def _codes(loaded: Any, calibration: np.ndarray) -> np.ndarray:
    """The first output of ``encode`` (the code, or a VAE's mean) on ``calibration``."""
    out = loaded.signatures["encode"](x=calibration)
    return np.asarray(out["output_0"])


def _calibration_batches(data: np.ndarray, batch: int = 32) -> Callable[[], Any]:
    def batches() -> Any:
        for i in range(0, len(data), batch):
            yield [data[i : i + batch]]

    return batches


def export_model(
    model: Any,
    path: str | os.PathLike,
    format: str = "saved_model",
    *,
    overwrite: bool = False,
    quantize: str | None = None,
    calibration_data: Any = None,
) -> Path:
    """Export a keras_ae model, with its named endpoints, to one of :data:`FORMATS`.

    - ``"saved_model"``: one TensorFlow SavedModel folder holding every
      endpoint (:func:`export_saved_model`); TensorFlow or JAX backend.
    - ``"onnx"``, ``"litert"``: a folder with one file per endpoint
      (``reconstruct.onnx``, ``encode.onnx``, ... or ``.tflite``), since each
      file holds one function, and ``endpoints.json`` listing each endpoint's
      file, inputs and outputs (names, shapes, dtypes). Outputs are named
      ``output_0``, ``output_1``, ... as in the SavedModel's signatures. A
      VAE's ``sample`` takes its N(0, I) noise as an input named ``noise``
      (see :func:`portable_endpoints`). Needs the TensorFlow backend and the
      extra ``keras_ae[onnx]`` or ``keras_ae[litert]``.

    Every format is written to a hidden sibling first and moved into place
    atomically, so a failed or killed export leaves ``path`` as it was.

    Args:
        model: an :class:`~keras_ae.models.Autoencoder` (every builder's
            model, VAEs included), a :class:`~keras_ae.stacked.StackedClassifier`
            or a fitted :class:`~keras_ae.anomaly.AnomalyDetector`.
        path: target folder.
        format: one of :data:`FORMATS`.
        overwrite: replace an existing ``path``.
        quantize: LiteRT only. None: float32. ``"int8"``: int8 weights and
            activations, calibrated on ``calibration_data`` (the smallest and
            fastest files). ``"dynamic"``: int8 weights, float32 activations,
            no calibration; for inputs whose features differ in scale by
            orders of magnitude (raw tables), where one int8 scale for the
            raw input loses the small features.
        calibration_data: model inputs (e.g. normal training rows) to
            calibrate ``quantize="int8"``; a few hundred rows suffice.

    Returns:
        ``path`` as a :class:`pathlib.Path`.

    Raises:
        ValueError: unknown ``format`` or ``quantize``, ``quantize`` without
            ``calibration_data``, NaN or Inf weights, or ``path`` exists and
            ``overwrite`` is False (:class:`PathExistsError`).
        TypeError: ``model`` is not a keras_ae model.
        ImportError: the format's extra is not installed.
        RuntimeError: the format cannot be written under this backend.
    """
    checks.choice("format", format, FORMATS)
    _keras_ae_object(model)
    if quantize not in QUANTIZE:
        raise ValueError(
            f"`quantize` must be None, 'int8' or 'dynamic'. Received: quantize={quantize!r}"
        )
    if quantize != "int8" and calibration_data is not None:
        raise ValueError(
            "`calibration_data` calibrates quantize='int8' only. Received: calibration_data "
            f"with quantize={quantize!r}"
        )
    calibration = None
    if quantize is not None:
        if format != "litert":
            raise ValueError(
                f"`quantize` applies to format='litert' only. Received: quantize={quantize!r} "
                f"with format={format!r}"
            )
        if quantize == "int8" and calibration_data is None:
            raise ValueError(
                "quantize='int8' needs `calibration_data`: model inputs such as normal "
                "training rows. Received: calibration_data=None"
            )
    if calibration_data is not None:
        x_spec = portable_endpoints(model)["encode"][1][0]
        calibration = checks.array("calibration_data", calibration_data, x_spec.shape[1:])
    if format == "saved_model":
        return export_saved_model(model, path, overwrite=overwrite)
    if backend.tensorflow_only() is None:
        raise RuntimeError(
            f"format={format!r} is written under KERAS_BACKEND=tensorflow (its converters read "
            f"TensorFlow graphs); this process runs {backend.name()}. Save the model with "
            f"keras_ae.save_keras, then run `KERAS_BACKEND=tensorflow keras-ae export "
            f"MODEL.keras --format {format} --out DIR`."
        )
    _require_extra(format)
    target = _target(path, overwrite)
    check_finite_weights(tracked_model(model))
    return _write_atomically(
        target, lambda tmp: _write_one_function_files(model, format, tmp, quantize, calibration)
    )


def save_keras(model: keras.Model, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """``model.save(path)`` for a ``.keras`` file, atomically (temp file, then rename)."""
    target = _target(path, overwrite)
    if target.suffix != ".keras":
        raise ValueError(f"`path` must end in '.keras'. Received: path={str(path)!r}")
    check_finite_weights(model)
    tmp = staging_path(target, suffix=".keras")
    try:
        model.save(tmp)
        publish(tmp, target)
    except BaseException:
        _remove(tmp)
        raise
    return target

"""Export to TensorFlow SavedModel with named endpoints, written atomically.

One table, :data:`ENDPOINTS`, maps each exportable class to a function that
lists its endpoints. Every endpoint takes float32 tensors with a free batch
axis (or scalar int32 arguments for ``sample``):

- every autoencoder: ``serve`` and ``reconstruct`` (x → x̂), ``encode``
  (x → code), ``decode`` (code → x̂);
- a VAE: ``encode`` returns ``[z_mean, z_log_var]``, ``reconstruct`` and
  ``serve`` decode the mean (deterministic), ``sample(n, seed)`` decodes
  ``n`` draws of N(0, I);
- any other Keras model: ``serve``.

The SavedModel needs only TensorFlow to run: ``tf.saved_model.load(path)``,
or ``keras.layers.TFSMLayer(path, call_endpoint="encode")``. A SavedModel runs
its own graph: load only SavedModels you trust.

This module is the only place keras_ae imports TensorFlow for export.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras

from keras_ae import backend, checks
from keras_ae.models import Autoencoder, VariationalAutoencoder

#: ``(fn, input_signature)``; or ``(compose, "other")`` for an endpoint composed
#: over the exported function of endpoint ``"other"`` (``compose(fn)`` returns
#: a ``tf.function``), such as a VAE's ``sample`` over ``decode``.
Endpoint = tuple[Callable[..., Any], Any]


class PathExistsError(FileExistsError, ValueError):
    """The export target exists and ``overwrite`` is False."""


def _x_spec(model: keras.Model) -> Any:
    import tensorflow as tf

    return tf.TensorSpec((None, *model.input_shape[1:]), tf.float32, name="x")


def _code_spec(size: int) -> Any:
    import tensorflow as tf

    return tf.TensorSpec((None, size), tf.float32, name="z")


def model_endpoints(model: keras.Model) -> dict[str, Endpoint]:
    """``serve`` for any Keras model."""
    x = [_x_spec(model)]
    return {"serve": (lambda t: model(t, training=False), x)}


def autoencoder_endpoints(model: Autoencoder) -> dict[str, Endpoint]:
    """``serve``/``reconstruct``, ``encode`` and ``decode`` (clean path)."""
    x = [_x_spec(model)]
    recon = (lambda t: model(t, training=False), x)
    return {
        "serve": recon,
        "reconstruct": recon,
        "encode": (lambda t: model.encoder(t, training=False), x),
        "decode": (
            lambda z: model.decoder(z, training=False),
            [_code_spec(model.spec["latent_dim"])],
        ),
    }


def vae_endpoints(model: VariationalAutoencoder) -> dict[str, Endpoint]:
    """The autoencoder endpoints with a deterministic reconstruction through
    the mean, plus ``sample(n, seed)``."""
    endpoints = autoencoder_endpoints(model)

    def reconstruct(t: Any) -> Any:
        return model.decoder(model.encoder(t, training=False)[0], training=False)

    endpoints["serve"] = endpoints["reconstruct"] = (reconstruct, [_x_spec(model)])
    endpoints["sample"] = (_prior_sample(model.spec["latent_dim"]), "decode")
    return endpoints


def _prior_sample(latent: int) -> Callable[[Any], Any]:
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


#: Exportable class -> its endpoint table. The most specific class wins.
ENDPOINTS: dict[type, Callable[[Any], dict[str, Endpoint]]] = {
    keras.Model: model_endpoints,
    Autoencoder: autoencoder_endpoints,
    VariationalAutoencoder: vae_endpoints,
}


def _endpoints_for(obj: Any) -> dict[str, Endpoint]:
    for cls in type(obj).__mro__:
        if cls in ENDPOINTS:
            return ENDPOINTS[cls](obj)
    raise TypeError(
        "`model` must be a keras.Model or another exportable keras_ae object "
        f"({', '.join(c.__name__ for c in ENDPOINTS)}). Received: model={obj!r}"
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
    if not saved_model_supported():
        raise RuntimeError(
            "export_saved_model does not run under KERAS_BACKEND=torch (Keras cannot trace "
            "PyTorch functions into a SavedModel): save the model with keras_ae.save_keras, "
            "then export it under KERAS_BACKEND=tensorflow or jax with `keras-ae export "
            "MODEL.keras --out DIR`."
        )
    endpoints = _endpoints_for(model)
    target = _target(path, overwrite)
    tracked = tracked_model(model)
    check_finite_weights(tracked)

    archive = keras.export.ExportArchive()
    archive.track(tracked)
    functions: dict[str, Any] = {}
    for name, (fn, signature) in endpoints.items():
        if isinstance(signature, str):
            functions[name] = archive.add_endpoint(name, fn(functions[signature]))
        else:
            functions[name] = archive.add_endpoint(name, fn, input_signature=signature)
    tmp = staging_path(target)
    try:
        archive.write_out(str(tmp), verbose=False)
        publish(tmp, target)
    except BaseException:
        _remove(tmp)
        raise
    return target


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

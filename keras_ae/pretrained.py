"""Pretrained SavedModels: the manifest, its checks, and loading by name.

``saved_models/manifest.json`` lists, for each model: its kind, what built it
(``builder`` and ``builder_args``, from :meth:`keras_ae.kinds.Kind.provenance`;
an argument that is itself a trained model, such as the stacked classifier's
encoder, holds its own ``builder`` and ``builder_args``), endpoints with their
input and output shapes, the data and its sha256, epochs and seed, the
TensorFlow and Keras versions, its test metrics, and the sha256 of every file
of the SavedModel. :func:`load` verifies those hashes before loading, so a
tampered model is refused.

A SavedModel runs its own graph: only load SavedModels you trust. The hash
check protects against corruption and tampering after the manifest was
written, not against a malicious manifest.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from keras_ae.datasets import sha256

MANIFEST = "manifest.json"


def default_directory() -> Path:
    """The pretrained models' folder: ``keras_ae/saved_models`` inside an installed
    package (the wheel carries them), else the repository's ``saved_models/``."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "saved_models", here.parent / "saved_models"):
        if (candidate / MANIFEST).is_file():
            return candidate
    return here / "saved_models"


DEFAULT_DIRECTORY = default_directory()


class TamperedModelError(ValueError):
    """A SavedModel's files do not match the sha256 recorded in the manifest."""


def _directory(directory: str | os.PathLike | None) -> Path:
    if directory is not None and not isinstance(directory, (str, os.PathLike)):
        raise TypeError(f"`directory` must be a path or None. Received: directory={directory!r}")
    path = Path(directory) if directory is not None else default_directory()
    if not (path / MANIFEST).is_file():
        raise FileNotFoundError(
            f"No {MANIFEST} in {str(path)!r}. Pass directory= pointing at a saved_models/ folder "
            "(the installed package carries one; regenerate it with "
            "`keras-ae export-pretrained saved_models/`)."
        )
    return path


class DamagedManifestError(ValueError):
    """``manifest.json`` is not valid JSON or lacks what every entry needs."""


def read_manifest(directory: str | os.PathLike | None = None) -> dict[str, Any]:
    """Return the manifest: ``{"models": {name: entry}, ...}``.

    Raises:
        DamagedManifestError: the file is not JSON, or an entry lacks its
            ``path`` (a folder inside the manifest's folder) or ``files``.
    """
    path = _directory(directory) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DamagedManifestError(f"{str(path)!r} is not valid JSON ({err}).") from None
    models = manifest.get("models") if isinstance(manifest, dict) else None
    if not isinstance(models, dict):
        raise DamagedManifestError(f"{str(path)!r} has no 'models' table.")
    for name, entry in models.items():
        where = f"{str(path)!r}, entry {name!r}"
        if not isinstance(entry, dict) or not isinstance(entry.get("files"), dict):
            raise DamagedManifestError(f"{where} has no 'files' table of sha256 hashes.")
        folder = entry.get("path")
        if not isinstance(folder, str) or not folder:
            raise DamagedManifestError(f"{where} has no 'path'.")
        root = path.parent.resolve()
        if root not in (root / folder).resolve().parents:
            raise DamagedManifestError(
                f"{where} points outside its folder: path={folder!r}. Refusing to load it."
            )
    return manifest


def file_hashes(path: str | os.PathLike) -> dict[str, str]:
    """sha256 of every file under ``path``, keyed by relative POSIX path."""
    root = Path(path)
    return {
        p.relative_to(root).as_posix(): sha256(p) for p in sorted(root.rglob("*")) if p.is_file()
    }


def verify(name: str, directory: str | os.PathLike | None = None) -> Path:
    """Check every file of model ``name`` against the manifest; return its path.

    Raises:
        ValueError: ``name`` is not in the manifest.
        TamperedModelError: a file is missing, added or changed.
    """
    root = _directory(directory)
    models = read_manifest(root)["models"]
    if not isinstance(name, str):
        raise TypeError(f"`name` must be a str. Received: name={name!r}")
    if name not in models:
        raise ValueError(
            f"`name` must be one of {', '.join(sorted(models))}. Received: name={name!r}"
        )
    entry = models[name]
    path = root / entry["path"]
    found = file_hashes(path) if path.is_dir() else {}
    expected = entry["files"]
    if found != expected:
        changed = sorted(k for k in set(found) | set(expected) if found.get(k) != expected.get(k))
        raise TamperedModelError(
            f"SavedModel {name!r} at {str(path)!r} does not match {MANIFEST}: "
            f"{', '.join(changed[:5])} differ. Refusing to load it; regenerate it with "
            "`keras-ae export-pretrained`."
        )
    return path


def list(directory: str | os.PathLike | None = None) -> dict[str, dict[str, Any]]:
    """What is there: ``{name: {"kind", "description", "endpoints", "metrics",
    "epochs", "size_bytes"}}`` for every pretrained model, from the manifest."""
    root = _directory(directory)
    listed = {}
    for name, entry in sorted(read_manifest(root)["models"].items()):
        folder = root / entry["path"]
        listed[name] = {
            "kind": entry.get("kind", name),
            "description": entry.get("description", ""),
            "endpoints": sorted(entry.get("endpoints") or {}),
            "metrics": entry.get("metrics") or {},
            "epochs": entry.get("epochs"),
            "size_bytes": sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()),
        }
    return listed


def load(name: str, directory: str | os.PathLike | None = None) -> Any:
    """Load pretrained model ``name`` with ``tf.saved_model.load`` after checking its hashes.

    Args:
        name: a model name from the manifest (e.g. ``"dense"``, ``"vae"``).
        directory: the saved_models folder; default the one the package
            carries (:func:`default_directory`).

    Returns:
        The loaded SavedModel, with its endpoints as attributes
        (``model.encode(x)`` and so on).
    """
    import tensorflow as tf

    return tf.saved_model.load(str(verify(name, directory)))


def describe_endpoints(path: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """Input and output shapes and dtypes of every endpoint of a SavedModel."""
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))

    def spec(s: Any) -> dict[str, Any]:
        return {"shape": [None if d is None else int(d) for d in s.shape], "dtype": s.dtype.name}

    described = {}
    for name, fn in loaded.signatures.items():
        if name == "serving_default":
            continue
        _, kwargs = fn.structured_input_signature
        described[name] = {
            "inputs": {k: spec(v) for k, v in sorted(kwargs.items())},
            "outputs": {k: spec(v) for k, v in sorted(fn.structured_outputs.items())},
        }
    return described


def export_pretrained(
    directory: str | os.PathLike, seed: int = 0, only: list[str] | None = None
) -> dict[str, Any]:
    """Train every kind of :data:`keras_ae.kinds.KINDS` with its tutorial settings and
    ``seed``, export each SavedModel into ``directory`` and write the manifest.

    Training is deterministic given the seed (op determinism on the CPU).
    With ``only``, the other entries of an existing manifest are kept.
    Each SavedModel and the manifest are written atomically.
    """
    import keras
    import tensorflow as tf

    from keras_ae import datasets, export, training
    from keras_ae.kinds import KINDS, Data

    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    names = [*KINDS] if not only else only
    manifest: dict[str, Any] = {"models": {}}
    if only and (root / MANIFEST).is_file():
        manifest = read_manifest(root)
    (x_train, y_train), (x_test, y_test) = datasets.load_mnist(source="embedded")
    data = Data(x_train, y_train, x_test, y_test)
    for name in names:
        kind = KINDS[name]
        training.set_deterministic(seed)
        model = kind.train(data, kind.epochs, kind.batch_size, verbose=0)
        figures = kind.evaluate(model, data)
        path = export.export_saved_model(model, root / name, overwrite=True)
        manifest["models"][name] = {
            "path": name,
            "kind": name,
            "description": kind.description,
            **kind.provenance(model, data, kind.epochs, kind.batch_size),
            "spec": getattr(export.tracked_model(model), "spec", None),
            "endpoints": describe_endpoints(path),
            "data": {
                "name": "embedded MNIST subset (keras_ae/data/mnist10k.npz)",
                "sha256": datasets.EMBEDDED_SHA256,
                "train": len(x_train),
                "test": len(x_test),
            },
            "epochs": kind.epochs,
            "batch_size": kind.batch_size,
            "seed": seed,
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "metrics": {k: round(float(v), 6) for k, v in figures.items()},
            "files": file_hashes(path),
        }
        print(f"{name}: {manifest['models'][name]['metrics']}", flush=True)
        keras.backend.clear_session()
    tmp = export.staging_path(root / MANIFEST)
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    export.publish(tmp, root / MANIFEST)
    return manifest

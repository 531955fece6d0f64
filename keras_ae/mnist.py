"""MNIST: the embedded 10,000-digit subset, or the full 70,000 digits through Keras.

The embedded subset ships inside the package (``keras_ae/data/mnist10k.npz``,
10,000 real MNIST digits, CC BY-SA 3.0, see ``keras_ae/data/README.md``), so
everything in keras_ae runs offline; :data:`EMBEDDED_SHA256` is its checksum
(:func:`sha256`).
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np

from keras_ae import checks

logger = logging.getLogger("keras_ae")

EMBEDDED_PATH = Path(__file__).parent / "data" / "mnist10k.npz"
EMBEDDED_SHA256 = "2d33573cea4ce3485eb4995e846cc4a2f48a1b7d694419b8e13420a15358fa0c"
SOURCES = ("auto", "embedded", "keras")

Split = tuple[np.ndarray, np.ndarray]


def _prepare(x: np.ndarray, y: np.ndarray) -> Split:
    x = (np.asarray(x, dtype="float32") / 255.0)[..., None]
    return x, np.asarray(y, dtype="uint8")


def _keras_cache_file() -> Path:
    """Where ``keras.datasets.mnist.load_data()`` caches ``mnist.npz``."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets" / "mnist.npz"


def _load_embedded() -> tuple[Split, Split]:
    with np.load(EMBEDDED_PATH) as data:
        return _prepare(data["x_train"], data["y_train"]), _prepare(data["x_test"], data["y_test"])


def _load_keras() -> tuple[Split, Split]:
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as err:  # noqa: BLE001 - any download failure means "offline"
        raise ConnectionError(
            "Could not load the full MNIST through keras.datasets.mnist (no network and no "
            f'cached copy at {_keras_cache_file()}). Use load_mnist(source="embedded") for '
            f"the 10,000-digit subset shipped with keras_ae. Cause: {err}"
        ) from err
    return _prepare(x_train, y_train), _prepare(x_test, y_test)


def load_mnist(source: str = "auto") -> tuple[Split, Split]:
    """Load MNIST as float32 images in [0, 1] of shape (N, 28, 28, 1) and uint8 labels.

    Args:
        source: ``"embedded"`` for the 10,000-digit subset shipped with the
            package (a fixed, stratified 8,000 train / 2,000 test split);
            ``"keras"`` for the full 70,000 digits through
            ``keras.datasets.mnist`` (needs the network or Keras's cache);
            ``"auto"`` for the full set when Keras has it cached, else the
            embedded subset. The choice is logged.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``.

    Raises:
        ValueError: for an unknown ``source``.
        ConnectionError: for ``source="keras"`` when MNIST can't be fetched.
    """
    checks.choice("source", source, SOURCES)
    if source == "auto":
        source = "keras" if _keras_cache_file().exists() else "embedded"
        logger.info("load_mnist(source='auto') uses the %s MNIST.", source)
    return _load_keras() if source == "keras" else _load_embedded()


def sha256(path: str | os.PathLike) -> str:
    """Return the hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

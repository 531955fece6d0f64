"""Data that streams from disk in batches, so memory holds one batch at a time.

:func:`from_array_file` reads a ``.npy`` array through a memory map as a
``keras.utils.PyDataset``; :func:`is_stream` tells such streams (and
``tf.data`` pipelines) from in-memory arrays. Folders of images stream
through :func:`keras_ae.images.from_directory`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from keras_ae import checks


def is_stream(x: Any) -> bool:
    """True for data that streams batches: a ``tf.data.Dataset`` or a ``keras.utils.PyDataset``."""
    import keras

    return isinstance(x, keras.utils.PyDataset) or hasattr(x, "element_spec")


def from_array_file(
    path: str | os.PathLike,
    batch_size: int = 256,
    *,
    shuffle: bool = True,
    seed: int | None = None,
    targets: str = "inputs",
) -> Any:
    """Stream a ``.npy`` array from disk in batches, without loading it whole.

    The file is opened as a memory map; each batch is a contiguous slice,
    converted to float32 (uint8 data is scaled by 1/255), so memory holds one
    batch at a time whatever the file's size. ``shuffle`` changes the order of
    the batches every epoch (not the samples inside a batch, which keeps the
    reads sequential).

    Args:
        path: a ``.npy`` file of shape ``(N, *sample_shape)``.
        batch_size: samples per batch.
        shuffle: visit the batches in a new random order each epoch.
        seed: seed of the batch order.
        targets: ``"inputs"`` yields ``(x, x)`` (an autoencoder); ``"none"``
            yields ``x`` alone (for ``predict``).

    Returns:
        A ``keras.utils.PyDataset`` for ``fit``, ``evaluate`` and ``predict``.
    """
    import keras

    batch_size = checks.positive_int("batch_size", batch_size)
    checks.choice("targets", targets, ("inputs", "none"))
    if not isinstance(path, (str, os.PathLike)) or not Path(path).is_file():
        raise ValueError(f"`path` must be an existing .npy file. Received: path={path!r}")
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise ValueError(
            f"`path` must be a readable .npy file. Received: path={str(path)!r} ({err})"
        ) from None
    if not isinstance(array, np.ndarray) or not np.issubdtype(array.dtype, np.number):
        raise ValueError(
            f"`path` must hold a numeric array. Received: path={str(path)!r} "
            f"with dtype {getattr(array, 'dtype', type(array).__name__)}"
        )
    if array.ndim < 2 or len(array) == 0:
        raise ValueError(f"`path` must hold a non-empty array (N, ...). Found shape {array.shape}.")
    divisor = 255.0 if array.dtype == np.uint8 else 1.0

    class ArrayFileDataset(keras.utils.PyDataset):
        def __init__(self) -> None:
            super().__init__()
            self.order = np.arange(math.ceil(len(array) / batch_size))
            self.rng = np.random.default_rng(seed)
            self.on_epoch_end()

        def __len__(self) -> int:
            return len(self.order)

        def __getitem__(self, index: int) -> Any:
            start = int(self.order[index]) * batch_size
            x = np.asarray(array[start : start + batch_size], dtype="float32") / divisor
            return (x, x) if targets == "inputs" else x

        def on_epoch_end(self) -> None:
            if shuffle:
                self.rng.shuffle(self.order)

    return ArrayFileDataset()

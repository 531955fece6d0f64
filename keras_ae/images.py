"""Folders of images as streamed training data, through Keras's own reader.

:func:`from_directory` wraps ``keras.utils.image_dataset_from_directory``:
it lists the image files (PNG, JPEG, and the BMP and GIF files Keras also
reads), in the folder and all its subfolders (class subfolders are walked and
their names ignored: an autoencoder needs no labels), and returns
``tf.data`` pipelines that decode, resize and scale one batch at a time. Only
the list of file names is held in memory, so a folder larger than memory
trains as well as a small one. ``fit`` takes these datasets under every Keras
backend (TensorFlow, JAX and PyTorch).
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from keras_ae import checks

#: The file suffixes ``keras.utils.image_dataset_from_directory`` reads.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")

#: ``color_mode`` -> channels of the images :func:`from_directory` yields.
COLOR_MODES = {"grayscale": 1, "rgb": 3}


class ImageFolder(NamedTuple):
    """What :func:`from_directory` returns: ``train, validation = from_directory(...)``.

    Each is a batched ``tf.data.Dataset`` of ``(x, x)`` pairs (input and
    target of an autoencoder), ``x`` float32 of shape
    ``(batch, height, width, channels)`` with values in [0, 1].
    ``validation`` is None without a ``validation_split``.
    """

    train: Any
    validation: Any

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(height, width, channels)`` of one image: a model's ``input_shape``."""
        return tuple(int(d) for d in self.train.element_spec[0].shape[1:])


def _image_size(image_size: Any) -> tuple[int, int]:
    message = (
        "`image_size` must be (height, width), two positive integers, or one for a square. "
        f"Received: image_size={image_size!r}"
    )
    size = image_size
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        size = (size, size)
    if isinstance(size, (str, bytes)) or not isinstance(size, (tuple, list)):
        raise TypeError(message)
    if any(isinstance(s, bool) or not isinstance(s, numbers.Integral) for s in size):
        raise TypeError(message)
    if len(size) != 2 or min(size) <= 0:
        raise ValueError(message)
    return int(size[0]), int(size[1])


#: The first bytes of the formats Keras's reader decodes.
_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")


def _image_files(path: str | os.PathLike) -> Iterator[str]:
    """The image files (:data:`IMAGE_SUFFIXES`) in ``path`` and its subfolders, as
    Keras's reader finds them (symbolic links to folders not followed)."""
    for root, _, files in os.walk(path):
        for name in files:
            if name.lower().endswith(IMAGE_SUFFIXES):
                yield os.path.join(root, name)


def count_images(path: str | os.PathLike) -> int:
    """The number of image files (:data:`IMAGE_SUFFIXES`) in ``path`` and its
    subfolders, counted as Keras's reader finds them."""
    return sum(1 for _ in _image_files(path))


def _count_checked(path: str | os.PathLike) -> int:
    """:func:`count_images`, reading the first bytes of every file: a file that is
    not a PNG, JPEG, GIF or BMP image whatever its name says raises ValueError
    naming it, here rather than in the middle of training."""
    found = 0
    for file in _image_files(path):
        with open(file, "rb") as handle:
            head = handle.read(8)
        if not head.startswith(_SIGNATURES):
            raise ValueError(
                f"`path` holds a file that is not a PNG, JPEG, GIF or BMP image: {file!r} "
                f"(it starts with {head!r}). Received: path={str(path)!r}"
            )
        found += 1
    return found


def from_directory(
    path: str | os.PathLike,
    image_size: int | tuple[int, int] = (28, 28),
    color_mode: str = "rgb",
    validation_split: float | None = None,
    seed: int | None = None,
    batch_size: int = 32,
) -> ImageFolder:
    """Stream the images of a folder, and its subfolders, as autoencoder training data.

    The files are read by ``keras.utils.image_dataset_from_directory``:
    each is decoded, converted to ``color_mode`` and resized to
    ``image_size`` (bilinear, aspect ratio not kept) when its batch is
    needed, then scaled from [0, 255] to [0, 1]. Images in class subfolders
    (``path/cats/1.png``) and directly in ``path`` are all taken; the
    subfolder names are not used. The file list is shuffled once (with
    ``seed``) before the split, and the training batches are shuffled again
    in a window of ``8 * batch_size`` files every epoch.

    Args:
        path: a folder holding at least one PNG, JPEG, BMP or GIF file.
        image_size: ``(height, width)`` every image is resized to, or one
            integer for square images.
        color_mode: ``"grayscale"`` (1 channel) or ``"rgb"`` (3 channels);
            images of the other kind are converted.
        validation_split: the fraction of the files held out for validation,
            in (0, 1), or None for no validation set.
        seed: seed of the shuffling and of the split. None gives a new
            shuffle each call, except with a ``validation_split``, where it
            means 0 so that the two subsets are the same in every call.
        batch_size: images per batch.

    Returns:
        :class:`ImageFolder` ``(train, validation)``: batched
        ``tf.data.Dataset`` objects yielding ``(x, x)``, ``x`` float32 of
        shape ``(batch, height, width, channels)`` in [0, 1]; ``validation``
        is None without ``validation_split``. Pass them to
        ``model.fit(train, validation_data=validation)``;
        ``ImageFolder.image_shape`` is the model's ``input_shape``.

    Raises:
        TypeError: an argument of the wrong type.
        ValueError: ``path`` is not a folder, holds no image, or holds too few
            to split; ``image_size``, ``color_mode``, ``validation_split``,
            ``seed`` or ``batch_size`` out of range.
    """
    import keras

    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` must be a folder path. Received: path={path!r}")
    folder = Path(path)
    if not folder.is_dir():
        raise ValueError(
            f"`path` must be an existing folder of images. Received: path={str(path)!r}"
        )
    size = _image_size(image_size)
    checks.choice("color_mode", color_mode, COLOR_MODES)
    if validation_split is not None:
        validation_split = checks.open_unit_interval("validation_split", validation_split)
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0
    ):
        raise (ValueError if isinstance(seed, numbers.Integral) else TypeError)(
            f"`seed` must be an integer >= 0 or None. Received: seed={seed!r}"
        )
    batch_size = checks.positive_int("batch_size", batch_size)
    found = _count_checked(folder)
    if found == 0:
        raise ValueError(
            f"`path` holds no image ({', '.join(IMAGE_SUFFIXES)} files, in the folder or its "
            f"subfolders). Received: path={str(path)!r}"
        )
    if validation_split is not None and not 1 <= int(validation_split * found) < found:
        raise ValueError(
            f"`validation_split` leaves no image on one side: {found} image(s) in "
            f"{str(path)!r}, {int(validation_split * found)} for validation. "
            f"Received: validation_split={validation_split!r}"
        )
    if validation_split is not None and seed is None:
        seed = 0
    datasets = keras.utils.image_dataset_from_directory(
        folder,
        labels=None,
        label_mode=None,
        color_mode=color_mode,
        batch_size=batch_size,
        image_size=size,
        shuffle=True,
        seed=seed,
        validation_split=validation_split,
        subset=None if validation_split is None else "both",
        verbose=False,
    )
    train, validation = (datasets, None) if validation_split is None else datasets
    return ImageFolder(_pairs(train), None if validation is None else _pairs(validation))


def _scaled_pair(x: Any) -> tuple[Any, Any]:
    x = x / 255.0
    return x, x


def _pairs(dataset: Any) -> Any:
    """``(x / 255, x / 255)`` batches, prefetched."""
    return dataset.map(_scaled_pair).prefetch(2)

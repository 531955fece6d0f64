"""Figures for tutorials, reports and the command line: image grids and latent-space plots.

All of keras_ae's drawing lives here: ``keras-ae train`` writes its
``reconstructions.png`` and ``samples.png``, and ``keras-ae demo`` its
``overview.png``, through :func:`image_grid`. Every function returns a
:class:`matplotlib.figure.Figure` drawn on the Agg canvas (no window, no
``matplotlib.use``, no pyplot, so the caller's backend is left alone) and,
given ``path``, also writes it as a PNG. matplotlib is imported inside the
functions, so ``import keras_ae`` stays fast.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from keras_ae import checks


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _finish(figure: Any, title: str | None, path: str | os.PathLike | None) -> Any:
    if title:
        figure.suptitle(title)
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=100)
    return figure


def _as_tiles(images: np.ndarray) -> np.ndarray:
    """(N, H, W), (N, H, W, 1) or (N, H, W, 3) -> (N, H, W) or (N, H, W, 3)."""
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] not in (3, 4)):
        raise ValueError(
            "`images` must hold images of shape (H, W), (H, W, 1) or (H, W, 3). "
            f"Received shape {images.shape}."
        )
    return np.clip(images, 0.0, 1.0)


def is_image_batch(x: Any) -> bool:
    """True when ``x`` is a batch of images that :func:`image_grid` draws, shape
    ``(N, H, W, 1)`` or ``(N, H, W, 3)``; a batch of series windows
    ``(N, steps, channels)`` or of table rows ``(N, features)`` is not."""
    shape = np.shape(x)
    return len(shape) == 4 and shape[-1] in (1, 3)


def mosaic(rows: Sequence[np.ndarray], pad: int = 1) -> np.ndarray:
    """Tile rows of images (each (n_i, H, W[, C])) into one array, with a
    ``pad``-pixel white border; short rows are filled with white."""
    rows = [_as_tiles(np.asarray(r, "float32")) for r in rows]
    h, w = rows[0].shape[1:3]
    cols = max(len(r) for r in rows)
    canvas = np.ones(
        (len(rows) * (h + pad) + pad, cols * (w + pad) + pad, *rows[0].shape[3:]), "float32"
    )
    for i, row in enumerate(rows):
        for j, tile in enumerate(row):
            top, left = pad + i * (h + pad), pad + j * (w + pad)
            canvas[top : top + h, left : left + w] = tile
    return canvas


def image_grid(
    images: Any,
    ncols: int = 10,
    *,
    row_labels: Sequence[str] | None = None,
    title: str | None = None,
    path: str | os.PathLike | None = None,
    cmap: str = "gray",
    tile_inches: float = 0.6,
) -> Any:
    """Draw images in rows.

    Args:
        images: an array (N, H, W[, C]) laid out in rows of ``ncols``, or a
            list of such arrays, one per row (e.g. originals, then
            reconstructions). Values are shown in [0, 1].
        ncols: images per row, for a single array.
        row_labels: one label per row, written on the left.
        title: the figure's title.
        path: where to write a PNG (parent folders are created).
        cmap: colour map of single-channel images.
        tile_inches: displayed size of one image.

    Returns:
        The :class:`matplotlib.figure.Figure`.
    """
    if isinstance(images, (list, tuple)):
        rows = [np.asarray(r) for r in images]
    else:
        array = np.asarray(images)
        ncols = checks.positive_int("ncols", ncols)
        rows = [array[i : i + ncols] for i in range(0, len(array), ncols)]
    if not rows or any(len(r) == 0 for r in rows):
        raise ValueError("`images` must hold at least one image per row.")
    if row_labels is not None and len(row_labels) != len(rows):
        raise ValueError(
            f"`row_labels` must have one label per row ({len(rows)}). "
            f"Received: row_labels={row_labels!r}"
        )
    canvas = mosaic(rows)
    h = rows[0].shape[1]
    cols = max(len(r) for r in rows)
    figure = _figure(
        tile_inches * cols + (1.2 if row_labels else 0.2),
        tile_inches * len(rows) + (0.5 if title else 0.2),
    )
    ax = figure.add_subplot()
    ax.imshow(canvas, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks([])
    if row_labels:
        ax.set_yticks([1 + i * (h + 1) + h / 2 for i in range(len(rows))], labels=row_labels)
        ax.tick_params(axis="y", length=0)
    else:
        ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    return _finish(figure, title, path)


def _latent_dim(vae: Any) -> int:
    decoder = getattr(vae, "decoder", None)
    if decoder is None:
        raise TypeError(f"`vae` must have a `decoder` model. Received: vae={vae!r}")
    return int(decoder.input_shape[-1])


def latent_grid(
    vae: Any,
    n: int = 15,
    span: float = 2.0,
    *,
    title: str | None = None,
    path: str | os.PathLike | None = None,
    tile_inches: float = 0.45,
) -> Any:
    """Decode an ``n`` × ``n`` grid of codes over ``[-span, span]²`` of a 2-D latent space.

    The horizontal axis is ``z[0]``, the vertical axis ``z[1]`` (increasing
    upwards). With a N(0, I) prior, ``span=2`` covers about 95% of the mass
    along each axis.

    Args:
        vae: a model with a ``decoder`` from 2-D codes to images.
        n: grid points per axis.
        span: the grid covers ``[-span, span]`` on each axis.
        title: the figure's title.
        path: where to write a PNG.
        tile_inches: displayed size of one image.
    """
    if _latent_dim(vae) != 2:
        raise ValueError(
            f"latent_grid draws a 2-D latent space; `vae` has latent_dim={_latent_dim(vae)}."
        )
    n = checks.positive_int("n", n)
    span = checks.non_negative_float("span", span)
    axis = np.linspace(-span, span, n, dtype="float32")
    z = np.stack(np.meshgrid(axis, axis[::-1]), axis=-1).reshape(-1, 2)  # top row: z[1] = span
    images = vae.decoder.predict(z, batch_size=256, verbose=0)
    canvas = mosaic([images[i * n : (i + 1) * n] for i in range(n)], pad=0)
    figure = _figure(tile_inches * n + 0.8, tile_inches * n + (0.9 if title else 0.6))
    ax = figure.add_subplot()
    ax.imshow(canvas, cmap="gray", vmin=0.0, vmax=1.0, extent=(-span, span, -span, span))
    ax.set_xlabel("z[0]")
    ax.set_ylabel("z[1]")
    return _finish(figure, title, path)


def latent_scatter(
    vae: Any,
    x: Any,
    y: Any,
    *,
    title: str | None = None,
    path: str | os.PathLike | None = None,
    batch_size: int = 256,
) -> Any:
    """Scatter the codes of ``x`` (the encoder's first output: a VAE's
    ``z_mean``), coloured by the labels ``y``.

    Codes of more than two dimensions are drawn on their first two principal
    components (:class:`keras_ae.baselines.PCA`).

    Args:
        vae: a model with an ``encoder`` (any keras_ae autoencoder works).
        x: images, shape (N, *input_shape).
        y: integer labels, shape (N,), e.g. digits.
        title: the figure's title.
        path: where to write a PNG.
        batch_size: encoding batch size.
    """
    from keras_ae.baselines import PCA

    encoder = getattr(vae, "encoder", None)
    if encoder is None:
        raise TypeError(f"`vae` must have an `encoder` model. Received: vae={vae!r}")
    x = checks.array("x", x, shape=encoder.input_shape[1:])
    y = np.asarray(y).reshape(-1)
    if len(y) != len(x):
        raise ValueError(f"`y` must have one label per image ({len(x)}). Received {len(y)} labels.")
    codes = encoder.predict(x, batch_size=batch_size, verbose=0)
    codes = np.asarray(codes[0] if isinstance(codes, (list, tuple)) else codes)
    codes = codes.reshape(len(codes), -1)
    labels = ("z[0]", "z[1]")
    if codes.shape[1] > 2:
        codes = PCA(2).fit(codes).transform(codes)
        labels = ("code PC 1", "code PC 2")
    elif codes.shape[1] == 1:
        codes = np.concatenate([codes, np.zeros_like(codes)], axis=1)
    figure = _figure(6.4, 5.4)
    ax = figure.add_subplot()
    points = ax.scatter(codes[:, 0], codes[:, 1], c=y, cmap="tab10", s=4, alpha=0.8)
    classes = np.unique(y)
    if len(classes) <= 20:
        points.set_clim(classes.min() - 0.5, classes.max() + 0.5)
        figure.colorbar(points, ax=ax, ticks=classes, label="label")
    else:
        figure.colorbar(points, ax=ax, label="label")
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    return _finish(figure, title, path)

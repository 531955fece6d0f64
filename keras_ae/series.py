"""Series from files: numeric CSV columns in, windows for the sequence kinds, per-point scores out.

:func:`from_csv` reads one or more numeric columns of a CSV file, with a
header row (read by the table reader, ``tables.from_table``) or without one, and
refuses what it cannot read as a series: text columns, a header without
data, ragged rows, missing or non-finite values, each error naming the file
and the column or line.
:func:`split_windows` holds out the end of a series and cuts both parts into
windows (:func:`keras_ae.datasets.make_windows`); :func:`point_scores` maps
the reconstruction error of every window back to the points
(:func:`keras_ae.datasets.windows_to_points`); :func:`write_scores` writes
them as a CSV, atomically. The sequence kinds standardise inside the model
(a ``keras.layers.Normalization`` adapted on the training windows), so a
saved model takes the series' raw values.

``keras-ae train conv1d|lstm --data series.csv --window W`` and
``keras-ae score MODEL --data series.csv --out scores.csv`` are built on these.
"""

from __future__ import annotations

import csv
import math
import numbers
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from keras_ae import checks, datasets

#: Fraction of the points (at the end of the series) held out by :func:`split_windows`.
HOLDOUT = 0.1


class Series(NamedTuple):
    """Numeric columns of a CSV file (see :func:`read_csv`)."""

    values: np.ndarray  # (length, channels) float32
    columns: tuple[str, ...]  # header names, or "0", "1", ... without a header


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _headerless_rows(path: Path) -> list[tuple[int, list[str]]] | None:
    """The non-blank rows ``(line, cells)`` of a CSV file whose first row is all
    numbers (no header), or None when the first row is a header."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            rows = []
            for row in reader:
                cells = [cell.strip() for cell in row]
                if not any(cells):
                    continue
                if not rows and any(_number(cell) is None for cell in cells):
                    return None  # a header: tables.from_table reads the file
                rows.append((reader.line_num, cells))
    except (UnicodeDecodeError, csv.Error) as err:
        raise ValueError(f"{path}: not a readable CSV text file ({err})") from None
    if not rows:
        raise ValueError(f"{path}: the file is empty (expected rows of numbers)")
    return rows


def _parse_headerless(path: Path, rows: list[tuple[int, list[str]]], chosen: list[int]) -> Any:
    width = len(rows[0][1])
    values = np.empty((len(rows), len(chosen)), dtype="float64")
    for i, (line, cells) in enumerate(rows):
        if len(cells) != width:
            raise ValueError(
                f"{path}: line {line} has {len(cells)} fields; line {rows[0][0]} has {width}."
            )
        for j, c in enumerate(chosen):
            value = _number(cells[c])
            if value is None or not math.isfinite(value):
                raise ValueError(
                    f"{path}: column {c} (no header row) holds {cells[c]!r} on line {line}; "
                    "a series needs a finite number in every row."
                )
            values[i, j] = value
    return values


def _column_indexes(path: Path, width: int, columns: Sequence[Any]) -> list[int]:
    """0-based indexes (ints, or digit strings from a command line) of a file without header."""
    chosen = []
    for column in columns:
        index = int(column) if isinstance(column, str) and column.isdigit() else column
        if isinstance(index, bool) or not isinstance(index, numbers.Integral):
            raise ValueError(
                f"{path} has no header row, so `columns` must be 0-based indexes. "
                f"Received: columns={list(columns)!r}"
            )
        if not 0 <= index < width:
            raise ValueError(
                f"{path}: no column {index}; the file has {width} (0 to {width - 1}). "
                f"Received: columns={list(columns)!r}"
            )
        chosen.append(int(index))
    return chosen


def read_csv(path: str | os.PathLike, columns: Sequence[str | int] | None = None) -> Series:
    """Read numeric columns of a CSV file into a float32 array ``(rows, columns)``.

    A file whose first row holds a non-number has a header row, and is read
    by the table reader, ``tables.from_table`` (columns chosen by name); a file
    whose first row is all numbers has none (columns chosen by 0-based
    index). Blank lines are skipped. Every chosen cell must be a finite
    number: a column holding text, a missing or non-finite value, a row
    with another number of fields, a header without data rows or an empty
    file raises ValueError naming the file and the column or line. Rows are
    never dropped: a series' points are evenly spaced in time.

    Args:
        path: a ``.csv`` file, comma-separated.
        columns: the columns to read, in this order: header names, or
            0-based indexes for a file without a header. None reads every column.

    Returns:
        :class:`Series` ``(values, columns)``: float32 values ``(rows, channels)``
        and the chosen columns' names (their indexes as strings without a header).
    """
    from keras_ae import tables

    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` must be a str or os.PathLike. Received: path={path!r}")
    file = Path(path)
    if file.suffix.lower() != ".csv" or not file.is_file():
        raise ValueError(f"`path` must be an existing .csv file. Received: path={str(path)!r}")
    if columns is not None and (
        isinstance(columns, (str, bytes)) or not isinstance(columns, Sequence) or not columns
    ):
        raise TypeError(
            "`columns` must be a non-empty list of column names or indexes. "
            f"Received: columns={columns!r}"
        )
    rows = _headerless_rows(file)
    if rows is None:
        table = tables.from_table(file, None if columns is None else [str(c) for c in columns])
        return Series(table.x, tuple(table.columns))
    width = len(rows[0][1])
    chosen = list(range(width)) if columns is None else _column_indexes(file, width, columns)
    values = _parse_headerless(file, rows, chosen)
    return Series(values.astype("float32"), tuple(str(c) for c in chosen))


def from_csv(path: str | os.PathLike, columns: Sequence[str | int] | None = None) -> np.ndarray:
    """The series in a CSV file: float32 ``(length, channels)``, one channel per column.

    ``read_csv(path, columns).values``; see :func:`read_csv` for the format and
    the errors. Feed it to :func:`keras_ae.datasets.make_windows`, or to
    :func:`split_windows` for a sequence autoencoder.
    """
    return read_csv(path, columns).values


class SeriesSplit(NamedTuple):
    """Training and held-out windows (see :func:`split_windows`)."""

    x_train: np.ndarray  # (n_train, window, channels) float32
    x_test: np.ndarray  # (n_test, window, channels) float32


def _check_window(length: int, window: Any, source: str, needed: int = 1) -> int:
    window = checks.positive_int("window", window)
    if window > length:
        raise ValueError(
            f"`window` ({window}) is longer than the series in {source} ({length} points). "
            f"Received: window={window}"
        )
    if needed * window > length:
        raise ValueError(
            f"`window` ({window}) is too long for the series in {source} ({length} points): "
            f"training needs at least {needed} * window points (one window to train on and "
            f"one held out). Received: window={window}"
        )
    return window


def split_windows(
    values: Any, window: int, *, holdout: float = HOLDOUT, source: str = "the series"
) -> SeriesSplit:
    """Hold out the end of a series and cut both parts into windows (stride 1).

    The last ``max(window, ceil(holdout * length))`` points are held out (for
    validation), the points before them train, so no held-out point is in a
    training window. The values stay in their units: the sequence kinds
    standardise inside the model, with statistics of the training windows
    (``normalize=True``, ``model.adapt(x_train)``).

    Args:
        values: a series ``(length,)`` or ``(length, channels)``.
        window: points per window; the series needs at least ``2 * window``.
        holdout: fraction of the points held out, in (0, 1).
        source: what the series is called in error messages (e.g. its file).

    Returns:
        :class:`SeriesSplit` ``(x_train, x_test)``.
    """
    x = datasets._series("values", values)
    window = _check_window(len(x), window, source, needed=2)
    holdout = checks.open_unit_interval("holdout", holdout)
    cut = max(window, len(x) - max(window, math.ceil(holdout * len(x))))
    return SeriesSplit(
        datasets.make_windows(x[:cut], window), datasets.make_windows(x[cut:], window)
    )


def window_scores(model: Any, windows: Any) -> np.ndarray:
    """Mean squared reconstruction error of each window, float64 ``(n,)``.

    For a model that standardises inside (``normalize=True``) the error is
    taken on the standardised values (``model.standardize``), as its training
    loss is, so every channel counts the same whatever its units.
    """
    import keras

    from keras_ae.kinds import reconstruct

    x = checks.array("windows", windows)
    recon = np.asarray(reconstruct(model, x), "float32")
    standardize = getattr(model, "standardize", None)
    if standardize is not None:
        x, recon = (keras.ops.convert_to_numpy(standardize(v)) for v in (x, recon))
    axes = tuple(range(1, x.ndim))
    return np.mean((np.asarray(x, "float64") - recon) ** 2, axis=axes)


def point_scores(model: Any, values: Any, window: int, *, source: str = "the series") -> np.ndarray:
    """Anomaly score of every point of a series under a trained sequence autoencoder.

    The series is cut into windows of ``window`` points (stride 1); a
    window's score is its reconstruction error (:func:`window_scores`), and a
    point's score is the mean score of the windows that contain it
    (:func:`keras_ae.datasets.windows_to_points`).

    Args:
        model: a Keras autoencoder taking windows ``(window, channels)``.
        values: a series ``(length,)`` or ``(length, channels)`` in the units
            the model was trained on (raw values for the sequence kinds).
        window: the model's window.
        source: what the series is called in error messages.

    Returns:
        float32 ``(length,)``.
    """
    x = datasets._series("values", values)
    window = _check_window(len(x), window, source)
    scores = window_scores(model, datasets.make_windows(x, window))
    return datasets.windows_to_points(scores, len(x), window, reduce="mean")


def write_scores(path: str | os.PathLike, scores: Any) -> Path:
    """Write per-point scores as a CSV ``point,score`` (one row per point), atomically.

    The file is written beside ``path`` first and moved into place, so
    ``path`` holds either its old content or all the new rows.
    """
    from keras_ae.export import publish, staging_path

    scores = np.asarray(scores, dtype="float64")
    if scores.ndim != 1:
        raise ValueError(f"`scores` must be 1-D, one per point. Received shape {scores.shape}.")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = staging_path(target, suffix=".csv")
    try:
        with open(tmp, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["point", "score"])
            writer.writerows((i, f"{s:.6g}") for i, s in enumerate(scores))
        publish(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target

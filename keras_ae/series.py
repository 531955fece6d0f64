"""Time series: windows, scaling, a synthetic series with labelled anomalies, and CSV files.

Windows and scaling: :func:`make_windows` cuts a series into the windows a
sequence autoencoder takes and :func:`windows_to_points` maps per-window
scores back to the points; :class:`Standardizer` (or :func:`standardize`)
scales with statistics of the training part only; :func:`synthetic_series`
makes a seeded seasonal series with labelled anomalies.

Files: :func:`from_csv` reads one or more numeric columns of a CSV file, with a
header row (read by the table reader, ``tables.from_table``) or without one, and
refuses what it cannot read as a series: text columns, a header without
data, ragged rows, missing or non-finite values, each error naming the file
and the column or line.
:func:`split_windows` holds out the end of a series and cuts both parts into
windows (:func:`make_windows`); :func:`point_scores` maps
the reconstruction error of every window back to the points
(:func:`windows_to_points`); :func:`write_scores` writes
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

from keras_ae import checks

# ---------------------------------------------------------------- windows and scaling

#: The anomaly kinds :func:`synthetic_series` injects.
ANOMALY_KINDS = ("spike", "level_shift", "frequency", "flatline")


class SyntheticSeries(NamedTuple):
    """A synthetic series and the truth about its anomalies (see :func:`synthetic_series`)."""

    values: np.ndarray  # (length,) float32
    labels: np.ndarray  # (length,) uint8, 1 = anomalous point
    kind_labels: dict[str, np.ndarray]  # kind -> (length,) uint8, one per ANOMALY_KINDS
    events: tuple[tuple[str, int, int], ...]  # (kind, start, stop), stop exclusive, in time order


def _numeric(name: str, x: Any) -> np.ndarray:
    """``x`` as a finite, non-empty float32 array. Unlike images, uint8 values are
    taken as they are (a series of counts, not pixels)."""
    if isinstance(x, np.ndarray) and x.dtype == np.uint8:
        x = x.astype("float32")
    return checks.array(name, x)


def _series(name: str, series: Any) -> np.ndarray:
    """A series ``(L,)`` or ``(L, C)`` as float32 ``(L, C)``."""
    x = _numeric(name, series)
    if x.ndim not in (1, 2):
        raise ValueError(
            f"`{name}` must be a series of shape (length,) or (length, channels). "
            f"Received shape {x.shape}."
        )
    return x[:, None] if x.ndim == 1 else x


def _window_geometry(length: int, window: Any, stride: Any) -> tuple[int, int, int]:
    """Validated ``(window, stride, number of windows)`` for a series of ``length`` points."""
    window = checks.positive_int("window", window)
    stride = checks.positive_int("stride", stride)
    if window > length:
        raise ValueError(
            f"`window` must be at most the series length, {length}. Received: window={window}"
        )
    return window, stride, (length - window) // stride + 1


def make_windows(series: Any, window: int, stride: int = 1) -> np.ndarray:
    """Cut a series into overlapping windows, the samples of a sequence autoencoder.

    Window ``i`` holds the points ``i * stride`` to ``i * stride + window - 1``.
    Points after the last whole window (when ``stride`` does not divide
    ``length - window``) belong to no window.

    Args:
        series: shape ``(length,)`` (one channel) or ``(length, channels)``.
        window: points per window, at most ``length``.
        stride: step between the starts of consecutive windows.

    Returns:
        float32 array ``(n, window, channels)`` with
        ``n = (length - window) // stride + 1``; a 1-D series gives channels = 1.
    """
    x = _series("series", series)
    window, stride, _ = _window_geometry(len(x), window, stride)
    view = np.lib.stride_tricks.sliding_window_view(x, window, axis=0)[::stride]
    return np.ascontiguousarray(view.transpose(0, 2, 1))


def windows_to_points(
    window_scores: Any, length: int, window: int, stride: int = 1, reduce: str = "max"
) -> np.ndarray:
    """Map one score per window back to one score per point of the series.

    The inverse of :func:`make_windows`: point ``t`` gets the maximum
    (``reduce="max"``) or the mean (``reduce="mean"``) of the scores of the
    windows that contain it. With ``"max"`` a point is as anomalous as the
    worst window that saw it, so an anomaly lights up every point of the
    windows around it; ``"mean"`` blurs less at the edges. Points that no
    window contains (the last ``(length - window) % stride`` points) get NaN.

    Args:
        window_scores: 1-D, one score per window of
            ``make_windows(series, window, stride)`` for a series of
            ``length`` points, in the same order.
        length: the series' length.
        window: the window size given to :func:`make_windows`.
        stride: the stride given to :func:`make_windows`.
        reduce: ``"max"`` or ``"mean"``.

    Returns:
        float32 array ``(length,)``.
    """
    scores = _numeric("window_scores", window_scores)
    length = checks.positive_int("length", length)
    window, stride, n = _window_geometry(length, window, stride)
    checks.choice("reduce", reduce, ("max", "mean"))
    if scores.shape != (n,):
        raise ValueError(
            f"`window_scores` must hold one score per window: {n} windows of {window} points "
            f"with stride {stride} in a series of {length}. Received shape {scores.shape}."
        )
    starts = np.arange(n) * stride
    count = np.zeros(length)
    result = np.full(length, -np.inf if reduce == "max" else 0.0)
    for offset in range(window):  # the points starts + offset are distinct
        points = starts + offset
        count[points] += 1
        if reduce == "max":
            result[points] = np.maximum(result[points], scores)
        else:
            result[points] += scores
    if reduce == "mean":
        result = result / np.maximum(count, 1)
    result[count == 0] = np.nan
    return result.astype("float32")


class Standardizer:
    """Per-channel standardisation ``(x - mean_) / std_`` with statistics from training data.

    Fit it on the training part only, then apply the same ``mean_`` and
    ``std_`` to validation, test and new data, so nothing about them leaks
    into training. A series ``(length,)`` has one channel; for any other
    array the channels are the last axis (``(length, C)`` or windows
    ``(n, window, C)``) and the statistics are taken over all other axes.
    A constant channel gets ``std_ = 1`` (it is only centred).
    """

    def fit(self, train: Any) -> Standardizer:
        """Learn ``mean_`` and ``std_`` (population σ), float32 arrays of shape (C,)."""
        x = _numeric("train", train).astype("float64")
        flat = x.reshape(-1, 1) if x.ndim == 1 else x.reshape(-1, x.shape[-1])
        std = flat.std(axis=0)
        self.mean_ = flat.mean(axis=0).astype("float32")
        self.std_ = np.where(std > 0, std, 1.0).astype("float32")
        return self

    def _check(self, x: Any) -> np.ndarray:
        if not hasattr(self, "mean_"):
            raise ValueError("This Standardizer is not fitted yet: call fit(train) first.")
        x = _numeric("x", x)
        channels = 1 if x.ndim == 1 else x.shape[-1]
        if channels != self.mean_.size:
            raise ValueError(
                f"`x` must have {self.mean_.size} channel(s) (last axis), as the training "
                f"data had. Received shape {x.shape}."
            )
        return x

    def transform(self, x: Any) -> np.ndarray:
        """``(x - mean_) / std_`` as float32, in ``x``'s shape."""
        return ((self._check(x) - self.mean_) / self.std_).astype("float32")

    def inverse_transform(self, x: Any) -> np.ndarray:
        """Back to the original units: ``x * std_ + mean_``."""
        return (self._check(x) * self.std_ + self.mean_).astype("float32")


def standardize(train: Any, *others: Any) -> tuple[Any, ...]:
    """Standardise ``train`` and ``others`` with statistics of ``train`` alone.

    ``train_z, test_z, scaler = standardize(train, test)``; ``scaler.mean_``
    and ``scaler.std_`` are the statistics, and ``scaler.transform(new)``
    applies them to new data (see :class:`Standardizer`).

    Returns:
        ``(train_z, *others_z, scaler)``.
    """
    scaler = Standardizer().fit(train)
    return (scaler.transform(train), *(scaler.transform(x) for x in others), scaler)


def _anomaly_list(anomalies: Any) -> list[str]:
    if isinstance(anomalies, numbers.Integral) and not isinstance(anomalies, bool):
        if anomalies < 0:
            raise ValueError(
                "`anomalies` must be a count >= 0 or a sequence of anomaly kinds. "
                f"Received: anomalies={anomalies!r}"
            )
        return [ANOMALY_KINDS[i % len(ANOMALY_KINDS)] for i in range(int(anomalies))]
    if isinstance(anomalies, (str, bytes)) or not isinstance(anomalies, Sequence):
        raise TypeError(
            "`anomalies` must be a count or a sequence of anomaly kinds such as "
            f"('spike', 'level_shift'). Received: anomalies={anomalies!r}"
        )
    return [checks.choice("anomalies", kind, ANOMALY_KINDS) for kind in anomalies]


def _amplitudes(amplitudes: Any, n: int) -> np.ndarray:
    if isinstance(amplitudes, (str, bytes)) or not isinstance(amplitudes, Sequence):
        raise TypeError(
            f"`amplitudes` must be a sequence of numbers >= 0. Received: amplitudes={amplitudes!r}"
        )
    if len(amplitudes) != n:
        raise ValueError(
            f"`amplitudes` must hold one amplitude per period ({n}). "
            f"Received: amplitudes={amplitudes!r}"
        )
    return np.array([checks.non_negative_float("amplitudes", a) for a in amplitudes])


def _duration(duration: Any) -> tuple[int, int]:
    if isinstance(duration, (str, bytes)) or not isinstance(duration, Sequence):
        raise TypeError(
            f"`duration` must be a pair (shortest, longest) of positive integers. "
            f"Received: duration={duration!r}"
        )
    pair = checks.int_tuple("duration", duration)
    if len(pair) != 2 or pair[0] > pair[1]:
        raise ValueError(
            f"`duration` must be a pair (shortest, longest) with shortest <= longest. "
            f"Received: duration={duration!r}"
        )
    return pair


FREQUENCY_FACTORS = (2.0, 0.5)


def _phase_cycle(period: int, factor: float) -> int:
    """Points after which a component ``factor`` times as fast is back in phase."""
    return round(period / abs(factor - 1))


def _max_span(kind: str, period: int, high: int) -> int:
    """The longest stretch :func:`synthetic_series` can draw for ``kind``."""
    if kind == "spike":
        return 1
    if kind != "frequency":
        return high
    return max(
        max(1, round((high + 1) / cycle)) * cycle - 1
        for cycle in (_phase_cycle(period, f) for f in FREQUENCY_FACTORS)
    )


def synthetic_series(
    length: int,
    seed: int = 0,
    anomalies: int | Sequence[str] = ANOMALY_KINDS,
    *,
    periods: Sequence[int] = (24, 168),
    amplitudes: Sequence[float] = (1.0, 0.5),
    noise: float = 0.1,
    duration: Sequence[int] = (24, 96),
    clean_prefix: int = 0,
) -> SyntheticSeries:
    """A seeded multi-seasonal series with labelled, injected anomalies.

    The normal series is ``x[t] = sum_k a_k sin(2π t / P_k + φ_k) + ε_t``
    with ``P_k = periods[k]``, ``a_k = amplitudes[k]``, phases ``φ_k``
    uniform in [0, 2π) and Gaussian noise ``ε_t ~ N(0, noise²)`` (by default
    hourly data with a daily and a weekly cycle). Let ``s`` be the normal
    series' standard deviation, ``sqrt(sum_k a_k² / 2 + noise²)``. The
    anomalies, each a stretch ``[start, stop)`` of points:

    - ``"spike"``: one point (``stop = start + 1``) moved by ``±h``,
      ``h`` uniform in [3 s, 5 s], the sign at random.
    - ``"level_shift"``: every point of a stretch moved by the same ``±d``,
      ``d`` uniform in [1 s, 2 s]; the series returns to its level after.
    - ``"frequency"``: over the stretch the first seasonal component
      (period ``P_0``) runs at ``f`` times its frequency, ``f`` = 2 or 0.5 at
      random, without a jump: its phase continues from the point before the
      stretch, and the stretch lasts ``k · P_0 / |f - 1| - 1`` points
      (``k >= 1``, as close to a draw from ``duration`` as possible), so
      that the component is back in its normal phase right after it. The
      other components and the noise are unchanged.
    - ``"flatline"``: a stuck sensor: every point of the stretch repeats the
      value of the point just before it (no noise).

    Stretch lengths other than spikes are drawn uniformly from ``duration``.
    The stretch ``[clean_prefix, length)`` is cut into one equal slot per
    anomaly, the kinds are shuffled over the slots, and each anomaly lies in
    the middle half of its slot, so anomalies never touch or overlap and
    normal points separate them. The labels mark exactly the points
    ``[start, stop)`` of every anomaly; every other point equals the normal
    series drawn with the same seed (``anomalies=0``).

    Args:
        length: number of points.
        seed: seed of everything random (phases, noise, anomalies).
        anomalies: a sequence of kinds from :data:`ANOMALY_KINDS` (one
            anomaly each, repeats allowed), or a count ``n`` for ``n``
            anomalies cycling through the four kinds.
        periods: seasonal periods in points (integers >= 2), the first being
            the one a ``"frequency"`` anomaly changes.
        amplitudes: one amplitude (>= 0) per period.
        noise: standard deviation of the Gaussian noise (>= 0).
        duration: ``(shortest, longest)`` stretch length in points.
        clean_prefix: no anomaly before this index, so ``values[:clean_prefix]``
            is a normal stretch to train on.

    Returns:
        :class:`SyntheticSeries` ``(values, labels, kind_labels, events)``:
        float32 values, uint8 labels (1 = anomalous), one uint8 label array per
        kind of :data:`ANOMALY_KINDS`, and ``(kind, start, stop)`` per anomaly in
        time order.
    """
    length = checks.positive_int("length", length)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise (ValueError if isinstance(seed, numbers.Integral) else TypeError)(
            f"`seed` must be an integer >= 0. Received: seed={seed!r}"
        )
    kinds = _anomaly_list(anomalies)
    periods = checks.int_tuple("periods", periods, allow_empty=False)
    if min(periods) < 2:
        raise ValueError(f"`periods` must be integers >= 2. Received: periods={periods!r}")
    amps = _amplitudes(amplitudes, len(periods))
    noise = checks.non_negative_float("noise", noise)
    low, high = _duration(duration)
    if isinstance(clean_prefix, bool) or not isinstance(clean_prefix, numbers.Integral):
        raise TypeError(
            f"`clean_prefix` must be an integer >= 0. Received: clean_prefix={clean_prefix!r}"
        )
    if not 0 <= clean_prefix < length:
        raise ValueError(
            f"`clean_prefix` must be in [0, length) = [0, {length}). "
            f"Received: clean_prefix={clean_prefix!r}"
        )
    scale = float(np.sqrt(np.sum(amps**2) / 2 + noise**2))
    if kinds and scale == 0:
        raise ValueError(
            "`amplitudes` and `noise` are all 0: the series is constant and anomalies have no "
            f"scale. Received: amplitudes={tuple(amplitudes)!r}, noise={noise!r}"
        )

    rng = np.random.default_rng(seed)
    t = np.arange(length)
    theta = 2 * np.pi * t[:, None] / np.array(periods) + rng.uniform(0, 2 * np.pi, len(periods))
    components = amps * np.sin(theta)  # (length, n_periods)
    eps = noise * rng.standard_normal(length)
    values = components.sum(axis=1) + eps

    slot = (length - clean_prefix) / max(len(kinds), 1)
    longest = max((_max_span(kind, periods[0], high) for kind in kinds), default=0)
    if slot / 2 - 2 < longest:
        raise ValueError(
            f"`length` is too short for {len(kinds)} anomalies after clean_prefix="
            f"{clean_prefix}: each gets a slot of (length - clean_prefix) / {len(kinds)} = "
            f"{slot:.0f} points, which must be at least 2 * {longest} + 4 (twice the longest "
            f"anomaly). Received: length={length}"
        )
    order = rng.permutation(len(kinds))
    events = []
    for j, i in enumerate(order):
        kind, lo = kinds[i], clean_prefix + j * slot
        span, factor = 1, 1.0
        if kind == "frequency":
            factor = float(rng.choice(FREQUENCY_FACTORS))
            cycle = _phase_cycle(periods[0], factor)
            span = max(1, round(rng.uniform(low, high + 1) / cycle)) * cycle - 1
        elif kind != "spike":
            span = int(rng.integers(low, high + 1))
        first, last = int(np.ceil(lo + slot / 4)), int(lo + 3 * slot / 4) - span
        start = int(rng.integers(first, last + 1))
        stop = start + span
        sign = rng.choice([-1.0, 1.0])
        if kind == "spike":
            values[start] += sign * rng.uniform(3, 5) * scale
        elif kind == "level_shift":
            values[start:stop] += sign * rng.uniform(1, 2) * scale
        elif kind == "frequency":
            pivot = theta[start - 1, 0]
            warped = amps[0] * np.sin(pivot + factor * (theta[start:stop, 0] - pivot))
            values[start:stop] += warped - components[start:stop, 0]
        else:  # flatline
            values[start:stop] = values[start - 1]
        events.append((kind, start, stop))

    events.sort(key=lambda e: e[1])
    kind_labels = {kind: np.zeros(length, "uint8") for kind in ANOMALY_KINDS}
    for kind, start, stop in events:
        kind_labels[kind][start:stop] = 1
    labels = np.zeros(length, "uint8")
    for mask in kind_labels.values():
        labels |= mask
    return SyntheticSeries(values.astype("float32"), labels, kind_labels, tuple(events))


# ---------------------------------------------------------------- series from files


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
    the errors. Feed it to :func:`make_windows`, or to
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
    x = _series("values", values)
    window = _check_window(len(x), window, source, needed=2)
    holdout = checks.open_unit_interval("holdout", holdout)
    cut = max(window, len(x) - max(window, math.ceil(holdout * len(x))))
    return SeriesSplit(make_windows(x[:cut], window), make_windows(x[cut:], window))


def window_scores(model: Any, windows: Any) -> np.ndarray:
    """Mean squared reconstruction error of each window, float64 ``(n,)``.

    The reconstruction is the model's own deterministic one
    (``model.reconstruct``, which every keras_ae autoencoder has), or
    ``model.predict`` for any other Keras model. For a model that
    standardises inside (``normalize=True``) the error is taken on the
    standardised values (``model.standardize``), as its training loss is, so
    every channel counts the same whatever its units.
    """
    import keras

    x = checks.array("windows", windows)
    if hasattr(model, "reconstruct"):
        recon = np.asarray(model.reconstruct(x), "float32")
    else:
        recon = np.asarray(model.predict(x, batch_size=256, verbose=0), "float32")
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
    (:func:`windows_to_points`).

    Args:
        model: a Keras autoencoder taking windows ``(window, channels)``.
        values: a series ``(length,)`` or ``(length, channels)`` in the units
            the model was trained on (raw values for the sequence kinds).
        window: the model's window.
        source: what the series is called in error messages.

    Returns:
        float32 ``(length,)``.
    """
    x = _series("values", values)
    window = _check_window(len(x), window, source)
    scores = window_scores(model, make_windows(x, window))
    return windows_to_points(scores, len(x), window, reduce="mean")


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

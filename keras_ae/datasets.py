"""Datasets: the embedded MNIST subset, full MNIST through Keras, own files, and time series.

The embedded subset ships inside the package (``keras_ae/data/mnist10k.npz``,
10,000 real MNIST digits, CC BY-SA 3.0, see ``keras_ae/data/README.md``), so
everything in keras_ae runs offline.

Time series: :func:`make_windows` cuts a series into the windows a sequence
autoencoder takes and :func:`windows_to_points` maps per-window scores back to
the points; :class:`Standardizer` (or :func:`standardize`) scales with
statistics of the training part only; :func:`synthetic_series` makes a
seeded seasonal series with labelled anomalies.

Folders of images: :func:`from_directory` (from :mod:`keras_ae.images`)
streams PNG/JPEG files as ``tf.data`` batches of ``(x, x)`` in [0, 1].

Tables: :func:`from_table` (from :mod:`keras_ae.tables`) reads the numeric
columns of a CSV or parquet file; :func:`load_breast_cancer` reads the
embedded Wisconsin breast-cancer table (CC BY 4.0).
"""

from __future__ import annotations

import hashlib
import logging
import math
import numbers
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from keras_ae import checks
from keras_ae.images import ImageFolder, from_directory  # noqa: F401 - public here
from keras_ae.tables import Table, from_table, load_breast_cancer  # noqa: F401 - public here

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


# ---------------------------------------------------------------- time series

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

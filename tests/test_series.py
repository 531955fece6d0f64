"""keras_ae.series' windows, scaling and synthetic series, checked by hand.

Reading series from CSV files and the CLI built on them: test_series_cli.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from keras_ae import series

# ---------------------------------------------------------------- windows


def test_make_windows_by_hand():
    w = series.make_windows(np.arange(10), 4, stride=3)
    assert w.shape == (3, 4, 1) and w.dtype == np.float32
    np.testing.assert_array_equal(w[..., 0], [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]])
    two = np.stack([np.arange(6), 10 * np.arange(6)], axis=1)
    w = series.make_windows(two, 5)
    assert w.shape == (2, 5, 2)
    np.testing.assert_array_equal(w[1], two[1:6])
    # the last point belongs to no window with stride 2
    np.testing.assert_array_equal(
        series.make_windows(np.arange(6), 3, 2)[..., 0], [[0, 1, 2], [2, 3, 4]]
    )
    assert series.make_windows(np.arange(5), 5).shape == (1, 5, 1)


def test_windows_to_points_by_hand():
    scores = np.array([1.0, 5.0, 2.0])  # windows [0:4], [3:7], [6:10]
    np.testing.assert_array_equal(
        series.windows_to_points(scores, 10, 4, 3), [1, 1, 1, 5, 5, 5, 5, 2, 2, 2]
    )
    np.testing.assert_allclose(
        series.windows_to_points(scores, 10, 4, 3, reduce="mean"),
        [1, 1, 1, 3, 5, 5, 3.5, 2, 2, 2],
    )
    tail = series.windows_to_points(np.array([1.0, 2.0]), 6, 3, 2, reduce="mean")
    np.testing.assert_allclose(tail[:5], [1, 1, 1.5, 2, 2])
    assert np.isnan(tail[5])  # no window holds the last point
    stride_one = series.windows_to_points(np.array([0.0, 3.0, 1.0]), 5, 3)
    np.testing.assert_array_equal(stride_one, [0, 3, 3, 3, 1])


def test_windows_to_points_inverts_make_windows():
    x = np.random.default_rng(1).standard_normal(50)
    windows = series.make_windows(x, 7, stride=2)
    # a window's score = its largest value: every point scores at least its own value
    points = series.windows_to_points(windows.max(axis=(1, 2)), 50, 7, 2)
    covered = ~np.isnan(points)
    assert covered.sum() == 49
    assert np.all(points[covered] >= x[covered].astype("float32"))
    assert np.isclose(points[covered].max(), x[covered].max())


def test_standardizer_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    train = np.stack([rng.normal(5, 2, 1000), np.full(1000, 3.0)], axis=1)
    test = train + 100
    train_z, test_z, scaler = series.standardize(train, test)
    np.testing.assert_allclose(scaler.mean_, train.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(scaler.std_, [train[:, 0].std(), 1.0], rtol=1e-5)
    np.testing.assert_allclose(train_z[:, 0].mean(), 0, atol=1e-5)
    np.testing.assert_allclose(train_z[:, 0].std(), 1, atol=1e-4)
    shift = np.broadcast_to(100 / scaler.std_, train.shape)
    np.testing.assert_allclose(test_z - train_z, shift, rtol=1e-4)
    np.testing.assert_allclose(scaler.inverse_transform(test_z), test, rtol=1e-5)
    windows = series.make_windows(train, 10)
    np.testing.assert_allclose(scaler.transform(windows)[0], train_z[:10], atol=1e-6)
    one = series.Standardizer().fit(np.array([1.0, 3.0]))
    assert one.mean_.shape == (1,)
    np.testing.assert_allclose(one.transform(np.array([2.0, 5.0])), [0.0, 3.0])  # (x - 2) / 1


# ---------------------------------------------------------------- synthetic data


def test_synthetic_series_is_reproducible_from_its_seed():
    a = series.synthetic_series(3000, seed=3)
    b = series.synthetic_series(3000, seed=3)
    c = series.synthetic_series(3000, seed=4)
    np.testing.assert_array_equal(a.values, b.values)
    assert a.events == b.events
    assert not np.allclose(a.values, c.values) and a.events != c.events
    assert a.values.dtype == np.float32 and a.labels.dtype == np.uint8


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_synthetic_labels_mark_exactly_the_injected_points(seed):
    kinds = series.ANOMALY_KINDS * 3
    data = series.synthetic_series(9000, seed=seed, anomalies=kinds, clean_prefix=2000)
    clean = series.synthetic_series(9000, seed=seed, anomalies=0)
    assert clean.labels.sum() == 0 and clean.events == ()
    assert sorted(kind for kind, _, _ in data.events) == sorted(kinds)
    changed = data.values != clean.values
    assert not changed[data.labels == 0].any()  # nothing moved outside the labels
    union = np.zeros(9000, "uint8")
    for kind, start, stop in data.events:
        assert start >= 2000
        mask = data.kind_labels[kind]
        assert mask[start:stop].all()
        union[start:stop] = 1
        moved = changed[start:stop]
        if kind == "frequency":
            # in phase again only at isolated points (k - 1 per stretch)
            assert moved.mean() > 0.9 and (stop - start + 1) % 24 == 0
        else:
            assert moved.all()
        if kind == "spike":
            assert stop == start + 1
            assert abs(data.values[start] - clean.values[start]) >= 3 * 0.79
        if kind == "flatline":
            assert np.all(data.values[start:stop] == data.values[start - 1])
    np.testing.assert_array_equal(union, data.labels)
    np.testing.assert_array_equal(
        np.bitwise_or.reduce(list(data.kind_labels.values())), data.labels
    )
    starts = [start for _, start, _ in data.events]
    assert starts == sorted(starts)
    assert all(a[2] < b[1] for a, b in zip(data.events[:-1], data.events[1:], strict=True))


def test_frequency_anomaly_changes_the_period_without_a_jump():
    data = series.synthetic_series(
        4000, seed=5, anomalies=("frequency",), noise=0.0, amplitudes=(1.0, 0.0)
    )
    ((_, start, stop),) = data.events
    x = data.values
    # no noise, one component: steps never exceed the fastest sine's largest step
    assert np.abs(np.diff(x)).max() <= 2 * np.pi * 2 / 24 + 1e-5

    def crossings(segment):
        return int(np.sum(np.diff(np.sign(segment)) != 0))

    # twice or half as many zero crossings as in a normal stretch as long
    inside, before = crossings(x[start:stop]), crossings(x[start - (stop - start) : start])
    assert abs(inside - 2 * before) <= 1 or abs(before - 2 * inside) <= 1, (inside, before)


# ---------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: series.make_windows(np.arange(10), 0), "window"),
        (lambda: series.make_windows(np.arange(10), 11), "window"),
        (lambda: series.make_windows(np.arange(10), 3, stride=0), "stride"),
        (lambda: series.make_windows(np.zeros((2, 3, 4)), 2), "series"),
        (lambda: series.make_windows(np.array([1.0, np.nan, 2.0]), 2), "series"),
        (lambda: series.make_windows("abc", 2), "series"),
        (lambda: series.windows_to_points(np.ones(4), 10, 4, 3), "window_scores"),
        (lambda: series.windows_to_points(np.ones((3, 1)), 10, 4, 3), "window_scores"),
        (lambda: series.windows_to_points(np.ones(3), 10, 4, 3, reduce="median"), "reduce"),
        (lambda: series.windows_to_points(np.ones(3), 0, 4, 3), "length"),
        (lambda: series.windows_to_points(np.ones(3), 10, 4, 1.5), "stride"),
        (lambda: series.Standardizer().transform(np.ones(3)), "fit"),
        (lambda: series.Standardizer().fit(np.ones((5, 2))).transform(np.ones(3)), "x"),
        (lambda: series.standardize(np.array([])), "train"),
        (lambda: series.synthetic_series(0), "length"),
        (lambda: series.synthetic_series(100, seed=-1), "seed"),
        (lambda: series.synthetic_series(100, seed=1.5), "seed"),
        (lambda: series.synthetic_series(100, anomalies=-1), "anomalies"),
        (lambda: series.synthetic_series(100, anomalies="spike"), "anomalies"),
        (lambda: series.synthetic_series(900, anomalies=("spike", "drift")), "anomalies"),
        (lambda: series.synthetic_series(100, anomalies=0, periods=(1,)), "periods"),
        (lambda: series.synthetic_series(100, periods=(24,)), "amplitudes"),
        (lambda: series.synthetic_series(100, amplitudes=(1.0, -1.0)), "amplitudes"),
        (lambda: series.synthetic_series(100, noise=-0.1), "noise"),
        (lambda: series.synthetic_series(100, duration=(10, 5)), "duration"),
        (lambda: series.synthetic_series(100, duration=(10,)), "duration"),
        (lambda: series.synthetic_series(100, clean_prefix=100), "clean_prefix"),
        (lambda: series.synthetic_series(100, clean_prefix=2.0), "clean_prefix"),
        (lambda: series.synthetic_series(400), "length"),
        (
            lambda: series.synthetic_series(100, anomalies=1, amplitudes=(0, 0), noise=0.0),
            "amplitudes",
        ),
    ],
)
def test_bad_arguments_name_the_argument(call, argument):
    with pytest.raises((ValueError, TypeError)) as err:
        call()
    assert argument in str(err.value)

"""Sequence autoencoders (Conv1D and LSTM) and the time-series tools around them."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from conftest import call_without_keras_ae

import keras_ae
from keras_ae import datasets
from keras_ae.anomaly import AnomalyDetector, roc_auc
from keras_ae.baselines import rolling_zscore
from keras_ae.builders import trunk_spec

WINDOW = 24
SEQUENCE_BUILDERS = {
    "conv1d": lambda shape: keras_ae.build_conv_autoencoder(
        shape, filters=(8, 16), latent_dim=4, kernel_size=5, output_activation=None
    ),
    "lstm": lambda shape: keras_ae.build_lstm_autoencoder(shape, units=(16,), latent_dim=4),
}


@pytest.fixture(scope="module")
def series():
    """A clean training stretch and a test stretch holding every anomaly kind twice."""
    data = datasets.synthetic_series(
        6000, seed=7, anomalies=datasets.ANOMALY_KINDS * 2, clean_prefix=3000
    )
    train, test, scaler = datasets.standardize(data.values[:3000], data.values[3000:])
    return data, train, test, scaler


@pytest.fixture(scope="module")
def windows(series):
    _, train, test, _ = series
    return datasets.make_windows(train, WINDOW), datasets.make_windows(test, WINDOW)


@pytest.fixture(scope="module", params=sorted(SEQUENCE_BUILDERS))
def trained(request, windows):
    """Each sequence builder's model after two short epochs on 512 windows."""
    keras.utils.set_random_seed(0)
    model = SEQUENCE_BUILDERS[request.param]((WINDOW, 1))
    x = windows[0][::4][:512]
    history = model.fit(x, x, epochs=2, batch_size=64, verbose=0)
    return request.param, model, history


# ---------------------------------------------------------------- builders


@pytest.mark.parametrize("kind", sorted(SEQUENCE_BUILDERS))
@pytest.mark.parametrize("shape", [(1, 1), (7, 2), (33, 1), (48, 3), (101, 2)])
def test_sequence_builders_take_any_length(kind, shape):
    model = SEQUENCE_BUILDERS[kind](shape)
    x = np.random.default_rng(0).standard_normal((3, *shape)).astype("float32")
    assert model.output_shape == model.input_shape == (None, *shape)
    assert model(x).shape == x.shape
    code = model.encoder(x)
    assert code.shape == (3, 4)
    assert model.decoder(code).shape == x.shape
    assert model.loss == "mean_squared_error"


def test_lstm_autoencoder_layout():
    model = keras_ae.build_lstm_autoencoder((20, 3), units=(32, 16), latent_dim=5)
    assert model.name == "lstm_autoencoder" and model.spec["units"] == [32, 16]
    encoder, decoder = model.encoder, model.decoder
    assert encoder.get_layer("encoder_lstm_1").return_sequences
    assert not encoder.get_layer("encoder_lstm_2").return_sequences
    assert encoder.get_layer("code").units == 5
    assert decoder.get_layer("decoder_repeat").n == 20
    assert [decoder.get_layer(f"decoder_lstm_{i}").units for i in (1, 2)] == [16, 32]
    assert decoder.get_layer("decoder_lstm_2").return_sequences
    assert decoder.get_layer("decoder_output").layer.units == 3


def test_training_lowers_the_loss(trained):
    _, _, history = trained
    loss = history.history["loss"]
    assert np.isfinite(loss).all() and loss[-1] < loss[0]


def test_keras_round_trip_gives_equal_outputs(trained, windows, tmp_path):
    _, model, _ = trained
    x = windows[1][:32]
    path = keras_ae.save_keras(model, tmp_path / "model.keras")
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded) is type(model) and loaded.spec == model.spec
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert loaded.loss == model.loss
    loaded.fit(x, x, epochs=1, batch_size=32, verbose=0)  # keeps the compile defaults


def test_saved_model_in_a_process_without_keras_ae(trained, windows, tmp_path):
    _, model, _ = trained
    x = windows[1][:17]
    path = keras_ae.export_saved_model(model, tmp_path / "sm")
    code = model.encoder.predict(x, verbose=0)
    inputs = {"encode__tfsm": x[:5]}
    for batch in (1, 17):
        for endpoint in ("serve", "reconstruct", "encode"):
            inputs[f"{endpoint}__{batch}"] = x[:batch]
        inputs[f"decode__{batch}"] = code[:batch]
    result = call_without_keras_ae(path, inputs, tmp_path)
    assert {"serve", "reconstruct", "encode", "decode"} <= set(result["__signatures__"])
    for batch in (1, 17):
        expected = model.predict(x[:batch], verbose=0)
        np.testing.assert_allclose(result[f"serve__{batch}__0"], expected, atol=1e-5)
        np.testing.assert_allclose(result[f"reconstruct__{batch}__0"], expected, atol=1e-5)
        np.testing.assert_allclose(result[f"encode__{batch}__0"], code[:batch], atol=1e-5)
        np.testing.assert_allclose(
            result[f"decode__{batch}__0"],
            model.decoder.predict(code[:batch], verbose=0),
            atol=1e-5,
        )
    np.testing.assert_allclose(result["tfsm__0"], code[:5], atol=1e-5)


def test_other_trunks_take_the_lstm_architecture():
    spec = trunk_spec("lstm", (10, 2), units=(8,), latent_dim=3)
    assert spec["units"] == [8] and "kernel_size" not in spec
    vae = keras_ae.build_vae((10, 2), architecture="lstm", latent_dim=3, likelihood="gaussian")
    x = np.zeros((2, 10, 2), "float32")
    assert vae.reconstruct(x).shape == x.shape


# ---------------------------------------------------------------- windows


def test_make_windows_by_hand():
    w = datasets.make_windows(np.arange(10), 4, stride=3)
    assert w.shape == (3, 4, 1) and w.dtype == np.float32
    np.testing.assert_array_equal(w[..., 0], [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]])
    two = np.stack([np.arange(6), 10 * np.arange(6)], axis=1)
    w = datasets.make_windows(two, 5)
    assert w.shape == (2, 5, 2)
    np.testing.assert_array_equal(w[1], two[1:6])
    # the last point belongs to no window with stride 2
    np.testing.assert_array_equal(
        datasets.make_windows(np.arange(6), 3, 2)[..., 0], [[0, 1, 2], [2, 3, 4]]
    )
    assert datasets.make_windows(np.arange(5), 5).shape == (1, 5, 1)


def test_windows_to_points_by_hand():
    scores = np.array([1.0, 5.0, 2.0])  # windows [0:4], [3:7], [6:10]
    np.testing.assert_array_equal(
        datasets.windows_to_points(scores, 10, 4, 3), [1, 1, 1, 5, 5, 5, 5, 2, 2, 2]
    )
    np.testing.assert_allclose(
        datasets.windows_to_points(scores, 10, 4, 3, reduce="mean"),
        [1, 1, 1, 3, 5, 5, 3.5, 2, 2, 2],
    )
    tail = datasets.windows_to_points(np.array([1.0, 2.0]), 6, 3, 2, reduce="mean")
    np.testing.assert_allclose(tail[:5], [1, 1, 1.5, 2, 2])
    assert np.isnan(tail[5])  # no window holds the last point
    stride_one = datasets.windows_to_points(np.array([0.0, 3.0, 1.0]), 5, 3)
    np.testing.assert_array_equal(stride_one, [0, 3, 3, 3, 1])


def test_windows_to_points_inverts_make_windows():
    x = np.random.default_rng(1).standard_normal(50)
    windows = datasets.make_windows(x, 7, stride=2)
    # a window's score = its largest value: every point scores at least its own value
    points = datasets.windows_to_points(windows.max(axis=(1, 2)), 50, 7, 2)
    covered = ~np.isnan(points)
    assert covered.sum() == 49
    assert np.all(points[covered] >= x[covered].astype("float32"))
    assert np.isclose(points[covered].max(), x[covered].max())


def test_standardizer_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    train = np.stack([rng.normal(5, 2, 1000), np.full(1000, 3.0)], axis=1)
    test = train + 100
    train_z, test_z, scaler = datasets.standardize(train, test)
    np.testing.assert_allclose(scaler.mean_, train.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(scaler.std_, [train[:, 0].std(), 1.0], rtol=1e-5)
    np.testing.assert_allclose(train_z[:, 0].mean(), 0, atol=1e-5)
    np.testing.assert_allclose(train_z[:, 0].std(), 1, atol=1e-4)
    shift = np.broadcast_to(100 / scaler.std_, train.shape)
    np.testing.assert_allclose(test_z - train_z, shift, rtol=1e-4)
    np.testing.assert_allclose(scaler.inverse_transform(test_z), test, rtol=1e-5)
    windows = datasets.make_windows(train, 10)
    np.testing.assert_allclose(scaler.transform(windows)[0], train_z[:10], atol=1e-6)
    one = datasets.Standardizer().fit(np.array([1.0, 3.0]))
    assert one.mean_.shape == (1,)
    np.testing.assert_allclose(one.transform(np.array([2.0, 5.0])), [0.0, 3.0])  # (x - 2) / 1


# ---------------------------------------------------------------- synthetic data


def test_synthetic_series_is_reproducible_from_its_seed():
    a = datasets.synthetic_series(3000, seed=3)
    b = datasets.synthetic_series(3000, seed=3)
    c = datasets.synthetic_series(3000, seed=4)
    np.testing.assert_array_equal(a.values, b.values)
    assert a.events == b.events
    assert not np.allclose(a.values, c.values) and a.events != c.events
    assert a.values.dtype == np.float32 and a.labels.dtype == np.uint8


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_synthetic_labels_mark_exactly_the_injected_points(seed):
    kinds = datasets.ANOMALY_KINDS * 3
    data = datasets.synthetic_series(9000, seed=seed, anomalies=kinds, clean_prefix=2000)
    clean = datasets.synthetic_series(9000, seed=seed, anomalies=0)
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
    data = datasets.synthetic_series(
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


def test_rolling_zscore_by_hand():
    x = np.array([1.0, 2, 3, 2, 1, 10, 5, 5, 5, 5])
    scores = rolling_zscore(x, 3)
    # t=2: past (1, 2): |3 - 1.5| / 0.5; t=4: past (2, 3, 2): |1 - 7/3| / sqrt(2/9)
    np.testing.assert_allclose(scores[:5], [0, 0, 3, 0, np.sqrt(8)], rtol=1e-5)
    for t in range(5, 9):
        past = x[t - 3 : t]
        np.testing.assert_allclose(scores[t], abs(x[t] - past.mean()) / past.std(), rtol=1e-5)
    assert scores[9] == 0  # equal to a constant past
    assert rolling_zscore(np.r_[x, 6.0], 3)[10] > 1e3  # different from a constant past


# ---------------------------------------------------------------- detection


def test_short_training_finds_spikes(series, windows):
    data, _, test, _ = series
    keras.utils.set_random_seed(0)
    x_train, x_test = windows
    model = SEQUENCE_BUILDERS["conv1d"]((WINDOW, 1))
    detector = AnomalyDetector(model).fit(x_train[::2], epochs=4, batch_size=64)
    points = datasets.windows_to_points(detector.score_samples(x_test), len(test), WINDOW)
    labels = data.kind_labels["spike"][3000:]
    normal = data.labels[3000:] == 0
    keep = normal | (labels == 1)
    auroc = roc_auc(points[keep], labels[keep])
    assert auroc > 0.8, auroc
    flags = detector.predict(x_test)
    assert set(np.unique(flags)) <= {0, 1}


# ---------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: keras_ae.build_lstm_autoencoder((10, 2, 1)), "input_shape"),
        (lambda: keras_ae.build_lstm_autoencoder((10,)), "input_shape"),
        (lambda: keras_ae.build_lstm_autoencoder((10, 2), units=()), "units"),
        (lambda: keras_ae.build_lstm_autoencoder((10, 2), units="64"), "units"),
        (lambda: keras_ae.build_lstm_autoencoder((10, 2), units=(8, 0)), "units"),
        (lambda: keras_ae.build_lstm_autoencoder((10, 2), latent_dim=0), "latent_dim"),
        (lambda: keras_ae.build_lstm_autoencoder((10, 2), activation="tanhh"), "activation"),
        (lambda: trunk_spec("lstm", (10, 2), filters=(8,)), "filters"),
        (lambda: trunk_spec("lstm", (10, 2), hidden_units=(8,)), "hidden_units"),
        (lambda: trunk_spec("conv", (10, 2), units=(8,)), "units"),
        (lambda: trunk_spec("dense", (10, 2), units=(8,)), "units"),
        (lambda: keras_ae.build_conv_autoencoder((0, 2)), "input_shape"),
        (lambda: datasets.make_windows(np.arange(10), 0), "window"),
        (lambda: datasets.make_windows(np.arange(10), 11), "window"),
        (lambda: datasets.make_windows(np.arange(10), 3, stride=0), "stride"),
        (lambda: datasets.make_windows(np.zeros((2, 3, 4)), 2), "series"),
        (lambda: datasets.make_windows(np.array([1.0, np.nan, 2.0]), 2), "series"),
        (lambda: datasets.make_windows("abc", 2), "series"),
        (lambda: datasets.windows_to_points(np.ones(4), 10, 4, 3), "window_scores"),
        (lambda: datasets.windows_to_points(np.ones((3, 1)), 10, 4, 3), "window_scores"),
        (lambda: datasets.windows_to_points(np.ones(3), 10, 4, 3, reduce="median"), "reduce"),
        (lambda: datasets.windows_to_points(np.ones(3), 0, 4, 3), "length"),
        (lambda: datasets.windows_to_points(np.ones(3), 10, 4, 1.5), "stride"),
        (lambda: datasets.Standardizer().transform(np.ones(3)), "fit"),
        (lambda: datasets.Standardizer().fit(np.ones((5, 2))).transform(np.ones(3)), "x"),
        (lambda: datasets.standardize(np.array([])), "train"),
        (lambda: datasets.synthetic_series(0), "length"),
        (lambda: datasets.synthetic_series(100, seed=-1), "seed"),
        (lambda: datasets.synthetic_series(100, seed=1.5), "seed"),
        (lambda: datasets.synthetic_series(100, anomalies=-1), "anomalies"),
        (lambda: datasets.synthetic_series(100, anomalies="spike"), "anomalies"),
        (lambda: datasets.synthetic_series(900, anomalies=("spike", "drift")), "anomalies"),
        (lambda: datasets.synthetic_series(100, anomalies=0, periods=(1,)), "periods"),
        (lambda: datasets.synthetic_series(100, periods=(24,)), "amplitudes"),
        (lambda: datasets.synthetic_series(100, amplitudes=(1.0, -1.0)), "amplitudes"),
        (lambda: datasets.synthetic_series(100, noise=-0.1), "noise"),
        (lambda: datasets.synthetic_series(100, duration=(10, 5)), "duration"),
        (lambda: datasets.synthetic_series(100, duration=(10,)), "duration"),
        (lambda: datasets.synthetic_series(100, clean_prefix=100), "clean_prefix"),
        (lambda: datasets.synthetic_series(100, clean_prefix=2.0), "clean_prefix"),
        (lambda: datasets.synthetic_series(400), "length"),
        (
            lambda: datasets.synthetic_series(100, anomalies=1, amplitudes=(0, 0), noise=0.0),
            "amplitudes",
        ),
        (lambda: rolling_zscore(np.arange(10.0), 1), "window"),
        (lambda: rolling_zscore(np.ones((5, 2)), 3), "series"),
    ],
)
def test_bad_arguments_name_the_argument(call, argument):
    with pytest.raises((ValueError, TypeError)) as err:
        call()
    assert argument in str(err.value)

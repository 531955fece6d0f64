"""Sequence autoencoders (Conv1D and LSTM): builders, training, round trips and detection.

The time-series tools they train on (windows, scaling, synthetic series) are
tested in test_series.py."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from conftest import call_without_keras_ae

import keras_ae
from keras_ae.anomaly import AnomalyDetector, roc_auc
from keras_ae.baselines import rolling_zscore
from keras_ae.series import (
    ANOMALY_KINDS,
    make_windows,
    standardize,
    synthetic_series,
    windows_to_points,
)
from keras_ae.trunks import Trunk

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
    data = synthetic_series(6000, seed=7, anomalies=ANOMALY_KINDS * 2, clean_prefix=3000)
    train, test, scaler = standardize(data.values[:3000], data.values[3000:])
    return data, train, test, scaler


@pytest.fixture(scope="module")
def windows(series):
    _, train, test, _ = series
    return make_windows(train, WINDOW), make_windows(test, WINDOW)


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
    config = Trunk((10, 2), "lstm", units=(8,), latent_dim=3).get_config()
    assert config["units"] == [8] and "kernel_size" not in config
    vae = keras_ae.build_vae((10, 2), architecture="lstm", latent_dim=3, likelihood="gaussian")
    x = np.zeros((2, 10, 2), "float32")
    assert vae.reconstruct(x).shape == x.shape


# ---------------------------------------------------------------- detection


def test_short_training_finds_spikes(series, windows):
    data, _, test, _ = series
    keras.utils.set_random_seed(0)
    x_train, x_test = windows
    model = SEQUENCE_BUILDERS["conv1d"]((WINDOW, 1))
    detector = AnomalyDetector(model).fit(x_train[::2], epochs=4, batch_size=64)
    points = windows_to_points(detector.score_samples(x_test), len(test), WINDOW)
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
        (lambda: Trunk((10, 2), "lstm", filters=(8,)), "filters"),
        (lambda: Trunk((10, 2), "lstm", hidden_units=(8,)), "hidden_units"),
        (lambda: Trunk((10, 2), "conv", units=(8,)), "units"),
        (lambda: Trunk((10, 2), "dense", units=(8,)), "units"),
        (lambda: keras_ae.build_conv_autoencoder((0, 2)), "input_shape"),
        (lambda: rolling_zscore(np.arange(10.0), 1), "window"),
        (lambda: rolling_zscore(np.ones((5, 2)), 3), "series"),
    ],
)
def test_bad_arguments_name_the_argument(call, argument):
    with pytest.raises((ValueError, TypeError)) as err:
        call()
    assert argument in str(err.value)

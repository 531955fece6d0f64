"""TensorBoard logs: `keras-ae train --tensorboard DIR` and keras_ae.callbacks.tensorboard,
read back from the event files."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ae
from keras_ae.cli import main


def read_events(run: Path) -> dict[str, dict[int, object]]:
    """tag -> {step: value}: a float for scalars, the decoded images (uint8 arrays)
    for image summaries, from every event file of one TensorBoard run folder."""
    found: dict[str, dict[int, object]] = defaultdict(dict)
    for path in sorted(run.glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                plugin = value.metadata.plugin_data.plugin_name
                if plugin == "images":  # [width, height, png, png, ...]
                    pngs = value.tensor.string_val[2:]
                    found[value.tag][event.step] = [tf.io.decode_png(p).numpy() for p in pngs]
                elif plugin == "scalars":
                    found[value.tag][event.step] = float(tf.make_ndarray(value.tensor))
    return dict(found)


@pytest.fixture(scope="module")
def digits_npz(tmp_path_factory, mnist):
    (x_train, _), (x_test, _) = mnist
    path = tmp_path_factory.mktemp("data") / "digits.npz"
    np.savez(path, x_train=x_train[:512], x_test=x_test[:64])
    return path


def test_train_writes_losses_and_reconstructions_each_epoch(digits_npz, mnist, tmp_path):
    out, logs = tmp_path / "run", tmp_path / "logs"
    args = ["train", "dense", "--data", digits_npz, "--epochs", 3, "--batch-size", 64]
    assert main([*map(str, args), "--out", str(out), "--tensorboard", str(logs)]) == 0
    record = json.loads((out / "metrics.json").read_text())
    train, validation = read_events(logs / "train"), read_events(logs / "validation")
    assert sorted(train["epoch_loss"]) == sorted(validation["epoch_loss"]) == [0, 1, 2]
    assert train["epoch_loss"][2] == pytest.approx(record["final_loss"], rel=1e-5)
    assert validation["epoch_loss"][2] == pytest.approx(record["final_val_loss"], rel=1e-5)
    assert train["epoch_loss"][2] < train["epoch_loss"][0]
    images = read_events(logs / "reconstructions")["reconstructions"]
    assert sorted(images) == [0, 1, 2] and all(len(v) == 4 for v in images.values())
    # each picture: the test digit on the left, its reconstruction on the right
    x = mnist[1][0][:4]
    recon = keras.saving.load_model(out / "model.keras").predict(x, verbose=0)
    for picture, digit, rebuilt in zip(images[2], x, recon, strict=True):
        assert picture.shape == (28, 56, 1)
        np.testing.assert_allclose(picture[:, :28] / 255, digit, atol=1 / 255 + 1e-6)
        np.testing.assert_allclose(picture[:, 28:] / 255, rebuilt, atol=1 / 255 + 1e-6)
    # the reconstructions improve from the first epoch to the last
    error = {e: np.mean((np.stack(images[e])[:, :, 28:] / 255 - x) ** 2) for e in (0, 2)}
    assert error[2] < error[0]


def test_series_reconstructions_are_drawn_as_line_plots(tmp_path):
    values = keras_ae.datasets.synthetic_series(600, anomalies=0, periods=(24,), amplitudes=(1,))
    windows = keras_ae.datasets.make_windows(values.values, 24)
    model = keras_ae.build_conv_autoencoder(
        (24, 1), filters=(8,), latent_dim=4, output_activation=None
    )
    callbacks = keras_ae.callbacks.tensorboard(tmp_path, windows[:2])
    model.fit(windows, windows, epochs=2, batch_size=64, verbose=0, callbacks=callbacks)
    assert sorted(read_events(tmp_path / "train")["epoch_loss"]) == [0, 1]
    images = read_events(tmp_path / "reconstructions")["reconstructions"]
    assert sorted(images) == [0, 1]
    for picture in images[1]:
        assert picture.shape == (160, 320, 3)
        dark = (picture.max(axis=-1) < 60).mean()  # the black line of the input
        blue = ((picture[..., 2] > 150) & (picture[..., 0] < 100)).mean()  # the reconstruction
        assert dark > 0.002 and blue > 0.002


def test_reconstruction_pictures_check_shapes():
    with pytest.raises(ValueError, match="`recon` must have the inputs' shape"):
        keras_ae.callbacks.reconstruction_pictures(np.zeros((2, 4, 4, 1)), np.zeros((2, 4, 4)))
    rows = keras_ae.callbacks.reconstruction_pictures(np.zeros((3, 5)), np.ones((3, 5)))
    assert rows.shape == (3, 160, 320, 3) and 0 <= rows.min() <= rows.max() <= 1


def test_tensorboard_refusals_are_one_line_errors(digits_npz, tmp_path, capsys, monkeypatch):
    logs, out = tmp_path / "logs", tmp_path / "out"
    args = ["train", "stacked", "--data", str(digits_npz), "--out", str(out)]
    assert main([*args, "--tensorboard", str(logs)]) == 2
    assert "--tensorboard logs kinds trained by one fit" in capsys.readouterr().err
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "tensorboard" else find_spec(name, *a),
    )
    args[1] = "dense"
    assert main([*args, "--tensorboard", str(logs)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("keras-ae: error:") and "pip install keras_ae[tensorboard]" in err
    assert not logs.exists() and not out.exists()

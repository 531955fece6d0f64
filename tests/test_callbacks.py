"""keras_ae.callbacks: KL annealing of a VAE's β, and the TensorBoard logs
(`keras-ae train --tensorboard DIR` and keras_ae.callbacks.tensorboard), read back
from the event files."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ae
from keras_ae.callbacks import KLAnnealing
from keras_ae.cli import main

# --- KL annealing -----------------------------------------------------------------


def fu_schedule(t, total, cycles, ratio, start, stop):
    """Fu et al. (2019), written out independently of KLAnnealing.value."""
    if t >= total:
        return stop
    period = total / cycles
    tau = (t - period * math.floor(t / period)) / period
    return start + (stop - start) * (tau / ratio if tau <= ratio else 1.0)


@pytest.fixture(scope="module")
def small_vae():
    """A small latent-2 VAE, shared so that its compiled train step is reused."""
    return keras_ae.build_vae(hidden_units=(32,), latent_dim=2, seed=1)


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        (
            {"schedule": "linear", "start": 0.1, "stop": 0.9, "duration": 4},
            lambda e: 0.1 + 0.8 * min(1.0, e / 4),
        ),
        (
            {"schedule": "cyclical", "cycles": 3, "ratio": 0.5},
            lambda e: fu_schedule(e, 9, 3, 0.5, 0.0, 1.0),
        ),
        (
            {"schedule": "cyclical", "cycles": 2, "ratio": 0.75, "start": 0.2, "duration": 8},
            lambda e: fu_schedule(e, 8, 2, 0.75, 0.2, 1.0),
        ),
    ],
)
def test_kl_annealing_sets_beta_epoch_by_epoch(small_vae, mnist, kwargs, expected):
    x = mnist[0][0][:256]
    vae = small_vae
    history = vae.fit(
        x, x, epochs=9, batch_size=64, verbose=0, callbacks=[KLAnnealing(**kwargs)]
    ).history
    want = [expected(e) for e in range(9)]
    np.testing.assert_allclose(history["beta"], want, atol=1e-6)
    assert len(set(np.round(want, 6))) > 2  # the schedule really moves
    # the loss used the annealed β of its epoch
    np.testing.assert_allclose(
        history["loss"],
        np.array(history["reconstruction_loss"]) + np.array(want) * history["kl_loss"],
        rtol=1e-4,
    )
    assert float(vae.beta.numpy()) == pytest.approx(want[-1], abs=1e-6)


def test_kl_annealing_per_step_follows_the_global_step(small_vae, mnist):
    x = mnist[0][0][:512]  # batch 8: 64 steps per epoch, 2 executions of 32 steps
    vae = small_vae
    seen = []

    class Record(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_begin(self, batch, logs=None):
            seen.append((self.epoch * 64 + batch, float(vae.beta.numpy())))

    annealing = KLAnnealing("linear", unit="step", duration=100, start=0.0, stop=2.0)
    vae.compile(steps_per_execution=32)  # the callbacks see one batch per execution
    try:
        vae.fit(x, x, epochs=3, batch_size=8, verbose=0, callbacks=[annealing, Record()])
    finally:
        vae.compile()
    steps = [t for t, _ in seen]
    assert steps == [0, 32, 64, 96, 128, 160]
    np.testing.assert_allclose([b for _, b in seen], [2.0 * min(1, t / 100) for t in steps])


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"schedule": "cosine"}, "schedule"),
        ({"start": -0.1}, "start"),
        ({"stop": float("nan")}, "stop"),
        ({"duration": 0}, "duration"),
        ({"unit": "batch"}, "unit"),
        ({"cycles": 0}, "cycles"),
        ({"ratio": 1.5}, "ratio"),
        ({"ratio": 0.0}, "ratio"),
    ],
)
def test_kl_annealing_rejects_bad_arguments(kwargs, argument):
    with pytest.raises((ValueError, TypeError)) as err:
        KLAnnealing(**kwargs)
    assert f"`{argument}`" in str(err.value) and f"{argument}=" in str(err.value)


def test_kl_annealing_needs_a_model_with_beta(x_small):
    model = keras_ae.build_dense_autoencoder(hidden_units=(16,), latent_dim=4)
    with pytest.raises(ValueError, match="beta"):
        model.fit(x_small, x_small, epochs=1, verbose=0, callbacks=[KLAnnealing()])


# --- TensorBoard ------------------------------------------------------------------


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

"""Series from CSV files on the command line: `keras-ae train conv1d|lstm --data
series.csv --window W` and `keras-ae score`, on synthetic series with known anomalies."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae import series
from keras_ae.anomaly import roc_auc
from keras_ae.cli import main

WINDOW = 24
TRAIN_POINTS, TEST_POINTS = 1500, 1500


def _two_columns(values: np.ndarray) -> np.ndarray:
    """A load in its own units (mean 20, daily cycle of amplitude 5) and a small
    temperature-like channel, so the two columns have very different scales."""
    hours = np.arange(len(values))
    temp = 1 + 0.1 * np.cos(2 * np.pi * hours / 24)
    temp = temp + 0.01 * np.random.default_rng(0).standard_normal(len(values))
    return np.stack([5 * values + 20, temp], axis=1)


def _write(path, values, header=("load", "temp")):
    header_line = ",".join(header) if header else ""
    np.savetxt(path, values, delimiter=",", header=header_line, comments="", fmt="%.5f")
    return path


@pytest.fixture(scope="module")
def csvs(tmp_path_factory):
    """train.csv: 1,500 normal hours; test.csv: 1,500 hours holding four anomalies
    (two level shifts, a flat line, a frequency change); the test labels."""
    data = keras_ae.datasets.synthetic_series(
        TRAIN_POINTS + TEST_POINTS,
        seed=1,
        anomalies=("level_shift", "frequency", "flatline", "level_shift"),
        periods=(24,),
        amplitudes=(1.0,),
        duration=(24, 48),
        clean_prefix=TRAIN_POINTS,
    )
    values = _two_columns(data.values)
    folder = tmp_path_factory.mktemp("series")
    return {
        "train": _write(folder / "train.csv", values[:TRAIN_POINTS]),
        "test": _write(folder / "test.csv", values[TRAIN_POINTS:]),
        "labels": data.labels[TRAIN_POINTS:],
        "test_values": values[TRAIN_POINTS:].astype("float32"),
    }


@pytest.fixture(scope="module")
def trained(csvs, tmp_path_factory):
    """`keras-ae train conv1d` through the console entry point, 4 epochs."""
    out = tmp_path_factory.mktemp("run") / "conv1d"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    args = ["train", "conv1d", "--data", csvs["train"], "--window", WINDOW, "--epochs", 4]
    proc = subprocess.run(
        [sys.executable, "-m", "keras_ae.cli", *map(str, args), "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc.stdout


@pytest.fixture(scope="module")
def untrained(tmp_path_factory):
    """A conv1d model for windows of 24 points and 2 columns, adapted but not trained
    (the refusals happen before any scoring)."""
    from keras_ae.kinds import SERIES_KINDS

    model = SERIES_KINDS["conv1d"].make((WINDOW, 2))
    model.adapt(np.random.default_rng(0).normal(size=(64, WINDOW, 2)).astype("float32"))
    return keras_ae.save_keras(model, tmp_path_factory.mktemp("model") / "model.keras")


def _scores(path):
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["point", "score"]
    assert [int(r[0]) for r in rows[1:]] == list(range(len(rows) - 1))
    return np.array([float(r[1]) for r in rows[1:]])


def test_train_conv1d_on_a_csv_series(trained):
    out, stdout = trained
    record = json.loads((out / "metrics.json").read_text())
    assert record["kind"] == "conv1d" and record["epochs"] == 4
    # Keras's own progress, one line per epoch when the output is not a terminal
    for epoch in range(1, 5):
        assert f"Epoch {epoch}/4" in stdout
    assert len(re.findall(r"^\d+/\d+ - .*loss: [\d.]+ - val_loss: [\d.]+", stdout, re.M)) == 4
    summary = re.search(
        r"^trained conv1d: 4 epochs in ([\d.]+) s, loss (\S+), val_loss (\S+) -> (.+)$",
        stdout,
        re.M,
    )
    assert summary, stdout[-2000:]
    assert summary.group(2) == f"{record['final_loss']:.4g}"
    assert summary.group(3) == f"{record['final_val_loss']:.4g}"
    assert summary.group(4) == str(out)
    # standardised units: the held-out windows rebuild far better than their variance (1)
    assert record["test"]["mse"] == pytest.approx(record["final_val_loss"], rel=1e-3)
    assert record["test"]["mse"] < 0.2
    info = json.loads((out / "series.json").read_text())
    assert info["window"] == WINDOW and info["columns"] == ["load", "temp"]
    assert (out / "saved_model" / "saved_model.pb").is_file()


def test_score_ranks_the_injected_anomalies_first(trained, csvs, tmp_path, capsys):
    out, _ = trained
    target = tmp_path / "scores.csv"
    args = ["score", out / "model.keras", "--data", csvs["test"], "--window", WINDOW]
    assert main([*map(str, args), "--out", str(target)]) == 0
    assert f"wrote {target}: {TEST_POINTS} point scores" in capsys.readouterr().out
    scores, labels = _scores(target), csvs["labels"]
    assert len(scores) == TEST_POINTS and np.isfinite(scores).all()
    assert roc_auc(scores, labels) > 0.95
    assert scores[labels == 1].mean() > 5 * scores[labels == 0].mean()
    # the .keras model takes raw values (the standardisation is inside it)
    model = keras.saving.load_model(out / "model.keras")
    again = series.point_scores(model, csvs["test_values"], WINDOW)
    np.testing.assert_allclose(again, scores, rtol=1e-4, atol=1e-6)
    windows = keras_ae.datasets.make_windows(csvs["test_values"][:200], WINDOW)
    recon = model.predict(windows, verbose=0)
    error = np.abs(recon - windows).mean(axis=(0, 1))
    assert (error < 0.3 * csvs["test_values"][:200].std(axis=0)).all()  # per column, raw units


def test_saved_model_serves_raw_values(trained, csvs):
    import tensorflow as tf

    out, _ = trained
    model = keras.saving.load_model(out / "model.keras")
    windows = keras_ae.datasets.make_windows(csvs["test_values"][:100], WINDOW)
    loaded = tf.saved_model.load(str(out / "saved_model"))  # keep it: it owns the variables
    served = loaded.reconstruct(tf.constant(windows))
    np.testing.assert_allclose(np.asarray(served), model.predict(windows, verbose=0), atol=1e-4)


def test_lstm_on_a_headerless_csv_by_column_index(tmp_path, capsys):
    data = keras_ae.datasets.synthetic_series(
        400, seed=2, anomalies=0, periods=(16,), amplitudes=(1.0,)
    )
    values = np.stack([data.values, np.zeros(400), 3 * data.values + 10], axis=1)
    path = _write(tmp_path / "plain.csv", values, header=None)
    out = tmp_path / "lstm"
    args = ["train", "lstm", "--data", path, "--window", 16, "--epochs", 1, "--columns", 2, 0]
    assert main([*map(str, args), "--latent-dim", "4", "--out", str(out)]) == 0
    assert "trained lstm: 1 epochs" in capsys.readouterr().out
    assert json.loads((out / "series.json").read_text())["columns"] == ["2", "0"]
    model = keras.saving.load_model(out / "model.keras")
    assert model.input_shape == (None, 16, 2) and model.spec["latent_dim"] == 4
    assert model.spec["architecture"] == "lstm" and model.spec["normalize"]
    # score reads the training columns from series.json, or takes them from --columns
    defaults, chosen = tmp_path / "defaults.csv", tmp_path / "chosen.csv"
    assert (
        main(["score", str(out / "model.keras"), "--data", str(path), "--out", str(defaults)]) == 0
    )
    score = ["score", str(out / "model.keras"), "--data", str(path), "--columns", "2", "0"]
    assert main([*score, "--out", str(chosen)]) == 0
    np.testing.assert_array_equal(_scores(defaults), _scores(chosen))
    assert len(_scores(defaults)) == 400 and np.isfinite(_scores(defaults)).all()


def test_from_csv_reads_headers_indexes_and_blank_lines(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("time,a,b\n1,2.5,3\n\n2,4,-1e3\n")
    np.testing.assert_array_equal(series.from_csv(path, columns=["b", "a"]), [[3, 2.5], [-1000, 4]])
    read = series.read_csv(path)
    assert read.columns == ("time", "a", "b") and read.values.dtype == np.float32
    (tmp_path / "n.csv").write_text("1,2\n3,4\n")
    assert series.read_csv(tmp_path / "n.csv", columns=[1]).values.tolist() == [[2], [4]]


def test_split_windows_holds_out_the_end():
    values = np.arange(200, dtype="float32")
    split = series.split_windows(values, 10)
    assert split.x_train.shape == (171, 10, 1) and split.x_test.shape == (11, 10, 1)
    assert split.x_train[-1, -1, 0] == 179 and split.x_test[0, 0, 0] == 180
    short = series.split_windows(values[:25], 10)  # the held-out part keeps one window
    assert short.x_train.shape == (6, 10, 1) and short.x_test.shape == (1, 10, 1)


BAD_FILES = {
    "text": ("time,load\n2024-01-01 00:00,1.0\n2024-01-01 01:00,2.0\n", ["'time'", "2024-01-01"]),
    "header_only": ("load,temp\n", ["has a header but no data rows"]),
    "ragged": ("load,temp\n1,2\n3\n4,5\n", ["line 3 has 1 fields"]),
    "empty": ("\n\n", ["empty"]),
    "missing": ("load,temp\n1,2\n3,\n", ["'temp'", "missing"]),
    "not_finite": ("1,2\n3,inf\n", ["column 1", "'inf'"]),
}


def _one_line_error(capsys, *fragments):
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("keras-ae: error:"), err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_series_files_are_one_line_errors(case, untrained, tmp_path, capsys):
    text, fragments = BAD_FILES[case]
    path = tmp_path / f"{case}.csv"
    path.write_text(text)
    out = tmp_path / "out"
    assert main(["train", "conv1d", "--data", str(path), "--window", "2", "--out", str(out)]) == 2
    _one_line_error(capsys, str(path), *fragments)
    assert not out.exists()
    scores = tmp_path / "scores.csv"
    assert main(["score", str(untrained), "--data", str(path), "--out", str(scores)]) == 2
    _one_line_error(capsys, str(path))
    assert not scores.exists()


def test_usage_mistakes_are_one_line_errors(untrained, csvs, tmp_path, capsys):
    model, out = untrained, tmp_path / "out"
    short = _write(tmp_path / "short.csv", np.ones((30, 2)))
    tiny = _write(tmp_path / "tiny.csv", np.ones((10, 2)))
    cases = [
        (["train", "conv1d", "--data", short, "--window", 48], [str(short), "longer than"]),
        (["train", "lstm", "--data", short, "--window", 20], [str(short), "too long"]),
        (["train", "conv1d", "--data", csvs["train"]], ["--window W"]),
        (["train", "dense", "--data", csvs["train"], "--window", 8], ["sequence kinds"]),
        (["train", "conv1d", "--data", short, "--window", 4, "--columns", "x"], ["'x'"]),
        (["score", model, "--data", tiny], [str(tiny), "longer than"]),
        (["score", model, "--data", short, "--window", 12], ["--window 12", "24 points"]),
        (["score", model, "--data", short, "--columns", "load"], ["1 column(s)", "takes 2"]),
    ]
    for args, fragments in cases:
        dest = out / "scores.csv" if args[0] == "score" else out
        assert main([*map(str, args), "--out", str(dest)]) == 2, args
        _one_line_error(capsys, *fragments)
        assert not out.exists(), args
    image_model = tmp_path / "dense.keras"
    keras_ae.save_keras(keras_ae.build_dense_autoencoder((4, 4, 1), hidden_units=()), image_model)
    assert main(["score", str(image_model), "--data", str(short), "--out", str(out)]) == 2
    _one_line_error(capsys, "not windows")


def test_sequence_builders_normalize_only_with_a_linear_output():
    with pytest.raises(ValueError, match="output_activation=None"):
        keras_ae.build_conv_autoencoder((16, 1), output_activation="sigmoid", normalize=True)
    # the "auto" default is linear with normalize, as the dense builder's is
    assert keras_ae.build_conv_autoencoder((16, 1), normalize=True).trunk.output_activation is None
    with pytest.raises(ValueError, match="output_activation=None"):
        keras_ae.build_lstm_autoencoder((16, 1), output_activation="sigmoid", normalize=True)
    with pytest.raises(TypeError, match="normalize"):
        keras_ae.build_lstm_autoencoder((16, 1), normalize="yes")
    model = keras_ae.build_conv_autoencoder((16, 2), output_activation=None, normalize=True)
    raw = np.random.default_rng(0).normal([100.0, -3.0], [10.0, 0.1], (256, 16, 2))
    model.adapt(raw.astype("float32"))
    z = keras.ops.convert_to_numpy(model.standardize(raw.astype("float32")))
    assert abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.05


def test_write_scores_replaces_a_file_whole_or_not_at_all(tmp_path, monkeypatch):
    target = tmp_path / "scores.csv"
    series.write_scores(target, [0.5, np.nan, 2.0])
    assert target.read_text().splitlines() == ["point,score", "0,0.5", "1,nan", "2,2"]

    def crash(tmp, path):
        raise OSError("disk full")

    monkeypatch.setattr("keras_ae.export.publish", crash)
    with pytest.raises(OSError, match="disk full"):
        series.write_scores(target, np.arange(10.0))
    assert target.read_text().splitlines()[1:] == ["0,0.5", "1,nan", "2,2"]
    assert [p.name for p in tmp_path.iterdir()] == ["scores.csv"]  # no partial file left
    with pytest.raises(ValueError, match="1-D"):
        series.write_scores(target, np.zeros((2, 2)))

"""The keras-ae command line, through subprocess, with tiny epoch counts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from keras_ae.kinds import KINDS


def keras_ae_cli(*args, cwd=None, timeout=600):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, "-m", "keras_ae.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def small_npz(tmp_path_factory, mnist):
    """600 training and 200 test digits as uint8 0-255 (the CLI scales them)."""
    (x_train, y_train), (x_test, y_test) = mnist
    path = tmp_path_factory.mktemp("data") / "digits.npz"
    np.savez(
        path,
        x_train=(x_train[:600, ..., 0] * 255).astype("uint8"),
        y_train=y_train[:600],
        x_test=(x_test[:200, ..., 0] * 255).astype("uint8"),
        y_test=y_test[:200],
    )
    return path


def assert_one_line_error(proc, *fragments):
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    last = [line for line in proc.stderr.splitlines() if line.strip()][-1]
    assert last.startswith("keras-ae: error:"), proc.stderr[-2000:]
    for fragment in fragments:
        assert fragment in last


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_train_every_kind(kind, small_npz, tmp_path):
    out = tmp_path / kind
    # the classifier's stages take 38 steps each at batch 16 (5 at its default 128)
    batch = ("--batch-size", 16) if kind == "stacked" else ()
    proc = keras_ae_cli("train", kind, "--epochs", 1, *batch, "--data", small_npz, "--out", out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = json.loads((out / "metrics.json").read_text())
    assert record["kind"] == kind and record["epochs"] == 1
    assert all(np.isfinite(v) for v in record["test"].values())
    assert (out / "model.keras").is_file() and (out / "saved_model" / "saved_model.pb").is_file()
    if kind == "stacked":  # a classifier: no reconstructions to draw
        assert record["test"]["accuracy"] > 0.25  # chance is 0.1; this run gives 0.38-0.40
    else:
        assert (out / "reconstructions.png").stat().st_size > 1000
    if kind.startswith("vae"):
        assert (out / "samples.png").is_file()
    assert not (out / ".backup").exists()  # removed once training completed


def test_train_with_mixed_precision(small_npz, tmp_path):
    out = tmp_path / "mixed"
    args = ("train", "conv", "--epochs", 2, "--data", small_npz, "--out", out)
    proc = keras_ae_cli(*args, "--precision", "mixed_bfloat16")
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = json.loads((out / "metrics.json").read_text())
    assert record["dtype_policy"] == "mixed_bfloat16" and 0 < record["test"]["mse"] < 0.2
    bad = keras_ae_cli(*args[:-1], tmp_path / "bad", "--precision", "float8")
    assert bad.returncode == 2 and "--precision" in bad.stderr


def test_evaluate_saved_model_and_keras_file(small_npz, tmp_path):
    out = tmp_path / "dense"
    args = ("--epochs", 2, "--latent-dim", 8, "--data", small_npz, "--out", out)
    assert keras_ae_cli("train", "dense", *args).returncode == 0
    trained_mse = json.loads((out / "metrics.json").read_text())["test"]["mse"]
    for path in (out / "saved_model", out / "model.keras"):
        proc = keras_ae_cli("evaluate", path, "--data", small_npz)
        assert proc.returncode == 0, proc.stderr[-3000:]
        figures = dict(line.split() for line in proc.stdout.strip().splitlines())
        assert float(figures["mse"]) == pytest.approx(trained_mse, rel=1e-3)


def test_own_data_of_another_shape_is_scaled_with_a_note(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "own.npz"
    np.savez(path, x_train=rng.normal(50.0, 20.0, (120, 12, 20)))
    proc = keras_ae_cli("train", "conv", "--epochs", 1, "--data", path, "--out", tmp_path / "o")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "note: scaling --data" in proc.stdout


def test_help_is_complete():
    proc = keras_ae_cli("--help")
    assert proc.returncode == 0
    for command in ("train", "evaluate", "demo", "export-pretrained"):
        assert command in proc.stdout
        sub = keras_ae_cli(command, "--help")
        assert sub.returncode == 0 and "usage: keras-ae " + command in sub.stdout
    train_help = keras_ae_cli("train", "--help").stdout
    for option in ("--epochs", "--batch-size", "--latent-dim", "--noise-level", "--data", "--out"):
        assert option in train_help


def test_error_cases_give_one_line_and_exit_code_2(tmp_path, small_npz):
    out = tmp_path / "out"
    assert_one_line_error(keras_ae_cli("train", "nope", "--out", out), "nope")
    assert_one_line_error(
        keras_ae_cli("train", "dense", "--out", out, "--data", tmp_path / "missing.npz"),
        "not found",
    )
    flat = tmp_path / "flat.npz"
    np.savez(flat, x_train=np.zeros(10))
    assert_one_line_error(keras_ae_cli("train", "dense", "--out", out, "--data", flat), "shape")
    text = tmp_path / "text.npz"
    np.savez(text, x_train=np.array([["a", "b"], ["c", "d"]]))
    assert_one_line_error(keras_ae_cli("train", "dense", "--out", out, "--data", text), "dtype")
    for epochs in ("0", "-3", "two"):
        assert_one_line_error(
            keras_ae_cli("train", "dense", "--epochs", epochs, "--out", out), "--epochs"
        )
    assert_one_line_error(keras_ae_cli("evaluate", tmp_path / "none.keras"), "not found")
    nan = tmp_path / "nan.npz"
    x = np.random.default_rng(0).random((50, 8, 8))
    x[3, 2, 1] = np.nan
    np.savez(nan, x_train=x)
    assert_one_line_error(keras_ae_cli("train", "dense", "--out", out, "--data", nan), "NaN")
    assert_one_line_error(
        keras_ae_cli("train", "dense", "--noise-level", 0.3, "--out", out, "--data", small_npz),
        "noise_level",
    )
    assert not out.exists() or not any(out.rglob("*.keras"))


def test_a_failure_inside_a_library_is_one_line_exit_1_with_the_traceback_logged(
    small_npz, tmp_path, monkeypatch, capsys
):
    """A user mistake exits 2 with `keras-ae: error:`; a failure inside the
    libraries exits 1 with one line saying what was being done, and the
    traceback goes to --out/keras-ae-error.log (to stderr with --debug)."""
    import keras

    from keras_ae import cli

    def broken_fit(self, *args, **kwargs):
        raise RuntimeError("device lost\nsecond line of an internal message")

    monkeypatch.setattr(keras.Model, "fit", broken_fit)
    out = tmp_path / "run"
    code = cli.main(["train", "dense", "--data", str(small_npz), "--epochs", "1",
                     "--out", str(out)])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1, err
    assert err[0].startswith("keras-ae: failed while training dense: RuntimeError: device lost")
    log = (out / "keras-ae-error.log").read_text()
    assert "Traceback" in log and "broken_fit" in log
    assert not (out / "model.keras").exists()

    code = cli.main(["train", "dense", "--data", str(small_npz), "--epochs", "1", "--debug",
                     "--out", str(tmp_path / "debug")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" in err and "broken_fit" in err

    code = cli.main(["train", "dense", "--epochs", "0", "--out", str(tmp_path / "mistake")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("keras-ae: error:")


def test_multiworker_is_refused_before_training_naming_data_parallel(tmp_path):
    out = tmp_path / "run"
    proc = keras_ae_cli("train", "dense", "--strategy", "multiworker", "--out", out)
    assert proc.returncode == 2
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith("keras-ae: error:") and "data-parallel" in line
    assert not out.exists() or not any(out.iterdir())


def test_export_command_writes_a_saved_model_from_a_keras_file(small_npz, tmp_path):
    from conftest import call_without_keras_ae

    import keras_ae

    (x, _), _ = keras_ae.datasets.load_mnist(source="embedded")
    model = keras_ae.build_dense_autoencoder(hidden_units=(32,), latent_dim=4)
    model.fit(x[:256], epochs=1, verbose=0)
    keras_ae.save_keras(model, tmp_path / "m.keras")
    proc = keras_ae_cli("export", tmp_path / "m.keras", "--out", tmp_path / "sm")
    assert proc.returncode == 0, proc.stderr[-2000:]
    served = call_without_keras_ae(tmp_path / "sm", {"encode__a": x[:8]}, tmp_path)
    np.testing.assert_allclose(served["encode__a__0"], model.encoder.predict(x[:8]), atol=1e-5)
    again = keras_ae_cli("export", tmp_path / "m.keras", "--out", tmp_path / "sm")
    assert again.returncode == 2 and "overwrite" in again.stderr
    assert (
        keras_ae_cli(
            "export", tmp_path / "m.keras", "--out", tmp_path / "sm", "--overwrite"
        ).returncode
        == 0
    )
    (tmp_path / "bad.keras").write_bytes(b"not a zip")
    bad = keras_ae_cli("export", tmp_path / "bad.keras", "--out", tmp_path / "x")
    assert bad.returncode == 2 and "cannot load" in bad.stderr and not (tmp_path / "x").exists()

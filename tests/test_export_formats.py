"""export_model: every kind in every format, run in its own runtime without keras_ae.

Each kind is trained for one epoch (on embedded digits, or series windows), exported as a
SavedModel, ONNX files and LiteRT files, and every endpoint is run by
TensorFlow, ONNX Runtime and the LiteRT interpreter in one process that
never imports keras_ae (tests/serve_exports.py). Float32 exports match the
Keras model to 1e-5.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import run_python

import keras_ae
from keras_ae import export
from keras_ae.kinds import KINDS, SERIES_KINDS, Data

RUNNER = Path(__file__).with_name("serve_exports.py")
TOLERANCE = 1e-5
N = 8


@pytest.fixture(scope="module")
def trained(mnist):
    """Every CLI kind trained one epoch, with test inputs of its own: the image
    kinds on 1,024 digits (the detector on zeros), the series kinds on windows
    of a synthetic two-channel series."""
    (x_train, y_train), (x_test, y_test) = mnist
    data = Data(x_train[:1024], y_train[:1024], x_test[:256], y_test[:256])
    keras.utils.set_random_seed(0)
    models = {
        name: (kind.train(data, epochs=1, batch_size=128), x_test[:N])
        for name, kind in KINDS.items()
    }
    series = keras_ae.datasets.synthetic_series(1200, seed=0, anomalies=0).values
    series = np.stack([series, series[::-1]], axis=-1).astype("float32")  # two channels
    windows = keras_ae.datasets.make_windows(series, 48, stride=4)
    for name, kind in SERIES_KINDS.items():
        model = kind.make(windows.shape[1:])
        model.adapt(windows)
        model.fit(windows, windows, epochs=1, batch_size=64, verbose=0)
        models[name] = (model, windows[-N:])
    return models


@pytest.fixture(scope="module")
def small(mnist):
    """A small dense autoencoder trained one epoch, for the argument checks."""
    keras.utils.set_random_seed(0)
    model = keras_ae.build_dense_autoencoder(hidden_units=(16,), latent_dim=4)
    model.fit(mnist[0][0][:256], mnist[0][0][:256], epochs=1, verbose=0)
    return model


def _keras_outputs(model, name: str, inputs: dict) -> list[np.ndarray]:
    """Endpoint ``name`` computed in this process with the same function the export traced."""
    fn, _ = export.portable_endpoints(model)[name]
    out = fn(*[keras.ops.convert_to_tensor(v) for v in inputs.values()])
    outs = out if isinstance(out, list | tuple) else [out]
    return [keras.ops.convert_to_numpy(o) for o in outs]


def _run_without_keras_ae(jobs: list[dict], tmp_path: Path) -> None:
    jobs_file = tmp_path / "jobs.json"
    jobs_file.write_text(json.dumps(jobs))
    run_python([str(RUNNER), str(jobs_file)], tmp_path)


def _endpoint_inputs(model, x: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """Per portable endpoint, its inputs: test digits for ``x``, N(0, I) draws
    for a code or ``noise`` input."""
    inputs = {}
    for name, (_, signature) in export.portable_endpoints(model).items():
        spec = signature[0]
        if spec.name == "x":
            inputs[name] = {"x": x}
        else:
            draws = np.random.default_rng(0).normal(size=(len(x), spec.shape[-1]))
            inputs[name] = {spec.name: draws.astype("float32")}
    return inputs


def test_every_kind_every_format_matches_keras(trained, tmp_path):
    jobs, expected = [], {}
    for kind, (model, x) in trained.items():
        for fmt in export.FORMATS:
            # The SavedModel's own sample(n, seed) draws inside; test_vae.py checks it.
            inputs = {
                name: args
                for name, args in _endpoint_inputs(model, x).items()
                if not (fmt == "saved_model" and name == "sample")
            }
            flat = {f"{name}/{k}": v for name, args in inputs.items() for k, v in args.items()}
            np.savez(tmp_path / f"{kind}_{fmt}_in.npz", **flat)
            folder = keras_ae.export_model(model, tmp_path / f"{kind}_{fmt}", format=fmt)
            out = tmp_path / f"{kind}_{fmt}_out.npz"
            jobs.append(
                {
                    "format": fmt,
                    "folder": str(folder),
                    "inputs": str(tmp_path / f"{kind}_{fmt}_in.npz"),
                    "outputs": str(out),
                }
            )
            expected[out] = {
                f"{name}/output_{i}": value
                for name, args in inputs.items()
                for i, value in enumerate(_keras_outputs(model, name, args))
            }
    _run_without_keras_ae(jobs, tmp_path)
    for out, wanted in expected.items():
        with np.load(out) as got:
            assert sorted(got.files) == sorted(wanted), out.name
            for key, value in wanted.items():
                diff = np.abs(got[key].astype("float64") - value.astype("float64")).max()
                assert diff <= TOLERANCE, f"{out.name} {key}: max abs difference {diff:.2e}"
    names = {out.name.rsplit("_", 2)[0]: set(wanted) for out, wanted in expected.items()}
    assert {"encode/output_0", "encode/output_1", "sample/output_0"} <= names["vae"]
    assert {"score/output_0", "is_anomaly/output_0"} <= names["anomaly"]
    assert "classify/output_0" in names["stacked"]


def test_int8_litert_detector_keeps_its_auroc_at_a_third_of_the_size(mnist, tmp_path):
    (x_train, y_train), (x_test, y_test) = mnist
    keras.utils.set_random_seed(0)
    detector = keras_ae.anomaly.AnomalyDetector().fit(x_train[y_train == 0], epochs=10)
    jobs = []
    for quantize in (None, "int8"):
        folder = keras_ae.export_model(
            detector,
            tmp_path / f"litert_{quantize}",
            format="litert",
            quantize=quantize,
            calibration_data=x_train[y_train == 0][:256] if quantize else None,
        )
        np.savez(tmp_path / "scores_in.npz", **{"score/x": x_test})
        jobs.append(
            {
                "format": "litert",
                "folder": str(folder),
                "inputs": str(tmp_path / "scores_in.npz"),
                "outputs": str(tmp_path / f"scores_{quantize}.npz"),
            }
        )
    _run_without_keras_ae(jobs, tmp_path)
    labels = (y_test != 0).astype("int32")
    auroc = {}
    for quantize in (None, "int8"):
        with np.load(tmp_path / f"scores_{quantize}.npz") as got:
            auroc[quantize] = keras_ae.anomaly.roc_auc(got["score/output_0"], labels)
    assert auroc[None] == pytest.approx(
        keras_ae.anomaly.roc_auc(detector.score_samples(x_test), labels), abs=1e-6
    )
    print(f"AUROC float32 {auroc[None]:.5f}, int8 {auroc['int8']:.5f}", end="; ")
    assert auroc[None] > 0.9  # a real detector, not chance
    assert abs(auroc["int8"] - auroc[None]) <= 0.005, auroc
    size = {q: (tmp_path / f"litert_{q}" / "score.tflite").stat().st_size for q in (None, "int8")}
    print(f"score.tflite {size[None]:,} bytes in float32, {size['int8']:,} in int8")
    assert size["int8"] < size[None] / 3, size
    listing = json.loads((tmp_path / "litert_int8" / export.ENDPOINTS_FILE).read_text())
    assert listing["quantize"] == "int8" and listing["model"] == "AnomalyDetector"


def test_bad_arguments_are_refused_naming_them(small, mnist, tmp_path):
    model, x = small, mnist[0][0][:64]
    with pytest.raises(ValueError, match=r"`format` must be one of .*Received: format='tflite'"):
        keras_ae.export_model(model, tmp_path / "a", format="tflite")
    with pytest.raises(ValueError, match=r"`quantize` must be None, 'int8' or 'dynamic'.*'int4'"):
        keras_ae.export_model(model, tmp_path / "a", format="litert", quantize="int4")
    with pytest.raises(ValueError, match=r"format='litert' only.*format='onnx'"):
        keras_ae.export_model(model, tmp_path / "a", format="onnx", quantize="int8")
    with pytest.raises(ValueError, match="needs `calibration_data`"):
        keras_ae.export_model(model, tmp_path / "a", format="litert", quantize="int8")
    for quantize in (None, "dynamic"):
        with pytest.raises(ValueError, match=f"int8' only.*quantize={quantize!r}"):
            keras_ae.export_model(
                model, tmp_path / "a", format="litert", quantize=quantize, calibration_data=x
            )
    with pytest.raises(ValueError, match="calibration_data"):
        keras_ae.export_model(
            model, tmp_path / "a", format="litert", quantize="int8", calibration_data=np.ones(3)
        )
    plain = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    for not_ours in (plain, "model.keras", None):
        with pytest.raises(TypeError, match=r"keras_ae model .*Autoencoder.*AnomalyDetector"):
            keras_ae.export_model(not_ours, tmp_path / "a", format="onnx")
    assert not (tmp_path / "a").exists()
    path = keras_ae.export_model(model, tmp_path / "b", format="onnx")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        keras_ae.export_model(model, path, format="onnx")


def test_missing_extra_names_it(small, tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "tf2onnx" else real(name, *a)
    )
    with pytest.raises(ImportError, match=r"pip install 'keras_ae\[onnx\]'"):
        keras_ae.export_model(small, tmp_path / "a", format="onnx")
    assert not (tmp_path / "a").exists()


def test_failed_export_leaves_the_old_folder(small, tmp_path, monkeypatch):
    model = small
    path = keras_ae.export_model(model, tmp_path / "m", format="onnx")
    before = {p.name: p.read_bytes() for p in path.iterdir()}
    tf_only = keras_ae.backend.tensorflow_only()
    real = tf_only.write_onnx
    calls = []

    def write_one_then_fail(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise OSError("disk full")
        real(*args, **kwargs)

    monkeypatch.setattr(tf_only, "write_onnx", write_one_then_fail)
    with pytest.raises(OSError, match="disk full"):
        keras_ae.export_model(model, path, format="onnx", overwrite=True)
    assert {p.name: p.read_bytes() for p in path.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no partial folder left


def test_cli_exports_each_format(small, mnist, tmp_path, capsys):
    from keras_ae import cli

    (x_train, y_train), (x_test, _) = mnist
    keras_ae.save_keras(small, tmp_path / "m.keras")
    data = tmp_path / "digits.npz"
    np.savez(data, x_train=x_train[:600], y_train=y_train[:600], x_test=x_test[:100])
    jobs = []
    for fmt, extra in [
        ("saved_model", []),
        ("onnx", []),
        ("litert", []),
        ("litert", ["--quantize", "int8", "--calibration-data", str(data)]),
        ("litert", ["--quantize", "dynamic"]),
    ]:
        out = tmp_path / f"{fmt}{len(extra)}"
        assert (
            cli.main(
                ["export", str(tmp_path / "m.keras"), "--format", fmt, "--out", str(out), *extra]
            )
            == 0
        )
        assert capsys.readouterr().out.startswith(f"wrote {out} ({fmt}")
        np.savez(tmp_path / "in.npz", **{"encode/x": x_test[:8]})
        jobs.append(
            {
                "format": fmt,
                "folder": str(out),
                "inputs": str(tmp_path / "in.npz"),
                "outputs": str(out) + ".npz",
            }
        )
    _run_without_keras_ae(jobs, tmp_path)
    codes = small.encoder.predict(x_test[:8], verbose=0)
    for job in jobs[:3]:
        np.testing.assert_allclose(
            np.load(job["outputs"])["encode/output_0"], codes, atol=TOLERANCE
        )
    for job in jobs[3:]:  # int8, dynamic: close, not exact
        quantized = np.load(job["outputs"])["encode/output_0"]
        assert np.abs(quantized - codes).max() < 0.1 * np.abs(codes).max(), job["folder"]
    listing = json.loads((tmp_path / "litert4" / export.ENDPOINTS_FILE).read_text())
    assert listing["quantize"] == "int8"
    for bad, says in [
        (["--quantize", "int8"], "--calibration-data"),
        (["--format", "onnx", "--quantize", "int8", "--calibration-data", str(data)], "litert"),
        (["--format", "tflite"], "invalid choice"),
        (["--quantize", "dynamic", "--calibration-data", str(data)], "--calibration-data"),
    ]:
        args = ["export", str(tmp_path / "m.keras"), "--out", str(tmp_path / "bad"), *bad]
        assert cli.main(args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("keras-ae: error:") and says in err[0], err
    assert not (tmp_path / "bad").exists()


@pytest.mark.backends
def test_one_function_formats_run_on_tensorflow_or_say_how(small, tmp_path):
    """ONNX and LiteRT are written under TensorFlow; elsewhere the refusal names the route."""
    for fmt in ("onnx", "litert"):
        if keras.backend.backend() == "tensorflow":
            folder = keras_ae.export_model(small, tmp_path / fmt, format=fmt)
            listing = json.loads((folder / export.ENDPOINTS_FILE).read_text())
            assert sorted(listing["endpoints"]) == ["decode", "encode", "reconstruct"]
            assert all((folder / e["file"]).is_file() for e in listing["endpoints"].values())
        else:
            with pytest.raises(
                RuntimeError, match=f"KERAS_BACKEND=tensorflow keras-ae export .*{fmt}"
            ):
                keras_ae.export_model(small, tmp_path / fmt, format=fmt)
            assert not (tmp_path / fmt).exists()


def test_deployment_benchmark_measures_every_runtime(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import deployment

    out = tmp_path / "rows.json"
    args = ["--kinds", "dense", "--calls", "3", "--batch", "16", "--batch-calls", "2"]
    assert deployment.main([*args, "--out", str(out), "--markdown", str(tmp_path / "t.md")]) == 0
    rows = {r["runtime"]: r for r in json.loads(out.read_text())}
    assert len(rows) == 6 and all(
        r["latency_ms"] > 0 and r["rows_per_s"] > 0 for r in rows.values()
    )
    assert rows["Keras direct call"]["latency_vs_keras_call"] == 1.0
    size = {name: r["bytes"] for name, r in rows.items()}
    # ONNX and LiteRT hold the same float32 weights; the SavedModel holds every endpoint
    assert abs(size["ONNX (ONNX Runtime)"] / size["LiteRT"] - 1) < 0.05
    assert size["SavedModel (TensorFlow)"] > size["LiteRT"]
    assert size["LiteRT int8"] < size["LiteRT"] / 3
    assert "| dense | reconstruct | LiteRT int8 |" in (tmp_path / "t.md").read_text()


def test_cli_exports_a_saved_detector(mnist, tmp_path):
    from keras_ae import cli
    from keras_ae.anomaly import AnomalyDetector

    (x_train, y_train), (x_test, _) = mnist
    keras.utils.set_random_seed(0)
    detector = AnomalyDetector().fit(x_train[y_train == 0][:300], epochs=1)
    detector.save(tmp_path / "detector.keras")
    np.savez(tmp_path / "normal.npz", x_train=x_train[y_train == 0][:300])
    calibrate = ["--quantize", "int8", "--calibration-data", str(tmp_path / "normal.npz")]
    jobs = []
    for fmt, extra in [("onnx", []), ("litert", calibrate)]:
        out = tmp_path / fmt
        args = ["export", str(tmp_path / "detector.keras"), "--format", fmt, "--out", str(out)]
        if fmt == "onnx":  # a fresh process, where nothing has imported keras_ae.anomaly yet
            run_python(["-m", "keras_ae.cli", *args], tmp_path)
        else:
            assert cli.main([*args, *extra]) == 0
        np.savez(tmp_path / "in.npz", **{"score/x": x_test[:64], "is_anomaly/x": x_test[:64]})
        jobs.append(
            {
                "format": fmt,
                "folder": str(out),
                "inputs": str(tmp_path / "in.npz"),
                "outputs": f"{out}.npz",
            }
        )
    _run_without_keras_ae(jobs, tmp_path)
    scores = detector.score_samples(x_test[:64])
    onnx = np.load(jobs[0]["outputs"])
    np.testing.assert_allclose(onnx["score/output_0"], scores, atol=TOLERANCE)
    np.testing.assert_array_equal(onnx["is_anomaly/output_0"], detector.predict(x_test[:64]))
    int8 = np.load(jobs[1]["outputs"])["score/output_0"]
    assert np.corrcoef(int8, scores)[0, 1] > 0.99  # int8 keeps the ranking


def test_cli_exports_a_tabular_detector_calibrated_on_its_normal_rows(tmp_path, capsys):
    """The embedded breast-cancer table: train through the CLI, then int8 LiteRT
    calibrated on the benign rows (--label-column), and ONNX, both on raw values."""
    from importlib import resources

    from keras_ae import cli, tables

    table = Path(resources.files("keras_ae") / "data" / "breast_cancer.csv")
    run = tmp_path / "run"
    keras.utils.set_random_seed(0)
    train = ["train", "anomaly", "--data", str(table), "--label-column", "malignant"]
    assert cli.main([*train, "--epochs", "5", "--out", str(run)]) == 0
    detector_file = str(run / "detector.keras")
    calibrate = ["--calibration-data", str(table), "--label-column", "malignant"]
    for fmt, out, extra in [
        ("onnx", "onnx", []),
        ("litert", "int8", ["--quantize", "int8", *calibrate]),
        ("litert", "dynamic", ["--quantize", "dynamic"]),
    ]:
        args = ["export", detector_file, "--format", fmt, "--out", str(tmp_path / out)]
        assert cli.main([*args, *extra]) == 0
    for bad, says in [
        (["--label-column", "malignant"], "--calibration-data"),
        (["--quantize", "int8", "--calibration-data", str(table)], "shape (N, 30)"),
        (["--quantize", "int8", "--calibration-data", "embedded", "--label-column", "m"], "table"),
    ]:
        capsys.readouterr()
        args = ["export", detector_file, "--format", "litert", "--out", str(tmp_path / "bad")]
        assert cli.main([*args, *bad]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and says in err[0], err
    assert not (tmp_path / "bad").exists()
    rows = tables.from_table(table, label_column="malignant")
    np.savez(tmp_path / "in.npz", **{"score/x": rows.x})
    jobs = [
        {
            "format": f,
            "folder": str(tmp_path / out),
            "inputs": str(tmp_path / "in.npz"),
            "outputs": str(tmp_path / f"{out}.npz"),
        }
        for f, out in [("onnx", "onnx"), ("litert", "int8"), ("litert", "dynamic")]
    ]
    _run_without_keras_ae(jobs, tmp_path)
    detector = keras_ae.anomaly.AnomalyDetector.load(detector_file)
    scores = detector.score_samples(rows.x)
    onnx = np.load(tmp_path / "onnx.npz")["score/output_0"]
    np.testing.assert_allclose(onnx, scores, rtol=1e-4, atol=TOLERANCE)
    auroc = {"keras": keras_ae.anomaly.roc_auc(scores, rows.y)}
    for name in ("int8", "dynamic"):
        got = np.load(tmp_path / f"{name}.npz")["score/output_0"]
        auroc[name] = keras_ae.anomaly.roc_auc(got, rows.y)
    print(f"breast cancer, all rows: AUROC {auroc}", end=" ")
    # int8 weights with float activations keep the ranking; one int8 scale for
    # raw features of different magnitudes does not (docs/deployment.md)
    assert auroc["keras"] > 0.85 and abs(auroc["dynamic"] - auroc["keras"]) <= 0.005, auroc
    assert np.isfinite(auroc["int8"])

"""Tables: from_table, normalization inside the model, the detector on tables, its
save/load, the command line on a CSV, and the tabular benchmark's smoke run."""

from __future__ import annotations

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from conftest import REPO

import keras_ae
from keras_ae import tables
from keras_ae.anomaly import THRESHOLD_RULES, AnomalyDetector, DetectorModel, roc_auc

CSV_HEADER = "a,b,c,label\n"


def write(path, text):
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def cancer():
    """The embedded breast-cancer table, split by the one-class protocol: 250
    benign rows to train on; the 107 other benign rows and the 212 malignant ones to test."""
    table = keras_ae.datasets.load_breast_cancer()
    rng = np.random.default_rng(0)
    benign = rng.permutation(np.flatnonzero(table.y == 0))
    test = np.concatenate([benign[250:], np.flatnonzero(table.y == 1)])
    return table.x[benign[:250]], table.x[test], table.y[test]


@pytest.fixture(scope="module")
def fitted(cancer):
    """A tabular detector fitted on the benign training rows (30 epochs at most)."""
    x_train, _, _ = cancer
    keras.utils.set_random_seed(0)
    return AnomalyDetector(normalize=True).fit(x_train, epochs=30)


# ---------------------------------------------------------------- from_table


def test_embedded_table_reads_with_its_labels():
    table = keras_ae.datasets.load_breast_cancer()
    assert table.x.shape == (569, 30) and table.x.dtype == np.float32
    assert table.columns[0] == "mean radius" and len(table.columns) == 30
    assert table.y.dtype == np.int64 and np.bincount(table.y).tolist() == [357, 212]
    assert table.x[0, 0] == np.float32(17.99) and table.dropped == 0


def test_columns_pick_and_order_features(tmp_path):
    path = write(tmp_path / "t.csv", CSV_HEADER + "1,2,3,x\n4,5.5,6,y\n")
    table = tables.from_table(path, columns=["c", "a"], label_column="label")
    np.testing.assert_array_equal(table.x, [[3, 1], [6, 4]])
    assert table.columns == ["c", "a"] and table.y.tolist() == ["x", "y"]
    with pytest.raises(ValueError, match="no column 'z'"):
        tables.from_table(path, columns=["z"])


def test_parquet_reads_as_the_csv_does(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    csv = keras_ae.datasets.load_breast_cancer()
    data = {name: csv.x[:, i].astype("float64") for i, name in enumerate(csv.columns)}
    data["malignant"] = csv.y
    pq.write_table(pa.table(data), tmp_path / "t.parquet")
    table = tables.from_table(tmp_path / "t.parquet", label_column="malignant")
    np.testing.assert_array_equal(table.x, csv.x)
    np.testing.assert_array_equal(table.y, csv.y)
    assert table.columns == csv.columns

    pq.write_table(pa.table({"a": [1.0, None, 3.0], "t": ["x", "y", "z"]}), tmp_path / "n.parquet")
    with pytest.raises(ValueError, match="non-numeric column.*'t'"):
        tables.from_table(tmp_path / "n.parquet")
    with pytest.raises(ValueError, match="column 'a' has 1 missing value"):
        tables.from_table(tmp_path / "n.parquet", columns=["a"])
    dropped = tables.from_table(tmp_path / "n.parquet", columns=["a"], missing="drop")
    assert dropped.x.ravel().tolist() == [1.0, 3.0] and dropped.dropped == 1


def test_parquet_without_pyarrow_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    path = write(tmp_path / "t.parquet", "not parquet")
    with pytest.raises(ImportError, match=r"pip install keras_ae\[parquet\]"):
        tables.from_table(path)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (CSV_HEADER + "1,2,3,4\n1,x,3,4\n1,2,y,4\n", r"non-numeric column\(s\) 'b' .*'c'"),
        (CSV_HEADER, "header but no data rows"),
        ("", "empty"),
        (CSV_HEADER + "1,2,3,4\n1,2,3\n", "line 3 has 3 fields; the header has 4"),
        (CSV_HEADER + "1,2,3,4\n1,,3,4\n", "column 'b' has 1 missing value.*row 2"),
        (CSV_HEADER + "1,2,3,4\n1,inf,3,4\n", "column 'b' holds an infinite value"),
        ("a,a\n1,2\n", "column 'a' appears twice"),
    ],
    ids=["text", "header_only", "empty", "ragged", "missing", "infinite", "duplicate"],
)
def test_bad_tables_are_refused_naming_the_file(tmp_path, text, match):
    path = write(tmp_path / "bad.csv", text)
    with pytest.raises(ValueError, match=match) as err:
        tables.from_table(path)
    assert "bad.csv" in str(err.value)


def test_missing_values_are_dropped_only_when_asked(tmp_path):
    path = write(tmp_path / "t.csv", CSV_HEADER + "1,2,3,0\n1,NA,3,0\n4,5,6,\n7,8,9,1\n")
    with pytest.raises(ValueError, match="missing='drop'"):
        tables.from_table(path, label_column="label")
    table = tables.from_table(path, label_column="label", missing="drop")
    np.testing.assert_array_equal(table.x, [[1, 2, 3], [7, 8, 9]])
    assert table.y.tolist() == [0, 1] and table.dropped == 2
    with pytest.raises(ValueError, match="`missing` must be one of"):
        tables.from_table(path, missing="ignore")
    with pytest.raises(FileNotFoundError, match="nothere.csv"):
        tables.from_table(tmp_path / "nothere.csv")
    with pytest.raises(ValueError, match="must be a .csv or .parquet"):
        tables.from_table(tmp_path / "t.txt")


# ---------------------------------------------------------------- normalize=True


@pytest.mark.backends
def test_normalizing_model_takes_raw_values_and_reloads(cancer, tmp_path):
    x_train, x_test, _ = cancer
    keras.utils.set_random_seed(1)
    model = keras_ae.build_dense_autoencoder(
        (30,), hidden_units=(32,), latent_dim=6, normalize=True
    )
    assert model.spec["output_activation"] is None and model.loss == "mean_squared_error"
    model.adapt(x_train)
    z = keras.ops.convert_to_numpy(model.standardize(x_train))
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-3)
    np.testing.assert_allclose(z.std(axis=0), 1, atol=1e-2)
    first = model.evaluate(x_train, x_train, verbose=0)
    model.fit(x_train, x_train, epochs=15, batch_size=32, verbose=0)
    last = model.evaluate(x_train, x_train, verbose=0)
    assert first > 0.5 and last < 0.6 * first  # the loss is on standardised values
    recon = model.predict(x_test, verbose=0)  # back in raw units: areas in the hundreds
    assert 0.5 < np.median(recon[:, 3] / x_test[:, 3]) < 2

    keras_ae.save_keras(model, tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x_test, verbose=0), recon, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded.encoder(x_test)),
        keras.ops.convert_to_numpy(model.encoder(x_test)),
        atol=1e-5,
    )
    loaded.fit(x_train, x_train, epochs=1, verbose=0)  # and trains on


def test_normalize_arguments_are_checked():
    with pytest.raises(ValueError, match="output_activation='sigmoid'"):
        keras_ae.build_dense_autoencoder((4,), normalize=True, output_activation="sigmoid")
    with pytest.raises(TypeError, match="normalize=1"):
        keras_ae.build_dense_autoencoder((4,), normalize=1)
    with pytest.raises(ValueError, match="no normalization layer"):
        keras_ae.build_dense_autoencoder((4,)).adapt(np.ones((3, 4)))
    with pytest.raises(ValueError, match="normalize=True needs a model built"):
        AnomalyDetector(keras_ae.build_dense_autoencoder((4,)), normalize=True)


# ---------------------------------------------------------------- detector on tables


def test_detector_separates_malignant_from_benign(fitted, cancer):
    x_train, x_test, y_test = cancer
    assert fitted.model.spec["normalize"] and fitted.normalize
    auroc = roc_auc(fitted.score_samples(x_test), y_test)
    assert auroc > 0.85, auroc
    flagged = fitted.predict(x_test)
    assert flagged[y_test == 1].mean() > 2 * flagged[y_test == 0].mean()
    assert np.mean(fitted.train_scores_ > fitted.threshold_) == pytest.approx(0.01, abs=0.01)


@pytest.mark.parametrize("rule", list(THRESHOLD_RULES))
def test_every_threshold_rule_on_tables(fitted, cancer, rule):
    x_train, _, _ = cancer
    detector = AnomalyDetector(fitted.model, threshold=rule, q=90, k=2, contamination=0.2)
    detector.fit(x_train, train=False)
    rate = detector.predict(x_train).mean()
    expected = {"max": 0.0, "percentile": 0.1, "contamination": 0.2}
    if rule in expected:
        assert rate == pytest.approx(expected[rule], abs=0.01)
    else:
        scores = detector.train_scores_
        assert detector.threshold_ == pytest.approx(scores.mean() + 2 * scores.std(), rel=1e-5)


@pytest.mark.backends
def test_detector_saves_and_loads_in_one_call(fitted, cancer, tmp_path):
    _, x_test, _ = cancer
    fitted.save(tmp_path / "detector.keras")
    loaded = AnomalyDetector.load(tmp_path / "detector.keras")
    assert loaded.threshold_ == fitted.threshold_ and loaded.normalize
    assert loaded.get_config() == fitted.get_config()
    np.testing.assert_allclose(loaded.score_samples(x_test), fitted.score_samples(x_test), 1e-5)
    np.testing.assert_array_equal(loaded.predict(x_test), fitted.predict(x_test))
    model = keras.saving.load_model(tmp_path / "detector.keras", safe_mode=True)
    assert isinstance(model, DetectorModel)  # a Keras model whose output is the score
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model(x_test[:8])), fitted.score_samples(x_test[:8]), 1e-5
    )
    with pytest.raises(FileExistsError):
        fitted.save(tmp_path / "detector.keras")
    keras_ae.save_keras(fitted.model, tmp_path / "bare.keras")
    with pytest.raises(ValueError, match="not a detector saved with AnomalyDetector.save"):
        AnomalyDetector.load(tmp_path / "bare.keras")
    with pytest.raises(ValueError, match="not fitted"):
        AnomalyDetector(normalize=True).save(tmp_path / "unfitted.keras")


def test_exported_detector_scores_raw_rows(fitted, cancer, tmp_path):
    import tensorflow as tf

    _, x_test, _ = cancer
    path = keras_ae.export_saved_model(fitted, tmp_path / "sm")
    served = tf.saved_model.load(str(path))
    np.testing.assert_allclose(
        served.score(tf.constant(x_test)).numpy(), fitted.score_samples(x_test), rtol=1e-4
    )
    np.testing.assert_array_equal(served.is_anomaly(tf.constant(x_test)), fitted.predict(x_test))
    codes = served.encode(tf.constant(x_test[:4])).numpy()
    np.testing.assert_allclose(codes, fitted.model.encoder.predict(x_test[:4], verbose=0), 1e-4)


# ---------------------------------------------------------------- command line


def test_cli_trains_the_detector_on_a_csv(tmp_path):
    from keras_ae import cli

    out = tmp_path / "run"
    data = str(tables.BREAST_CANCER)
    code = cli.main(["train", "anomaly", "--data", data, "--label-column", "malignant",
                     "--epochs", "20", "--out", str(out)])  # fmt: skip
    assert code == 0
    import json

    record = json.loads((out / "metrics.json").read_text())
    assert record["test"]["auroc"] > 0.8, record
    detector = AnomalyDetector.load(out / "detector.keras")
    x = keras_ae.datasets.load_breast_cancer().x
    assert detector.model.input_shape == (None, 30) and detector.predict(x).mean() < 0.6


@pytest.mark.parametrize(
    ("text", "args", "named"),
    [
        (CSV_HEADER + "1,2,3,0\n1,x,3,0\n", [], "'b'"),
        (CSV_HEADER, [], "header but no data rows"),
        (CSV_HEADER + "1,2,3,0\n1,2,3\n", [], "line 3"),
        (CSV_HEADER + "1,2,3,0\n1,,3,0\n", [], "column 'b'"),
        (CSV_HEADER + "1,2,3,0\n", ["--label-column", "nope"], "no column 'nope'"),
        (None, [], "not found"),
    ],
    ids=["text_column", "header_only", "ragged", "missing_value", "unknown_label", "no_file"],
)
def test_cli_bad_tables_exit_2_in_one_line(tmp_path, capsys, text, args, named):
    from keras_ae import cli

    path = tmp_path / "bad.csv"
    if text is not None:
        path.write_text(text)
    out = tmp_path / "run"
    code = cli.main(["train", "anomaly", "--data", str(path), *args, "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith("keras-ae: error: --data") and "bad.csv" in err[0] and named in err[0]
    assert not out.exists()


def test_cli_refuses_a_table_for_image_kinds(tmp_path, capsys):
    from keras_ae import cli

    code = cli.main(["train", "dense", "--data", str(tables.BREAST_CANCER), "--out",
                     str(tmp_path / "run")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "a table trains KIND anomaly" in err


# ---------------------------------------------------------------- benchmark


def test_tabular_benchmark_smoke_gives_real_aurocs(tmp_path):
    pytest.importorskip("sklearn")
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "tabular_anomaly.py"), "--smoke", "--no-pyod",
         "--datasets", "breast_cancer", "wine", "--out", str(out), "--markdown",
         str(tmp_path / "t.md")],
        capture_output=True, text=True, cwd=tmp_path, timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    import json

    results = json.loads(out.read_text())
    for name in ("breast_cancer", "wine"):
        row = results["datasets"][name]
        assert set(row) == {"keras_ae", "IsolationForest", "OneClassSVM", "PCA"}
        assert all(0.7 < v <= 1.0 for v in row.values()), row
    assert "| keras_ae |" in (tmp_path / "t.md").read_text()

"""The benchmark script runs (smoke mode, correctness only, no timing) and the
streaming source matches the in-memory path."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import REPO


def test_benchmark_script_smoke(tmp_path):
    out, table = tmp_path / "results.json", tmp_path / "table.md"
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--smoke", "--out", str(out),
         "--markdown", str(table)],
        capture_output=True, text=True, cwd=tmp_path, timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["matmul_gflops"] > 0
    row = results["kinds"][0]
    for key in ("train_samples_per_s", "plain_keras_samples_per_s", "fraction_of_matmul_peak",
                "serve_samples_per_s", "predict_samples_per_s", "peak_rss_mb"):  # fmt: skip
        assert row[key] > 0
    assert "| dense |" in table.read_text()
    mixed = results["mixed_precision"][0]
    assert mixed["float32"]["test_mse"] > 0 and mixed["mixed_bfloat16"]["test_mse"] > 0
    assert mixed["speed_ratio"] > 0 and "Mixed precision" in table.read_text()
    assert results["imports"]["imports_plotting"] is False
    bound = results["hand_written_kinds"][0]
    assert bound["kind"] == "dense" and bound["trunk"] == "784-256-128-32"
    for key in (
        "train_samples_per_s",
        "plain_keras_samples_per_s",
        "hand_written_tf_samples_per_s",
    ):
        assert bound[key] > 0
    assert "hand-written in TensorFlow" in table.read_text()
    # every section is timed, and each fraction of the peak is of the run's reported ceiling
    assert set(results["seconds"]) >= {"ceiling", "kinds", "mixed_precision", "total"}
    share = row["train_gflops"] / results["matmul_gflops"]
    assert row["fraction_of_matmul_peak"] == pytest.approx(share, abs=2e-3)


def test_ablation_measures_each_speed_mechanism_against_plain_keras(tmp_path):
    """``run.py --ablation``: per kind, every variant's time at the real length and
    in the steady state, its ratios to the plain variant's, the table and figures."""
    out, table, figures = tmp_path / "ablation.json", tmp_path / "t.md", tmp_path / "f.json"
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--ablation", "--kinds", "dense",
         "--rounds", "1", "--epochs", "1", "--rows", "256", "--out", str(out),
         "--markdown", str(table), "--figures", str(figures)],
        capture_output=True, text=True, cwd=tmp_path, timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    (row,) = json.loads(out.read_text())["ablation"]
    assert (row["kind"], row["epochs"], row["steps"]) == ("dense", 1, 2)  # 256 rows at 128
    variants = list(row["real"])
    assert variants[:2] == ["plain", "flags"] and list(row["steady"]) == variants
    for length in ("real", "steady"):
        assert row[length]["plain"]["ratio"] == row[length]["plain"]["cpu_ratio"] == 1.0
        for stats in row[length].values():
            assert stats["seconds"] > 0 and stats["cpu_seconds"] > 0
            assert 0 < stats["ratio"] < float("inf") and 0 < stats["cpu_ratio"] < float("inf")
    text = table.read_text()
    assert all(f"| dense | 1 epochs, 2 steps | {v} |" in text for v in variants)
    recorded = json.loads(figures.read_text())["benchmarks_ablation"]["values"]
    assert recorded["dense_flags_real"] == row["real"]["flags"]["ratio"]
    assert "--ablation --rounds 1 --epochs 1 --rows 256 --kinds dense" in text


def test_import_leaves_plotting_and_the_command_line_unloaded():
    code = "import sys, keras_ae; print(sorted(m for m in sys.modules if m.startswith('keras_ae')))"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded = proc.stdout.strip()
    assert "keras_ae.builders" in loaded
    for lazy in ("keras_ae.plotting", "keras_ae.cli", "keras_ae.pretrained", "keras_ae.kinds"):
        assert lazy not in loaded


def test_backends_benchmark_runs_each_backend_in_its_own_process(tmp_path):
    """benchmarks/backends.py: one row per backend and kind, keras_ae beside
    plain Keras on the same backend, and the table with the fastest backend."""
    out, table = tmp_path / "rows.json", tmp_path / "table.md"
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "backends.py"), "--backends", "jax", "torch",
         "--kinds", "dense", "--repeats", "1", "--rows", "512", "--out", str(out),
         "--markdown", str(table)],
        capture_output=True, text=True, cwd=tmp_path, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads(out.read_text())
    assert [(r["backend"], r["kind"]) for r in rows] == [("jax", "dense"), ("torch", "dense")]
    for row in rows:
        assert row["train_samples_per_s"] > 0 and row["plain_keras_samples_per_s"] > 0
        ratio = row["train_samples_per_s"] / row["plain_keras_samples_per_s"]
        assert row["speedup_vs_plain"] == pytest.approx(ratio, rel=0.01)  # one round: the same
    assert rows[0]["compile"]["steps_per_execution"] == 32  # JAX's dense setting
    assert rows[1]["compile"]["steps_per_execution"] == 1
    text = table.read_text()
    assert "| dense |" in text and text.count("×") == 2


def test_contractive_benchmark_smoke(tmp_path):
    """benchmarks/contractive.py: every model timed against the dense AE in the
    same rounds, the exact ‖J‖²_F of each trained model, the estimate's error."""
    out = tmp_path / "contractive.json"
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "contractive.py"), "--smoke", "--out", str(out)],
        capture_output=True, text=True, cwd=tmp_path, timeout=900,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(out.read_text())
    timing = results["timing"]
    assert set(timing) == {"dense", "exact_keras", "hutchinson_keras"}  # smoke: Keras's settings
    assert timing["dense"]["ratio_to_dense"] == 1.0
    assert all(row["seconds_per_epoch"] > 0 for row in timing.values())
    effect = results["effect"]
    assert all(effect[k]["jacobian_norm"] > 0 and effect[k]["jacobian_fall"] > 0
               for k in ("exact", "hutchinson"))  # fmt: skip
    errors = results["estimator_error"]
    assert sorted(errors, key=int) == ["1", "4", "16"]
    # more directions, a closer estimate (RMS over the smoke run's 256 test digits)
    per_digit = {k: row["rms_relative_error_per_digit"] for k, row in errors.items()}
    assert per_digit["16"] < per_digit["1"]


def test_conv_speed_benchmark_smoke(tmp_path):
    """benchmarks/conv_speed.py: the plain model and keras_ae's in the same
    rounds, the first epoch timed apart, the convolutions' share of a step."""
    out, table = tmp_path / "conv_speed.json", tmp_path / "table.md"
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "conv_speed.py"), "--smoke", "--out", str(out),
         "--markdown", str(table)],
        capture_output=True, text=True, cwd=tmp_path, timeout=900,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads(out.read_text())["rows"]
    assert [(r["kind"], r["lever"]) for r in rows] == [("conv1d", "plain"), ("conv1d", "keras_ae")]
    for row in rows:
        assert row["samples_per_s"] > 0 and row["cpu_samples_per_s"] > 0
        assert row["first_epoch_s"] > 0
    ratio = rows[1]["samples_per_s"] / rows[0]["samples_per_s"]
    assert rows[1]["ratio_to_plain"] == pytest.approx(ratio, rel=0.02)  # one round: the same
    assert rows[0]["conv_share"] > 0
    assert "| conv1d | keras_ae |" in table.read_text()

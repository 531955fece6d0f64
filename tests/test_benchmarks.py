"""The benchmark scripts run (smoke mode) and report figures that hold together.

Timings in smoke mode are one short round on a shared machine, so a timing gets a
sanity band only (a unit error, a zero or a runaway); the figures that catch a
regression are the ones that do not depend on the machine's load: the compile
settings each row used, the ratios that must follow from the row's own figures,
the quality figures (MSE, the Hutchinson error against its bound, the Jacobian's
fall) and the tables written. The figures measured on the shared 2-core machine
are noted beside each bound; the speeds themselves are quoted from full runs of
the scripts in docs/benchmarks.md.
"""

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
    assert 5 < results["matmul_gflops"] < 10_000  # measured 100.7 GFLOP/s
    for row in results["kinds"]:
        # dense trunks compile as plain Keras does (the ablation in docs/benchmarks.md):
        # the same settings, so the ratio is the machine's noise (measured 1.00 and 0.97)
        ratio = row["train_samples_per_s"] / row["plain_keras_samples_per_s"]
        assert row["speedup_vs_plain"] == pytest.approx(ratio, rel=0.01)
        assert row["compile"] == {"jit_compile": False, "steps_per_execution": 1}, row
        assert 0.5 < row["speedup_vs_plain"] < 2.0, row
        # a direct call skips predict's loop: measured 12x and 77x faster
        assert row["serve_samples_per_s"] > row["predict_samples_per_s"], row
        assert 0.01 < row["fraction_of_matmul_peak"] <= 1.0, row  # measured 0.19 and 0.11
        assert 200 < row["peak_rss_mb"] < 8000, row  # measured about 1,000 MB
    row = results["kinds"][0]
    assert "| dense |" in table.read_text()
    mixed = results["mixed_precision"][0]
    # bfloat16 learns what float32 learns: measured test MSE 0.1129 and 0.1128 (ratio 0.999)
    for policy in ("float32", "mixed_bfloat16"):
        assert 0 < mixed[policy]["test_mse"] < 0.15, mixed
    assert 0.8 < mixed["mse_ratio"] < 1.25, mixed
    assert 0.2 < mixed["speed_ratio"] < 5, mixed  # measured 1.26
    assert "Mixed precision" in table.read_text()
    assert results["imports"]["imports_plotting"] is False
    assert results["imports"]["import_keras_ae_extra_s"] < 2.0  # measured 0.07 s after keras
    bound = results["hand_written_kinds"][0]
    assert bound["kind"] == "dense" and bound["trunk"] == "784-256-128-32"
    plain = bound["plain_keras_samples_per_s"]
    assert bound["speedup_vs_plain"] == pytest.approx(
        bound["train_samples_per_s"] / plain, rel=0.01
    )
    assert bound["hand_written_vs_plain"] == pytest.approx(
        bound["hand_written_tf_samples_per_s"] / plain, rel=0.01
    )
    # measured 0.36 of the hand-written loop's speed; 1.44x and 4.03x plain Keras
    assert 0.05 < bound["ratio_to_hand_written"] < 2, bound
    assert 0.2 < bound["hand_written_vs_plain"] < 20, bound  # a timing: sanity only
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
         "tied", "--rounds", "1", "--epochs", "1", "--rows", "256", "--out", str(out),
         "--markdown", str(table), "--figures", str(figures)],
        capture_output=True, text=True, cwd=tmp_path, timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    # the real-length runs train in processes of their own, each on the 256 rows
    # (fresh_process_fit checks the count the process reports)
    row, tied = json.loads(out.read_text())["ablation"]
    assert (row["kind"], row["epochs"], row["steps"]) == ("dense", 1, 2)  # 256 rows at 128
    assert (tied["kind"], tied["steps"], list(tied["real"])) == ("tied", 2, list(row["real"]))
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
    assert "--ablation --rounds 1 --epochs 1 --rows 256 --kinds dense tied" in text


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
        ratio = row["train_samples_per_s"] / row["plain_keras_samples_per_s"]
        assert row["speedup_vs_plain"] == pytest.approx(ratio, rel=0.01)  # one round: the same
    # JAX's dense setting (XLA, 32 steps per call) against plain Keras: measured 2.64x;
    # under PyTorch both run the same settings (measured 0.49x under load: noise only)
    assert 0.2 < rows[0]["speedup_vs_plain"] < 20, rows[0]  # a timing: sanity only
    assert 0.2 < rows[1]["speedup_vs_plain"] < 5, rows[1]
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
    for row in timing.values():
        assert row["ratio_to_dense"] == pytest.approx(
            row["seconds_per_epoch"] / timing["dense"]["seconds_per_epoch"], rel=0.01
        )
    # the exact penalty's Jacobian costs a step more than the dense AE's (measured 2.37x;
    # the estimate 1.21x): a penalty that is not computed would time at 1.0
    assert 0.5 < timing["exact_keras"]["ratio_to_dense"] < 50, timing  # a timing: sanity only
    assert 0.5 < timing["hutchinson_keras"]["ratio_to_dense"] < 20, timing
    effect = results["effect"]
    for kind in ("exact", "hutchinson"):
        # the penalty lowers ‖J‖²_F (measured 4% and 3% after the smoke epoch) and costs
        # little reconstruction (MSE ratios 1.0004 and 1.0007)
        assert effect[kind]["jacobian_fall"] == pytest.approx(
            effect["dense"]["jacobian_norm"] / effect[kind]["jacobian_norm"], rel=1e-3
        )
        assert effect[kind]["jacobian_fall"] > 1.0, effect
        assert 0.9 < effect[kind]["mse_ratio"] < 1.1, effect
    errors = results["estimator_error"]
    assert sorted(errors, key=int) == ["1", "4", "16"]
    # Hutchinson's relative variance per digit is at most 2/k (measured RMS 0.34, 0.16
    # and 0.078 against the bounds 1.41, 0.71 and 0.35), and the error falls as 1/sqrt(k)
    per_digit = {int(k): row["rms_relative_error_per_digit"] for k, row in errors.items()}
    for k, error in per_digit.items():
        assert error <= (2 / k) ** 0.5, per_digit
        assert abs(errors[str(k)]["bias"]) < 0.05, errors  # unbiased (measured |bias| < 0.006)
    assert 2.5 < per_digit[1] / per_digit[16] < 6.5, per_digit  # 4 expected, measured 4.4


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
    # each lever is what it says: plain Keras's defaults against keras_ae's compile
    assert rows[0]["compile"] == {"jit_compile": False, "steps_per_execution": 1}
    assert rows[1]["compile"] == {"jit_compile": True, "steps_per_execution": 32}
    for row in rows:
        # 256 rows of one short round: measured 5,024 and 2,330 rows/s under load
        assert 100 < row["samples_per_s"] < 1e6 and 100 < row["cpu_samples_per_s"] < 1e6, row
        assert 0 < row["first_epoch_s"] < 120, row  # measured 3.0 s and 5.6 s (XLA compile)
    ratio = rows[1]["samples_per_s"] / rows[0]["samples_per_s"]
    assert rows[1]["ratio_to_plain"] == pytest.approx(ratio, rel=0.02)  # one round: the same
    assert 0.05 < rows[0]["conv_share"] < 1.0, rows[0]  # measured 0.48 of a step
    assert "| conv1d | keras_ae |" in table.read_text()

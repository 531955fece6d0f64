"""keras_ae.distribution: training across processes, ``keras-ae train --strategy
data-parallel`` under JAX with ``KERAS_DISTRIBUTION_*`` set, and the checks of
that environment.

The two-process test starts its own JAX processes, so it runs in the main
(TensorFlow) run and is not marked ``backends``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ae
from keras_ae import cli
from keras_ae.distribution import PROCESS_VARIABLES, check_processes

#: the same training for every run: 8,000 embedded digits in global batches of
#: 200 (40 whole batches an epoch, so no row is left out across processes)
TRAIN = ["train", "dense", "--strategy", "data-parallel", "--epochs", "2", "--batch-size", "200"]
TRAIN += ["--seed", "0"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROCESS_VARIABLES}
    return {
        **env,
        "KERAS_BACKEND": "jax",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "MPLBACKEND": "Agg",
        "XLA_FLAGS": "--xla_force_host_platform_device_count=1",
        **extra,
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_processes_train_like_one_and_process_0_alone_writes(tmp_path):
    """Two processes on 127.0.0.1 (one CPU device each) train one model.

    Tolerance: against one process with ``--strategy data-parallel`` the
    batches are the same (one shuffle seed, and Keras's sharding splits each
    global batch of 200 into the two processes' halves), so the runs differ
    only in the order of the float sums of the gradient's all-reduce:
    rtol 1e-4 (measured: identical). A process that read the other's rows or
    all of them would train on other batches: one process with Keras's own
    shuffle (``--strategy default``) ends 0.6% away (0.2351 against 0.2337),
    60 times the tolerance.
    """
    port = _free_port()
    addresses = f"127.0.0.1:{port},127.0.0.1:{port + 1}"
    outs = [tmp_path / "p0", tmp_path / "p1"]
    procs = []
    for index, out in enumerate(outs):
        env = _env(
            KERAS_DISTRIBUTION_JOB_ADDRESSES=addresses,
            KERAS_DISTRIBUTION_NUM_PROCESSES="2",
            KERAS_DISTRIBUTION_PROCESS_ID=str(index),
        )
        command = [sys.executable, "-m", "keras_ae.cli", *TRAIN, "--out", str(out)]
        procs.append(
            subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
            )
        )
    results = []
    try:
        for proc in procs:
            results.append(proc.communicate(timeout=300))
    finally:
        for proc in procs:
            proc.kill()
    for proc, (stdout, stderr) in zip(procs, results, strict=True):
        assert proc.returncode == 0, stdout[-2000:] + stderr[-3000:]
    assert "process 1 of 2 done" in results[1][0]
    assert not outs[1].exists(), "process 1 writes nothing"
    assert {p.name for p in outs[0].iterdir()} >= {"model.keras", "saved_model", "metrics.json"}
    two = json.loads((outs[0] / "metrics.json").read_text())
    assert two["processes"] == 2 and two["backend"] == "jax" and two["saved_model"] is True

    command = [sys.executable, "-m", "keras_ae.cli", *TRAIN, "--out", str(tmp_path / "one")]
    proc = subprocess.run(command, capture_output=True, text=True, env=_env(), timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    one = json.loads((tmp_path / "one" / "metrics.json").read_text())
    assert one["processes"] == 1
    loss = two["final_loss"]
    assert loss < 0.3, "2 epochs take the dense autoencoder's loss from 0.69 to about 0.23"
    np.testing.assert_allclose(loss, one["final_loss"], rtol=1e-4)
    np.testing.assert_allclose(two["test"]["mse"], one["test"]["mse"], rtol=1e-4)

    # the SavedModel serves what the .keras model computes
    x = keras_ae.datasets.load_mnist(source="embedded")[1][0][:16]
    model = keras.saving.load_model(outs[0] / "model.keras", safe_mode=True)
    served = tf.saved_model.load(str(outs[0] / "saved_model"))
    reconstruction = np.asarray(served.reconstruct(tf.constant(x)))
    np.testing.assert_allclose(reconstruction, model.predict(x, verbose=0), atol=1e-5)


def _main(capsys, *args):
    code = cli.main([*map(str, args)])
    return code, capsys.readouterr().err.strip().splitlines()


GOOD = {
    "KERAS_DISTRIBUTION_JOB_ADDRESSES": "10.0.0.1:1234,10.0.0.2:1234",
    "KERAS_DISTRIBUTION_NUM_PROCESSES": "2",
    "KERAS_DISTRIBUTION_PROCESS_ID": "1",
}


@pytest.mark.parametrize(
    "variable, value",
    [
        ("KERAS_DISTRIBUTION_NUM_PROCESSES", "two"),
        ("KERAS_DISTRIBUTION_NUM_PROCESSES", "0"),
        ("KERAS_DISTRIBUTION_PROCESS_ID", "2"),
        ("KERAS_DISTRIBUTION_PROCESS_ID", "-1"),
        ("KERAS_DISTRIBUTION_JOB_ADDRESSES", "10.0.0.1"),
        ("KERAS_DISTRIBUTION_JOB_ADDRESSES", "10.0.0.1:99999"),
        ("KERAS_DISTRIBUTION_JOB_ADDRESSES", "a:1,b:2,c:3"),
        ("KERAS_DISTRIBUTION_JOB_ADDRESSES", None),
    ],
)
def test_a_bad_process_variable_is_one_line_naming_it(
    variable, value, monkeypatch, capsys, tmp_path
):
    env = {**GOOD, variable: value}
    for name, text in env.items():
        if text is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, text)
    out = tmp_path / "run"
    code, err = _main(capsys, "train", "dense", "--strategy", "data-parallel", "--out", out)
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith("keras-ae: error:") and variable in err[0]
    assert not out.exists()
    with pytest.raises(ValueError, match=variable):
        check_processes("data-parallel", {k: v for k, v in env.items() if v is not None})


@pytest.mark.skipif(keras.backend.backend() == "jax", reason="refused off JAX only")
def test_process_variables_need_jax(monkeypatch, capsys, tmp_path):
    """Under TensorFlow (this run's backend) the variables are refused, whatever
    the strategy: each process would train its own model."""
    for name, text in GOOD.items():
        monkeypatch.setenv(name, text)
    for strategy in ("default", "data-parallel"):
        out = tmp_path / strategy
        code, err = _main(capsys, "train", "dense", "--strategy", strategy, "--out", out)
        assert code == 2 and len(err) == 1, err
        assert err[0].startswith("keras-ae: error:") and "KERAS_BACKEND=jax" in err[0]
        assert not out.exists()
    assert check_processes("default", {}) is None


def test_tf_config_that_is_not_json_is_named(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("TF_CONFIG", "{'cluster': workers}")
    out = tmp_path / "run"
    code, err = _main(capsys, "train", "dense", "--strategy", "multiworker", "--out", out)
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith("keras-ae: error: TF_CONFIG is not JSON")
    assert "data-parallel" in err[0]
    assert not out.exists()


_REFUSALS = """
    import json, sys
    from keras_ae import cli
    out = sys.argv[1]
    codes = [
        cli.main(["train", "dense", "--strategy", "default", "--out", out]),
        cli.main(["train", "dense", "--strategy", "data-parallel", "--resume", "--out", out]),
        cli.main(["train", "dense", "--strategy", "data-parallel", "--out", out,
                  "--tensorboard", out + "-logs"]),
    ]
    print(json.dumps(codes))
"""


def test_under_jax_the_variables_need_data_parallel_and_no_resume(tmp_path):
    """Refused before anything runs: another strategy (each process would train
    alone), --resume (checkpoints of one machine) and --tensorboard (its images
    predict on one process)."""
    env = _env(**{**GOOD, "KERAS_DISTRIBUTION_PROCESS_ID": "0"})
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_REFUSALS), str(tmp_path / "run")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == [2, 2, 2], proc.stderr[-3000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("keras-ae: error:")]
    assert len(errors) == 3
    assert "strategy='data-parallel'" in errors[0]
    assert "--resume" in errors[1] and "--tensorboard" in errors[2]
    assert not (tmp_path / "run").exists() and not (tmp_path / "run-logs").exists()


_STREAM = """
    import json, sys
    import numpy as np, tensorflow as tf, keras, keras_ae
    from keras_ae import distribution, training

    rows, test_rows = int(sys.argv[1]), int(sys.argv[2])
    keras.utils.set_random_seed(0)
    strategy = distribution.make_strategy("data-parallel")
    (x, _), (xt, _) = keras_ae.datasets.load_mnist(source="embedded")

    def stream(rows):  # batches of 64 with a short last one, as a folder gives them
        return tf.data.Dataset.from_tensor_slices(rows).map(lambda r: (r, r)).batch(64)

    with distribution.strategy_scope(strategy):
        model = keras_ae.build_dense_autoencoder(hidden_units=(64,), latent_dim=16)
        validation = stream(xt[:test_rows])
        history = training.train(
            model, stream(x[:rows]), batch_size=64, epochs=2, validation_data=validation, verbose=0
        )
    model = distribution.gather_model(model)
    served = None if model is None else float(model.predict(xt[:8], verbose=0).mean())
    print(json.dumps({**history.history, "served": served}))
"""


def test_a_stream_is_sharded_per_process_like_one_process(tmp_path):
    """The Python route with a tf.data stream whose last batch is short (as a
    folder's is): 2 processes keep the whole global batches of 64 (15 of the
    1,000 rows, 3 of the 200 validation rows) and split each between them,
    so they train as one process on the first 960 and 192 rows: rtol 1e-4
    (float sums only; measured identical). Process 0 gets the trained model
    back, process 1 None."""
    port = _free_port()
    script = textwrap.dedent(_STREAM)
    procs = []
    for index in range(2):
        env = _env(
            KERAS_DISTRIBUTION_JOB_ADDRESSES=f"127.0.0.1:{port}",
            KERAS_DISTRIBUTION_NUM_PROCESSES="2",
            KERAS_DISTRIBUTION_PROCESS_ID=str(index),
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", script, "1000", "200"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
                cwd=tmp_path,
            )
        )
    try:
        outputs = [proc.communicate(timeout=300) for proc in procs]
    finally:
        for proc in procs:
            proc.kill()
    for proc, (stdout, stderr) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, stdout[-2000:] + stderr[-3000:]
    two = [json.loads(stdout.strip().splitlines()[-1]) for stdout, _ in outputs]
    assert two[0]["served"] is not None and two[1]["served"] is None
    assert two[0]["loss"] == two[1]["loss"]
    proc = subprocess.run(
        [sys.executable, "-c", script, "960", "192"],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    one = json.loads(proc.stdout.strip().splitlines()[-1])
    assert one["loss"][-1] < one["loss"][0]
    for key in ("loss", "val_loss", "served"):
        np.testing.assert_allclose(two[0][key], one[key], rtol=1e-4, err_msg=key)

"""Shared fixtures: the embedded data, a trained VAE, and a process without keras_ae."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import keras_ae

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _op_determinism_off_after_each_test():
    """Each test starts with TensorFlow's op determinism off, as a fresh process does.

    ``keras-ae train --seed`` run in-process turns it on, and Keras then compiles
    every later model without XLA (``jit_compile`` is False under op determinism).
    """
    yield
    if keras_ae.backend.name() == "tensorflow":
        from tensorflow.python.framework import config

        if config.is_op_determinism_enabled():
            config.disable_op_determinism()


@pytest.fixture(scope="session")
def mnist():
    """The embedded MNIST split: (x_train, y_train), (x_test, y_test)."""
    return keras_ae.datasets.load_mnist(source="embedded")


@pytest.fixture(scope="session")
def x_small(mnist):
    """64 test digits, for shape and round-trip checks."""
    return mnist[1][0][:64]


#: The trained VAE's length: a dense latent-16 VAE after 5 epochs on the embedded
#: training set (batch 128) measured a test −ELBO of 136.0-138.0 nats over seeds 0-3.
VAE_EPOCHS = 5


@pytest.fixture(scope="session")
def trained_vae(mnist):
    """A dense latent-16 VAE trained briefly, with its History (test_vae.py and
    test_metrics.py share it; a test that changes β puts it back)."""
    import keras

    (x_train, _), (x_test, _) = mnist
    keras.utils.set_random_seed(0)
    vae = keras_ae.build_vae(latent_dim=16, seed=0)
    history = vae.fit(
        x_train,
        x_train,
        epochs=VAE_EPOCHS,
        batch_size=128,
        validation_data=(x_test, x_test),
        verbose=0,
    )
    return vae, history


_FOREIGN_SCRIPT = textwrap.dedent(
    """
    import json, sys, traceback
    import numpy as np

    REPLY = "@@reply "
    import tensorflow as tf
    import keras


    def serve(path, inputs_file, outputs_file):
        model = tf.saved_model.load(path)
        inputs = np.load(inputs_file)
        results = {}
        for key in inputs.files:
            endpoint = key.split("__")[0]
            args = [tf.constant(inputs[key])]
            if endpoint == "sample":
                args = [tf.constant(int(v), tf.int32) for v in inputs[key]]
            out = getattr(model, endpoint)(*args)
            outs = out if isinstance(out, (list, tuple)) else [out]
            for i, o in enumerate(outs):
                results[f"{key}__{i}"] = np.asarray(o)
        if "encode__tfsm" in inputs.files:
            x = inputs["encode__tfsm"]
            layer = keras.layers.TFSMLayer(path, call_endpoint="encode")
            inp = keras.Input(shape=x.shape[1:])
            out = layer(inp)
            outs = out if isinstance(out, (list, tuple)) else [out]
            wrapped = keras.Model(inp, outs)
            res = wrapped(x)
            res = res if isinstance(res, (list, tuple)) else [res]
            for i, o in enumerate(res):
                results[f"tfsm__{i}"] = np.asarray(o)
        results["__signatures__"] = np.array(json.dumps(sorted(model.signatures.keys())))
        assert "keras_ae" not in sys.modules, "keras_ae was imported"
        np.savez(outputs_file, **results)

    for line in sys.stdin:  # one request per line: [path, inputs file, outputs file]
        try:
            serve(*json.loads(line))
            reply = {"ok": True}
        except BaseException:  # report it and serve the next request
            reply = {"ok": False, "error": traceback.format_exc()}
        print(REPLY + json.dumps(reply), flush=True)
    """
)


def run_python(args: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run this interpreter with ``args`` in ``cwd``; assert it succeeded."""
    proc = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


class _ForeignProcess:
    """One Python process that never imports keras_ae, kept for the session:
    it loads each SavedModel it is sent and calls its endpoints (starting
    TensorFlow once instead of once per call saves several seconds a call)."""

    REPLY = "@@reply "

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.log = None

    def _start(self) -> subprocess.Popen:
        if self.process is None or self.process.poll() is not None:
            self.log = tempfile.TemporaryFile(mode="w+")
            self.process = subprocess.Popen(
                [sys.executable, "-c", _FOREIGN_SCRIPT],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.log,
                text=True,
                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
            )
        return self.process

    def _stderr(self) -> str:
        self.log.seek(0)
        return self.log.read()[-3000:]

    def call(self, *request: str, timeout: float = 600) -> None:
        process = self._start()
        process.stdin.write(json.dumps(request) + "\n")
        process.stdin.flush()
        deadline = time.monotonic() + timeout
        while True:
            left = max(deadline - time.monotonic(), 0)
            ready, _, _ = select.select([process.stdout], [], [], left)
            line = process.stdout.readline() if ready else ""
            if not line:
                self.close()
                raise AssertionError(f"the SavedModel process died or hung:\n{self._stderr()}")
            if line.startswith(self.REPLY):
                break
        reply = json.loads(line[len(self.REPLY) :])
        assert reply["ok"], reply["error"][-3000:]

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


_FOREIGN = _ForeignProcess()


def pytest_sessionfinish(session, exitstatus):
    _FOREIGN.close()


def call_without_keras_ae(saved_model: Path, inputs: dict, tmp_path: Path) -> dict:
    """Call SavedModel endpoints in a Python process that never imports keras_ae
    (one for the session: :class:`_ForeignProcess`).

    ``inputs`` maps ``"<endpoint>__<tag>"`` to an array (``"sample__<tag>"``
    to ``[n, seed]``); the result maps ``"<endpoint>__<tag>__<i>"`` to the
    i-th output, plus ``"__signatures__"``.
    """
    inputs_file, outputs_file = tmp_path / "inputs.npz", tmp_path / "outputs.npz"
    np.savez(inputs_file, **inputs)
    # a relative path is relative to tmp_path, as the process's own folder once was
    _FOREIGN.call(str(tmp_path / saved_model), str(inputs_file), str(outputs_file))
    with np.load(outputs_file) as data:
        result = {k: data[k] for k in data.files}
    result["__signatures__"] = json.loads(str(result["__signatures__"]))
    return result


SLOW_TESTS = set((Path(__file__).parent / "slow_tests.txt").read_text().split())


def pytest_collection_modifyitems(config, items):
    """Mark ``slow`` the tests listed in slow_tests.txt (2 s or more each in a full
    run on the 2-core machine: `pytest --durations=0`) and every tutorial run, so
    that ``pytest -m "not slow"`` answers in a couple of minutes."""
    for item in items:
        if item.nodeid in SLOW_TESTS or item.get_closest_marker("tutorial"):
            item.add_marker(pytest.mark.slow)

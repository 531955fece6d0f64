"""Nothing lost: resumable training, atomic export under SIGKILL, no NaN on disk,
determinism, tf.distribute and concurrent serving."""

from __future__ import annotations

import os
import random
import re
import resource
import signal
import subprocess
import sys
import textwrap
import threading
import time

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.training import NonFiniteLossError, set_deterministic, train

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}


def _wait_for(proc, pattern, timeout=300):
    """Read proc's stdout until ``pattern`` appears; return everything read."""
    seen, deadline = "", time.monotonic() + timeout
    while time.monotonic() < deadline:
        chunk = proc.stdout.read1(4096).decode(errors="replace") if proc.stdout else ""
        if not chunk and proc.poll() is not None:
            break
        seen += chunk
        if re.search(pattern, seen):
            return seen
    raise AssertionError(f"{pattern!r} never appeared; output so far:\n{seen[-2000:]}")


def _completed_epochs(output):
    """Epoch numbers whose end (the line with val_loss) appears in a Keras log."""
    done = []
    for block in re.split(r"(?=Epoch \d+/\d+)", output):
        match = re.match(r"Epoch (\d+)/\d+", block)
        if match and "val_loss" in block:
            done.append(int(match.group(1)))
    return done


def test_training_resumes_after_sigkill_mid_epoch(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "keras_ae.cli", "train", "dense", "--epochs", "5",
           "--batch-size", "8", "--out", str(out)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=ENV)
    try:
        before = _wait_for(proc, r"Epoch 3/5")
        time.sleep(0.5)
    finally:
        proc.kill()
        proc.wait()
    done_before = _completed_epochs(before)
    assert done_before == [1, 2] and (out / ".backup").is_dir()
    assert not (out / "model.keras").exists()

    resumed = subprocess.run(
        [*cmd, "--resume"], capture_output=True, text=True, env=ENV, timeout=600
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    headers = [int(n) for n in re.findall(r"Epoch (\d+)/5", resumed.stdout)]
    assert headers[0] == done_before[-1] + 1  # continues after the last completed epoch
    assert len(done_before) + len(_completed_epochs(resumed.stdout)) == 5
    assert headers[-1] == 5 and (out / "model.keras").is_file()


_EXPORT_LOOP = textwrap.dedent(
    """
    import sys
    import numpy as np
    import keras_ae

    model = keras_ae.build_dense_autoencoder(hidden_units=(32,), latent_dim=4)
    i = 0
    while True:
        for w in model.weights:
            w.assign(np.full(w.shape, 0.001 + 0.01 * (i % 2), "float32"))
        keras_ae.export_saved_model(model, sys.argv[1], overwrite=True)
        print("exported", i, flush=True)
        i += 1
    """
)


def test_export_is_atomic_under_sigkill(tmp_path):
    import tensorflow as tf

    path = tmp_path / "sm"
    rng = random.Random(0)
    versions = set()
    for _ in range(4):
        proc = subprocess.Popen(
            [sys.executable, "-c", _EXPORT_LOOP, str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=ENV,
        )
        try:
            _wait_for(proc, r"exported 0")
            time.sleep(rng.uniform(0.0, 2.5))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        loaded = tf.saved_model.load(str(path))  # complete, whatever the moment of the kill
        values = {
            round(float(v.numpy().ravel()[0]), 4)
            for v in loaded.variables
            if "float" in v.dtype.name
        }
        assert len(values) == 1  # every variable from one and the same export
        assert loaded.serve(np.zeros((2, 28, 28, 1), "float32")).shape == (2, 28, 28, 1)
        versions |= values
    assert versions <= {0.001, 0.011}


def test_nan_loss_stops_training_and_nothing_reaches_disk(mnist, tmp_path):
    x = mnist[0][0][:512]
    keras.utils.set_random_seed(0)
    # linear hidden layers: SGD(1e20) overflows them for sure (ReLUs could all die instead)
    model = keras_ae.build_dense_autoencoder(hidden_units=(16,), latent_dim=4, activation=None)
    model.fit(x, x, epochs=1, verbose=0)  # one good epoch...
    backup = tmp_path / "backup"
    train(model, x, epochs=1, resume_dir=backup, verbose=0)
    model.compile(optimizer=keras.optimizers.SGD(1e20), loss="mse")  # ...then divergence
    with pytest.raises(NonFiniteLossError, match="NaN or Inf"):
        train(model, x, epochs=3, resume_dir=backup, verbose=0)
    with pytest.raises(ValueError, match="NaN or Inf"):
        keras_ae.export_saved_model(model, tmp_path / "sm")
    with pytest.raises(ValueError, match="NaN or Inf"):
        keras_ae.save_keras(model, tmp_path / "m.keras")
    assert not (tmp_path / "sm").exists() and not (tmp_path / "m.keras").exists()
    if backup.exists():  # any backup left holds the last finite weights
        fresh = keras_ae.build_dense_autoencoder(hidden_units=(16,), latent_dim=4, activation=None)
        fresh.load_weights(next(backup.glob("*.weights.h5")))
        assert all(np.isfinite(keras.ops.convert_to_numpy(w)).all() for w in fresh.weights)


def test_bad_training_data_is_refused_with_a_clear_message(mnist):
    model = keras_ae.build_dense_autoencoder(hidden_units=(16,), latent_dim=4)
    x = mnist[0][0][:64].copy()
    with pytest.raises(ValueError, match=r"shape \(N, 28, 28, 1\)"):
        train(model, x[..., 0], epochs=1)
    bad = x.copy()
    bad[5, 3, 3, 0] = np.nan
    with pytest.raises(
        ValueError, match=r"1 NaN or Inf values; the first is at index \(5, 3, 3, 0\)"
    ):
        train(model, bad, epochs=1)
    with pytest.raises(ValueError, match=r"\[0, 1\].*found values in \[0, 255\]"):
        train(model, x * 255, epochs=1)
    with pytest.raises(ValueError, match="empty"):
        train(model, x[:0], epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        train(model, x, epochs=0)
    history = train(model, (x * 255).astype("uint8"), epochs=1, verbose=0)  # converted, noted
    assert np.isfinite(history.history["loss"][0])


_DETERMINISM = textwrap.dedent(
    """
    import sys
    import numpy as np
    import keras_ae
    from keras_ae.training import set_deterministic

    (x, _), _ = keras_ae.datasets.load_mnist(source="embedded")
    set_deterministic(int(sys.argv[2]))
    model = keras_ae.build_conv_autoencoder(filters=(8, 16), latent_dim=8)
    model.fit(x[:1024], x[:1024], epochs=2, batch_size=64, verbose=0)
    np.savez(sys.argv[1], *[w.numpy() for w in model.weights])
    """
)


def test_two_seeded_trainings_give_identical_weights(tmp_path):
    runs = []
    for i, seed in enumerate((7, 7, 8)):
        out = tmp_path / f"w{i}.npz"
        proc = subprocess.run([sys.executable, "-c", _DETERMINISM, str(out), str(seed)],
                              capture_output=True, text=True, env=ENV, timeout=600)  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-2000:]
        with np.load(out) as data:
            runs.append([data[k] for k in data.files])
    for a, b in zip(runs[0], runs[1], strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, c) for a, c in zip(runs[0], runs[2], strict=True))


@pytest.mark.parametrize(
    "bad, error", [(-1, ValueError), (2**32, ValueError), (1.5, TypeError), (True, TypeError)]
)
def test_set_deterministic_takes_the_one_seed_rule(bad, error):
    """keras_ae.checks.seed's rule: an integer in [0, 2**32)."""
    with pytest.raises(error, match=rf"seed={bad!r}"):
        set_deterministic(bad)


_MIRRORED = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import keras
    import keras_ae
    from keras_ae.training import make_strategy

    strategy = make_strategy("mirrored", cpu_replicas=2)
    (x, _), _ = keras_ae.datasets.load_mnist(source="embedded")
    x = x[:2048]
    curves = {}
    for label, scope in (("mirrored", strategy), ("single", keras_ae.training.make_strategy())):
        keras.utils.set_random_seed(0)
        with scope.scope():
            model = keras_ae.build_dense_autoencoder(hidden_units=(64,), latent_dim=8)
        history = model.fit(x, x, epochs=4, batch_size=128, shuffle=False, verbose=0)
        curves[label] = history.history["loss"]
        if label == "mirrored":
            keras_ae.export_saved_model(model, sys.argv[1])
            expected = model.predict(x[:4], verbose=0)
    import tensorflow as tf
    loaded = tf.saved_model.load(sys.argv[1])
    served = loaded.serve(x[:4]).numpy()
    curves["served_matches"] = bool(np.allclose(served, expected, atol=1e-5))
    curves["replicas"] = strategy.num_replicas_in_sync
    print(json.dumps(curves))
    """
)


def test_mirrored_strategy_on_two_logical_cpus_matches_single_device(tmp_path):
    proc = subprocess.run([sys.executable, "-c", _MIRRORED, str(tmp_path / "sm")],
                          capture_output=True, text=True, env=ENV, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    import json

    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2 and result["served_matches"]
    np.testing.assert_allclose(result["mirrored"], result["single"], rtol=0.03)
    assert result["mirrored"][-1] < result["mirrored"][0]


def _rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_concurrent_requests_to_one_saved_model(mnist, tmp_path):
    import tensorflow as tf

    model = keras_ae.build_dense_autoencoder(hidden_units=(32,), latent_dim=8)
    path = keras_ae.export_saved_model(model, tmp_path / "sm")
    loaded = tf.saved_model.load(str(path))
    x = mnist[1][0]
    rng = np.random.default_rng(0)
    requests = []
    for _ in range(10_000):
        size = int(rng.choice([1, 2, 7, 16, 33]))
        start = int(rng.integers(0, len(x) - size))
        requests.append((start, size))
    expected = {(s, n): loaded.serve(x[s : s + n]).numpy() for s, n in set(requests[:300])}
    mismatches, rss, lock = [], {}, threading.Lock()

    def worker(chunk):
        for i, (s, n) in chunk:
            out = loaded.serve(x[s : s + n]).numpy()
            if (s, n) in expected and not np.array_equal(out, expected[(s, n)]):
                with lock:
                    mismatches.append((s, n))
            if i == 1000:
                rss["after_1000"] = _rss_mb()

    indexed = list(enumerate(requests))
    threads = [threading.Thread(target=worker, args=(indexed[k::4],)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rss["end"] = _rss_mb()
    assert not mismatches
    assert rss["end"] <= 1.10 * rss["after_1000"], rss

"""Every public entry point on the Keras backend of the run (``KERAS_BACKEND``).

The tests marked ``backends`` are backend-neutral: ``.ci/run`` runs them once
under each of TensorFlow, JAX and PyTorch (``KERAS_BACKEND=jax pytest -m
backends``). The unmarked tests at the end start processes of their own
under the other backends (cross-backend ``.keras`` files, JAX's data
parallelism, the tutorials), so they run once, in the main run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from conftest import REPO, call_without_keras_ae

import keras_ae
from keras_ae import anomaly, backend, callbacks, datasets, metrics, sampling, stacked

BACKEND = keras.backend.backend()
BACKENDS = ("tensorflow", "jax", "torch")

LOSS = ["loss"]
SPARSE = ["loss", "mean_activation", "sparsity_loss"]
CONTRACTIVE = ["contractive_loss", "loss"]
VAE = ["kl_loss", "loss", "reconstruction_loss"]

#: kind -> (builder, the metrics `fit` reports besides their val_ twins)
KINDS = {
    "dense": (lambda: keras_ae.build_dense_autoencoder(), LOSS),
    "tied": (lambda: keras_ae.build_dense_autoencoder(tied_weights=True), LOSS),
    "conv": (lambda: keras_ae.build_conv_autoencoder(), LOSS),
    "denoising_gaussian": (lambda: keras_ae.build_denoising_autoencoder(seed=1), LOSS),
    "denoising_masking": (
        lambda: keras_ae.build_denoising_autoencoder(
            noise="masking", noise_level=0.3, architecture="dense", seed=1
        ),
        LOSS,
    ),
    "denoising_salt_and_pepper": (
        lambda: keras_ae.build_denoising_autoencoder(
            noise="salt_and_pepper", noise_level=0.2, architecture="dense", seed=1
        ),
        LOSS,
    ),
    "sparse_kl": (lambda: keras_ae.build_sparse_autoencoder(), SPARSE),
    "sparse_l1": (lambda: keras_ae.build_sparse_autoencoder(sparsity="l1"), SPARSE),
    "contractive": (lambda: keras_ae.build_contractive_autoencoder(), CONTRACTIVE),
    "contractive_conv": (
        lambda: keras_ae.build_contractive_autoencoder(
            architecture="conv", filters=(4, 8), latent_dim=4
        ),
        CONTRACTIVE,
    ),
    "vae_dense": (lambda: keras_ae.build_vae(latent_dim=8, seed=1), VAE),
    "vae_conv": (lambda: keras_ae.build_vae(architecture="conv", latent_dim=2, seed=1), VAE),
}


def _digits(mnist, n=512):
    (x, y), (xt, yt) = mnist
    return x[:n], y[:n], xt[:256], yt[:256]


def _clean_output(model, x):
    """The model's deterministic output: the VAE decodes its mean."""
    return model.reconstruct(x) if hasattr(model, "reconstruct") else model.predict(x, verbose=0)


@pytest.mark.backends
@pytest.mark.parametrize("kind", list(KINDS))
def test_kind_trains_evaluates_and_reloads(kind, mnist, tmp_path):
    """fit with validation_data and validation_split, evaluate, predict, and a
    safe-mode reload that predicts the same and trains on; the metric names
    are the same on every backend."""
    build, names = KINDS[kind]
    x, _, xt, _ = _digits(mnist)
    keras.utils.set_random_seed(0)
    model = build()
    before = metrics.mse(xt, _clean_output(model, xt))
    history = model.fit(x, epochs=3, batch_size=64, validation_data=(xt, xt), verbose=0)
    expected = sorted(names + [f"val_{n}" for n in names])
    assert sorted(history.history) == expected
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    split = model.fit(x, epochs=1, batch_size=64, validation_split=0.25, verbose=0)
    assert sorted(split.history) == expected
    result = model.evaluate(xt, verbose=0, return_dict=True)
    assert sorted(result) == sorted(names)
    after = metrics.mse(xt, _clean_output(model, xt))
    # the tiny penalised conv trunk learns slowest in these few steps
    assert after < (0.97 if kind == "contractive_conv" else 0.8) * before, (before, after)

    path = keras_ae.save_keras(model, tmp_path / "model.keras")
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded) is type(model)
    np.testing.assert_allclose(_clean_output(loaded, xt), _clean_output(model, xt), atol=1e-5)
    assert sorted(loaded.evaluate(xt, verbose=0, return_dict=True)) == sorted(names)
    loaded.fit(x[:128], epochs=1, batch_size=64, verbose=0)


@pytest.mark.backends
@pytest.mark.parametrize("builder", ["conv1d", "lstm"])
def test_sequence_kinds_train_on_windows(builder):
    t = np.arange(3000, dtype="float32")
    series = np.stack([np.sin(t / 8), np.cos(t / 13)], axis=-1)
    train, _ = datasets.standardize(series[:2400])
    windows = datasets.make_windows(train, 32, stride=4)
    keras.utils.set_random_seed(0)
    if builder == "conv1d":
        model = keras_ae.build_conv_autoencoder(
            input_shape=(32, 2), filters=(16, 32), latent_dim=8, output_activation=None
        )
    else:
        model = keras_ae.build_lstm_autoencoder(input_shape=(32, 2), units=(16,), latent_dim=8)
    history = model.fit(windows, epochs=4, batch_size=32, validation_split=0.2, verbose=0)
    assert sorted(history.history) == ["loss", "val_loss"]
    assert history.history["loss"][-1] < 0.9 * history.history["loss"][0]
    assert model.predict(windows[:5], verbose=0).shape == (5, 32, 2)


@pytest.mark.backends
def test_contractive_penalty_matches_the_backends_autodiff(mnist):
    """The dense trunk's closed-form ‖J‖²_F equals the backend's Jacobian."""
    keras.utils.set_random_seed(0)
    model = keras_ae.build_contractive_autoencoder(hidden_units=(64, 32), latent_dim=8)
    x = keras.ops.convert_to_tensor(mnist[1][0][:16])
    closed = keras.ops.convert_to_numpy(model.jacobian_norm(x))
    autodiff = keras.ops.convert_to_numpy(backend.jacobian_norm(model.encoder, x))
    assert closed.shape == (16,) and np.all(closed > 0)
    np.testing.assert_allclose(closed, autodiff, rtol=1e-4)


@pytest.mark.backends
def test_corruption_and_sampling_draw_with_keras_random():
    """The layers' numbers are keras.random's for the same SeedGenerator seed."""
    x = np.full((64, 10), 0.5, "float32")
    layer = keras_ae.layers.GaussianCorruption(0.3, seed=7)
    noisy = keras.ops.convert_to_numpy(layer(x, training=True))
    eps = keras.random.normal((64, 10), seed=keras.random.SeedGenerator(7))
    np.testing.assert_allclose(noisy, np.clip(0.5 + 0.3 * keras.ops.convert_to_numpy(eps), 0, 1))
    again = keras.ops.convert_to_numpy(layer(x, training=True))
    assert not np.allclose(noisy, again)  # the generator advances
    sampling_layer = keras_ae.layers.Sampling(seed=3)
    zeros = np.zeros((8, 4), "float32")
    z = keras.ops.convert_to_numpy(sampling_layer([zeros, zeros]))
    expected = keras.random.normal((8, 4), seed=keras.random.SeedGenerator(3))
    np.testing.assert_allclose(z, keras.ops.convert_to_numpy(expected), rtol=1e-6)


@pytest.mark.backends
@pytest.mark.parametrize("kind", ["dense", "denoising_gaussian", "vae_dense"])
def test_two_seeded_trainings_give_identical_weights(kind, mnist):
    x = mnist[0][0][:256]
    weights = []
    for _ in range(2):
        keras.utils.set_random_seed(3)
        model = KINDS[kind][0]()
        model.fit(x, epochs=2, batch_size=64, verbose=0)
        weights.append([keras.ops.convert_to_numpy(w) for w in model.weights])
    for a, b in zip(*weights, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.backends
def test_stacked_classifier_pretrains_and_classifies(mnist):
    (x, y), (xt, yt) = mnist
    keras.utils.set_random_seed(0)
    encoder = stacked.pretrain_stacked_autoencoder(x[:4000], hidden_units=(64, 32), epochs=2)
    classifier = stacked.build_stacked_classifier(encoder, freeze_encoder=True)
    classifier.fit(x[:4000], y[:4000], epochs=2, batch_size=64, verbose=0)
    frozen = classifier.evaluate(xt, yt, verbose=0, return_dict=True)["accuracy"]
    classifier.set_encoder_trainable(True)
    classifier.fit(x[:4000], y[:4000], epochs=4, batch_size=64, verbose=0)
    accuracy = classifier.evaluate(xt, yt, verbose=0, return_dict=True)["accuracy"]
    assert accuracy > max(0.8, frozen), (frozen, accuracy)


@pytest.mark.backends
def test_anomaly_detector_separates_zeros(mnist, tmp_path):
    (x, y), (xt, yt) = mnist
    keras.utils.set_random_seed(0)
    detector = anomaly.AnomalyDetector(threshold="percentile", q=95)
    detector.fit(x[y == 0][:600], epochs=15)
    scores = detector.score_samples(xt)
    auroc = anomaly.roc_auc(scores, (yt != 0).astype(int))
    assert auroc > 0.9, auroc
    flags = detector.predict(xt)
    assert flags.shape == (len(xt),) and 0 < flags.mean() < 1


@pytest.mark.backends
def test_vae_metrics_sampling_and_annealing(mnist):
    (x, _), (xt, _) = mnist
    keras.utils.set_random_seed(0)
    vae = keras_ae.build_vae(latent_dim=8, beta=0.0, seed=0)
    anneal = callbacks.KLAnnealing("linear", start=0.0, stop=1.0, duration=2)
    vae.fit(x[:2000], epochs=3, batch_size=128, callbacks=[anneal], verbose=0)
    assert float(keras.ops.convert_to_numpy(vae.beta)) == pytest.approx(1.0)
    elbo = metrics.negative_elbo(vae, xt[:200])
    nll = metrics.importance_sampled_nll(vae, xt[:200], num_samples=16)
    assert 60 < nll <= elbo + 0.5 < 400, (nll, elbo)
    assert vae.sample(4, seed=0).shape == (4, 28, 28, 1)


@pytest.mark.backends
def test_denoising_chain_runs(mnist):
    x = mnist[0][0][:1000]
    keras.utils.set_random_seed(0)
    dae = keras_ae.build_denoising_autoencoder(architecture="dense", seed=0)
    dae.fit(x, epochs=2, batch_size=128, verbose=0)
    chain = sampling.denoising_chain(dae, x[:3], steps=4, seed=0)
    assert chain.shape[1:] == (3, 28, 28, 1) and np.all((chain >= 0) & (chain <= 1))


@pytest.mark.backends
def test_datasets_on_this_backend(mnist, tmp_path):
    (x, _), _ = mnist
    np.save(tmp_path / "digits.npy", (x[:600] * 255).astype("uint8"))
    stream = datasets.from_array_file(tmp_path / "digits.npy", batch_size=100, seed=0)
    keras.utils.set_random_seed(0)
    model = keras_ae.build_dense_autoencoder(hidden_units=(64,), latent_dim=8)
    history = model.fit(stream, epochs=2, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    series = datasets.synthetic_series(2000, seed=0)
    windows = datasets.make_windows(series.values, 48, stride=8)
    assert windows.shape == ((2000 - 48) // 8 + 1, 48, 1)


@pytest.mark.backends
def test_export_serves_without_keras_ae_or_says_why_not(mnist, tmp_path):
    """Under TensorFlow and JAX the SavedModel's endpoints, served by a plain
    TensorFlow process, match the model; under PyTorch the refusal names the way out."""
    (x, y), (xt, _) = mnist
    keras.utils.set_random_seed(0)
    vae = keras_ae.build_vae(latent_dim=4, seed=0)
    vae.fit(x[:512], epochs=1, verbose=0)
    detector = anomaly.AnomalyDetector().fit(x[y == 0][:300], epochs=2)
    if BACKEND == "torch":
        with pytest.raises(RuntimeError, match="save_keras.*tensorflow or jax"):
            keras_ae.export_saved_model(vae, tmp_path / "vae")
        return
    keras_ae.export_saved_model(vae, tmp_path / "vae")
    keras_ae.export_saved_model(detector, tmp_path / "detector")
    served = call_without_keras_ae(
        tmp_path / "vae",
        {"reconstruct__a": xt[:16], "encode__a": xt[:16], "sample__a": np.array([3, 1])},
        tmp_path,
    )
    np.testing.assert_allclose(served["reconstruct__a__0"], vae.reconstruct(xt[:16]), atol=1e-5)
    np.testing.assert_allclose(served["encode__a__0"], vae.encode(xt[:16])[0], atol=1e-5)
    assert served["sample__a__0"].shape == (3, 28, 28, 1)
    assert {"serve", "reconstruct", "encode", "decode", "sample"} <= set(served["__signatures__"])
    scored = call_without_keras_ae(
        tmp_path / "detector", {"score__a": xt[:64], "is_anomaly__a": xt[:64]}, tmp_path
    )
    np.testing.assert_allclose(scored["score__a__0"], detector.score_samples(xt[:64]), rtol=1e-4)
    np.testing.assert_array_equal(scored["is_anomaly__a__0"], detector.predict(xt[:64]))


@pytest.mark.backends
def test_unsupported_strategy_is_refused_in_one_line():
    from keras_ae.training import make_strategy

    with pytest.raises(ValueError, match="data-parallel") as err:
        make_strategy("multiworker")
    assert "\n" not in str(err.value)
    other = {"tensorflow": "data-parallel", "jax": "mirrored", "torch": "mirrored"}[BACKEND]
    with pytest.raises(ValueError, match="needs KERAS_BACKEND"):
        make_strategy(other)


# ---------------------------------------------------------------------------------------------
# Across backends: each test starts processes of its own, so it runs once.


def _run(backend_name, code, *args, env=None, timeout=600):
    env = {
        **os.environ,
        "KERAS_BACKEND": backend_name,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "MPLBACKEND": "Agg",
        **(env or {}),
    }
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc.stdout


_SAVE = """
    import sys, numpy as np, keras, keras_ae
    folder = sys.argv[1]
    (x, _), (xt, _) = keras_ae.datasets.load_mnist(source="embedded")
    keras.utils.set_random_seed(0)
    models = {
        "tied": keras_ae.build_dense_autoencoder(tied_weights=True, latent_dim=8),
        "vae": keras_ae.build_vae(architecture="conv", latent_dim=2, seed=0),
        "sparse": keras_ae.build_sparse_autoencoder(latent_dim=32),
    }
    backend = keras.backend.backend()
    for name, model in models.items():
        model.fit(x[:512], epochs=1, batch_size=64, verbose=0)
        keras_ae.save_keras(model, f"{folder}/{backend}_{name}.keras")
        out = model.reconstruct(xt[:32]) if name == "vae" else model.predict(xt[:32], verbose=0)
        code = model.encoder.predict(xt[:32], verbose=0)
        code = code[0] if isinstance(code, list) else code
        np.savez(f"{folder}/{backend}_{name}.npz", out=out, code=code)
"""

_LOAD = """
    import glob, json, sys, numpy as np, keras, keras_ae
    folder = sys.argv[1]
    (x, _), (xt, _) = keras_ae.datasets.load_mnist(source="embedded")
    here = keras.backend.backend()
    worst = {}
    for path in sorted(glob.glob(f"{folder}/*.keras")):
        if path.split("/")[-1].startswith(here + "_"):
            continue
        model = keras.saving.load_model(path, safe_mode=True)
        saved = np.load(path.replace(".keras", ".npz"))
        vae = isinstance(model, keras_ae.models.VariationalAutoencoder)
        out = model.reconstruct(xt[:32]) if vae else model.predict(xt[:32], verbose=0)
        code = model.encoder.predict(xt[:32], verbose=0)
        code = code[0] if isinstance(code, list) else code
        again = model.decoder.predict(code, verbose=0)
        worst[path.split("/")[-1]] = [
            float(np.abs(out - saved["out"]).max()),
            float(np.abs(code - saved["code"]).max()),
            float(np.abs(again - out).max()),
        ]
        model.fit(x[:128], epochs=1, batch_size=64, verbose=0)
    print(json.dumps(worst))
"""


def test_keras_files_load_under_every_other_backend(tmp_path):
    """A .keras file saved under any backend loads under each of the other two
    with the same predictions and working encoder/decoder sub-models."""
    for name in BACKENDS:
        _run(name, _SAVE, tmp_path)
    for name in BACKENDS:
        worst = json.loads(_run(name, _LOAD, tmp_path).strip().splitlines()[-1])
        assert len(worst) == 3 * (len(BACKENDS) - 1)
        for file, (out, code, decoded) in worst.items():
            assert out <= 1e-5 and code <= 1e-5, (name, file, out, code)
            assert decoded <= 1e-5, (name, file, decoded)


_DATA_PARALLEL = """
    import json, sys, numpy as np, keras, keras_ae
    devices = int(sys.argv[1])
    (x, _), _ = keras_ae.datasets.load_mnist(source="embedded")
    x = x[:2048]
    curves = {}
    for kind in ("dense", "vae"):
        keras.utils.set_random_seed(0)
        if devices > 1:
            keras.distribution.set_distribution(keras.distribution.DataParallel())
        build = keras_ae.build_vae if kind == "vae" else keras_ae.build_dense_autoencoder
        model = build(seed=0) if kind == "vae" else build()
        history = model.fit(x, epochs=3, batch_size=128, shuffle=False, verbose=0)
        keras.distribution.set_distribution(None)
        curves[kind] = history.history["loss"]
    print(json.dumps({"devices": len(keras.distribution.list_devices()), "curves": curves}))
"""


def test_jax_data_parallel_matches_one_device():
    """DataParallel over 2 host devices follows the single device's loss curve
    within 0.5% (the same batches; only the order of float sums differs)."""
    flags = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    two = json.loads(_run("jax", _DATA_PARALLEL, 2, env=flags).strip().splitlines()[-1])
    one = json.loads(_run("jax", _DATA_PARALLEL, 1).strip().splitlines()[-1])
    assert two["devices"] == 2
    for kind in ("dense", "vae"):
        a, b = np.array(two["curves"][kind]), np.array(one["curves"][kind])
        assert a[-1] < a[0]
        np.testing.assert_allclose(a, b, rtol=5e-3, err_msg=kind)


@pytest.mark.tutorial
@pytest.mark.parametrize("name", ["jax", "torch"])
@pytest.mark.parametrize(
    "script", ["01_dense_autoencoder", "07_variational_autoencoder", "09_anomaly_detection"]
)
def test_tutorial_runs_on_backend(script, name, tmp_path):
    """In a short mode: one epoch, and the slow extras cut down."""
    env = {"KERAS_BACKEND": name, "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "3"}
    short = {
        "07_variational_autoencoder": ["--nll-samples", "4", "--nll-images", "64"],
        "09_anomaly_detection": ["--digits", "8"],
    }.get(script, [])
    proc = subprocess.run(
        [sys.executable, str(REPO / "tutorials" / f"{script}.py"), "--epochs", "1", *short]
        + ["--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, **env},
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    pngs = list(tmp_path.rglob("*.png"))
    assert pngs and all(p.stat().st_size > 1000 for p in pngs)
    exported = list(tmp_path.rglob("saved_model.pb")) + list(tmp_path.rglob("*.keras"))
    assert exported, "the tutorial exports or saves its model"


def test_cli_trains_data_parallel_on_jax(tmp_path):
    """`keras-ae train --strategy data-parallel` under JAX over 2 host devices
    writes the model, a SavedModel that serves and metrics.json."""
    code = "import sys; from keras_ae.cli import main; sys.exit(main(sys.argv[1:]))"
    flags = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    _run("jax", code, "train", "dense", "--epochs", "2", "--strategy", "data-parallel",
         "--out", tmp_path, env=flags)  # fmt: skip
    record = json.loads((tmp_path / "metrics.json").read_text())
    assert record["backend"] == "jax" and record["saved_model"] is True
    assert record["test"]["psnr"] > 12
    x = keras_ae.datasets.load_mnist(source="embedded")[1][0][:8]
    served = call_without_keras_ae(tmp_path / "saved_model", {"reconstruct__a": x}, tmp_path)
    assert served["reconstruct__a__0"].shape == x.shape

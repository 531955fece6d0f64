"""keras_ae.kinds: the one training hook, the options each kind refuses, the
provenance of what it trains, and its test figures on real tiny models."""

from __future__ import annotations

import dataclasses
import json

import keras
import numpy as np
import pytest

from keras_ae import anomaly, cli, kinds, metrics, pretrained, stacked
from keras_ae.kinds import ALL_KINDS, KINDS, SERIES_KINDS, TRAIN_OPTIONS, Data, StreamedData


@pytest.fixture(scope="module")
def digits(mnist):
    """512 training and 128 test digits with their labels."""
    (x_train, y_train), (x_test, y_test) = mnist
    return Data(x_train[:512], y_train[:512], x_test[:128], y_test[:128])


@pytest.fixture(scope="module")
def stream(digits):
    """The same digits as ``(x, x)`` batches of 64 (what ``--data DIR`` gives)."""
    import tensorflow as tf

    def batches(x):
        return tf.data.Dataset.from_tensor_slices((x, x)).batch(64)

    return StreamedData(batches(digits.x_train), batches(digits.x_test))


# ---------------------------------------------------------------- the one hook


def test_every_kind_has_one_training_hook_and_declares_its_options():
    fields = {f.name for f in dataclasses.fields(kinds.Kind)}
    assert not {"fit", "trainer"} & fields  # the two former, overlapping hooks
    for kind in ALL_KINDS.values():
        assert kind.honours <= set(TRAIN_OPTIONS), kind.name
        assert kind.takes_streams == ("streamed" in kind.honours)
    # the kinds trained by one fit(x, x) honour every option; the staged ones none
    assert all(KINDS[name].honours == set(TRAIN_OPTIONS) for name in ("dense", "vae", "tied"))
    assert KINDS["stacked"].honours == KINDS["anomaly"].honours == frozenset()
    assert all("streamed" not in kind.honours for kind in SERIES_KINDS.values())


@pytest.fixture(scope="module")
def dense(digits, tmp_path_factory):
    """The dense kind trained 3 epochs through train(), with an override, a
    callback and a backup folder (the options it honours); the epochs it saw."""
    seen = []
    callback = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
    keras.utils.set_random_seed(0)
    backup = tmp_path_factory.mktemp("backup")
    model = KINDS["dense"].train(
        digits, 3, 64, {"latent_dim": 8}, resume_dir=backup, callbacks=[callback]
    )
    return model, seen


def test_train_runs_the_recipe_with_the_options_it_honours(dense):
    model, seen = dense
    assert seen == [0, 1, 2] and model.encoder.output_shape == (None, 8)
    losses = model.history.history["loss"]
    assert losses[-1] < 0.8 * losses[0]  # it learns


# ---------------------------------------------------------------- refusals


def _refusals():
    """(kind, data fixture, overrides, options, what the message names)."""
    strategy = "<a tf.distribute strategy>"
    rows = []
    for name in ("stacked", "anomaly"):
        rows += [
            (name, "digits", None, {"strategy": strategy}, "strategy="),
            (name, "digits", None, {"resume_dir": "out/.backup"}, "resume_dir='out/.backup'"),
            (name, "digits", None, {"callbacks": ["tensorboard"]}, "callbacks=['tensorboard']"),
            (name, "stream", None, {}, "streamed=<batches streamed from a folder>"),
        ]
    rows += [
        ("stacked", "digits", {"latent_dim": 8}, {}, "override latent_dim=8"),
        ("anomaly", "digits", {"noise_level": 0.2}, {}, "override noise_level=0.2"),
        ("dense", "digits", {"noise_level": 0.2}, {}, "override noise_level=0.2"),
        ("conv1d", "stream", None, {}, "streamed=<batches streamed from a folder>"),
    ]
    return rows


@pytest.mark.parametrize(("name", "source", "overrides", "options", "named"), _refusals())
def test_an_option_a_kind_cannot_honour_is_refused(
    name, source, overrides, options, named, request
):
    kind = ALL_KINDS[name]
    data = request.getfixturevalue(source)
    with pytest.raises(ValueError, match=f"Kind {name!r} cannot honour") as err:
        kind.train(data, 1, 64, overrides, **options)
    message = str(err.value)
    assert named in message and "\n" not in message
    option = next(iter(options), "streamed" if source == "stream" else None)
    if option is not None:  # the flag that sets it, for the command line
        assert TRAIN_OPTIONS[option] in message


def test_unknown_options_are_a_type_error(digits):
    with pytest.raises(TypeError, match="Unknown training options"):
        KINDS["dense"].check(digits, resume=True)


def test_the_stacked_kind_needs_labels(digits):
    unlabelled = dataclasses.replace(digits, y_train=None)
    with pytest.raises(ValueError, match="needs labels"):
        KINDS["stacked"].train(unlabelled, 1, 64)


@pytest.mark.parametrize(
    ("name", "flags", "named"),
    [
        ("stacked", ["--resume"], "resume_dir="),
        ("anomaly", ["--resume"], "resume_dir="),
        ("stacked", ["--latent-dim", "8"], "override latent_dim=8"),
        ("dense", ["--noise-level", "0.2"], "override noise_level=0.2"),
    ],
)
def test_the_cli_refuses_in_one_line_and_writes_nothing(
    name, flags, named, digits, tmp_path, capsys
):
    data = tmp_path / "digits.npz"
    np.savez(data, x_train=digits.x_train[:64, ..., 0], y_train=digits.y_train[:64])
    out = tmp_path / "out"
    code = cli.main(
        ["train", name, "--epochs", "1", "--data", str(data), "--out", str(out), *flags]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("keras-ae: error: Kind")
    assert named in err[0] and not out.exists()


def test_the_cli_refuses_a_strategy_for_a_staged_kind(digits, tmp_path):
    """``--strategy mirrored`` (two logical CPUs, in a fresh process)."""
    from test_cli import assert_one_line_error, keras_ae_cli

    name = "stacked"
    data = tmp_path / "digits.npz"
    np.savez(data, x_train=digits.x_train[:64, ..., 0], y_train=digits.y_train[:64])
    out = tmp_path / "out"
    args = ["--strategy", "mirrored", "--cpu-replicas", "2", "--data", data, "--out", out]
    proc = keras_ae_cli("train", name, "--epochs", 1, *args)
    assert_one_line_error(proc, f"Kind {name!r} cannot honour strategy=", "(--strategy)")
    assert not out.exists()


# ---------------------------------------------------------------- provenance


def _resolve(qualified: str):
    import importlib

    module, _, name = qualified.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_provenance_names_what_builds_each_kind(digits):
    """Every builder named resolves to the function that built the model, and the
    fit kinds' arguments rebuild it."""
    for name, kind in KINDS.items():
        record = kind.provenance(anomaly.AnomalyDetector(), digits, 20, 128)
        assert json.loads(json.dumps(record)) == record  # plain JSON data
        if name not in ("stacked", "anomaly"):
            assert _resolve(record["builder"]) is kind.build
            rebuilt = _resolve(record["builder"])(**record["builder_args"])
            assert rebuilt.count_params() == kind.make(digits.input_shape).count_params()
    record = KINDS["stacked"].provenance(None, digits, 20, 128)
    assert _resolve(record["builder"]) is stacked.build_stacked_classifier
    encoder = record["builder_args"]["encoder"]
    assert _resolve(encoder["builder"]) is stacked.pretrain_stacked_autoencoder
    assert encoder["builder_args"] == {
        "hidden_units": [200, 200], "kind": "sparse", "seed": 0, "epochs": 40, "batch_size": 128
    }  # fmt: skip
    assert record["builder_args"]["num_classes"] == 10


def test_the_shipped_manifest_records_true_provenance(mnist):
    """saved_models/manifest.json names, for every kind, what Kind.provenance says
    built it with the entry's epochs and batch size."""
    (x_train, y_train), (x_test, y_test) = mnist
    data = Data(x_train, y_train, x_test, y_test)
    models = pretrained.read_manifest()["models"]
    for name, kind in KINDS.items():
        entry = models[name]
        expected = kind.provenance(
            anomaly.AnomalyDetector(), data, entry["epochs"], entry["batch_size"]
        )
        assert {k: entry[k] for k in expected} == expected, name
    assert models["anomaly"]["builder_args"]["model"]["builder"] == "keras_ae.anomaly.default_model"


def test_export_pretrained_writes_the_provenance(tmp_path, monkeypatch):
    """The manifest entry ``export_pretrained`` writes (one short epoch) names the
    real builders: the detector, and the model inside it."""
    name = "anomaly"
    short = dataclasses.replace(KINDS[name], epochs=1)
    monkeypatch.setitem(KINDS, name, short)
    manifest = pretrained.export_pretrained(tmp_path, only=[name])
    entry = json.loads((tmp_path / "manifest.json").read_text())["models"][name]
    assert entry == json.loads(json.dumps(manifest["models"][name]))
    assert entry["builder"] == "keras_ae.anomaly.AnomalyDetector"
    args = entry["builder_args"]
    assert args["model"] == {
        "builder": "keras_ae.anomaly.default_model",
        "builder_args": {"input_shape": [28, 28, 1]},
    }
    assert args["score"] == "mse" and args["threshold"] == "percentile" and args["q"] == 99
    assert entry["epochs"] == 1 and {"auroc", "mse", "flagged"} <= set(entry["metrics"])


# ---------------------------------------------------------------- figures


def test_iter_test_inputs_of_arrays_and_streams(digits, stream):
    arrays = list(kinds.iter_test_inputs(digits, batch_size=50))
    assert [len(x) for x in arrays] == [50, 50, 28]
    np.testing.assert_array_equal(np.concatenate(arrays), digits.x_test)
    np.testing.assert_array_equal(
        np.concatenate(list(kinds.iter_test_inputs(stream))), digits.x_test
    )


def test_autoencoder_metrics_are_the_mse_and_psnr_of_the_reconstruction(dense, digits, stream):
    model, _ = dense
    figures = kinds.autoencoder_metrics(model, digits)
    x_hat = model.predict(digits.x_test, verbose=0)
    mse = float(np.mean((x_hat.astype("float64") - digits.x_test) ** 2))
    assert figures["mse"] == pytest.approx(mse, rel=1e-5) and 0.01 < mse < 0.12
    assert figures["psnr"] == pytest.approx(metrics.psnr_from_mse(mse))
    assert kinds.autoencoder_metrics(model, stream)["mse"] == pytest.approx(mse, rel=1e-5)


def test_vae_metrics_report_the_elbo_at_beta_one(digits):
    keras.utils.set_random_seed(0)
    model = KINDS["vae16"].train(digits, 2, 64)
    model.beta.assign(0.5)
    figures = kinds.vae_metrics(model, digits)
    assert float(model.beta.numpy()) == 0.5  # restored
    model.beta.assign(1.0)
    loss = model.evaluate(digits.x_test, digits.x_test, verbose=0, return_dict=True)["loss"]
    assert figures["neg_elbo"] == pytest.approx(loss, rel=1e-2)  # evaluate samples z
    assert 100 < figures["neg_elbo"] < 400 and figures["mse"] < 0.12


def test_classifier_and_detector_metrics(digits):
    keras.utils.set_random_seed(0)
    encoder = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten()])
    classifier = stacked.build_stacked_classifier(encoder, 10)
    classifier.fit(digits.x_train, digits.y_train, epochs=5, batch_size=32, verbose=0)
    accuracy = kinds.classifier_metrics(classifier, digits)["accuracy"]
    predicted = classifier.predict(digits.x_test, verbose=0).argmax(-1)
    assert accuracy == pytest.approx(np.mean(predicted == digits.y_test)) and accuracy > 0.6
    detector = KINDS["anomaly"].train(digits, 5, 64)
    figures = kinds.detector_metrics(detector, digits)
    labels = (digits.y_test != kinds.NORMAL_DIGIT).astype(int)
    assert figures["auroc"] == pytest.approx(
        anomaly.roc_auc(detector.score_samples(digits.x_test), labels)
    )
    assert figures["flagged"] == pytest.approx(np.mean(detector.predict(digits.x_test)))
    assert figures["mse"] == pytest.approx(kinds.autoencoder_metrics(detector.model, digits)["mse"])
    assert 0 < figures["flagged"] < 1 and figures["mse"] < 0.2

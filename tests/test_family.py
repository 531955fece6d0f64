"""The classical family: denoising, sparse, contractive, tied and stacked autoencoders.

Quality tests train real models on the embedded MNIST for a few epochs and
assert the figure each kind exists for, with bounds looser than the
tutorials' (which train longer). Argument tests check that every new
parameter rejects a bad value with a message naming it.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from conftest import call_without_keras_ae

import keras_ae
from keras_ae import metrics, stacked

# Short runs and their bounds, set from measured runs with a margin (the
# tutorials train longer and meet tighter targets).
EPOCHS_SPARSE, SPARSE_MSE_RATIO = 10, 2.5  # measured 1.95 (activation 0.054)
EPOCHS_CONTRACTIVE, CONTRACTIVE_J_RATIO, CONTRACTIVE_MSE_RATIO = 3, 0.5, 1.5  # 0.17, 1.04
EPOCHS_TIED, TIED_MSE_RATIO = 5, 1.3  # measured 0.87
EPOCHS_PRETRAIN, EPOCHS_SOFTMAX, EPOCHS_FINE_TUNE = 10, 5, 5
STACKED_BEFORE, STACKED_AFTER = 0.75, 0.93  # measured 0.82, 0.95


def _fit(model, x, epochs, batch_size=128):
    model.fit(x, x, epochs=epochs, batch_size=batch_size, verbose=0)
    return model


def _mean_jacobian_norm(model, x, batch=250):
    parts = [model.jacobian_norm(x[i : i + batch]) for i in range(0, len(x), batch)]
    return float(np.mean(np.concatenate([keras.ops.convert_to_numpy(p) for p in parts])))


# -------------------------------------------------------------------- quality


def test_sparse_autoencoder_hits_its_target_activation(mnist):
    (x_train, _), (x_test, _) = mnist
    keras.utils.set_random_seed(0)
    sparse = _fit(keras_ae.build_sparse_autoencoder(target=0.05), x_train, EPOCHS_SPARSE)
    keras.utils.set_random_seed(0)
    latent = sparse.spec["latent_dim"]
    dense = _fit(keras_ae.build_dense_autoencoder(latent_dim=latent), x_train, EPOCHS_SPARSE)
    mean_activation = float(sparse.encoder.predict(x_test, verbose=0).mean())
    ratio = metrics.reconstruction_mse(sparse, x_test) / metrics.reconstruction_mse(dense, x_test)
    print(f"mean code activation {mean_activation:.4f}, MSE ratio sparse/dense {ratio:.2f}")
    assert 0.03 <= mean_activation <= 0.08
    assert ratio <= SPARSE_MSE_RATIO


def test_contractive_autoencoder_has_a_smaller_jacobian(mnist):
    (x_train, _), (x_test, _) = mnist
    keras.utils.set_random_seed(0)
    contractive = _fit(keras_ae.build_contractive_autoencoder(), x_train, EPOCHS_CONTRACTIVE)
    keras.utils.set_random_seed(0)
    plain = _fit(keras_ae.build_dense_autoencoder(), x_train, EPOCHS_CONTRACTIVE)
    x = x_test[:1000]
    j_ratio = _mean_jacobian_norm(contractive, x) / _mean_jacobian_norm(plain, x)
    mse_ratio = metrics.reconstruction_mse(contractive, x_test) / metrics.reconstruction_mse(
        plain, x_test
    )
    print(f"||J||^2 ratio {j_ratio:.3f}, MSE ratio {mse_ratio:.2f}")
    assert j_ratio <= CONTRACTIVE_J_RATIO
    assert mse_ratio <= CONTRACTIVE_MSE_RATIO


def test_tied_weights_cost_little_reconstruction(mnist):
    (x_train, _), (x_test, _) = mnist
    keras.utils.set_random_seed(0)
    tied = _fit(keras_ae.build_dense_autoencoder(tied_weights=True), x_train, EPOCHS_TIED)
    keras.utils.set_random_seed(0)
    untied = _fit(keras_ae.build_dense_autoencoder(), x_train, EPOCHS_TIED)
    ratio = metrics.reconstruction_mse(tied, x_test) / metrics.reconstruction_mse(untied, x_test)
    print(f"MSE ratio tied/untied {ratio:.3f}")
    assert ratio <= TIED_MSE_RATIO
    assert tied.count_params() < 0.55 * untied.count_params()


def test_stacked_classifier_learns_digits_after_fine_tuning(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    encoder = stacked.pretrain_stacked_autoencoder(
        x_train, (200, 200), epochs=EPOCHS_PRETRAIN, seed=0
    )
    classifier = stacked.build_stacked_classifier(encoder, freeze_encoder=True)
    classifier.fit(x_train, y_train, epochs=EPOCHS_SOFTMAX, batch_size=32, verbose=0)
    before = classifier.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]
    classifier.set_encoder_trainable(True)
    classifier.fit(x_train, y_train, epochs=EPOCHS_FINE_TUNE, batch_size=32, verbose=0)
    after = classifier.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]
    print(f"test accuracy before fine-tuning {before:.4f}, after {after:.4f}")
    assert before >= STACKED_BEFORE
    assert after >= STACKED_AFTER
    assert after > before


# ----------------------------------------------------------- stacked: plumbing


@pytest.fixture(scope="module")
def small_stack(mnist):
    """A 784-32-16 sparse stack on 512 digits and a fine-tuned classifier on it."""
    (x_train, y_train), _ = mnist
    x, y = x_train[:512], y_train[:512]
    encoder = stacked.pretrain_stacked_autoencoder(x, (32, 16), epochs=1, seed=0)
    classifier = stacked.build_stacked_classifier(encoder, num_classes=10)
    classifier.fit(x, y, epochs=1, verbose=0)
    return encoder, classifier


def test_stacked_encoder_chains_the_trained_encoders(small_stack, x_small):
    encoder, _ = small_stack
    assert encoder.name == "stacked_encoder"
    assert [layer.name for layer in encoder.layers] == ["input", "encoder_1", "encoder_2"]
    assert encoder.output_shape == (None, 16)
    codes = encoder.predict(x_small, verbose=0)
    first = encoder.get_layer("encoder_1").predict(x_small, verbose=0)
    assert first.shape == (len(x_small), 32)
    np.testing.assert_allclose(
        encoder.get_layer("encoder_2").predict(first, verbose=0), codes, atol=1e-6
    )
    assert codes.min() >= 0.0 and codes.max() <= 1.0  # sigmoid codes


def test_pretraining_is_reproducible_with_a_seed(mnist, x_small):
    x = mnist[0][0][:256]
    runs = [
        stacked.pretrain_stacked_autoencoder(x, (8,), kind="denoising", epochs=1, seed=4)
        for _ in range(2)
    ]
    np.testing.assert_allclose(
        runs[0].predict(x_small, verbose=0), runs[1].predict(x_small, verbose=0), atol=1e-6
    )


@pytest.mark.parametrize(
    "kind, kwargs",
    [
        ("denoising", {"noise": "masking", "noise_level": 0.3}),
        ("sparse", {"sparsity": "l1", "l1": 1e-3}),
    ],
)
def test_other_layer_kinds_build_a_stack(mnist, x_small, kind, kwargs):
    x = mnist[0][0][:256]
    encoder = stacked.pretrain_stacked_autoencoder(x, (16, 8), kind=kind, epochs=1, **kwargs)
    codes = encoder.predict(x_small, verbose=0)
    assert codes.shape == (len(x_small), 8) and np.isfinite(codes).all()
    assert codes.min() >= 0.0  # sigmoid (denoising default) or ReLU (L1) codes


def test_freezing_trains_the_softmax_only(mnist, small_stack):
    (x_train, y_train), _ = mnist
    encoder = keras.models.clone_model(small_stack[0])
    classifier = stacked.build_stacked_classifier(encoder, freeze_encoder=True)
    assert [w.path for w in classifier.trainable_weights] == ["softmax/kernel", "softmax/bias"]
    before = [w.copy() for w in encoder.get_weights()]
    classifier.fit(x_train[:256], y_train[:256], epochs=1, verbose=0)
    for old, new in zip(before, encoder.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
    classifier.set_encoder_trainable(True)
    assert len(classifier.trainable_weights) == 2 + len(encoder.weights)
    classifier.fit(x_train[:256], y_train[:256], epochs=1, verbose=0)
    assert not np.array_equal(before[0], encoder.get_weights()[0])


def test_stacked_keras_round_trips(small_stack, x_small, tmp_path):
    encoder, classifier = small_stack
    loaded = keras.saving.load_model(
        keras_ae.save_keras(classifier, tmp_path / "c.keras"), safe_mode=True
    )
    assert type(loaded) is stacked.StackedClassifier
    assert loaded.num_classes == 10 and loaded.encoder.name == "stacked_encoder"
    np.testing.assert_allclose(
        loaded.predict(x_small, verbose=0), classifier.predict(x_small, verbose=0), atol=1e-6
    )
    loaded.fit(x_small, np.arange(len(x_small)) % 10, epochs=1, verbose=0)  # compiled
    enc = keras.saving.load_model(keras_ae.save_keras(encoder, tmp_path / "e.keras"))
    np.testing.assert_allclose(
        enc.predict(x_small, verbose=0), encoder.predict(x_small, verbose=0), atol=1e-6
    )


def test_stacked_classifier_saved_model_without_keras_ae(small_stack, x_small, tmp_path):
    encoder, classifier = small_stack
    path = keras_ae.export_saved_model(classifier, tmp_path / "sm")
    inputs = {}
    for batch in (1, 17):
        for endpoint in ("serve", "classify", "encode"):
            inputs[f"{endpoint}__{batch}"] = x_small[:batch]
    result = call_without_keras_ae(path, inputs, tmp_path)
    assert {"serve", "classify", "encode"} <= set(result["__signatures__"])
    for batch in (1, 17):
        probabilities = classifier.predict(x_small[:batch], verbose=0)
        np.testing.assert_allclose(result[f"serve__{batch}__0"], probabilities, atol=1e-5)
        np.testing.assert_allclose(result[f"classify__{batch}__0"], probabilities, atol=1e-5)
        np.testing.assert_allclose(
            result[f"encode__{batch}__0"], encoder.predict(x_small[:batch], verbose=0), atol=1e-5
        )
    np.testing.assert_allclose(result["serve__17__0"].sum(axis=1), 1.0, atol=1e-5)


# ------------------------------------------------------------- bad arguments

X_TINY = np.zeros((4, 28, 28, 1), "float32")

BAD_ARGUMENTS = [
    (keras_ae.build_denoising_autoencoder, {"noise_level": -0.1}, "noise_level"),
    (keras_ae.build_denoising_autoencoder, {"noise_level": "0.4"}, "noise_level"),
    (keras_ae.build_denoising_autoencoder, {"noise": "masking", "noise_level": 1.0}, "noise_level"),
    (keras_ae.build_denoising_autoencoder, {"noise": "speckle"}, "noise"),
    (keras_ae.build_denoising_autoencoder, {"seed": "1"}, "seed"),
    (keras_ae.build_denoising_autoencoder, {"architecture": "rnn"}, "architecture"),
    (keras_ae.build_sparse_autoencoder, {"target": 0.0}, "target"),
    (keras_ae.build_sparse_autoencoder, {"target": 1.0}, "target"),
    (keras_ae.build_sparse_autoencoder, {"target": 1.5}, "target"),
    (keras_ae.build_sparse_autoencoder, {"sparsity": "l2"}, "sparsity"),
    (keras_ae.build_sparse_autoencoder, {"weight": -1.0}, "weight"),
    (keras_ae.build_sparse_autoencoder, {"l1": -1e-4}, "l1"),
    (keras_ae.build_sparse_autoencoder, {"code_activation": "relu"}, "code_activation"),
    (keras_ae.build_contractive_autoencoder, {"contractive_weight": -0.1}, "contractive_weight"),
    (keras_ae.build_contractive_autoencoder, {"contractive_weight": None}, "contractive_weight"),
    (keras_ae.build_dense_autoencoder, {"tied_weights": 1}, "tied_weights"),
    (stacked.pretrain_stacked_autoencoder, {"x": X_TINY, "hidden_units": ()}, "hidden_units"),
    (stacked.pretrain_stacked_autoencoder, {"x": X_TINY, "hidden_units": (200, 0)}, "hidden_units"),
    (stacked.pretrain_stacked_autoencoder, {"x": X_TINY, "hidden_units": "200"}, "hidden_units"),
    (stacked.pretrain_stacked_autoencoder, {"x": X_TINY, "kind": "rbm"}, "kind"),
    (stacked.pretrain_stacked_autoencoder, {"x": X_TINY, "epochs": 0}, "epochs"),
    (stacked.pretrain_stacked_autoencoder, {"x": X_TINY, "batch_size": -1}, "batch_size"),
    (stacked.pretrain_stacked_autoencoder, {"x": X_TINY, "seed": 1.5}, "seed"),
    (stacked.pretrain_stacked_autoencoder, {"x": X_TINY, "noise": "masking"}, "noise"),
    (stacked.pretrain_stacked_autoencoder, {"x": X_TINY, "target": 2.0}, "target"),
    (stacked.pretrain_stacked_autoencoder, {"x": "digits"}, "x"),
    (stacked.build_stacked_classifier, {"encoder": "encoder"}, "encoder"),
    (stacked.build_stacked_classifier, {"num_classes": 1}, "num_classes"),
    (stacked.build_stacked_classifier, {"num_classes": 2.5}, "num_classes"),
    (stacked.build_stacked_classifier, {"freeze_encoder": "yes"}, "freeze_encoder"),
]


def _dense_encoder():
    inputs = keras.Input((28, 28, 1))
    return keras.Model(inputs, keras.layers.Dense(4)(keras.layers.Flatten()(inputs)))


@pytest.mark.parametrize(
    "builder, kwargs, argument",
    BAD_ARGUMENTS,
    ids=[f"{b.__name__}-{a}-{i}" for i, (b, _, a) in enumerate(BAD_ARGUMENTS)],
)
def test_bad_arguments_name_the_argument_and_value(builder, kwargs, argument):
    if builder is stacked.build_stacked_classifier and "encoder" not in kwargs:
        kwargs = {"encoder": _dense_encoder(), **kwargs}
    with pytest.raises((ValueError, TypeError)) as err:
        builder(**kwargs)
    message = str(err.value)
    assert f"`{argument}`" in message and f"{argument}=" in message


def test_classifier_needs_a_flat_single_output_encoder():
    inputs = keras.Input((28, 28, 1))
    conv = keras.Model(inputs, keras.layers.Conv2D(2, 3)(inputs))
    with pytest.raises(ValueError, match="`encoder`.*encoder="):
        stacked.build_stacked_classifier(conv)
    classifier = stacked.build_stacked_classifier(_dense_encoder(), num_classes=2)
    with pytest.raises(TypeError, match="`trainable`.*trainable="):
        classifier.set_encoder_trainable("yes")

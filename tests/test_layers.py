"""The registered layers: corruptions, sparsity penalty, tied Dense, and the VAE's
Sampling and KLDivergence.

Each layer gets the Keras layer-test checks: config and serialisation round
trips, seeds, the training/inference switch, and its statistics or loss
against a hand computation.
"""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae import layers

CORRUPTIONS = sorted(layers.CORRUPTIONS.items())
CORRUPTION_IDS = [name for name, _ in CORRUPTIONS]


def serialization_round_trip(obj):
    """serialize_keras_object -> JSON text -> deserialize_keras_object."""
    text = json.dumps(keras.saving.serialize_keras_object(obj))
    return keras.saving.deserialize_keras_object(json.loads(text))


def grey(shape=(64, 28, 28, 1), value=0.5):
    return np.full(shape, value, dtype="float32")


# ---------------------------------------------------------------- corruptions


@pytest.mark.parametrize("name, cls", CORRUPTIONS, ids=CORRUPTION_IDS)
def test_corruption_config_round_trip(name, cls):
    layer = cls(0.3, seed=7, name=f"{name}_layer")
    clone = cls.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert (clone.level, clone.seed, clone.name) == (0.3, 7, f"{name}_layer")


@pytest.mark.parametrize("name, cls", CORRUPTIONS, ids=CORRUPTION_IDS)
def test_corruption_serialization_round_trip(name, cls):
    layer = cls(0.25, seed=11)
    clone = serialization_round_trip(layer)
    assert type(clone) is cls
    assert clone.get_config() == layer.get_config()
    x = grey()
    # the same seed in the revived layer gives the same first corruption
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(clone(x, training=True)),
        keras.ops.convert_to_numpy(layer(x, training=True)),
    )


@pytest.mark.parametrize("name, cls", CORRUPTIONS, ids=CORRUPTION_IDS)
def test_corruption_seed_reproducibility(name, cls, x_small):
    a, b, other = cls(0.4, seed=3), cls(0.4, seed=3), cls(0.4, seed=4)
    first_a = keras.ops.convert_to_numpy(a(x_small, training=True))
    first_b = keras.ops.convert_to_numpy(b(x_small, training=True))
    np.testing.assert_array_equal(first_a, first_b)
    assert not np.array_equal(first_a, keras.ops.convert_to_numpy(other(x_small, training=True)))
    # a layer's successive calls draw new noise
    assert not np.array_equal(first_a, keras.ops.convert_to_numpy(a(x_small, training=True)))


@pytest.mark.parametrize("name, cls", CORRUPTIONS, ids=CORRUPTION_IDS)
def test_corruption_is_the_identity_outside_training(name, cls, x_small):
    layer = cls(0.5, seed=1)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x_small)), x_small)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(layer(x_small, training=False)), x_small
    )
    assert not np.array_equal(keras.ops.convert_to_numpy(layer(x_small, training=True)), x_small)
    # level 0 is the identity even in training
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(cls(0.0, seed=1)(x_small, training=True)), x_small
    )


def test_gaussian_corruption_statistics():
    x = grey()  # 0.5 +- 5 sigma stays inside [0, 1]: the clipping never acts
    noisy = keras.ops.convert_to_numpy(layers.GaussianCorruption(0.1, seed=0)(x, training=True))
    noise = noisy - x
    assert abs(noise.mean()) < 0.003
    assert abs(noise.std() - 0.1) < 0.003
    # a large level is clipped to the data range [0, 1]
    clipped = keras.ops.convert_to_numpy(layers.GaussianCorruption(0.8, seed=0)(x, training=True))
    assert clipped.min() == 0.0 and clipped.max() == 1.0
    assert 0.25 < (clipped == 0.0).mean() < 0.32  # P(N(0, 0.8) < -0.5) = 0.266


@pytest.mark.parametrize("level", [0.1, 0.5])
def test_masking_corruption_zeroes_a_fraction_level(level):
    x = grey(value=1.0)
    noisy = keras.ops.convert_to_numpy(layers.MaskingCorruption(level, seed=0)(x, training=True))
    assert set(np.unique(noisy)) <= {0.0, 1.0}
    assert abs((noisy == 0.0).mean() - level) < 0.01  # 50,176 values


@pytest.mark.parametrize("level", [0.1, 0.4])
def test_salt_and_pepper_sets_half_the_fraction_to_each_extreme(level):
    x = grey(value=0.5)
    noisy = keras.ops.convert_to_numpy(layers.SaltPepperCorruption(level, seed=0)(x, training=True))
    assert set(np.unique(noisy)) <= {0.0, 0.5, 1.0}
    assert abs((noisy == 0.0).mean() - level / 2) < 0.01
    assert abs((noisy == 1.0).mean() - level / 2) < 0.01
    assert abs((noisy != 0.5).mean() - level) < 0.01


@pytest.mark.parametrize(
    "cls, level",
    [
        (layers.GaussianCorruption, -0.1),
        (layers.MaskingCorruption, -0.1),
        (layers.MaskingCorruption, 1.0),
        (layers.SaltPepperCorruption, 1.5),
        (layers.GaussianCorruption, float("nan")),
        (layers.GaussianCorruption, "0.1"),
    ],
)
def test_corruption_rejects_a_bad_level(cls, level):
    with pytest.raises((ValueError, TypeError), match="`noise_level`.*noise_level="):
        cls(level)


# -------------------------------------------------------- sparsity regulariser


def _kl_by_hand(target, h):
    rho_hat = h.mean(axis=0)
    return np.sum(
        target * np.log(target / rho_hat) + (1 - target) * np.log((1 - target) / (1 - rho_hat))
    )


H = np.array(
    [[0.10, 0.02, 0.70], [0.30, 0.04, 0.10], [0.05, 0.01, 0.90], [0.15, 0.03, 0.20]],
    dtype="float32",
)


def test_sparsity_regularizer_kl_penalty_equals_the_hand_computation():
    layer = layers.SparsityRegularizer(sparsity="kl", target=0.05, weight=3.0)
    out = layer(H)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out), H)  # passes through
    assert len(layer.losses) == 1
    expected = 3.0 * _kl_by_hand(0.05, H.astype("float64"))
    np.testing.assert_allclose(float(layer.losses[0]), expected, rtol=1e-5)
    # the penalty is zero when every unit's mean activation is the target
    at_target = layers.SparsityRegularizer(target=0.2, weight=1.0)
    at_target(np.full((5, 4), 0.2, "float32"))
    assert abs(float(at_target.losses[0])) < 1e-6


def test_sparsity_regularizer_l1_penalty_equals_the_hand_computation():
    layer = layers.SparsityRegularizer(sparsity="l1", l1=0.01)
    layer(-H)  # |h|, so the sign does not matter
    expected = 0.01 * np.abs(H.astype("float64")).sum(axis=1).mean()
    np.testing.assert_allclose(float(layer.losses[0]), expected, rtol=1e-5)


def test_sparsity_regularizer_config_and_serialization_round_trip():
    layer = layers.SparsityRegularizer(sparsity="l1", target=0.1, weight=0.5, l1=0.02, name="s")
    for clone in (layers.SparsityRegularizer.from_config(layer.get_config()),
                  serialization_round_trip(layer)):  # fmt: skip
        assert type(clone) is layers.SparsityRegularizer
        assert clone.get_config() == layer.get_config()
        clone(H)
        np.testing.assert_allclose(float(clone.losses[0]), 0.02 * H.sum(axis=1).mean(), rtol=1e-5)


def test_sparsity_regularizer_reports_mean_activation_during_fit(mnist):
    keras.utils.set_random_seed(0)
    model = keras_ae.build_sparse_autoencoder(hidden_units=(32,), latent_dim=16)
    x = mnist[0][0][:256]
    history = model.fit(x, x, epochs=1, batch_size=64, verbose=0)
    assert {"mean_activation", "sparsity_loss"} <= set(history.history)
    assert 0.0 < history.history["mean_activation"][0] < 1.0
    assert history.history["sparsity_loss"][0] > 0.0


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"target": 0.0}, "target"),
        ({"target": 1.0}, "target"),
        ({"target": -0.5}, "target"),
        ({"sparsity": "l2"}, "sparsity"),
        ({"weight": -1.0}, "weight"),
        ({"l1": -1e-3}, "l1"),
    ],
)
def test_sparsity_regularizer_rejects_bad_arguments(kwargs, argument):
    with pytest.raises((ValueError, TypeError), match=f"`{argument}`.*{argument}="):
        layers.SparsityRegularizer(**kwargs)


# ------------------------------------------------------------- DenseTranspose


@pytest.fixture(scope="module")
def tied(x_small):
    keras.utils.set_random_seed(5)
    model = keras_ae.build_dense_autoencoder(hidden_units=(32,), latent_dim=8, tied_weights=True)
    model.fit(x_small, x_small, epochs=1, verbose=0)
    return model


def _tie_holds(model):
    enc = model.encoder
    for dec_name, enc_layer in [
        ("decoder_dense_1", "code"),
        ("decoder_dense_2", "encoder_dense_1"),
    ]:
        layer = model.decoder.get_layer(dec_name)
        assert isinstance(layer, layers.DenseTranspose)
        assert layer.source is enc.get_layer(enc_layer)
        assert layer.source.kernel is enc.get_layer(enc_layer).kernel


def test_dense_transpose_computes_the_transposed_dense(tied, x_small):
    _tie_holds(tied)
    code = tied.encoder.predict(x_small, verbose=0)
    layer = tied.decoder.get_layer("decoder_dense_1")
    kernel = keras.ops.convert_to_numpy(tied.encoder.get_layer("code").kernel)
    bias = keras.ops.convert_to_numpy(layer.bias)
    expected = np.maximum(code @ kernel.T + bias, 0.0)  # relu hidden activation
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(code)), expected, atol=1e-5)
    own = [w.path for w in layer.weights if w.path.startswith(f"{layer.name}/")]
    assert own == [f"{layer.name}/bias"]  # it creates only its bias
    # the kernels count once in the model: half of the untied model's kernels
    untied = keras_ae.build_dense_autoencoder(hidden_units=(32,), latent_dim=8)
    kernels = 784 * 32 + 32 * 8
    assert untied.count_params() - tied.count_params() == kernels


def test_dense_transpose_config_round_trip_inside_a_model(tied, x_small):
    layer = tied.decoder.get_layer("decoder_dense_2")
    config = layer.get_config()
    assert config["source"] == "encoder_dense_1" and config["activation"] == "sigmoid"
    # alone, the layer can't rebuild its tie: loading goes through the model
    with pytest.raises(TypeError, match="load the whole keras_ae model"):
        layers.DenseTranspose.from_config(config)
    revived = keras_ae.models.TiedAutoencoder.from_config(tied.get_config())
    assert revived.get_config() == tied.get_config()
    _tie_holds(revived)
    revived.set_weights(tied.get_weights())
    np.testing.assert_allclose(
        revived.predict(x_small, verbose=0), tied.predict(x_small, verbose=0), atol=1e-6
    )


def test_dense_transpose_serialization_round_trip_inside_a_model(tied, x_small, tmp_path):
    clone = serialization_round_trip(tied)
    assert type(clone) is type(tied) and clone.get_config() == tied.get_config()
    _tie_holds(clone)
    loaded = keras.saving.load_model(keras_ae.save_keras(tied, tmp_path / "tied.keras"))
    _tie_holds(loaded)
    np.testing.assert_allclose(
        loaded.predict(x_small, verbose=0), tied.predict(x_small, verbose=0), atol=1e-6
    )
    # training the reloaded model moves encoder and decoder together
    before = keras.ops.convert_to_numpy(loaded.encoder.get_layer("code").kernel).copy()
    loaded.fit(x_small, x_small, epochs=1, verbose=0)
    _tie_holds(loaded)
    after = keras.ops.convert_to_numpy(loaded.decoder.get_layer("decoder_dense_1").source.kernel)
    assert not np.allclose(before, after)


def test_dense_transpose_needs_a_dense_source():
    with pytest.raises(TypeError, match="`source`.*source="):
        layers.DenseTranspose(keras.layers.Conv2D(4, 3))


# ---------------------------------------------------------------- random draws


@pytest.mark.parametrize(
    "distribution, keras_draw", [("normal", keras.random.normal), ("uniform", keras.random.uniform)]
)
def test_random_draws_are_keras_randoms_numbers(distribution, keras_draw):
    expected = keras_draw((256, 16), dtype="float32", seed=keras.random.SeedGenerator(5))
    generator = keras.random.SeedGenerator(5)
    first = layers.random_draws(distribution, (256, 16), generator, "float32")
    second = layers.random_draws(distribution, (256, 16), generator, "float32")
    np.testing.assert_array_equal(np.asarray(first), np.asarray(expected))
    assert not np.array_equal(np.asarray(first), np.asarray(second))  # the generator moves on


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's algorithms")
def test_random_draws_name_philox_so_xla_need_not_derive_the_key_per_number():
    import tensorflow as tf

    generator = keras.random.SeedGenerator(0)
    graph = (
        tf.function(lambda: layers.random_draws("normal", (8, 4), generator, "float32"))
        .get_concrete_function()
        .graph
    )
    ops = {op.type for op in graph.get_operations()}
    assert "StatelessRandomNormalV2" in ops
    assert "StatelessRandomGetKeyCounter" not in ops  # auto_select's in-graph derivation


def test_random_draws_rejects_an_unknown_distribution():
    with pytest.raises(ValueError, match="`distribution`.*'normal', 'uniform'.*'gamma'"):
        layers.random_draws("gamma", (2,), keras.random.SeedGenerator(0), "float32")


# ---------------------------------------------------------------- Sampling


def test_sampling_layer_config_and_serialization_round_trip():
    layer = layers.Sampling(seed=7, name="sampling")
    config = layer.get_config()
    assert config["seed"] == 7
    assert layers.Sampling.from_config(config).get_config() == config
    blob = json.dumps(keras.saving.serialize_keras_object(layer))
    restored = keras.saving.deserialize_keras_object(json.loads(blob))
    assert type(restored) is layers.Sampling
    assert restored.get_config() == config


def test_sampling_layer_draws_fresh_reproducible_standard_normals():
    mean = np.zeros((20000, 8), "float32")
    log_var = np.zeros_like(mean)
    layer = layers.Sampling(seed=3)
    first = keras.ops.convert_to_numpy(layer([mean, log_var]))
    second = keras.ops.convert_to_numpy(layer([mean, log_var]))
    assert first.shape == mean.shape
    assert not np.allclose(first, second)  # successive calls draw anew
    again = keras.ops.convert_to_numpy(layers.Sampling(seed=3)([mean, log_var]))
    np.testing.assert_array_equal(first, again)  # same seed, new layer: same draw
    # eps ~ N(0, 1): 160,000 draws put the mean within 0.01 and the std within 0.005
    # (4 standard errors); use twice that.
    assert abs(first.mean()) < 0.02
    assert abs(first.std() - 1.0) < 0.01
    # mean + exp(log_var / 2) * eps: N(3, 2²)
    z = keras.ops.convert_to_numpy(layer([mean + 3.0, log_var + np.log(4.0)]))
    assert abs(z.mean() - 3.0) < 0.04 and abs(z.std() - 2.0) < 0.02


# ---------------------------------------------------------------- KL divergence


def test_kl_layer_adds_beta_times_the_known_kl():
    z_mean = np.array([[1.0, 0.0], [0.0, 0.0]], "float32")
    z_log_var = np.array([[0.0, np.log(2.0)], [0.0, 0.0]], "float32")
    # KL(N(μ, σ²) || N(0, 1)) = ½ Σ (μ² + σ² − 1 − log σ²): 1 − ½ log 2 and 0
    expected = (1.0 - 0.5 * np.log(2.0) + 0.0) / 2
    layer = layers.KLDivergence(beta=0.5)
    out_mean, out_log_var = layer([z_mean, z_log_var])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out_mean), z_mean)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out_log_var), z_log_var)
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), 0.5 * expected, rtol=1e-6)
    assert float(layer.kl_loss.result()) == 0.0  # reported by the model's compute_loss:
    layer.update_metrics()
    np.testing.assert_allclose(float(layer.kl_loss.result()), expected, rtol=1e-6)
    layer.beta.assign(2.0)  # beta is a variable: no rebuild needed
    layer([z_mean, z_log_var])
    np.testing.assert_allclose(float(layer.losses[0]), 2.0 * expected, rtol=1e-6)
    assert not layer.beta.trainable
    assert layer.get_config()["beta"] == 0.5

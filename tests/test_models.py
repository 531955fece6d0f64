"""One table of builders; every property is checked for every builder.

Later model kinds add a row to BUILDERS and get every check for free.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from conftest import call_without_keras_ae

import keras_ae
from keras_ae import models
from keras_ae.trunks import Trunk

BUILDERS = {
    "dense": lambda: keras_ae.build_dense_autoencoder(hidden_units=(64,), latent_dim=8),
    "conv": lambda: keras_ae.build_conv_autoencoder(filters=(8, 16), latent_dim=8),
    "tied": lambda: keras_ae.build_dense_autoencoder(
        hidden_units=(64,), latent_dim=8, tied_weights=True
    ),
    "denoising": lambda: keras_ae.build_denoising_autoencoder(
        filters=(8, 16), latent_dim=8, seed=1
    ),
    "sparse": lambda: keras_ae.build_sparse_autoencoder(hidden_units=(64,), latent_dim=16),
    "contractive": lambda: keras_ae.build_contractive_autoencoder(hidden_units=(32,), latent_dim=8),
    "vae": lambda: keras_ae.build_vae(hidden_units=(64,), latent_dim=2, seed=1),
    "vae_conv": lambda: keras_ae.build_vae(architecture="conv", filters=(8, 16), latent_dim=4),
}


def deterministic_output(model, x):
    """The clean reconstruction: ``reconstruct`` where a model samples, else ``predict``."""
    if hasattr(model, "reconstruct"):
        return model.reconstruct(x)
    return model.predict(x, verbose=0)


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def trained(request, mnist):
    """Each builder's model after one short epoch on 512 digits."""
    keras.utils.set_random_seed(0)
    model = BUILDERS[request.param]()
    x = mnist[0][0][:512]
    history = model.fit(x, x, epochs=1, batch_size=64, verbose=0)
    return request.param, model, history


def test_output_shape_matches_input(trained, x_small):
    _, model, _ = trained
    assert model.output_shape == model.input_shape == (None, 28, 28, 1)
    assert model.predict(x_small, verbose=0).shape == x_small.shape


def test_encoder_and_decoder_work_alone(trained, x_small):
    kind, model, _ = trained
    encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
    assert encoder is model.encoder and decoder is model.decoder
    code = encoder.predict(x_small, verbose=0)
    code = code[0] if isinstance(code, list) else code
    assert code.shape == (len(x_small), model.spec["latent_dim"])
    assert decoder.predict(code, verbose=0).shape == x_small.shape
    assert model.name.startswith(kind.split("_")[0])


def test_one_fit_epoch_gives_finite_decreasing_loss(trained):
    _, _, history = trained
    assert np.isfinite(history.history["loss"]).all()


def test_keras_round_trip_gives_equal_outputs(trained, x_small, tmp_path):
    _, model, _ = trained
    path = keras_ae.save_keras(model, tmp_path / "model.keras")
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded) is type(model)
    np.testing.assert_allclose(
        deterministic_output(loaded, x_small), deterministic_output(model, x_small), atol=1e-6
    )
    # the reloaded model keeps the builder's compile defaults and trains on
    loaded.fit(x_small, x_small, epochs=1, verbose=0)


def test_saved_model_in_a_process_without_keras_ae(trained, x_small, tmp_path):
    _, model, _ = trained
    path = keras_ae.export_saved_model(model, tmp_path / "sm")
    code = model.encoder.predict(x_small, verbose=0)
    codes = code if isinstance(code, list) else [code]
    inputs = {}
    for batch in (1, 17):
        inputs[f"serve__{batch}"] = x_small[:batch]
        inputs[f"reconstruct__{batch}"] = x_small[:batch]
        inputs[f"encode__{batch}"] = x_small[:batch]
        inputs[f"decode__{batch}"] = codes[0][:batch]
    inputs["encode__tfsm"] = x_small[:5]
    result = call_without_keras_ae(path, inputs, tmp_path)
    assert {"serve", "reconstruct", "encode", "decode"} <= set(result["__signatures__"])
    for batch in (1, 17):
        expected = deterministic_output(model, x_small[:batch])
        np.testing.assert_allclose(result[f"serve__{batch}__0"], expected, atol=1e-5)
        np.testing.assert_allclose(result[f"reconstruct__{batch}__0"], expected, atol=1e-5)
        for i, c in enumerate(codes):
            np.testing.assert_allclose(result[f"encode__{batch}__{i}"], c[:batch], atol=1e-5)
        np.testing.assert_allclose(
            result[f"decode__{batch}__0"],
            model.decoder.predict(codes[0][:batch], verbose=0),
            atol=1e-5,
        )
    np.testing.assert_allclose(result["tfsm__0"], codes[0][:5], atol=1e-5)


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3), (64, 64, 1), (27, 30, 2)])
def test_conv_autoencoder_takes_any_image_shape(shape):
    model = keras_ae.build_conv_autoencoder(input_shape=shape, filters=(4, 8, 8), latent_dim=4)
    x = np.random.default_rng(0).random((3, *shape)).astype("float32")
    assert model.predict(x, verbose=0).shape == x.shape
    assert model.encoder.predict(x, verbose=0).shape == (3, 4)


def test_tied_weights_halve_the_kernel_parameters():
    untied = keras_ae.build_dense_autoencoder(hidden_units=(64,), latent_dim=8)
    tied = keras_ae.build_dense_autoencoder(hidden_units=(64,), latent_dim=8, tied_weights=True)

    def kernel_params(model):
        seen = {id(w): w for w in model.weights if w.name == "kernel"}
        return sum(int(np.prod(w.shape)) for w in seen.values())

    assert kernel_params(tied) * 2 == kernel_params(untied)
    enc = tied.encoder.get_layer("encoder_dense_1").kernel
    dec = tied.decoder.get_layer("decoder_dense_2")
    assert dec.source.kernel is enc


def test_a_model_class_without_a_default_loss_refuses_auto():
    """KerasAEModel's own hooks: Adam(1e-3), no metrics, no default loss."""

    class Plain(models.KerasAEModel):
        pass

    inputs = keras.Input((4,))
    model = Plain(inputs, keras.layers.Dense(4)(inputs))
    with pytest.raises(ValueError, match=r"`loss`.*Plain.*Received: loss='auto'"):
        model.compile()
    model.compile(loss="mse")
    assert model.optimizer.learning_rate.numpy() == pytest.approx(1e-3)
    x = np.ones((8, 4), "float32")
    history = model.fit(x, x, epochs=2, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]


def test_compile_defaults_follow_the_output_activation():
    assert keras_ae.build_dense_autoencoder().loss == "binary_crossentropy"
    linear = keras_ae.build_dense_autoencoder(activation=None, output_activation=None)
    assert linear.loss == "mean_squared_error"
    linear.compile(optimizer="sgd", loss="mae")  # an explicit compile wins
    assert linear.loss == "mae"


@pytest.mark.parametrize(
    "builder, kwargs, argument",
    [
        (keras_ae.build_dense_autoencoder, {"latent_dim": 0}, "latent_dim"),
        (keras_ae.build_dense_autoencoder, {"latent_dim": 2.5}, "latent_dim"),
        (keras_ae.build_dense_autoencoder, {"hidden_units": (64, -1)}, "hidden_units"),
        (keras_ae.build_dense_autoencoder, {"hidden_units": "64"}, "hidden_units"),
        (keras_ae.build_dense_autoencoder, {"input_shape": (28, None)}, "input_shape"),
        (keras_ae.build_dense_autoencoder, {"input_shape": ()}, "input_shape"),
        (keras_ae.build_dense_autoencoder, {"activation": "relux"}, "activation"),
        (keras_ae.build_dense_autoencoder, {"output_activation": 3}, "output_activation"),
        (keras_ae.build_dense_autoencoder, {"tied_weights": "yes"}, "tied_weights"),
        (keras_ae.build_conv_autoencoder, {"filters": ()}, "filters"),
        (keras_ae.build_conv_autoencoder, {"input_shape": (784,)}, "input_shape"),
        (keras_ae.build_conv_autoencoder, {"input_shape": (1, 2, 3, 4)}, "input_shape"),
        (keras_ae.build_conv_autoencoder, {"kernel_size": 0}, "kernel_size"),
    ],
)
def test_bad_arguments_name_the_argument_and_value(builder, kwargs, argument):
    with pytest.raises((ValueError, TypeError)) as err:
        builder(**kwargs)
    message = str(err.value)
    assert f"`{argument}`" in message and f"{argument}=" in message


@pytest.fixture
def mixed_bfloat16():
    """The global dtype policy set to mixed_bfloat16 for one test, then restored."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    yield
    keras.config.set_dtype_policy(previous)


@pytest.mark.parametrize("kind", ["dense", "conv", "sparse", "vae_conv"])
def test_mixed_precision_trains_in_bfloat16_and_serves_float32(
    kind, mixed_bfloat16, mnist, x_small, tmp_path
):
    keras.utils.set_random_seed(0)
    model = BUILDERS[kind]()
    hidden = next(layer for layer in model.encoder.layers if layer.weights)
    assert hidden.compute_dtype == "bfloat16" and hidden.variable_dtype == "float32"
    x = mnist[0][0][:512]
    history = model.fit(x, x, epochs=2, batch_size=64, verbose=0)
    losses = history.history["loss"]
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
    expected = deterministic_output(model, x_small)
    assert expected.dtype == np.float32
    code = model.encoder.predict(x_small, verbose=0)
    assert all(c.dtype == np.float32 for c in (code if isinstance(code, list) else [code]))

    loaded = keras.saving.load_model(keras_ae.save_keras(model, tmp_path / "m.keras"))
    np.testing.assert_allclose(deterministic_output(loaded, x_small), expected, atol=1e-6)
    import tensorflow as tf

    served = tf.saved_model.load(str(keras_ae.export_saved_model(model, tmp_path / "sm")))
    out = served.serve(tf.constant(x_small)).numpy()
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected, atol=1e-2)


# ------------------------------------------------------------ the classes


@pytest.mark.parametrize(
    "cls, arguments, expected",
    [
        (models.Autoencoder, {}, {}),
        (
            models.DenoisingAutoencoder,
            {"noise": "masking", "seed": 2},
            {"noise_level": 0.4},
        ),
        (models.SparseAutoencoder, {"sparsity": "l1", "l1": 1e-3}, {"target": 0.05}),
        (
            models.ContractiveAutoencoder,
            {"penalty": "exact", "contractive_weight": 0.01},
            {"projections": 1},
        ),
        (
            models.VariationalAutoencoder,
            {"beta": 0.5, "seed": 4},
            {"likelihood": "bernoulli"},
        ),
    ],
)
def test_a_class_takes_a_trunk_and_its_own_arguments_and_round_trips_its_config(
    cls, arguments, expected
):
    """keras-hub style: named arguments, validated in ``__init__``; ``get_config``
    is Keras's (name, trainable, dtype policy) plus the trunk and those arguments."""
    code = "relu" if arguments.get("sparsity") == "l1" else None
    trunk = Trunk((12,), hidden_units=(6,), latent_dim=3, code_activation=code)
    if cls is models.SparseAutoencoder and code is None:
        trunk = Trunk((12,), hidden_units=(6,), latent_dim=3, code_activation="sigmoid")
    model = cls(trunk, **arguments, name="m")
    config = model.get_config()
    assert config["name"] == "m" and config["trainable"] is True
    assert config["dtype"]["config"]["name"] == "float32"
    assert config["trunk"] == trunk.get_config()
    assert {**arguments, **expected}.items() <= config.items()
    clone = cls.from_config(config)
    assert type(clone) is cls and clone.get_config() == config


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: models.DenoisingAutoencoder(noise="pink"), "noise"),
        (lambda: models.DenoisingAutoencoder(seed=-1), "seed"),
        (lambda: models.SparseAutoencoder(target=1.5), "target"),
        (lambda: models.SparseAutoencoder(Trunk()), "code_activation"),
        (lambda: models.ContractiveAutoencoder(projections=0), "projections"),
        (
            lambda: models.VariationalAutoencoder(likelihood="gaussian"),
            "output_activation",
        ),
        (lambda: models.TiedAutoencoder({"architecture": "conv"}), "trunk.architecture"),
        (lambda: models.Autoencoder({"latent": 3}), "latent"),
        (lambda: models.Autoencoder("dense"), "trunk"),
    ],
)
def test_a_class_refuses_a_bad_argument_naming_it(call, argument):
    with pytest.raises((ValueError, TypeError)) as err:
        call()
    assert argument in str(err.value) and "Received" in str(err.value)


def test_compile_auto_is_the_one_place_of_the_defaults_and_a_reloaded_model_uses_it(tmp_path):
    model = keras_ae.build_sparse_autoencoder((12,), hidden_units=(6,), latent_dim=8)
    model.compile(optimizer="sgd", loss="mae")  # a user's own compile wins ...
    assert model.loss == "mae"
    loaded = keras.saving.load_model(keras_ae.save_keras(model, tmp_path / "m.keras"))
    assert loaded.loss == "mae"  # ... and is what the file reloads with
    loaded.compile()  # back to the kind's defaults
    assert loaded.loss == "binary_crossentropy"
    assert isinstance(loaded.optimizer, keras.optimizers.Adam)
    assert np.isclose(float(keras.ops.convert_to_numpy(loaded.optimizer.learning_rate)), 3e-3)
    settings = keras_ae.backend.compile_speed("dense", (12,))
    assert loaded.steps_per_execution == settings.get("steps_per_execution", 1)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.distribute scope")
def test_compile_leaves_out_the_speed_settings_inside_a_distribution():
    """TensorFlow 2.21 refuses XLA and steps_per_execution inside tf.distribute:
    the one compile site leaves them out for every kind, the classifier too."""
    import tensorflow as tf

    series = {"input_shape": (16, 1), "filters": (4,), "latent_dim": 2}  # a Conv1D trunk
    with tf.distribute.MirroredStrategy(["/cpu:0"]).scope():
        built = [
            keras_ae.build_dense_autoencoder((12,), hidden_units=(6,), latent_dim=3),
            keras_ae.build_vae((12,), hidden_units=(6,), latent_dim=2),
            keras_ae.build_conv_autoencoder(**series),
        ]
    outside = keras_ae.build_conv_autoencoder(**series)  # a trunk with speed settings
    assert outside.steps_per_execution == 32
    for model in built:
        assert model.steps_per_execution == 1 and model.jit_compile is not True
        model.compile()  # recompiling keeps the guard
        assert model.steps_per_execution == 1


def test_the_spec_view_flattens_the_arguments_as_0_1_0_did():
    model = keras_ae.build_contractive_autoencoder((12,), hidden_units=(6,), latent_dim=3, seed=5)
    assert model.spec == {
        "kind": "contractive",
        **model.trunk.get_config(),
        "contractive_weight": 1e-4,
        "penalty": "hutchinson",
        "projections": 1,
        "seed": 5,
    }

"""One table of builders; every property is checked for every builder.

Later model kinds add a row to BUILDERS and get every check for free.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from conftest import call_without_keras_ae

import keras_ae

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

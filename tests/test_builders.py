"""The builders' one signature shape, their defaults and the 0.1.0 positional path."""

from __future__ import annotations

import inspect

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae import builders, models

PUBLIC_BUILDERS = [
    keras_ae.build_dense_autoencoder,
    keras_ae.build_conv_autoencoder,
    keras_ae.build_denoising_autoencoder,
    keras_ae.build_sparse_autoencoder,
    keras_ae.build_contractive_autoencoder,
    keras_ae.build_vae,
    keras_ae.build_lstm_autoencoder,
]


@pytest.mark.backends
@pytest.mark.parametrize("builder", PUBLIC_BUILDERS, ids=lambda b: b.__name__)
def test_every_builder_takes_input_shape_then_explicit_keywords(builder):
    """``help()`` shows every argument: input_shape first, the rest keyword-only,
    no ``*args``/``**kwargs`` catch-all, and each argument documented."""
    parameters = list(inspect.signature(builder).parameters.values())
    assert parameters[0].name == "input_shape"
    assert parameters[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    for parameter in parameters[1:]:
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, parameter.name
    assert "name" in [p.name for p in parameters]
    for parameter in parameters:
        assert f"    {parameter.name}:" in builder.__doc__, parameter.name


SHARED_DEFAULTS = {
    "hidden_units": (None, (256, 128)),
    "activation": ("relu",),
    "kernel_size": (3,),
    "filters": (None, (32, 64)),
    "code_activation": (None,),
    "normalize": (False,),
    "name": (None,),
}


@pytest.mark.parametrize("builder", PUBLIC_BUILDERS[:-1], ids=lambda b: b.__name__)
def test_image_builders_share_their_trunk_defaults(builder):
    """The same default wherever an argument appears; the documented exceptions
    (the sparse code's "auto", the VAE's wider dense trunk set inside) aside."""
    for parameter in inspect.signature(builder).parameters.values():
        if parameter.name in SHARED_DEFAULTS and not (
            builder is keras_ae.build_sparse_autoencoder and parameter.name == "code_activation"
        ):
            assert parameter.default in SHARED_DEFAULTS[parameter.name], parameter.name


@pytest.mark.parametrize(
    "builder, positional, keywords",
    [
        (
            keras_ae.build_dense_autoencoder,
            ((784,), (16,), 4, None, None, "old"),
            {
                "hidden_units": (16,),
                "latent_dim": 4,
                "activation": None,
                "output_activation": None,
                "name": "old",
            },
        ),
        (
            keras_ae.build_conv_autoencoder,
            ((16, 16, 1), (4,), 3, 5),
            {"filters": (4,), "latent_dim": 3, "kernel_size": 5},
        ),
        (keras_ae.build_vae, ((784,), "dense", 3), {"architecture": "dense", "latent_dim": 3}),
        (keras_ae.build_lstm_autoencoder, ((8, 2), (4,), 2), {"units": (4,), "latent_dim": 2}),
    ],
    ids=["dense", "conv", "vae", "lstm"],
)
@pytest.mark.backends
def test_the_0_1_0_positional_order_still_builds_the_same_model(builder, positional, keywords):
    with pytest.warns(DeprecationWarning, match="by keyword"):
        old = builder(*positional)
    assert old.get_config() == builder(positional[0], **keywords).get_config()


def test_too_many_or_repeated_positional_arguments_are_refused():
    with pytest.raises(TypeError, match="input_shape` and keyword arguments"):
        keras_ae.build_vae((784,), "dense", 2, 3)
    with pytest.raises(TypeError, match="`latent_dim` both by position and by keyword"):
        keras_ae.build_dense_autoencoder((784,), (16,), 4, latent_dim=4)


@pytest.mark.parametrize(
    "build, cls, learning_rate, loss",
    [
        (
            lambda: keras_ae.build_dense_autoencoder(),
            models.Autoencoder,
            1e-3,
            "binary_crossentropy",
        ),
        (
            lambda: keras_ae.build_dense_autoencoder((5,), normalize=True),
            models.Autoencoder,
            1e-3,
            "mean_squared_error",
        ),
        (lambda: keras_ae.build_denoising_autoencoder(), models.DenoisingAutoencoder, 3e-3, None),
        (
            lambda: keras_ae.build_denoising_autoencoder(architecture="dense"),
            models.DenoisingAutoencoder,
            1e-3,
            None,
        ),
        (lambda: keras_ae.build_sparse_autoencoder(), models.SparseAutoencoder, 3e-3, None),
        (lambda: keras_ae.build_vae(), models.VariationalAutoencoder, 1e-3, "bernoulli_nll"),
    ],
    ids=["dense", "normalize", "denoising_conv", "denoising_dense", "sparse", "vae"],
)
def test_builders_compile_with_the_class_defaults(build, cls, learning_rate, loss):
    model = build()
    assert type(model) is cls
    assert np.isclose(
        float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)), learning_rate
    )
    if cls is models.VariationalAutoencoder:
        assert model.loss is keras_ae.losses.bernoulli_nll
    elif loss is not None:
        assert model.loss == loss


def test_the_denoising_default_code_follows_its_trunk():
    assert keras_ae.build_denoising_autoencoder().trunk.latent_dim == 128
    assert keras_ae.build_denoising_autoencoder(architecture="dense").trunk.latent_dim == 32
    assert keras_ae.build_denoising_autoencoder(latent_dim=8).trunk.latent_dim == 8


def test_builders_module_keeps_its_0_1_0_names():
    assert builders.CONTRACTIVE_PENALTIES == ("exact", "hutchinson")
    assert builders.LIKELIHOODS == {"bernoulli": "sigmoid", "gaussian": None}

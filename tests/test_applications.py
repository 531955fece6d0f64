"""Applications: the linear autoencoder finds PCA's subspace (dimensionality reduction)."""

from __future__ import annotations

import math

import keras
import pytest

import keras_ae
from keras_ae.baselines import PCA
from keras_ae.metrics import mse, reconstruction_mse

CODE_SIZE = 8
EPOCHS = 15
BATCH_SIZE = 128


def linear_autoencoder(latent_dim: int, steps: int) -> keras.Model:
    """784 → q → 784 without activations, Adam from 1e-2 with a cosine decay over ``steps``."""
    model = keras_ae.build_dense_autoencoder(
        hidden_units=(), latent_dim=latent_dim, activation="linear", output_activation=None
    )
    model.compile(
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(1e-2, steps)),
        loss="mean_squared_error",
        jit_compile=True,
        steps_per_execution=32,
    )
    return model


def test_linear_is_a_valid_activation_name_for_the_linear_autoencoder():
    named = keras_ae.build_dense_autoencoder(hidden_units=(), activation="linear")
    none = keras_ae.build_dense_autoencoder(hidden_units=(), activation=None)
    assert named.spec["activation"] == "linear"
    assert named.count_params() == none.count_params() == 2 * 784 * 32 + 32 + 784


def test_linear_autoencoder_reaches_pca_and_not_below(mnist):
    (x_train, _), (x_test, _) = mnist
    keras.utils.set_random_seed(0)
    steps = EPOCHS * math.ceil(len(x_train) / BATCH_SIZE)
    model = linear_autoencoder(CODE_SIZE, steps)
    model.fit(x_train, x_train, epochs=EPOCHS, batch_size=BATCH_SIZE, verbose=0)
    pca = PCA(CODE_SIZE).fit(x_train)
    linear_test = reconstruction_mse(model, x_test)
    pca_test = mse(x_test, pca.reconstruct(x_test))
    # PCA's subspace is the optimum on the training set: the linear AE gets close ...
    assert linear_test == pytest.approx(pca_test, rel=0.03), (linear_test, pca_test)
    # ... and cannot beat it there; on the test set only by chance, and barely.
    pca_train = mse(x_train, pca.reconstruct(x_train))
    assert reconstruction_mse(model, x_train) >= 0.999 * pca_train
    assert linear_test >= 0.995 * pca_test

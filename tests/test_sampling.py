"""keras_ae.sampling: the denoising chain."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae import sampling


@pytest.fixture(scope="module")
def dae(mnist):
    keras.utils.set_random_seed(0)
    model = keras_ae.build_denoising_autoencoder(
        filters=(8, 16), latent_dim=16, noise_level=0.4, seed=0
    )
    x = mnist[0][0][:2048]
    model.fit(x, x, epochs=1, batch_size=64, verbose=0)
    return model


def test_denoising_chain_shapes_range_and_moves(dae, x_small):
    x0 = x_small[:6]
    chain = sampling.denoising_chain(dae, x0, steps=5, seed=1)
    assert chain.shape == (6, *x0.shape) and chain.dtype == np.float32
    np.testing.assert_array_equal(chain[0], x0)
    assert chain.min() >= 0.0 and chain.max() <= 1.0
    assert np.abs(chain[-1] - x0).mean() > 0.02  # the chain changes the images
    assert np.abs(chain[2] - chain[1]).mean() > 1e-3  # each step corrupts anew
    np.testing.assert_array_equal(chain, sampling.denoising_chain(dae, x0, steps=5, seed=1))
    assert not np.array_equal(chain, sampling.denoising_chain(dae, x0, steps=5, seed=2))
    # without noise a step is the model's reconstruction
    quiet = sampling.denoising_chain(dae, x0, steps=1, noise_level=0.0)
    np.testing.assert_allclose(quiet[1], dae.predict(x0, verbose=0), atol=1e-6)


def test_denoising_chain_needs_a_noise_level_without_corruption_layer(x_small):
    model = keras_ae.build_dense_autoencoder(hidden_units=(16,), latent_dim=4)
    with pytest.raises(ValueError, match="noise_level"):
        sampling.denoising_chain(model, x_small[:2], steps=2)
    assert sampling.denoising_chain(model, x_small[:2], steps=2, noise_level=0.3).shape[0] == 3

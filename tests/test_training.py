"""Real training on the embedded data."""

from __future__ import annotations

import keras

import keras_ae
from keras_ae.metrics import pca_mse, reconstruction_mse


def test_default_dense_autoencoder_learns_in_three_epochs(mnist):
    (x_train, _), (x_test, _) = mnist
    keras.utils.set_random_seed(1)
    model = keras_ae.build_dense_autoencoder()
    untrained = reconstruction_mse(model, x_test)
    model.fit(x_train, x_train, epochs=3, batch_size=128, verbose=0)
    trained = reconstruction_mse(model, x_test)
    print(f"test MSE untrained {untrained:.4f}, after 3 epochs {trained:.4f}")
    assert trained < 0.05
    assert trained < 0.5 * untrained
    # PCA with 32 components is the linear reference; a short run gets near it
    assert trained < 2.0 * pca_mse(x_train, x_test, 32)

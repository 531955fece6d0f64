"""Real training on the embedded data."""

from __future__ import annotations

import keras
import numpy as np
import pytest

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


def test_fit_without_targets_and_validation_split_follow_keras(mnist):
    """fit(x) trains on x as its own target; validation_split holds out the last samples,
    exactly as Keras does, so the final val_loss is the loss on those samples."""
    x = mnist[0][0][:1200]
    keras.utils.set_random_seed(4)
    model = keras_ae.build_dense_autoencoder()
    history = model.fit(x, epochs=2, batch_size=128, validation_split=0.25, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]
    held_out = x[900:]  # floor(1200 * 0.75) = 900, Keras's split point
    val_loss = history.history["val_loss"][-1]
    assert abs(val_loss - model.evaluate(held_out, held_out, verbose=0)) < 1e-5
    assert abs(model.evaluate(held_out, verbose=0) - val_loss) < 1e-5  # evaluate(x) too


def test_fit_with_other_targets_learns_those_targets(mnist):
    """Targets that are not the inputs go through Keras's path and are learned."""
    x = mnist[0][0][:1024]
    flipped = 1.0 - x
    keras.utils.set_random_seed(5)
    model = keras_ae.build_dense_autoencoder()
    model.fit(x, flipped, epochs=3, batch_size=64, verbose=0)
    to_flipped = model.evaluate(x, flipped, verbose=0)
    to_inputs = model.evaluate(x, x, verbose=0)
    print(f"BCE to the flipped targets {to_flipped:.3f}, to the inputs {to_inputs:.3f}")
    assert to_flipped < 0.5 * to_inputs


@pytest.mark.parametrize(
    ("split", "error"), [(1.0, ValueError), (-0.1, ValueError), ("0.2", TypeError)]
)
def test_bad_validation_split_names_the_argument(mnist, split, error):
    model = keras_ae.build_dense_autoencoder(hidden_units=(), latent_dim=4)
    with pytest.raises(error, match=r"validation_split.*Received: validation_split="):
        model.fit(mnist[1][0][:100], epochs=1, validation_split=split, verbose=0)


def test_conv1d_trunks_compile_with_xla_and_steps_per_execution():
    """A conv trunk on series compiles with XLA and 32 steps per execution and
    trains; one on images keeps Keras's compile defaults."""
    series = keras_ae.build_conv_autoencoder(
        (16, 1), filters=(4,), latent_dim=2, output_activation=None
    )
    images = keras_ae.build_conv_autoencoder((8, 8, 1), filters=(4,), latent_dim=2)
    assert (series.jit_compile, series.steps_per_execution) == (True, 32)
    assert (images.jit_compile, images.steps_per_execution) == (False, 1)
    x = np.sin(np.linspace(0, 40, 512 * 16)).reshape(512, 16, 1).astype("float32")
    history = series.fit(x, epochs=2, batch_size=8, verbose=0)
    assert int(series.optimizer.iterations.numpy()) == 128
    assert history.history["loss"][1] < history.history["loss"][0]

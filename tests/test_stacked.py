"""keras_ae.stacked: the classifier's one compile site, compile('auto')."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_ae import backend, stacked


def _encoder() -> keras.Model:
    inputs = keras.Input((28, 28, 1))
    code = keras.layers.Dense(16, activation="sigmoid")(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, code, name="encoder")


def test_compile_auto_holds_the_defaults_and_a_reloaded_model_recompiles(mnist, tmp_path):
    (x_train, y_train), _ = mnist
    keras.utils.set_random_seed(0)
    model = stacked.build_stacked_classifier(_encoder(), 10, freeze_encoder=True)
    assert model.loss == "sparse_categorical_crossentropy"
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)
    assert model.steps_per_execution == backend.compile_speed("dense").get("steps_per_execution", 1)
    model.save(tmp_path / "classifier.keras")
    loaded = keras.saving.load_model(tmp_path / "classifier.keras")
    loaded.set_encoder_trainable(True)  # compiles again with compile()
    assert loaded.loss == "sparse_categorical_crossentropy" and loaded.encoder.trainable
    history = loaded.fit(x_train[:512], y_train[:512], epochs=2, batch_size=64, verbose=0)
    losses = history.history["loss"]
    assert "accuracy" in history.history and losses[-1] < 0.97 * losses[0]


def test_compile_auto_leaves_out_the_speed_settings_in_a_distribution():
    tf = pytest.importorskip("tensorflow")
    if backend.name() != "tensorflow":
        pytest.skip("a tf.distribute strategy scope")
    with tf.distribute.MirroredStrategy(["/cpu:0"]).scope():
        model = stacked.build_stacked_classifier(_encoder(), 10)
    assert model.steps_per_execution == 1 and not model.jit_compile
    x = np.zeros((8, 28, 28, 1), "float32")
    assert model.predict(x, verbose=0).shape == (8, 10)

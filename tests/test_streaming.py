"""keras_ae.streaming: a .npy array read from disk batch by batch, and what counts as a stream."""

from __future__ import annotations

import numpy as np
import pytest

import keras_ae
from keras_ae import streaming


def test_streaming_source_yields_the_in_memory_batches(tmp_path, mnist):
    x = (mnist[0][0][:1000] * 255).round().astype("uint8")
    path = tmp_path / "x.npy"
    np.save(path, x)
    source = streaming.from_array_file(path, batch_size=128, shuffle=False)
    assert len(source) == 8
    in_memory = x.astype("float32") / 255.0
    for i in range(len(source)):
        xb, yb = source[i]
        np.testing.assert_array_equal(xb, in_memory[i * 128 : (i + 1) * 128])
        np.testing.assert_array_equal(xb, yb)
    shuffled = streaming.from_array_file(path, batch_size=128, seed=0)
    firsts = sorted(float(shuffled[i][0][0].sum()) for i in range(len(shuffled)))
    assert firsts == sorted(float(in_memory[i * 128].sum()) for i in range(8))
    model = keras_ae.build_dense_autoencoder(hidden_units=(16,), latent_dim=4)
    model.compile(optimizer="adam", loss="mse")  # Keras's plain loop: the data path is under test
    history = model.fit(source, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    # the stream gives the loss the arrays give, batch for batch
    streamed = model.evaluate(source, verbose=0)
    np.testing.assert_allclose(
        streamed, model.evaluate(in_memory, in_memory, batch_size=128, verbose=0), rtol=1e-5
    )
    with pytest.raises(ValueError, match="path"):
        streaming.from_array_file(tmp_path / "missing.npy")
    only_x = streaming.from_array_file(path, batch_size=300, shuffle=False, targets="none")
    assert len(only_x) == 4 and only_x[3].shape == (100, 28, 28, 1)  # 1000 = 3 * 300 + 100
    np.testing.assert_array_equal(only_x[3], in_memory[900:])
    assert model.predict(only_x, verbose=0).shape == (1000, 28, 28, 1)
    with pytest.raises(ValueError, match="targets"):
        streaming.from_array_file(path, targets="x")


def test_is_stream_tells_streams_from_arrays(tmp_path):
    import tensorflow as tf

    path = tmp_path / "x.npy"
    np.save(path, np.zeros((4, 3), "float32"))
    assert streaming.is_stream(streaming.from_array_file(path, batch_size=2))
    assert streaming.is_stream(tf.data.Dataset.from_tensor_slices(np.zeros((4, 3))))
    assert not streaming.is_stream(np.zeros((4, 3)))
    assert not streaming.is_stream([[0.0, 1.0]])

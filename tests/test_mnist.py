"""keras_ae.mnist.load_mnist: shapes, ranges, labels, sources and offline errors."""

from __future__ import annotations

import numpy as np
import pytest

from keras_ae import mnist as mnist_module


def test_embedded_split_shapes_ranges_and_labels(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (8000, 28, 28, 1) and x_test.shape == (2000, 28, 28, 1)
    assert x_train.dtype == np.float32 and y_train.dtype == np.uint8
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))
    # stratified 80/20 split: every digit has about a tenth of each set
    assert np.bincount(y_test).min() > 150 and np.bincount(y_train).min() > 600


def test_embedded_data_is_the_documented_file():
    assert mnist_module.sha256(mnist_module.EMBEDDED_PATH) == mnist_module.EMBEDDED_SHA256


def test_embedded_split_is_always_the_same(mnist):
    (x_again, y_again), _ = mnist_module.load_mnist(source="embedded")
    np.testing.assert_array_equal(x_again, mnist[0][0])
    np.testing.assert_array_equal(y_again, mnist[0][1])


def test_unknown_source_lists_the_valid_ones():
    with pytest.raises(ValueError, match="source") as err:
        mnist_module.load_mnist(source="mnist.org")
    assert "'embedded'" in str(err.value) and "'keras'" in str(err.value)
    assert "mnist.org" in str(err.value)


def test_keras_source_offline_names_the_embedded_source(monkeypatch):
    import keras

    def unreachable(*args, **kwargs):
        raise Exception("URL fetch failure: [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", unreachable)
    with pytest.raises(ConnectionError, match='source="embedded"'):
        mnist_module.load_mnist(source="keras")


def test_auto_uses_embedded_without_keras_cache(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with caplog.at_level("INFO", logger="keras_ae"):
        (x_train, _), _ = mnist_module.load_mnist(source="auto")
    assert len(x_train) == 8000
    assert "embedded" in caplog.text


def test_auto_uses_keras_cache_when_present(monkeypatch, tmp_path, caplog):
    import keras

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    cache = tmp_path / "datasets" / "mnist.npz"
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"cached")
    fake = np.zeros((3, 28, 28), np.uint8), np.arange(3, dtype=np.uint8)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: (fake, fake))
    with caplog.at_level("INFO", logger="keras_ae"):
        (x_train, y_train), _ = mnist_module.load_mnist(source="auto")
    assert x_train.shape == (3, 28, 28, 1) and "keras" in caplog.text

"""keras_ae.datasets, the index of the data sources: every name it lists is the
one object of the module that holds it (MNIST, tables, series, streams)."""

from __future__ import annotations

import numpy as np
import pytest

import keras_ae
from keras_ae import datasets, images, mnist, series, streaming, tables

HOMES = {
    "load_mnist": mnist,
    "sha256": mnist,
    "EMBEDDED_PATH": mnist,
    "EMBEDDED_SHA256": mnist,
    "SOURCES": mnist,
    "from_table": tables,
    "load_breast_cancer": tables,
    "Table": tables,
    "make_windows": series,
    "windows_to_points": series,
    "Standardizer": series,
    "standardize": series,
    "synthetic_series": series,
    "SyntheticSeries": series,
    "ANOMALY_KINDS": series,
    "from_array_file": streaming,
    "from_directory": images,
    "ImageFolder": images,
}


@pytest.mark.parametrize("name", sorted(HOMES))
def test_every_name_is_its_home_modules_object(name):
    assert name in datasets.__all__
    assert getattr(datasets, name) is getattr(HOMES[name], name)


def test_the_index_lists_only_names_it_holds_and_its_docstring_names_each_home():
    assert all(hasattr(datasets, name) for name in datasets.__all__)
    for module in {*HOMES.values()}:
        assert f":mod:`{module.__name__}`" in datasets.__doc__


def test_training_rows_cover_every_row_once_an_epoch_in_a_new_order():
    """fit(x)'s batches of row indices: each epoch is a permutation of the rows (a new
    one every epoch, the same one for the same seed), cut into batches as Keras cuts
    them; ``take`` returns those rows, and ``release`` drops the held array."""
    import keras

    x = np.arange(1000 * 4, dtype="float32").reshape(1000, 1, 4)
    orders = []
    for _ in range(2):
        keras.utils.set_random_seed(0)
        rows = keras_ae.tensorflow_backend.TrainingRows()
        batches = rows.batches(x, 128, shuffle=True)
        assert [len(b) for b in batches] == [128] * 7 + [104]
        orders.append(np.concatenate([b.numpy() for b in batches]))
        orders.append(np.concatenate([b.numpy() for b in batches]))
    for order in orders:
        np.testing.assert_array_equal(np.sort(order), np.arange(1000))
    assert (orders[0] != orders[1]).mean() > 0.9  # a new order every epoch
    np.testing.assert_array_equal(orders[0], orders[2])  # the seed's order
    assert rows.holding
    np.testing.assert_array_equal(rows.take(orders[3][:5]).numpy(), x[orders[3][:5]])
    in_order = np.concatenate([b.numpy() for b in rows.batches(x, 300, shuffle=False)])
    np.testing.assert_array_equal(in_order, np.arange(1000))
    rows.release()
    assert not rows.holding

"""keras_ae.datasets, the index of the data sources: every name it lists is the
one object of the module that holds it (MNIST, tables, series, streams)."""

from __future__ import annotations

import pytest

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

"""Datasets: one index of the data keras_ae reads, by source.

Each source has its own module; every name is also here, as
``keras_ae.datasets.<name>``:

- MNIST (:mod:`keras_ae.mnist`): :func:`load_mnist` gives the embedded
  10,000-digit subset (offline) or the full set through Keras;
  :func:`sha256` checks a file against a checksum such as
  :data:`EMBEDDED_SHA256`.
- Tables (:mod:`keras_ae.tables`): :func:`from_table` reads the numeric
  columns of a CSV or parquet file; :func:`load_breast_cancer` reads the
  embedded Wisconsin breast-cancer table (CC BY 4.0).
- Time series (:mod:`keras_ae.series`): :func:`make_windows`,
  :func:`windows_to_points`, :class:`Standardizer`, :func:`standardize`,
  :func:`synthetic_series` (a seeded seasonal series with labelled anomalies
  of the :data:`ANOMALY_KINDS`).
- Streams from disk: :func:`from_array_file` (:mod:`keras_ae.streaming`)
  reads a ``.npy`` array batch by batch; :func:`from_directory`
  (:mod:`keras_ae.images`) streams a folder of PNG/JPEG files as ``tf.data``
  batches of ``(x, x)`` in [0, 1].
"""

from __future__ import annotations

from keras_ae.images import ImageFolder, from_directory
from keras_ae.mnist import EMBEDDED_PATH, EMBEDDED_SHA256, SOURCES, Split, load_mnist, sha256
from keras_ae.series import (
    ANOMALY_KINDS,
    FREQUENCY_FACTORS,
    Standardizer,
    SyntheticSeries,
    make_windows,
    standardize,
    synthetic_series,
    windows_to_points,
)
from keras_ae.streaming import from_array_file
from keras_ae.tables import Table, from_table, load_breast_cancer

__all__ = [
    "ANOMALY_KINDS",
    "EMBEDDED_PATH",
    "EMBEDDED_SHA256",
    "FREQUENCY_FACTORS",
    "SOURCES",
    "ImageFolder",
    "Split",
    "Standardizer",
    "SyntheticSeries",
    "Table",
    "from_array_file",
    "from_directory",
    "from_table",
    "load_breast_cancer",
    "load_mnist",
    "make_windows",
    "sha256",
    "standardize",
    "synthetic_series",
    "windows_to_points",
]

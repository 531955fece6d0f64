"""keras_ae: autoencoders for Keras 3, from the classic dense model to the VAE.

Builders return compiled functional models with nested ``encoder`` and
``decoder`` models; :func:`export_model` writes them, with named endpoints (``reconstruct``,
``encode``, ``decode``, ...), as a TensorFlow SavedModel, ONNX or LiteRT.
"""

from keras_ae import baselines, callbacks, datasets, layers, losses, metrics, models, stacked
from keras_ae.builders import (
    build_contractive_autoencoder,
    build_conv_autoencoder,
    build_denoising_autoencoder,
    build_dense_autoencoder,
    build_lstm_autoencoder,
    build_sparse_autoencoder,
    build_vae,
)
from keras_ae.export import export_model, export_saved_model, save_keras

__version__ = "0.2.0"

#: Submodules loaded on first use (PEP 562), so that ``import keras_ae`` stays
#: fast and ``keras_ae.anomaly.AnomalyDetector`` works without its own import.
_LAZY = (
    "anomaly",
    "backend",
    "builders",
    "checks",
    "cli",
    "distribution",
    "images",
    "kinds",
    "mnist",
    "plotting",
    "pretrained",
    "profiling",
    "report",
    "sampling",
    "series",
    "streaming",
    "tables",
    "training",
    "trunks",
)


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return importlib.import_module(f"keras_ae.{name}")
    raise AttributeError(f"module 'keras_ae' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "build_contractive_autoencoder",
    "build_conv_autoencoder",
    "build_dense_autoencoder",
    "build_denoising_autoencoder",
    "build_lstm_autoencoder",
    "build_sparse_autoencoder",
    "build_vae",
    "anomaly",
    "backend",
    "baselines",
    "callbacks",
    "datasets",
    "export_model",
    "export_saved_model",
    "layers",
    "losses",
    "metrics",
    "models",
    "pretrained",
    "sampling",
    "save_keras",
    "stacked",
    "training",
]

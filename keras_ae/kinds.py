"""The table of model kinds behind the command line, the demo and the pretrained models.

Each :class:`Kind` says how to build a model (a keras_ae builder and its
tutorial settings), how many epochs the tutorial trains it, and how to
measure it on a test set. ``keras-ae train KIND``, ``keras-ae demo`` and
``keras-ae export-pretrained`` all read this one table; a new model kind adds
one row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from keras_ae import builders, metrics


@dataclass(frozen=True)
class Data:
    """A train/test split; labels may be None."""

    x_train: np.ndarray
    y_train: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray | None


def autoencoder_metrics(model: keras.Model, data: Data) -> dict[str, float]:
    """Test MSE and PSNR of the clean (deterministic) reconstruction."""
    recon = reconstruct(model, data.x_test)
    return {"mse": metrics.mse(data.x_test, recon), "psnr": metrics.psnr(data.x_test, recon)}


def vae_metrics(model: keras.Model, data: Data) -> dict[str, float]:
    """Test −ELBO (nats per image, β = 1) plus the autoencoder figures."""
    beta = float(model.beta.numpy())
    model.beta.assign(1.0)
    try:
        neg_elbo = model.evaluate(data.x_test, data.x_test, verbose=0, return_dict=True)["loss"]
    finally:
        model.beta.assign(beta)
    return {"neg_elbo": float(neg_elbo), **autoencoder_metrics(model, data)}


def reconstruct(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """The deterministic reconstruction: ``model.reconstruct`` where the model samples."""
    if hasattr(model, "reconstruct"):
        return model.reconstruct(x)
    return model.predict(x, batch_size=256, verbose=0)


def fit_autoencoder(
    model: keras.Model, data: Data, epochs: int, batch_size: int, **kwargs: Any
) -> keras.callbacks.History:
    """``fit(x, x)`` with validation on the test split, through :func:`keras_ae.training.train`."""
    from keras_ae.training import train

    return train(
        model,
        data.x_train,
        epochs=epochs,
        batch_size=batch_size,
        validation_data=(data.x_test,),
        **kwargs,
    )


@dataclass(frozen=True)
class Kind:
    """One model kind: its builder, tutorial settings, training and figures."""

    name: str
    description: str
    build: Callable[..., keras.Model]
    options: dict = field(default_factory=dict)
    epochs: int = 10
    demo_epochs: int = 2
    batch_size: int = 128
    fit: Callable[..., Any] = fit_autoencoder
    evaluate: Callable[[keras.Model, Data], dict[str, float]] = autoencoder_metrics
    tutorial: str = ""

    def make(self, input_shape: tuple[int, ...], **overrides: Any) -> keras.Model:
        """Build the model for ``input_shape`` with the tutorial settings and ``overrides``."""
        return self.build(input_shape=input_shape, **{**self.options, **overrides})


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in [
        Kind(
            "dense",
            "dense autoencoder 784-256-128-32",
            builders.build_dense_autoencoder,
            epochs=15,
            demo_epochs=5,
            tutorial="01_dense_autoencoder.py",
        ),
        Kind(
            "conv",
            "convolutional autoencoder, filters 32-64, code 32",
            builders.build_conv_autoencoder,
            epochs=10,
            demo_epochs=2,
            batch_size=32,
            tutorial="02_convolutional_and_denoising.py",
        ),
        Kind(
            "denoising",
            "denoising conv autoencoder, Gaussian noise 0.4",
            builders.build_denoising_autoencoder,
            options={"seed": 0},
            epochs=10,
            demo_epochs=2,
            batch_size=32,
            tutorial="02_convolutional_and_denoising.py",
        ),
        Kind(
            "sparse",
            "sparse autoencoder, KL penalty, rho = 0.05",
            builders.build_sparse_autoencoder,
            epochs=15,
            demo_epochs=5,
            tutorial="03_sparse.py",
        ),
        Kind(
            "contractive",
            "contractive autoencoder",
            builders.build_contractive_autoencoder,
            epochs=15,
            tutorial="04_contractive.py",
        ),
        Kind(
            "tied",
            "dense autoencoder with tied weights",
            builders.build_dense_autoencoder,
            options={"tied_weights": True},
            epochs=15,
            demo_epochs=5,
            tutorial="05_tied_weights.py",
        ),
        Kind(
            "vae",
            "conv VAE, latent 2",
            builders.build_vae,
            options={"architecture": "conv", "latent_dim": 2, "seed": 0},
            epochs=30,
            demo_epochs=3,
            evaluate=vae_metrics,
            tutorial="07_variational_autoencoder.py",
        ),
        Kind(
            "vae16",
            "dense VAE, latent 16",
            builders.build_vae,
            options={"architecture": "dense", "latent_dim": 16, "seed": 0},
            epochs=30,
            demo_epochs=5,
            evaluate=vae_metrics,
            tutorial="07_variational_autoencoder.py",
        ),
    ]
}

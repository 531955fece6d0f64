"""Generating data with trained autoencoders.

- :func:`denoising_chain`: the Markov chain of a denoising autoencoder
  (Bengio et al. 2013, "Generalized Denoising Auto-Encoders as Generative
  Models"): corrupt, reconstruct, corrupt, reconstruct, ...
- A VAE samples directly: :meth:`keras_ae.models.VariationalAutoencoder.sample`.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from keras_ae import checks
from keras_ae.layers import CORRUPTIONS, GaussianCorruption


def _corruption(model: keras.Model, noise_level: float | None, seed: int | None) -> Any:
    """A fresh corruption layer of the model's own kind (Gaussian for a model
    without one), with its own seed."""
    try:
        layer = model.get_layer("corruption")
    except ValueError:
        layer = None
    if layer is None or not isinstance(layer, tuple(CORRUPTIONS.values())):
        if noise_level is None:
            raise ValueError(
                f"`dae` ({model.name!r}) has no corruption layer to copy the noise level "
                "from (keras_ae.build_denoising_autoencoder models have one); pass "
                "`noise_level`. Received: noise_level=None"
            )
        return GaussianCorruption(noise_level, seed=seed)
    level = layer.level if noise_level is None else noise_level
    return type(layer)(level, seed=seed)


def denoising_chain(
    dae: keras.Model,
    x0: Any,
    steps: int = 50,
    noise_level: float | None = None,
    seed: int | None = 0,
    *,
    sample_pixels: bool = False,
    batch_size: int = 256,
) -> np.ndarray:
    """Run the denoising autoencoder's Markov chain from ``x0``.

    Each step corrupts the current state with the model's own corruption (a
    new layer of the same class, e.g.
    :class:`~keras_ae.layers.GaussianCorruption`: N(0, level²) noise clipped
    to [0, 1]), then reconstructs it with the model: ``x[t + 1] =
    dae(corrupt(x[t]))``. Bengio et al. (2013) show that the chain's
    stationary distribution estimates the data distribution.

    By default the state is the reconstruction itself (the mean of the
    reconstruction distribution). With ``sample_pixels=True`` the next state
    is a draw of that distribution, each pixel 1 with the reconstructed
    probability (a Bernoulli decoder, as in Bengio et al.); the chain then
    mixes between digits more readily, and the returned images are still the
    reconstructions (pixel probabilities).

    Args:
        dae: a :func:`keras_ae.build_denoising_autoencoder` model, or any
            autoencoder when ``noise_level`` is given (Gaussian corruption).
        x0: starting images, shape (N, *input_shape), values in [0, 1]
            (digits, or noise such as ``np.random.rand(...)``).
        steps: number of corrupt-and-reconstruct steps.
        noise_level: the corruption's level; default the model's own.
        seed: seed of the corruption's ``SeedGenerator`` (and of the pixel
            draws): the same seed gives the same chain.
        sample_pixels: draw binary states from the reconstructions.
        batch_size: images per reconstruction batch.

    Returns:
        float32 array of shape ``(steps + 1, *x0.shape)``: ``x0`` at index 0,
        then the reconstruction after each step.
    """
    if not isinstance(dae, keras.Model):
        raise TypeError(f"`dae` must be a keras.Model. Received: dae={dae!r}")
    if not isinstance(sample_pixels, bool):
        raise TypeError(
            f"`sample_pixels` must be True or False. Received: sample_pixels={sample_pixels!r}"
        )
    x = checks.array("x0", x0, shape=dae.input_shape[1:], unit_range=True)
    steps = checks.positive_int("steps", steps)
    batch_size = checks.positive_int("batch_size", batch_size)
    corrupt = _corruption(dae, noise_level, seed)
    rng = np.random.default_rng(seed)
    chain = np.empty((steps + 1, *x.shape), "float32")
    chain[0] = state = x
    for t in range(steps):
        noisy = keras.ops.convert_to_numpy(corrupt(state, training=True))
        chain[t + 1] = np.concatenate(
            [
                dae.predict_on_batch(noisy[i : i + batch_size])
                for i in range(0, len(noisy), batch_size)
            ]
        )
        state = chain[t + 1]
        if sample_pixels:
            state = (rng.random(state.shape) < state).astype("float32")
    return chain

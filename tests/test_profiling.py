"""The FLOP counter against hand computations."""

from __future__ import annotations

import keras
import pytest

import keras_ae
from keras_ae.profiling import forward_flops, training_flops


def test_dense_autoencoder_flops_by_hand():
    model = keras_ae.build_dense_autoencoder(hidden_units=(256, 128), latent_dim=32)
    # encoder 784*256 + 256*128 + 128*32, decoder 32*128 + 128*256 + 256*784, 2 FLOPs per MAC
    macs = 784 * 256 + 256 * 128 + 128 * 32 + 32 * 128 + 128 * 256 + 256 * 784
    assert forward_flops(model) == 2 * macs
    assert training_flops(model) == 6 * macs
    tied = keras_ae.build_dense_autoencoder(
        hidden_units=(256, 128), latent_dim=32, tied_weights=True
    )
    assert forward_flops(tied) == 2 * macs  # tying shares weights, not work


def test_conv_autoencoder_flops_by_hand():
    model = keras_ae.build_conv_autoencoder(filters=(4, 8), latent_dim=16, kernel_size=3)
    conv1 = 3 * 3 * 1 * 4 * 14 * 14  # 28x28x1 -> 14x14x4
    conv2 = 3 * 3 * 4 * 8 * 7 * 7  # -> 7x7x8
    code = 7 * 7 * 8 * 16
    dense = 16 * 7 * 7 * 8
    deconv1 = 3 * 3 * 8 * 8 * 7 * 7  # input 7x7x8 -> 14x14x8
    deconv2 = 3 * 3 * 8 * 4 * 14 * 14  # -> 28x28x4
    out = 3 * 3 * 4 * 1 * 28 * 28
    assert forward_flops(model) == 2 * (conv1 + conv2 + code + dense + deconv1 + deconv2 + out)


def test_flops_refuse_a_non_model():
    with pytest.raises(TypeError, match="model"):
        forward_flops(keras.layers.Dense(3))

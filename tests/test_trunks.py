"""The shared trunks: one Trunk checks every trunk argument; each architecture
builds an encoder and a decoder that give back the input's shape."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_ae import trunks
from keras_ae.trunks import ARCHITECTURES, Trunk


@pytest.mark.parametrize(
    "shape, architecture, sizes",
    [
        ((28, 28, 1), "dense", {"hidden_units": (16,)}),
        ((10,), "dense", {"hidden_units": ()}),
        ((28, 28, 1), "conv", {"filters": (4, 8, 8)}),  # 28 is padded to 32, cropped back
        ((30, 3), "conv", {"filters": (4, 8)}),  # Conv1D
        ((12, 2), "lstm", {"units": (4, 3)}),
    ],
)
def test_every_architecture_decodes_back_to_the_input_shape(shape, architecture, sizes):
    trunk = Trunk(shape, architecture, latent_dim=5, **sizes)
    encoder = trunks.build_encoder(trunk, heads=[("code", 5, None)])
    decoder = trunks.build_decoder(trunk)
    x = np.random.default_rng(0).random((3, *shape)).astype("float32")
    code = keras.ops.convert_to_numpy(encoder(x))
    assert code.shape == (3, 5)
    assert keras.ops.convert_to_numpy(decoder(code)).shape == x.shape


def test_a_trunk_fills_in_its_architectures_default_sizes_and_round_trips():
    for name, family in ARCHITECTURES.items():
        shape = (28, 28, 1) if name != "lstm" else (12, 2)
        trunk = Trunk(shape, name)
        assert trunk.sizes == family.default_sizes
        assert Trunk.from_config(trunk.get_config()) == trunk
    config = Trunk((5,), normalize=True, output_activation=None).get_config()
    assert config["input_shape"] == [5] and "filters" not in config and "kernel_size" not in config


@pytest.mark.parametrize(
    "arguments, argument",
    [
        ({"architecture": "rnn"}, "architecture"),
        ({"input_shape": (28, 28, 1), "architecture": "lstm"}, "input_shape"),
        ({"filters": (8,)}, "filters"),
        ({"hidden_units": (8, 0)}, "hidden_units"),
        ({"latent_dim": 0}, "latent_dim"),
        ({"kernel_size": 1.5}, "kernel_size"),
        ({"activation": "relux"}, "activation"),
        ({"normalize": "yes"}, "normalize"),
        ({"normalize": True}, "output_activation"),
    ],
)
def test_a_bad_trunk_argument_is_named_with_the_value_received(arguments, argument):
    with pytest.raises((ValueError, TypeError)) as err:
        Trunk(**arguments)
    assert f"`{argument}`" in str(err.value) or f"{argument}=" in str(err.value)
    assert "Received" in str(err.value)

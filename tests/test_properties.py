"""Every builder, over its argument space: a model whose output shape matches its
input, or a ValueError/TypeError that names an argument. Nothing else.

``bad_inputs.json`` lists the bad inputs tried so far (builder, arguments, the
argument the error must name); add to it whenever a new one turns up.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import keras_ae

BAD_INPUTS = json.loads((Path(__file__).parent / "bad_inputs.json").read_text())


@pytest.mark.parametrize(
    "builder, kwargs, argument", BAD_INPUTS, ids=[f"{b}-{a}" for b, _, a in BAD_INPUTS]
)
def test_known_bad_inputs_name_their_argument(builder, kwargs, argument):
    with pytest.raises((ValueError, TypeError)) as err:
        getattr(keras_ae, builder)(**kwargs)
    assert f"`{argument}`" in str(err.value) and f"{argument}=" in str(err.value)


def maybe_bad(good, bad):
    return st.one_of(good, bad)


sizes = st.integers(1, 40)
shapes = maybe_bad(
    st.one_of(st.tuples(sizes), st.tuples(sizes, st.integers(1, 3)),
              st.tuples(sizes, sizes, st.integers(1, 3))),
    st.one_of(st.just(()), st.tuples(st.integers(-3, 0), sizes), st.just("28x28"),
              st.tuples(sizes, sizes, sizes, sizes)),
)  # fmt: skip
units = maybe_bad(
    st.lists(st.integers(1, 32), max_size=2),
    st.one_of(st.lists(st.integers(-4, 0), min_size=1, max_size=2), st.just("16")),
)
latent = maybe_bad(st.integers(1, 12), st.one_of(st.integers(-3, 0), st.just(2.5), st.none()))
activations = st.sampled_from(["relu", "sigmoid", "tanh", None, "linear", "bogus", 3])
unit = st.one_of(st.floats(-0.5, 1.5), st.just(float("nan")))

ARGUMENTS = {
    "build_dense_autoencoder": {
        "input_shape": shapes, "hidden_units": units, "latent_dim": latent,
        "activation": activations, "output_activation": activations,
        "tied_weights": st.sampled_from([True, False, 1, None]),
    },
    "build_conv_autoencoder": {
        "input_shape": shapes, "latent_dim": latent, "activation": activations,
        "filters": maybe_bad(st.lists(st.integers(1, 8), min_size=1, max_size=3),
                             st.one_of(st.just([]), st.lists(st.integers(-2, 0), min_size=1))),
        "kernel_size": st.integers(-1, 5),
    },
    "build_denoising_autoencoder": {
        "input_shape": shapes, "latent_dim": latent,
        "noise": st.sampled_from(["gaussian", "masking", "salt_and_pepper", "pink"]),
        "noise_level": unit, "architecture": st.sampled_from(["dense", "conv", "mlp"]),
        "seed": st.sampled_from([None, 0, 7, -1, 1.5]),
    },
    "build_sparse_autoencoder": {
        "input_shape": shapes, "latent_dim": latent, "sparsity": st.sampled_from(["kl", "l1", "x"]),
        "target": unit, "weight": st.floats(-1, 2), "l1": st.floats(-1e-3, 1e-2),
    },
    "build_contractive_autoencoder": {
        "input_shape": shapes, "latent_dim": latent, "hidden_units": units,
        "contractive_weight": st.one_of(st.floats(-1, 1), st.just("x")),
    },
    "build_vae": {
        "input_shape": shapes, "latent_dim": latent, "beta": st.floats(-1, 4),
        "architecture": st.sampled_from(["dense", "conv", "x"]),
        "likelihood": st.sampled_from(["bernoulli", "gaussian", "poisson"]),
    },
}  # fmt: skip


def _check_call(builder_name, kwargs):
    try:
        model = getattr(keras_ae, builder_name)(**kwargs)
    except (ValueError, TypeError) as err:
        message = str(err)
        named = [a for a in [*kwargs, "input_shape", "code_activation"] if f"`{a}`" in message]
        assert named, f"{builder_name}({kwargs}) raised without naming an argument: {message}"
        return
    assert model.output_shape == model.input_shape, (builder_name, kwargs)


@pytest.mark.parametrize("builder_name", sorted(ARGUMENTS))
def test_builder_property(builder_name):
    strategy = st.fixed_dictionaries({}, optional=ARGUMENTS[builder_name])

    @settings(max_examples=20, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
    @given(strategy)
    def run(kwargs):
        _check_call(builder_name, kwargs)

    run()

"""Every builder, over its argument space: a model whose output shape matches its
input, or a ValueError/TypeError that names the bad argument and the value received.

Each example draws some arguments from their good values and at most one from its
bad values: the error must then name that argument with the value received
(``Received: latent_dim=0``). Good values alone may still clash (a masking level of
1, a conv input too small): the error must then name one of the arguments passed.

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
    assert f"`{argument}`" in str(err.value), str(err.value)
    assert f"{argument}={kwargs[argument]!r}" in str(err.value), str(err.value)


def maybe_bad(good, bad):
    """An argument's space: its good values and its bad ones, kept apart."""
    return good, bad


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
activations = maybe_bad(
    st.sampled_from(["relu", "sigmoid", "tanh", None, "linear"]), st.sampled_from(["bogus", 3])
)
unit = maybe_bad(
    st.floats(0.01, 0.99), st.one_of(st.floats(-0.5, -0.01), st.floats(1.01, 1.5),
                                     st.just(float("nan")))
)  # fmt: skip
non_negative = maybe_bad(st.floats(0, 2), st.one_of(st.floats(-1, -0.01), st.just("x")))


def choices(good, bad):
    return maybe_bad(st.sampled_from(good), st.sampled_from(bad))


ARGUMENTS = {
    "build_dense_autoencoder": {
        "input_shape": shapes, "hidden_units": units, "latent_dim": latent,
        "activation": activations, "output_activation": activations,
        "tied_weights": choices([True, False], [1, None]),
    },
    "build_conv_autoencoder": {
        "input_shape": shapes, "latent_dim": latent, "activation": activations,
        "filters": maybe_bad(st.lists(st.integers(1, 8), min_size=1, max_size=3),
                             st.one_of(st.just([]), st.lists(st.integers(-2, 0), min_size=1))),
        "kernel_size": maybe_bad(st.integers(1, 5), st.integers(-1, 0)),
    },
    "build_denoising_autoencoder": {
        "input_shape": shapes, "latent_dim": latent,
        "noise": choices(["gaussian", "masking", "salt_and_pepper"], ["pink"]),
        "noise_level": maybe_bad(st.floats(0, 0.99), st.one_of(st.floats(-0.5, -0.01),
                                                               st.just(float("nan")))),
        "architecture": choices(["dense", "conv"], ["mlp"]),
        "seed": choices([None, 0, 7], [-1, 1.5]),
    },
    "build_sparse_autoencoder": {
        "input_shape": shapes, "latent_dim": latent, "sparsity": choices(["kl", "l1"], ["x"]),
        "target": unit, "weight": non_negative,
        "l1": maybe_bad(st.floats(0, 1e-2), st.floats(-1e-3, -1e-5)),
    },
    "build_contractive_autoencoder": {
        "input_shape": shapes, "latent_dim": latent, "hidden_units": units,
        "contractive_weight": non_negative,
    },
    "build_vae": {
        "input_shape": shapes, "latent_dim": latent, "beta": non_negative,
        "architecture": choices(["dense", "conv"], ["x"]),
        "likelihood": choices(["bernoulli", "gaussian"], ["poisson"]),
    },
}  # fmt: skip


@st.composite
def calls(draw, builder_name: str) -> tuple[dict, str | None]:
    """``(kwargs, bad)``: good values for some arguments, and maybe one bad value."""
    space = ARGUMENTS[builder_name]
    good = {name: pair[0] for name, pair in space.items()}
    kwargs = draw(st.fixed_dictionaries({}, optional=good))
    bad = draw(st.one_of(st.none(), st.sampled_from(sorted(space))))
    if bad is not None:
        kwargs[bad] = draw(space[bad][1])
    return kwargs, bad


def _check_call(builder_name, kwargs, bad):
    try:
        model = getattr(keras_ae, builder_name)(**kwargs)
    except (ValueError, TypeError) as err:
        message = str(err)
        if bad is not None:
            assert f"`{bad}`" in message and f"{bad}={kwargs[bad]!r}" in message, (
                f"{builder_name}({kwargs}): the error does not name `{bad}` with the value "
                f"received: {message}"
            )
            return
        named = [a for a in kwargs if f"`{a}`" in message and f"{a}={kwargs[a]!r}" in message]
        assert named, f"{builder_name}({kwargs}) raised without naming an argument: {message}"
        return
    assert bad is None, f"{builder_name}({kwargs}) accepted {bad}={kwargs[bad]!r}"
    assert model.output_shape == model.input_shape, (builder_name, kwargs)


@pytest.mark.parametrize("builder_name", sorted(ARGUMENTS))
def test_builder_property(builder_name):
    strategy = calls(builder_name)

    @settings(max_examples=20, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
    @given(strategy)
    def run(call):
        _check_call(builder_name, *call)

    run()

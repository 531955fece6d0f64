"""keras_ae.checks: each check returns the value it accepts (converted) and refuses
the others with an error naming the argument and the value received."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_ae import checks

#: (check, the arguments before the last, the last, what the check returns)
ACCEPTED = [
    (checks.positive_int, ("n",), np.int64(3), 3),
    (checks.boolean, ("flag",), np.bool_(True), True),
    (checks.seed, ("seed",), None, None),
    (checks.seed, ("seed",), 2**32 - 1, 2**32 - 1),
    (checks.non_negative_float, ("weight",), 0, 0.0),
    (checks.open_unit_interval, ("target",), 0.5, 0.5),
    (checks.choice, ("noise", "masking"), ("gaussian", "masking"), "masking"),
    (checks.int_tuple, ("units",), [64, np.int32(8)], (64, 8)),
    (checks.int_tuple, ("units",), 16, (16,)),
    (checks.activation, ("activation",), "linear", "linear"),
    (checks.activation, ("activation",), None, None),
]


@pytest.mark.parametrize("check, before, value, expected", ACCEPTED)
def test_accepted_values_come_back_converted(check, before, value, expected):
    result = check(*before, value)  # choice(name, value, options): options come last
    assert result == expected and type(result) is type(expected)


#: (check, name, value, extra arguments, the error)
REFUSED = [
    (checks.positive_int, "n", 0, {}, ValueError),
    (checks.positive_int, "n", True, {}, TypeError),
    (checks.positive_int, "n", 2.0, {}, TypeError),
    (checks.boolean, "flag", 1, {}, TypeError),
    (checks.boolean, "flag", None, {}, TypeError),
    (checks.seed, "seed", -1, {}, ValueError),
    (checks.seed, "seed", 2**32, {}, ValueError),
    (checks.seed, "seed", 1.5, {}, TypeError),
    (checks.seed, "seed", None, {"allow_none": False}, TypeError),
    (checks.non_negative_float, "weight", -0.1, {}, ValueError),
    (checks.non_negative_float, "weight", float("nan"), {}, ValueError),
    (checks.non_negative_float, "weight", "x", {}, TypeError),
    (checks.open_unit_interval, "target", 0.0, {}, ValueError),
    (checks.open_unit_interval, "target", 1.0, {"closed_low": True}, ValueError),
    (checks.open_unit_interval, "target", "0.5", {}, TypeError),
    (checks.choice, "noise", "pink", {"options": ("gaussian", "masking")}, ValueError),
    (checks.int_tuple, "units", "64", {}, TypeError),
    (checks.int_tuple, "units", [8, 0], {}, ValueError),
    (checks.int_tuple, "units", [], {"allow_empty": False}, ValueError),
    (checks.activation, "activation", "nope", {}, ValueError),
    (checks.activation, "activation", 3, {}, TypeError),
]


@pytest.mark.parametrize("check, name, value, extra, error", REFUSED)
def test_refusals_name_the_argument_and_the_value_received(check, name, value, extra, error):
    with pytest.raises(error) as err:
        check(name, value, **extra)
    message = str(err.value)
    assert f"`{name}`" in message and f"Received: {name}={value!r}" in message, message


@pytest.mark.parametrize(
    "value, ranks, error",
    [
        ("28x28", (1, 2, 3), TypeError),
        ((28, 28, 1, 1), (1, 2, 3), ValueError),
        ((28, 0, 1), (1, 2, 3), ValueError),
        ((28, None), (2,), ValueError),
        ((784,), (3,), ValueError),
    ],
)
def test_input_shape_refusals_name_it_and_the_value(value, ranks, error):
    with pytest.raises(error) as err:
        checks.input_shape(value, ranks)
    assert f"Received: input_shape={value!r}" in str(err.value)
    assert checks.input_shape([28, np.int64(28), 1]) == (28, 28, 1)


def test_array_converts_integers_and_keeps_floats():
    pixels = np.array([[0, 255]], "uint8")
    np.testing.assert_allclose(checks.array("x", pixels), [[0.0, 1.0]])  # uint8: scaled
    counts = checks.array("x", np.array([[3, 4]]))  # other integers: converted only
    assert counts.dtype == np.float32 and counts.tolist() == [[3.0, 4.0]]
    x = np.zeros((2, 3), "float32")
    assert checks.array("x", x, shape=(3,)) is x  # float32 already: no copy
    assert checks.images is checks.array  # the former name


@pytest.mark.parametrize(
    "x, kwargs, error, fragment",
    [
        ("digits", {}, TypeError, "Received: x='digits'"),
        (None, {}, TypeError, "Received: x=None"),
        (np.array([[True]]), {}, TypeError, "dtype=bool"),
        (np.zeros((0, 3)), {}, ValueError, "shape (0, 3)"),
        (np.zeros((2, 4)), {"shape": (3,)}, ValueError, "shape (2, 4)"),
        (np.array([[0.0, np.nan], [np.inf, 0.0]]), {}, ValueError, "2 NaN or Inf"),
        (np.array([[0.0, 2.5]]), {"unit_range": True}, ValueError, "[0, 2.5]"),
    ],
)
def test_array_refusals_name_the_argument_and_what_was_found(x, kwargs, error, fragment):
    with pytest.raises(error) as err:
        checks.array("x", x, **kwargs)
    assert "`x`" in str(err.value) and fragment in str(err.value), str(err.value)


def test_non_finite_weights_lists_the_bad_ones_by_path():
    layer = keras.layers.Dense(2, name="dense")
    model = keras.Sequential([keras.Input((3,)), layer])
    assert checks.non_finite_weights(model) == []
    kernel = np.ones((3, 2), "float32")
    kernel[0, 0] = np.nan
    layer.kernel.assign(kernel)
    assert checks.non_finite_weights(model) == [layer.kernel.path]

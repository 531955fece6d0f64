"""Argument and data validation shared by every public entry point.

Each check raises ``ValueError`` or ``TypeError`` whose message names the
argument, the value received and what was expected, in the Keras style
("... Received: name=value").
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

logger = logging.getLogger("keras_ae")


def _received(name: str, value: Any) -> str:
    return f"Received: {name}={value!r}"


def positive_int(name: str, value: Any) -> int:
    """Return ``value`` as an int, or raise if it is not a positive integer."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be a positive integer. {_received(name, value)}")
    if value <= 0:
        raise ValueError(f"`{name}` must be a positive integer. {_received(name, value)}")
    return int(value)


def boolean(name: str, value: Any) -> bool:
    """Return ``value`` if it is True or False, else raise TypeError."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False. {_received(name, value)}")
    return bool(value)


#: Seeds are ints in [0, 2**32), the range NumPy's generators and Keras's
#: ``SeedGenerator`` both take.
SEED_LIMIT = 2**32


def seed(name: str, value: Any, allow_none: bool = True) -> int | None:
    """Return ``value`` as a seed: an int in [0, 2**32), or None when ``allow_none``."""
    if value is None and allow_none:
        return None
    expected = "an integer in [0, 2**32)" + (" or None" if allow_none else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be {expected}. {_received(name, value)}")
    if not 0 <= value < SEED_LIMIT:
        raise ValueError(f"`{name}` must be {expected}. {_received(name, value)}")
    return int(value)


def non_negative_float(name: str, value: Any) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a number >= 0. {_received(name, value)}")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"`{name}` must be a finite number >= 0. {_received(name, value)}")
    return float(value)


def open_unit_interval(name: str, value: Any, closed_low: bool = False) -> float:
    """Return ``value`` as a float in (0, 1) (or [0, 1) with ``closed_low``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a number in (0, 1). {_received(name, value)}")
    low_ok = value >= 0 if closed_low else value > 0
    if not (low_ok and value < 1):
        bounds = "[0, 1)" if closed_low else "(0, 1)"
        raise ValueError(f"`{name}` must be in {bounds}. {_received(name, value)}")
    return float(value)


def choice(name: str, value: Any, options: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``options``, else raise ValueError listing them."""
    options = list(options)
    if value not in options:
        raise ValueError(
            f"`{name}` must be one of {', '.join(repr(o) for o in options)}. "
            f"{_received(name, value)}"
        )
    return value


def int_tuple(name: str, value: Any, allow_empty: bool = True) -> tuple[int, ...]:
    """Return ``value`` as a tuple of positive ints (e.g. ``hidden_units``)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(
            f"`{name}` must be a sequence of positive integers. {_received(name, value)}"
        )
    if not allow_empty and len(value) == 0:
        raise ValueError(
            f"`{name}` must hold at least one positive integer. {_received(name, value)}"
        )
    for item in value:
        if isinstance(item, bool) or not isinstance(item, numbers.Integral) or item <= 0:
            raise ValueError(
                f"`{name}` must be a sequence of positive integers. {_received(name, value)}"
            )
    return tuple(int(v) for v in value)


def input_shape(value: Any, ranks: Sequence[int] = (1, 2, 3)) -> tuple[int, ...]:
    """Validate ``input_shape`` (without the batch axis) and return it as a tuple."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(
            "`input_shape` must be a tuple of positive integers without the batch "
            f"axis, e.g. (28, 28, 1). {_received('input_shape', value)}"
        )
    if len(value) not in ranks:
        raise ValueError(
            f"`input_shape` must have {' or '.join(str(r) for r in ranks)} dimensions "
            f"(no batch axis). {_received('input_shape', value)}"
        )
    for item in value:
        if isinstance(item, bool) or not isinstance(item, numbers.Integral) or item <= 0:
            raise ValueError(
                "`input_shape` must hold positive integers (no None, no batch axis). "
                f"{_received('input_shape', value)}"
            )
    return tuple(int(v) for v in value)


def activation(name: str, value: Any) -> str | None:
    """Check that ``value`` names a Keras activation (or is None for linear)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(
            f"`{name}` must be the name of a Keras activation or None. {_received(name, value)}"
        )
    import keras

    try:
        keras.activations.get(value)
    except ValueError:
        raise ValueError(
            f"`{name}` must name a Keras activation such as 'relu', 'sigmoid' or None. "
            f"{_received(name, value)}"
        ) from None
    return value


def array(
    name: str,
    x: Any,
    shape: Sequence[int] | None = None,
    unit_range: bool = False,
) -> np.ndarray:
    """Validate a batch of samples (images, series windows, table rows, scores)
    and return it as float32.

    Args:
        name: the argument's name, used in messages.
        x: array-like of shape ``(N, *shape)``.
        shape: expected per-sample shape, or None to accept any.
        unit_range: require values in [0, 1] (sigmoid / cross-entropy models).

    Integer arrays are converted to float32 with a logged note (uint8 images
    are scaled by 1/255). NaN/Inf, empty arrays, a wrong shape and, with
    ``unit_range``, values outside [0, 1] raise ValueError.
    """
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"`{name}` must be a numeric array. {_received(name, x)}")
    try:
        arr = np.asarray(x)
    except Exception as err:  # noqa: BLE001 - any conversion failure is the user's input
        raise TypeError(f"`{name}` must be a numeric array; got {type(x).__name__}.") from err
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"`{name}` must be a numeric array. Received dtype={arr.dtype}.")
    if arr.size == 0:
        raise ValueError(f"`{name}` is empty. Received shape {arr.shape}.")
    if shape is not None and tuple(arr.shape[1:]) != tuple(shape):
        raise ValueError(
            f"`{name}` must have shape (N, {', '.join(str(s) for s in shape)}). "
            f"Received shape {arr.shape}."
        )
    if np.issubdtype(arr.dtype, np.integer):
        if arr.dtype == np.uint8:
            logger.info("%s: uint8 input converted to float32 and scaled by 1/255.", name)
            arr = arr.astype("float32") / 255.0
        else:
            logger.info("%s: integer input converted to float32.", name)
            arr = arr.astype("float32")
    else:
        arr = arr.astype("float32", copy=False)
    bad = ~np.isfinite(arr)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"`{name}` holds {int(bad.sum())} NaN or Inf values; the first is at index {first}."
        )
    if unit_range:
        lo, hi = float(arr.min()), float(arr.max())
        if lo < 0.0 or hi > 1.0:
            raise ValueError(
                f"`{name}` must lie in [0, 1] for a sigmoid / cross-entropy model; found "
                f"values in [{lo:.4g}, {hi:.4g}]. Scale it first, e.g. "
                "x = (x - x.min()) / (x.max() - x.min())."
            )
    return arr


#: The former name of :func:`array`, which checks more than images.
images = array


def non_finite_weights(model: Any) -> list[str]:
    """Paths of the floating-point weights of a Keras model that hold NaN or Inf."""
    import keras

    return [
        w.path
        for w in model.weights
        if "float" in str(w.dtype) and not np.all(np.isfinite(keras.ops.convert_to_numpy(w)))
    ]

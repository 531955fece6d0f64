"""Tables from files: numeric columns of a CSV or parquet file as a float32 array.

:func:`from_table` reads a CSV file with the standard library (``csv``) and a
parquet file with pyarrow (the optional extra ``keras_ae[parquet]``). It
returns a :class:`Table`: ``x`` (float32, one row per record, one column per
feature), ``y`` (the label column, or None) and ``columns`` (the names of
``x``'s columns, in order).

It is strict, never silent:

- only numeric columns are features; any other column selected (explicitly,
  or by default every column but the label) is refused with a ValueError
  naming it and its first non-numeric value;
- a file without a header, a header without rows, a ragged CSV row (more or
  fewer fields than the header) and a non-finite value (``inf``) are
  ValueErrors naming the file (and the line or column);
- a missing value (an empty field, ``NA``, ``NaN``, ``null``, ``None``; a
  parquet null or NaN) raises a ValueError with ``missing="error"`` (the
  default); ``missing="drop"`` drops the rows holding one and reports how
  many in ``Table.dropped``.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

#: File suffixes :func:`from_table` reads.
SUFFIXES = (".csv", ".parquet")

#: CSV fields read as a missing value (compared lower-case, stripped).
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none"})

#: Values of ``missing``: refuse rows with a missing value, or drop them.
MISSING_RULES = ("error", "drop")

#: The embedded Wisconsin breast-cancer (diagnostic) table (keras_ae/data/README.md).
BREAST_CANCER = Path(__file__).parent / "data" / "breast_cancer.csv"


class Table(NamedTuple):
    """What :func:`from_table` returns.

    Attributes:
        x: float32 array ``(rows, len(columns))``, the feature columns.
        y: the label column as a 1-D array (int64 when every value is an
            integer, float64 when numeric, str otherwise), or None without
            ``label_column``.
        columns: the feature names, in the order of ``x``'s columns.
        dropped: how many rows ``missing="drop"`` dropped (0 otherwise).
    """

    x: np.ndarray
    y: np.ndarray | None
    columns: list[str]
    dropped: int = 0


def from_table(
    path: str | os.PathLike,
    columns: Sequence[str] | None = None,
    label_column: str | None = None,
    *,
    missing: str = "error",
    delimiter: str = ",",
) -> Table:
    """Read the numeric columns of a CSV or parquet file.

    Args:
        path: a ``.csv`` file (a header row, then one record per row; read
            with the standard library) or a ``.parquet`` file (needs
            ``pip install keras_ae[parquet]``).
        columns: the feature columns, in this order; None: every column
            except ``label_column``. Each must be numeric.
        label_column: a column returned as ``y`` rather than as a feature
            (numeric or text, e.g. a class name); None: no labels.
        missing: ``"error"`` (default): a missing value raises ValueError
            naming its column and row; ``"drop"``: rows with a missing value
            in a selected column (or the label) are dropped, and
            ``Table.dropped`` says how many.
        delimiter: the CSV field separator.

    Returns:
        A :class:`Table` ``(x, y, columns, dropped)``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: an unknown suffix or column, a non-numeric feature
            column, no rows, a ragged row, a non-finite value, or a missing
            value with ``missing="error"``.
        ImportError: a parquet file without pyarrow installed.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` must be a str or os.PathLike. Received: path={path!r}")
    if missing not in MISSING_RULES:
        raise ValueError(f"`missing` must be one of {MISSING_RULES}. Received: missing={missing!r}")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ValueError(f"`delimiter` must be one character. Received: delimiter={delimiter!r}")
    file = Path(path)
    if file.suffix.lower() not in SUFFIXES:
        raise ValueError(
            f"`path` must be a {' or '.join(SUFFIXES)} file. Received: path={str(path)!r}"
        )
    if not file.is_file():
        raise FileNotFoundError(f"table file not found: {str(path)!r}")
    if columns is not None:
        if isinstance(columns, str) or not all(isinstance(c, str) for c in columns):
            raise TypeError(f"`columns` must be a list of column names. Received: {columns!r}")
        if not columns:
            raise ValueError("`columns` is empty: name at least one feature column.")
    if label_column is not None and not isinstance(label_column, str):
        raise TypeError(f"`label_column` must be a column name. Received: {label_column!r}")

    read = _read_parquet if file.suffix.lower() == ".parquet" else _read_csv
    header, raw = read(file, delimiter)
    features = _select(file, header, columns, label_column)
    values = {name: _numeric_column(file, name, raw[name]) for name in features}
    text = {name: v for name, v in values.items() if isinstance(v, str)}
    if text:
        found = ", ".join(f"{name!r} (e.g. {v[:30]!r})" for name, v in text.items())
        raise ValueError(
            f"{file}: non-numeric column(s) {found}; keras_ae reads numeric columns only. "
            "Pick the numeric ones with `columns=` or make one the `label_column`."
        )
    labels = None if label_column is None else _label_column(raw[label_column])

    n = len(raw[header[0]])
    absent = np.zeros(n, dtype=bool)
    for name in [*features, *([label_column] if label_column else [])]:
        column_missing = _missing_mask(values[name] if name in values else labels)
        if column_missing.any() and missing == "error":
            row = int(np.flatnonzero(column_missing)[0])
            raise ValueError(
                f"{file}: column {name!r} has {int(column_missing.sum())} missing value(s), "
                f"the first in data row {row + 1}. Pass missing='drop' to drop such rows."
            )
        absent |= column_missing
    keep = ~absent
    if not keep.any():
        raise ValueError(f"{file}: every row has a missing value; no row is left.")
    x = np.stack([values[name][keep] for name in features], axis=1).astype("float32")
    y = None if labels is None else _label_array(labels[keep])
    return Table(x, y, list(features), int(absent.sum()))


def load_breast_cancer() -> Table:
    """The embedded Wisconsin breast-cancer (diagnostic) table: 569 rows, 30
    features, ``y`` = column ``malignant`` (1 malignant, 0 benign; int64).

    Provenance and licence (CC BY 4.0): keras_ae/data/README.md.
    """
    return from_table(BREAST_CANCER, label_column="malignant")


# ---------------------------------------------------------------- readers


def _read_csv(file: Path, delimiter: str) -> tuple[list[str], dict[str, list[Any]]]:
    """Header and the columns as lists of strings; None for a missing field."""
    try:
        with file.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            header = next(reader, None)
            if header is None or not any(h.strip() for h in header):
                raise ValueError(f"{file}: the file is empty (no header row).")
            header = [h.strip() for h in header]
            _check_header(file, header)
            cells: list[list[Any]] = [[] for _ in header]
            for row in reader:
                if not row:  # blank line
                    continue
                if len(row) != len(header):
                    raise ValueError(
                        f"{file}: line {reader.line_num} has {len(row)} fields; the header "
                        f"has {len(header)}."
                    )
                for column, field in zip(cells, row, strict=True):
                    text = field.strip()
                    column.append(None if text.lower() in MISSING_TOKENS else text)
    except UnicodeDecodeError as err:
        raise ValueError(f"{file}: not a UTF-8 text file ({err.reason}).") from None
    except csv.Error as err:
        raise ValueError(f"{file}: not a readable CSV file ({err}).") from None
    if not cells[0]:
        raise ValueError(f"{file}: the file has a header but no data rows.")
    return header, dict(zip(header, cells, strict=True))


def _read_parquet(file: Path, delimiter: str) -> tuple[list[str], dict[str, list[Any]]]:
    """Header and the columns as numpy arrays (float NaN for nulls) or lists."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError(f"reading {file} needs pyarrow: pip install keras_ae[parquet]") from None
    try:
        table = pq.read_table(file)
    except (pa.ArrowException, OSError) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ValueError(f"{file}: not a readable parquet file ({first}).") from None
    header = [str(name) for name in table.column_names]
    _check_header(file, header)
    if table.num_rows == 0:
        raise ValueError(f"{file}: the file has columns but no data rows.")
    columns: dict[str, Any] = {}
    for name, column in zip(header, table.columns, strict=True):
        kind = column.type
        if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
            columns[name] = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
        else:  # text and anything else: strings, None for nulls
            columns[name] = [None if v is None else str(v) for v in column.to_pylist()]
    return header, columns


def _check_header(file: Path, header: list[str]) -> None:
    if any(not name for name in header):
        raise ValueError(f"{file}: column {header.index('') + 1} of the header has no name.")
    seen = set()
    for name in header:
        if name in seen:
            raise ValueError(f"{file}: column {name!r} appears twice in the header.")
        seen.add(name)


# ---------------------------------------------------------------- columns


def _select(
    file: Path, header: list[str], columns: Sequence[str] | None, label_column: str | None
) -> list[str]:
    for name in [*(columns or []), *([label_column] if label_column else [])]:
        if name not in header:
            raise ValueError(f"{file}: no column {name!r}; the columns are {header}.")
    if columns is None:
        features = [name for name in header if name != label_column]
    else:
        features = list(columns)
        if label_column in features:
            raise ValueError(f"column {label_column!r} is both a feature and `label_column`.")
        if len(set(features)) != len(features):
            raise ValueError(f"`columns` names a column twice. Received: columns={columns!r}")
    if not features:
        raise ValueError(f"{file}: no feature column left besides label_column={label_column!r}.")
    return features


def _numeric_column(file: Path, name: str, raw: Any) -> np.ndarray | str:
    """A column as float64 with NaN for missing values, or its first non-numeric value."""
    if isinstance(raw, np.ndarray):
        values = raw.astype("float64")
    else:
        values = np.full(len(raw), np.nan)
        for i, text in enumerate(raw):
            if text is None:
                continue
            try:
                values[i] = float(text)
            except ValueError:
                return text
    if np.isinf(values).any():
        row = int(np.flatnonzero(np.isinf(values))[0])
        raise ValueError(f"{file}: column {name!r} holds an infinite value in data row {row + 1}.")
    return values


def _label_column(raw: Any) -> np.ndarray:
    """The label column as an object array, None where missing."""
    if isinstance(raw, np.ndarray):
        return np.array([None if np.isnan(v) else v for v in raw], dtype=object)
    return np.array(raw, dtype=object)


def _missing_mask(values: np.ndarray) -> np.ndarray:
    if values.dtype == object:
        return np.array([v is None for v in values], dtype=bool)
    return np.isnan(values)


def _label_array(labels: np.ndarray) -> np.ndarray:
    """int64 if every label is an integer, float64 if numeric, str otherwise."""
    try:
        numbers = np.array([float(v) for v in labels])
    except ValueError:
        return labels.astype(str)
    if np.isfinite(numbers).all() and (numbers == np.round(numbers)).all():
        return numbers.astype("int64")
    return numbers

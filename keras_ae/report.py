"""One file for every figure the project quotes.

The tutorials (``--figures FILE``), the pretrained models' manifest and the
benchmark scripts write the figures they measure into one JSON file,
``docs/figures.json`` in the repository. README.md, the documentation pages and
the tutorials' conclusions quote a figure by writing the number followed by an
HTML comment naming its key, e.g. ``19.62 dB<!--fig:01_dense_autoencoder.psnr-->``;
``tests/test_figures.py`` checks every such quote against the file.

The file maps a section (a tutorial's file stem, ``pretrained``, ``benchmarks``)
to the command that measured it and its values::

    {"01_dense_autoencoder": {"command": "python tutorials/01_dense_autoencoder.py ...",
                              "values": {"ae_mse": 0.0102, ...}}}
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

try:  # POSIX: runs that record at the same time take turns
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

#: A figure's key: ``section.name``, letters, digits, ``_`` and ``-``.
_NAME = re.compile(r"^[A-Za-z0-9_\-]+$")


def load_figures(path: str | os.PathLike) -> dict:
    """Return the figures file at ``path`` as a dict (empty if it does not exist).

    Raises:
        ValueError: if the file exists but is not a figures file.
    """
    path = Path(path)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(
            f"path={str(path)!r} is not valid JSON ({err}); expected a figures file"
        ) from None
    if not isinstance(data, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("values"), dict) for v in data.values()
    ):
        raise ValueError(
            f"path={str(path)!r} does not hold figures; expected "
            '{"section": {"command": ..., "values": {...}}}'
        )
    return data


def figure(figures: Mapping, key: str) -> float:
    """Return the value of ``key`` (``"section.name"``) in a loaded figures dict.

    Raises:
        KeyError: naming the key when the section or the name is missing.
    """
    section, _, name = key.partition(".")
    try:
        return figures[section]["values"][name]
    except KeyError:
        raise KeyError(f"figure {key!r} is not in the figures file") from None


def record_figures(
    path: str | os.PathLike,
    section: str,
    values: Mapping[str, float],
    *,
    command: str | None = None,
) -> Path:
    """Merge ``values`` into ``section`` of the figures file at ``path``.

    Other sections, and names of this section not in ``values``, are kept. The
    file is replaced atomically, so a failure leaves the previous file intact.

    Args:
        path: the JSON file (created with its folder if missing).
        section: the section, e.g. the tutorial's file stem.
        values: figure name -> finite number, in the units the docs quote.
        command: the command that measured them (kept beside the values).

    Returns:
        The path written.

    Raises:
        ValueError: on a bad section or name, or a value that is not a finite number.
    """
    if not isinstance(section, str) or not _NAME.match(section):
        raise ValueError(f"section={section!r}: expected letters, digits, '_' or '-'")
    clean = {}
    for name, value in values.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"values: name {name!r}: expected letters, digits, '_' or '-'")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"values[{name!r}]={value!r}: expected a finite number") from None
        if not math.isfinite(number):
            raise ValueError(f"values[{name!r}]={value!r}: expected a finite number")
        clean[name] = int(number) if isinstance(value, int) else number
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(path.parent):
        return _merge(path, section, clean, command)


@contextmanager
def _exclusive(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (a no-op where ``fcntl`` is missing)."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _merge(path: Path, section: str, clean: dict, command: str | None) -> Path:
    figures = load_figures(path)
    entry = figures.setdefault(section, {"command": command, "values": {}})
    if command is not None:
        entry["command"] = command
    entry["values"].update(clean)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(dict(sorted(figures.items())), f, indent=1, sort_keys=False)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path

"""The tutorials: every script has its notebook, in sync, and every notebook runs.

The scripts ``tutorials/NN_*.py`` (jupytext's percent format) are the source;
the notebooks ``tutorials/notebooks/NN_*.ipynb`` are generated from them,
without outputs. After changing a script, regenerate its notebook::

    .venv/bin/jupytext --to ipynb --output tutorials/notebooks/STEM.ipynb tutorials/STEM.py

The execution tests run each notebook with nbclient in the venv's ``python3``
kernel, in the tutorial's short mode (``--short``: one epoch on at most 2,000
training examples), with a first cell that sets the kernel's ``sys.argv``.
Each also records its figures with ``--figures``, as the docs' figures are made
(the scripts run as plain scripts in test_backends.py, under JAX and PyTorch).
They are marked ``tutorial`` (so counted as slow): skip them locally with
``pytest -m "not tutorial"``. ``pytest -s`` prints each notebook's wall time.
"""

from __future__ import annotations

import math
import os
import time

import jupytext
import nbformat
import pytest
from conftest import REPO

from keras_ae.report import load_figures

TUTORIALS = sorted((REPO / "tutorials").glob("[0-9][0-9]_*.py"))
NOTEBOOKS = REPO / "tutorials" / "notebooks"
IDS = [p.stem for p in TUTORIALS]
#: A guard against a hung kernel only: a short run takes well under 2 minutes.
CELL_TIMEOUT = 900
#: Tutorial -> (trained, untrained) figure pairs its short run must order.
LEARNS = {"01_dense_autoencoder": [("ae_mse", "untrained_mse")]}


def _regenerate(script) -> str:
    return (
        f".venv/bin/jupytext --to ipynb --output tutorials/notebooks/{script.stem}.ipynb "
        f"tutorials/{script.name}"
    )


def _cells(notebook) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def test_every_tutorial_is_found():
    assert len(TUTORIALS) >= 13, [p.name for p in TUTORIALS]


@pytest.mark.parametrize("script", TUTORIALS, ids=IDS)
def test_notebook_is_in_sync_with_its_script(script):
    path = NOTEBOOKS / f"{script.stem}.ipynb"
    assert path.exists(), f"{path.name} is missing; generate it: {_regenerate(script)}"
    notebook = nbformat.read(path, as_version=4)
    expected = jupytext.read(script)
    assert _cells(notebook) == _cells(expected), (
        f"{path.name} is out of date with {script.name}; regenerate it: {_regenerate(script)}"
    )
    assert not any(cell.get("outputs") for cell in notebook.cells), (
        f"{path.name} is committed with outputs; regenerate it: {_regenerate(script)}"
    )


def _kernel_env() -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("MPLBACKEND", None)  # the kernel's inline backend shows the figures
    return env


@pytest.mark.tutorial
@pytest.mark.parametrize("script", TUTORIALS, ids=IDS)
def test_notebook_executes_in_short_mode(script, tmp_path):
    """The notebook runs top to bottom in a kernel, shows its figures inline,
    writes them as PNGs, exports its model and records its figures."""
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOKS / f"{script.stem}.ipynb", as_version=4)
    out, figures = tmp_path / "out", tmp_path / "figures.json"
    argv = [script.stem, "--short", "--out", str(out), "--figures", str(figures)]
    notebook.cells.insert(0, nbformat.v4.new_code_cell(f"import sys; sys.argv = {argv!r}"))
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    start = time.perf_counter()
    client.execute(env=_kernel_env())
    print(f"\n{script.stem}: notebook executed in {time.perf_counter() - start:.1f} s (short mode)")

    pngs = sorted(out.rglob("*.png"))
    assert pngs and all(p.stat().st_size > 1000 for p in pngs), pngs
    assert list(out.rglob("saved_model.pb")), "the tutorial exports its model"
    shown = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    ]
    assert len(shown) >= len(pngs), f"{len(shown)} figures shown inline, {len(pngs)} written"
    _assert_recorded(figures, script.stem)
    recorded = load_figures(figures)[script.stem]
    assert "--short" in recorded["command"], recorded  # the command reproduces this run
    for trained, untrained in LEARNS.get(script.stem, []):  # one short epoch already learns
        assert recorded["values"][trained] < recorded["values"][untrained], recorded


def _assert_recorded(path, section) -> None:
    recorded = load_figures(path)[section]
    assert recorded["values"], f"{section} recorded no figure"
    assert all(math.isfinite(v) for v in recorded["values"].values()), recorded
    assert recorded["command"].startswith(f"python tutorials/{section}.py"), recorded

"""Every tutorial runs end to end with one epoch, so the tutorials can't rot.

Marked ``tutorial``: skip them locally with ``pytest -m "not tutorial"``; CI runs them.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import REPO

TUTORIALS = sorted((REPO / "tutorials").glob("[0-9][0-9]_*.py"))


@pytest.mark.tutorial
@pytest.mark.parametrize("script", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs_and_writes_figures(script, tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, str(script), "--epochs", "1", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    pngs = list(tmp_path.rglob("*.png"))
    assert pngs and all(p.stat().st_size > 1000 for p in pngs)
    assert list(tmp_path.rglob("saved_model.pb")), "the tutorial exports its model"

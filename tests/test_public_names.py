"""Every ``keras_ae.<name>`` spelling in the README, the docs, the tutorials and
the package's docstrings resolves after a bare ``import keras_ae``."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from conftest import REPO

SPELLING = re.compile(r"\bkeras_ae(?:\.[A-Za-z_]\w*)+")


def _spellings() -> dict[str, str]:
    """spelling -> the first file that uses it."""
    files = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    files += sorted((REPO / "tutorials").glob("*.py")) + sorted((REPO / "keras_ae").glob("*.py"))
    found: dict[str, str] = {}
    for path in files:
        for match in SPELLING.finditer(path.read_text()):
            name = match.group(0).rstrip(".")
            if name.endswith((".py", "_")):  # a file name, or a pattern such as build_*
                continue
            found.setdefault(name, str(path.relative_to(REPO)))
    return found


def test_every_documented_name_resolves_from_a_bare_import():
    spellings = _spellings()
    assert len(spellings) > 30  # the walk finds the docs' names
    code = (
        "import json, sys\nimport keras_ae\nbad = []\n"
        "for name in json.loads(sys.argv[1]):\n"
        "    obj = keras_ae\n"
        "    for part in name.split('.')[1:]:\n"
        "        try:\n"
        "            obj = getattr(obj, part)\n"
        "        except AttributeError:\n"
        "            bad.append(name)\n"
        "            break\n"
        "print(json.dumps(bad))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(sorted(spellings))],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    bad = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not bad, {name: spellings[name] for name in bad}

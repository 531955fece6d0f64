"""The documentation works: its Python blocks run, and the site builds strictly.

Every fenced ```` ```python ```` block of README.md and docs/*.md runs, with these rules:

- Each block runs in a fresh interpreter. The blocks of one file run in order, in one
  temporary folder of their own, so a block may use the files an earlier block of the
  same page wrote (as a reader running them from the top would). The folder holds a
  link ``saved_models`` to the repository's ``saved_models/``, as a clone does.
- Offline: the HTTP(S) proxy variables point at a closed port, so a block that
  downloads anything fails.
- Short mode: every ``epochs=N`` in a block becomes ``epochs=1`` (and ``--epochs N`` in
  a command line the block runs becomes ``--epochs 1``); nothing else changes.
- A block that is not meant to run (it needs several machines, a GPU, or files only the
  reader has) is marked by an HTML comment on the line just before its fence, which
  renders as nothing on GitHub and on the site: ``<!-- not-run: the reason -->``.
  Keep such blocks rare: most can be made runnable with a few lines of data.

``mkdocs build --strict`` also runs here (slow), so a broken link, anchor or API
reference fails pytest as well as ``.ci/run``.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

#: A fenced block: its indentation, the line before it, its info string and its body.
FENCE = re.compile(
    r"(?P<before>[^\n]*)\n(?P<indent>[ \t]*)```(?P<info>[^\n`]*)\n(?P<body>.*?)\n(?P=indent)```",
    re.DOTALL,
)
NOT_RUN = re.compile(r"<!--\s*not-run:\s*(?P<reason>\S.*?)\s*-->")
SHORT = [(re.compile(r"\bepochs=\d+"), "epochs=1"), (re.compile(r"--epochs \d+"), "--epochs 1")]


def markdown_files() -> list[Path]:
    """README.md and every page in docs/ (globbed, so that new pages are covered)."""
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def python_blocks(text: str) -> list[tuple[int, str, str | None]]:
    """``(line, code, not_run_reason)`` for every ```python block of a Markdown text."""
    blocks = []
    for match in FENCE.finditer("\n" + text):
        if match.group("info").split()[:1] != ["python"]:
            continue
        indent = match.group("indent")
        lines = match.group("body").split("\n")
        code = "\n".join(line.removeprefix(indent) for line in lines)
        reason = NOT_RUN.search(match.group("before"))
        line = text.count("\n", 0, max(match.start("indent") - 1, 0)) + 1
        blocks.append((line, code, reason.group("reason") if reason else None))
    return blocks


def short_mode(code: str) -> str:
    """The block as the test runs it: ``epochs=N`` becomes ``epochs=1``."""
    for pattern, replacement in SHORT:
        code = pattern.sub(replacement, code)
    return code


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(REPO)) for p in paths]


#: The files with a block to run.
FILES = [p for p in markdown_files() if any(r is None for _, _, r in python_blocks(p.read_text()))]


def test_the_parser_finds_blocks_markers_and_short_mode():
    text = (
        "Intro\n\n```python\nmodel.fit(x, x, epochs=30)\n```\n\n"
        "<!-- not-run: needs two machines -->\n```python\nrun()\n```\n\n"
        "- item\n\n    ```python\n    print(1)\n    ```\n\n```bash\nls\n```\n"
    )
    blocks = python_blocks(text)
    assert [(line, reason) for line, _, reason in blocks] == [
        (3, None),
        (8, "needs two machines"),
        (14, None),
    ]
    assert blocks[2][1] == "print(1)"
    assert short_mode(blocks[0][1]) == "model.fit(x, x, epochs=1)"
    assert short_mode('cli(["train", "--epochs 40"])') == 'cli(["train", "--epochs 1"])'
    assert len(FILES) >= 3  # README.md and the docs pages with code


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_python_blocks_run(path: Path, tmp_path: Path):
    blocks = python_blocks(path.read_text())
    (tmp_path / "saved_models").symlink_to(REPO / "saved_models")
    closed = "http://127.0.0.1:9"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg"}
    env.update({k: closed for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")})
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)
    for line, code, reason in blocks:
        if reason is not None:
            continue
        code = short_mode(code)
        ast.parse(code, filename=f"{path.name}:{line}")  # a typo fails here, with its line
        proc = subprocess.run(
            [sys.executable, "-c", code],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, (
            f"{path.relative_to(REPO)}, the block at line {line}, failed:\n{proc.stderr[-3000:]}"
        )


def test_few_blocks_are_marked_not_run():
    blocks = [b for p in markdown_files() for b in python_blocks(p.read_text())]
    marked = [reason for _, _, reason in blocks if reason is not None]
    assert len(marked) <= max(2, len(blocks) // 5), marked


def test_api_page_covers_every_public_module():
    import keras_ae

    page = (REPO / "docs" / "api.md").read_text()
    documented = set(re.findall(r"^::: keras_ae\.(\w+)$", page, re.MULTILINE))
    exported = [getattr(keras_ae, name) for name in keras_ae.__all__]
    public = set(keras_ae._LAZY) | {
        # the modules __all__ names, and those its functions come from
        value.__name__ if inspect.ismodule(value) else value.__module__
        for value in exported
    }
    public = {name.removeprefix("keras_ae.") for name in public}
    assert public - documented == set(), "docs/api.md lacks ::: for these modules"
    assert "::: keras_ae\n" in page


def test_getting_started_quotes_the_readme_quick_start():
    """docs/index.md's Quick start commands are the README's, verbatim."""
    index = (REPO / "docs" / "index.md").read_text()
    quick = index.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)\n```", quick, re.DOTALL)
    assert commands
    readme = (REPO / "README.md").read_text()
    for command in commands:
        assert command in readme


def test_the_readme_quick_start_holds_exactly_two_commands():
    """One installs and runs the main job, one installs and runs the tests; nothing else."""
    readme = (REPO / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```\w*\n(.*?)\n```", quick, re.DOTALL)
    lines = [line for block in blocks for line in block.splitlines() if line.strip()]
    assert len(lines) == 2, lines
    assert "keras-ae demo" in lines[0] and "pytest" in lines[1]


def _hook():
    spec = importlib.util.spec_from_file_location(
        "tutorial_pages", REPO / "docs" / "hooks" / "tutorial_pages.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tutorial_pages_show_committed_figures_after_the_cell_that_writes_them(
    tmp_path: Path, monkeypatch
):
    hook = _hook()
    script = REPO / "tutorials" / "01_dense_autoencoder.py"
    monkeypatch.setattr(hook, "IMAGES", tmp_path)
    page = hook.tutorial_page(script)  # no figures yet: the page says how to make them
    assert "not in the documentation yet" in page and "![" not in page
    assert page.startswith("# ") and "```python\n" in page and "# %%" not in page
    (tmp_path / script.stem).mkdir()
    named = re.search(r"[\"'/](\w+\.png)", script.read_text()).group(1)
    for name in (named, "zz_unnamed.png"):
        (tmp_path / script.stem / name).write_bytes(b"")
    page = hook.tutorial_page(script)
    image = f"](../images/tutorials/{script.stem}/{named})"
    assert image in page
    cell = page[: page.index(image)].rsplit("```python", 1)[1]
    assert named in cell  # right after the code cell that writes it
    assert page.index("## Figures of the full-length run") < page.index("zz_unnamed.png")
    assert f"--out outputs/{script.stem} --figures docs/figures.json" in page


def test_links_out_of_docs_point_at_the_sites_copies():
    hook = _hook()
    assert hook._site_path("tutorials/07_variational_autoencoder.py") == (
        "tutorials/07_variational_autoencoder.md"
    )
    assert hook._site_path("README.md") == "index.md"
    assert hook._site_path("keras_ae/trunks.py") == "source/keras_ae/trunks.py.md"
    assert hook._site_path("keras_ae/no_such_file.py") is None  # strict mode fails on it
    assert hook._repo_target("docs/guide.md", "../tutorials/README.md") == "tutorials/README.md"
    assert hook._repo_target("docs/guide.md", "https://keras.io") is None


def test_site_builds_strictly(tmp_path: Path):
    """``mkdocs build --strict``: a broken link, anchor or API reference fails."""
    mkdocs = Path(sys.executable).with_name("mkdocs")
    proc = subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    site = tmp_path / "site"
    pages = {p.parent.name for p in (site / "tutorials").glob("*/index.html")}
    scripts = {p.stem for p in (REPO / "tutorials").glob("[0-9][0-9]_*.py")}
    assert pages == scripts  # one page per tutorial
    assert 'class="doc doc-heading"' in (site / "api" / "index.html").read_text()

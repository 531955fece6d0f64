"""MkDocs hook: one page per tutorial, made at build time from the scripts.

``tutorials/NN_<name>.py`` (jupytext percent format) is the source of truth. For each
script this hook adds ``tutorials/NN_<name>.md`` to the site: its markdown cells as
prose, its code cells as Python blocks, and the PNGs of the full-length run committed
under ``docs/images/tutorials/NN_<name>/``, each shown after the code cell that writes
it (a figure no cell names goes to a last section). A tutorial without committed
figures yet still gets its page. ``tutorials/README.md`` becomes the section's overview
and the notebooks ``tutorials/notebooks/*.ipynb`` are offered for download. The nav's
``Tutorials`` entry is filled here, so a new script gets its page without editing
mkdocs.yml. Nothing is written into the working tree.

Links that leave ``docs/`` (so that the Markdown reads well on GitHub too) are pointed
at the site's own copy: ``../tutorials/NN_<name>.py`` at the tutorial's page,
``../README.md`` at the Getting started page, and any other file of the repository
(``../keras_ae/trunks.py``) at a page showing that file, and a folder at a page listing
its files. A link to a file that does not exist stays as written, so
``mkdocs build --strict`` fails on it.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

import jupytext
from mkdocs.structure.files import File, Files, InclusionLevel

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
TUTORIALS = REPO / "tutorials"
IMAGES = DOCS / "images" / "tutorials"
SCRIPT = re.compile(r"^\d\d_\w+\.py$")
#: The command whose PNGs are committed under docs/images/tutorials/<stem>/.
COMMAND = "python tutorials/{stem}.py --out outputs/{stem} --figures docs/figures.json"
#: A Markdown link or image target: ``](target)`` or ``](target#anchor)``.
LINK = re.compile(r"\]\(([^)\s#]+)(#[^)\s]*)?\)")
#: A source file named as a plain path in a tutorial's prose: `keras_ae/trunks.py`.
SOURCE_PATH = re.compile(r"(?<!\[)`((?:keras_ae|benchmarks)/[\w/]+\.py)`")
LANGUAGES = {".py": "python", ".json": "json", ".toml": "toml", ".yml": "yaml", ".txt": "text"}

#: The site's copy of a repository file outside docs/: repo path -> site path.
_SOURCES: dict[str, str] = {}
#: The site's listing of a repository folder: repo path -> site path.
_FOLDERS: dict[str, str] = {}


def scripts() -> list[Path]:
    """The tutorial scripts, in order."""
    return sorted(p for p in TUTORIALS.glob("*.py") if SCRIPT.match(p.name))


def on_config(config):
    """Fill the nav's ``Tutorials`` entry: the overview, then one page per script."""
    pages = ["tutorials/README.md", *(f"tutorials/{p.stem}.md" for p in scripts())]
    for item in config["nav"] or []:
        if isinstance(item, dict) and "Tutorials" in item:
            item["Tutorials"] = pages
    return config


def _figure(stem: str, png: Path) -> str:
    caption = png.stem.replace("_", " ")
    return f"![{caption}](../images/tutorials/{stem}/{png.name})\n"


def _link_sources(markdown: str) -> str:
    """Make each source file a tutorial names, `keras_ae/trunks.py`, a link to it."""

    def link(match: re.Match) -> str:
        path = match.group(1)
        return f"[`{path}`](../{path})" if (REPO / path).is_file() else match.group(0)

    return SOURCE_PATH.sub(link, markdown)


def tutorial_page(script: Path) -> str:
    """The Markdown page of one tutorial script."""
    stem = script.stem
    notebook = jupytext.read(script, fmt="py:percent")
    figures = sorted((IMAGES / stem).glob("*.png")) if (IMAGES / stem).is_dir() else []
    shown: set[str] = set()
    exercises = (DOCS / "exercises.md").read_text() if (DOCS / "exercises.md").exists() else ""
    about = [
        f"Source: `tutorials/{stem}.py`. Run it with "
        f"`python tutorials/{stem}.py --out outputs/{stem}`",
    ]
    if (TUTORIALS / "notebooks" / f"{stem}.ipynb").exists():
        about.append(f", or open [the notebook](notebooks/{stem}.ipynb) in Jupyter")
    about.append(
        f". The figures on this page are from the full-length run, `{COMMAND.format(stem=stem)}`."
        if figures
        else ". The figures of the full-length run are not in the documentation yet: "
        f"`{COMMAND.format(stem=stem)}` makes them."
    )
    parts: list[str] = []
    for index, cell in enumerate(notebook.cells):
        source = cell.source.strip("\n")
        if cell.cell_type == "markdown":
            parts.append(_link_sources(source) + "\n")
            if source.startswith("## Exercises") and f"## {stem}\n" in exercises:
                parts.append(
                    f"The expected outcomes are on the [Exercises](../exercises.md#{stem}) page.\n"
                )
        elif source:
            parts.append(f"```python\n{source}\n```\n")
            for png in figures:
                named = re.search(rf"(?<![\w.-]){re.escape(png.name)}", source)
                if png.name not in shown and named:
                    shown.add(png.name)
                    parts.append(_figure(stem, png))
        if index == 0:  # after the title, the intro and the runtime
            parts.append('!!! info "Run it"\n    ' + "".join(about) + "\n")
    rest = [png for png in figures if png.name not in shown]
    if rest:
        parts.append("## Figures of the full-length run\n")
        parts.extend(_figure(stem, png) for png in rest)
    return "\n".join(parts)


def _site_path(repo_path: str) -> str | None:
    """Where the site shows the repository file ``repo_path``, or None (no such file)."""
    if repo_path.startswith("docs/"):
        return repo_path.removeprefix("docs/")
    if repo_path == "README.md":
        return "index.md"
    if repo_path.startswith("tutorials/") and SCRIPT.match(repo_path.removeprefix("tutorials/")):
        return repo_path.removesuffix(".py") + ".md"
    if repo_path in ("tutorials/README.md",) or repo_path.startswith("tutorials/notebooks/"):
        return repo_path if (REPO / repo_path).is_file() else None
    if repo_path.startswith(".") or not (REPO / repo_path).exists():
        return None
    if (REPO / repo_path).is_dir():
        return _FOLDERS.setdefault(repo_path, f"source/{repo_path}/index.md")
    try:
        (REPO / repo_path).read_text()
    except UnicodeDecodeError:  # no page for a binary file
        return None
    return _SOURCES.setdefault(repo_path, f"source/{repo_path}.md")


def _repo_target(page_repo_path: str, target: str) -> str | None:
    """The repository path a relative link on a page points to, or None if not relative."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("/"):
        return None
    return posixpath.normpath(posixpath.join(posixpath.dirname(page_repo_path), target))


def _page_repo_path(src_uri: str) -> str:
    """The file a site page comes from, as a repository path."""
    if src_uri.startswith("source/"):
        return src_uri.removeprefix("source/").removesuffix(".md")
    if src_uri.startswith("tutorials/"):
        return src_uri.removesuffix(".md") + ".py" if src_uri != "tutorials/README.md" else src_uri
    return f"docs/{src_uri}"


def _source_page(repo_path: str) -> str:
    text = (REPO / repo_path).read_text()
    if repo_path.endswith(".md"):
        return text
    language = LANGUAGES.get(Path(repo_path).suffix, "text")
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", text)), default=0))
    return f"# `{repo_path}`\n\n{fence}{language}\n{text}\n{fence}\n"


def _folder_page(repo_path: str) -> str:
    """A folder's listing: its files (each linked to the site's copy), then its folders."""
    lines = [f"# `{repo_path}/`\n"]
    for entry in sorted((REPO / repo_path).iterdir()):
        if entry.name.startswith((".", "__")):
            continue
        if entry.is_dir():
            lines.append(f"- `{entry.name}/`")
        elif _site_path(f"{repo_path}/{entry.name}"):
            lines.append(f"- [{entry.name}]({entry.name})")
        else:
            lines.append(f"- `{entry.name}`")
    return "\n".join(lines) + "\n"


def on_files(files: Files, config) -> Files:
    """Add the generated pages, the notebooks and the linked repository files."""
    overview = (TUTORIALS / "README.md").read_text()
    files.append(File.generated(config, "tutorials/README.md", content=overview))
    pages = {"tutorials/README.md": overview}
    for script in scripts():
        page = tutorial_page(script)
        pages[f"tutorials/{script.stem}.md"] = page
        files.append(File.generated(config, f"tutorials/{script.stem}.md", content=page))
        notebook = TUTORIALS / "notebooks" / f"{script.stem}.ipynb"
        if notebook.exists():
            uri = f"tutorials/notebooks/{notebook.name}"
            files.append(File.generated(config, uri, abs_src_path=str(notebook)))
    for file in files.documentation_pages():
        if file.src_uri not in pages and file.abs_src_path:
            pages[file.src_uri] = Path(file.abs_src_path).read_text()
    for src_uri, text in pages.items():  # the repository files the pages link to
        for match in LINK.finditer(text):
            target = _repo_target(_page_repo_path(src_uri), match.group(1))
            if target and not target.startswith("docs/"):
                _site_path(target)
    for repo_path, uri in list(_FOLDERS.items()):
        content = _folder_page(repo_path)
        files.append(
            File.generated(config, uri, content=content, inclusion=InclusionLevel.NOT_IN_NAV)
        )
    for repo_path, uri in _SOURCES.items():
        content = _source_page(repo_path)
        files.append(
            File.generated(config, uri, content=content, inclusion=InclusionLevel.NOT_IN_NAV)
        )
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    """Point links that leave docs/ (or a tutorial's folder) at the site's copies."""
    src_uri = page.file.src_uri
    page_repo_path = _page_repo_path(src_uri)

    def relink(match: re.Match) -> str:
        target = _repo_target(page_repo_path, match.group(1))
        site = _site_path(target) if target else None
        if site is None:
            return match.group(0)
        relative = posixpath.relpath(site, posixpath.dirname(src_uri) or ".")
        return f"]({relative}{match.group(2) or ''})"

    return LINK.sub(relink, markdown)

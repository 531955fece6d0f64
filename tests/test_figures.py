"""Every quoted figure agrees with docs/figures.json, the one file the runs write.

A quote is a number followed on the same line by ``<!--fig:section.name-->``
(``keras_ae/report.py``), in README.md, docs/**/*.md or a tutorial's text.
The number must be the recorded value rounded to the quoted decimals.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
from conftest import REPO

from keras_ae import report

MARKER = re.compile(r"<!--fig:(?P<key>[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)-->")
#: A number as the docs write it: 1,279 or 158.7 or 96.10 or 3.20x (not the 16 of "vae16",
#: nor a part of 3.20).
NUMBER = re.compile(r"(?<![\w.])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?!\.\d)(?=x?(?!\w))")
CODE = re.compile(r"`[^`]*`")
LINK = re.compile(r"\[[^\]]*\]\([^)]*\)")
FIGURES = REPO / "docs" / "figures.json"


def quoting_files() -> list[Path]:
    """README.md, every Markdown page under docs/ and the tutorial scripts."""
    return [
        REPO / "README.md",
        *sorted((REPO / "docs").rglob("*.md")),
        *sorted((REPO / "tutorials").glob("*.py")),
    ]


def quotes(text: str) -> list[tuple[int, str, str | None]]:
    """``(line, key, quoted number or None)`` for every marker: the number is the
    last one between the previous marker of its line (or the line's start) and it."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        start = 0
        for match in MARKER.finditer(line):
            numbers = NUMBER.findall(line[start : match.start()])
            found.append((number, match.group("key"), numbers[-1] if numbers else None))
            start = match.end()
    return found


def agrees(quoted: str, value: float) -> bool:
    """True if ``quoted`` is ``value`` rounded to the quoted number of decimals."""
    quoted = quoted.replace(",", "")
    decimals = len(quoted.partition(".")[2])
    return abs(float(quoted) - value) <= 0.5 * 10**-decimals + 1e-9


def test_the_parser_reads_quotes_and_rounding():
    text = (
        "PSNR 18.75 dB<!--fig:a.psnr--> and 2.18×<!--fig:b.lo-->–3.22×<!--fig:b.hi-->\n"
        "vae16 1,279 samples/s<!--fig:c.rate-->, 96.10%<!--fig:c.acc--> <!--fig:c.none-->\n"
        "3.20x<!--fig:d.x--> 3.20xy<!--fig:d.none-->"
    )
    assert quotes(text) == [
        (1, "a.psnr", "18.75"),
        (1, "b.lo", "2.18"),
        (1, "b.hi", "3.22"),
        (2, "c.rate", "1,279"),
        (2, "c.acc", "96.10"),
        (2, "c.none", None),
        (3, "d.x", "3.20"),
        (3, "d.none", None),
    ]
    assert agrees("18.75", 18.75476) and not agrees("18.76", 18.75476)
    assert agrees("1,279", 1279) and agrees("96.10", 96.1) and not agrees("96.35", 96.1)
    assert agrees("158.7", 158.658661) and not agrees("158.1", 158.658661)


def test_every_quoted_figure_is_the_recorded_one():
    figures = report.load_figures(FIGURES)
    checked, wrong = 0, []
    for path in quoting_files():
        for line, key, quoted in quotes(path.read_text(encoding="utf-8")):
            where = f"{path.relative_to(REPO)}:{line} {key}"
            try:
                value = report.figure(figures, key)
            except KeyError:
                wrong.append(f"{where}: not in docs/figures.json")
                continue
            if quoted is None:
                wrong.append(f"{where}: no number before the marker")
            elif not agrees(quoted, value):
                wrong.append(f"{where}: quotes {quoted}, recorded {value}")
            checked += 1
    assert checked >= 20, checked  # the README's tables alone quote more
    assert not wrong, "\n".join(wrong)


def readme_section(heading: str) -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


@pytest.mark.parametrize("heading", ["Model kinds", "How keras_ae compares"])
def test_every_number_in_the_readme_tables_is_a_marked_quote(heading):
    rows = [line for line in readme_section(heading).splitlines() if line.startswith("|")]
    assert len(rows) >= 6, heading
    unmarked = []
    for row in rows[2:]:  # below the header and its rule
        pieces = MARKER.split(LINK.sub("", CODE.sub("", row)))
        # MARKER.split gives text, key, text, key, ..., text: each text before a key
        # ends with its quoted number, which is dropped; no other number may remain.
        texts = pieces[::2]
        for i, text in enumerate(texts[:-1]):
            numbers = list(NUMBER.finditer(text))
            texts[i] = text[: numbers[-1].start()] if numbers else text
        left = NUMBER.findall(" ".join(texts))
        if left:
            unmarked.append(f"{left} in {row[:60]}...")
    assert not unmarked, "\n".join(unmarked)


def test_the_pretrained_figures_are_the_manifests():
    """docs/make_gallery.py records the manifest's metrics; a retrained model
    must be recorded again (and its gallery row redrawn)."""
    recorded = report.load_figures(FIGURES)["pretrained"]["values"]
    models = json.loads((REPO / "saved_models" / "manifest.json").read_text())["models"]
    for name, entry in models.items():
        assert recorded[f"{name}_epochs"] == entry["epochs"], name
        for metric, value in entry["metrics"].items():
            assert recorded[f"{name}_{metric}"] == value, (name, metric)


def runtimes(text: str) -> dict[str, str]:
    """Tutorial stem -> the last cell (its runtime) of each table row that links the script."""
    found = {}
    for row in text.splitlines():
        script = re.search(r"\[(?:[^\]]*)\]\((?:tutorials/)?(\d\d_\w+)\.py\)", row)
        if row.startswith("|") and script:
            found.setdefault(script.group(1), row.rstrip(" |").rsplit("|", 1)[1].strip())
    return found


def test_the_readme_gives_the_tutorials_own_run_times():
    expected = runtimes((REPO / "tutorials" / "README.md").read_text(encoding="utf-8"))
    assert len(expected) >= 13
    assert runtimes(readme_section("Learn")) == expected


def test_each_tutorial_header_gives_its_run_time_as_the_table_does():
    """The first cell's ``Runtime: about N minutes`` line agrees with tutorials/README.md."""
    expected = runtimes((REPO / "tutorials" / "README.md").read_text(encoding="utf-8"))
    units = {"minute": "min", "minutes": "min", "second": "s", "seconds": "s"}
    for script in sorted((REPO / "tutorials").glob("[0-9][0-9]_*.py")):
        header = re.search(r"^# Runtime: about ([\d.]+) (\w+)", script.read_text(), re.M)
        assert header, f"{script.name} has no 'Runtime: about N minutes' line"
        assert f"~{header.group(1)} {units[header.group(2)]}" == expected[script.stem], script.name


def test_the_gallery_script_draws_and_records(tmp_path):
    """docs/make_gallery.py on the real pretrained models, into a temporary folder."""
    spec = importlib.util.spec_from_file_location("make_gallery", REPO / "docs/make_gallery.py")
    gallery = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gallery)
    out, figures = tmp_path / "gallery.png", tmp_path / "figures.json"
    gallery.main(["--out", str(out), "--figures", str(figures)])
    assert out.stat().st_size > 50_000  # thirteen rows of ten digits
    values = report.load_figures(figures)["pretrained"]["values"]
    assert values == report.load_figures(FIGURES)["pretrained"]["values"]
    # the denoising model removes most of the noise it was trained on
    assert values["denoising_denoised_psnr"] > values["denoising_noisy_psnr"] + 5

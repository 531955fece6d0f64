"""keras_ae.report: the figures file is merged, written atomically, and refuses bad values."""

from __future__ import annotations

import json
import math
import os
import threading

import pytest

from keras_ae import report


def test_record_merges_sections_and_names(tmp_path):
    path = tmp_path / "docs" / "figures.json"  # the folder is created
    report.record_figures(path, "01_dense", {"mse": 0.0102, "epochs": 15}, command="python a.py")
    report.record_figures(path, "pretrained", {"dense_psnr": 18.75476})
    report.record_figures(path, "01_dense", {"psnr": 19.62})  # no command: the old one stays
    figures = report.load_figures(path)
    assert figures == {
        "01_dense": {
            "command": "python a.py",
            "values": {"mse": 0.0102, "epochs": 15, "psnr": 19.62},
        },
        "pretrained": {"command": None, "values": {"dense_psnr": 18.75476}},
    }
    assert isinstance(figures["01_dense"]["values"]["epochs"], int)
    assert report.figure(figures, "01_dense.psnr") == 19.62
    report.record_figures(path, "01_dense", {"mse": 0.0099}, command="python a.py --epochs 30")
    figures = report.load_figures(path)
    assert figures["01_dense"]["values"]["mse"] == 0.0099
    assert figures["01_dense"]["command"] == "python a.py --epochs 30"
    assert list(figures) == ["01_dense", "pretrained"]  # sections sorted, as committed


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "figures.json"
    report.record_figures(path, "a", {"x": 1.5}, command="first")
    before = path.read_bytes()

    def refuse(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(report.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        report.record_figures(path, "a", {"x": 2.5, "y": 3.0})
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figures.json"]  # no temporary left


@pytest.mark.parametrize(
    ("section", "values", "named"),
    [
        ("a", {"x": math.nan}, "values['x']=nan"),
        ("a", {"x": math.inf}, "values['x']=inf"),
        ("a", {"x": "19.6 dB"}, "values['x']='19.6 dB'"),
        ("a", {"x": None}, "values['x']=None"),
        ("a", {"psnr (dB)": 1.0}, "name 'psnr (dB)'"),
        ("a.b", {"x": 1.0}, "section='a.b'"),
        ("", {"x": 1.0}, "section=''"),
    ],
)
def test_bad_values_are_named_and_nothing_is_written(tmp_path, section, values, named):
    path = tmp_path / "figures.json"
    report.record_figures(path, "kept", {"x": 1.0})
    before = path.read_bytes()
    with pytest.raises(ValueError) as raised:
        report.record_figures(path, section, values)
    assert named in str(raised.value)
    assert path.read_bytes() == before


def test_a_file_that_is_not_a_figures_file_is_refused_by_path(tmp_path):
    assert report.load_figures(tmp_path / "missing.json") == {}
    broken = tmp_path / "broken.json"
    broken.write_text('{"a": ')
    with pytest.raises(ValueError, match="broken.json.*not valid JSON"):
        report.load_figures(broken)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"a": {"command": "x", "values": [1, 2]}}))
    with pytest.raises(ValueError, match="wrong.json.*does not hold figures"):
        report.record_figures(wrong, "b", {"x": 1.0})  # refused, not overwritten
    assert json.loads(wrong.read_text()) == {"a": {"command": "x", "values": [1, 2]}}


def test_a_missing_figure_is_named():
    figures = {"a": {"command": None, "values": {"x": 1.0}}}
    for key in ("a.y", "b.x", "a"):
        with pytest.raises(KeyError, match=f"figure '{key}' is not in the figures file"):
            report.figure(figures, key)


def test_writers_at_the_same_time_lose_nothing(tmp_path):
    """Each record takes the folder's lock, so concurrent read-merge-writes do not
    drop each other's values."""
    path = tmp_path / "figures.json"

    def write(section: str) -> None:
        for i in range(25):
            report.record_figures(path, section, {f"v{i}": i})

    threads = [threading.Thread(target=write, args=(f"s{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    figures = report.load_figures(path)
    assert {s: len(v["values"]) for s, v in figures.items()} == {f"s{n}": 25 for n in range(4)}
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]

"""saved_models/: every manifest entry loads without keras_ae, has its shapes and its metric."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from conftest import REPO, call_without_keras_ae

from keras_ae import pretrained
from keras_ae.kinds import KINDS

SAVED = REPO / "saved_models"
MANIFEST = json.loads((SAVED / "manifest.json").read_text())["models"]


def test_manifest_covers_every_kind_and_stays_small():
    assert set(KINDS) <= set(MANIFEST)
    size = sum(p.stat().st_size for p in SAVED.rglob("*") if p.is_file())
    assert size < 50e6
    for entry in MANIFEST.values():
        assert entry["data"]["sha256"] and entry["epochs"] > 0 and "seed" in entry
        assert entry["tensorflow"] and entry["keras"] and entry["metrics"] and entry["endpoints"]


def _example(spec, batch):
    """An input for an endpoint argument described in the manifest."""
    if spec["shape"] == []:
        return np.array(batch if spec["dtype"] == "int32" else 0)
    return np.random.default_rng(0).random((batch, *spec["shape"][1:])).astype(spec["dtype"])


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_entry_loads_without_keras_ae_with_listed_shapes_and_metric(name, mnist, tmp_path):
    entry = MANIFEST[name]
    x_test, y_test = mnist[1]
    inputs = {}
    for endpoint, sig in entry["endpoints"].items():
        args = list(sig["inputs"].values())
        if endpoint == "sample":
            inputs[f"{endpoint}__shape"] = np.array([3, 7])
        elif len(args) == 1:
            inputs[f"{endpoint}__shape"] = _example(args[0], 3)
    main = "reconstruct" if "reconstruct" in entry["endpoints"] else "serve"
    inputs[f"{main}__test"] = x_test
    result = call_without_keras_ae(SAVED / entry["path"], inputs, tmp_path)
    assert set(entry["endpoints"]) <= set(result["__signatures__"])
    for endpoint, sig in entry["endpoints"].items():
        if f"{endpoint}__shape" not in inputs:
            continue
        for i, out in enumerate(sig["outputs"].values()):
            got = result[f"{endpoint}__shape__{i}"].shape
            assert got[0] == 3 and list(got[1:]) == out["shape"][1:], (endpoint, got, out)
    out = result[f"{main}__test__0"]
    metrics = entry["metrics"]
    if "mse" in metrics:
        mse = float(np.mean((out.astype("float64") - x_test) ** 2))
        assert mse == pytest.approx(metrics["mse"], rel=1e-3, abs=1e-6)
    if "accuracy" in metrics:
        assert float(np.mean(out.argmax(-1) == y_test)) == pytest.approx(
            metrics["accuracy"], abs=1e-3
        )


def test_load_by_name_and_refuse_a_tampered_model(tmp_path):
    name = "dense"
    loaded = pretrained.load(name)
    assert loaded.encode(np.zeros((2, 28, 28, 1), "float32")).shape == (2, 32)
    copy = tmp_path / "saved_models"
    shutil.copytree(SAVED / name, copy / name)
    manifest = {"models": {name: MANIFEST[name]}}
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert pretrained.verify(name, copy) == copy / name
    target = next(p for p in sorted((copy / name).rglob("*.data-*")))
    blob = bytearray(target.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    target.write_bytes(bytes(blob))
    with pytest.raises(pretrained.TamperedModelError, match="Refusing"):
        pretrained.load(name, copy)
    with pytest.raises(ValueError, match="name"):
        pretrained.load("no-such-model", copy)


_FROM_THE_WHEEL = """
import json, sys
import numpy as np
import keras_ae

site = sys.argv[1]
assert keras_ae.__file__.startswith(site), keras_ae.__file__
listed = keras_ae.pretrained.list()
x = np.zeros((2, 28, 28, 1), "float32")
for name, entry in listed.items():
    model = keras_ae.pretrained.load(name)  # checks every file's sha256 first
    endpoint = getattr(model, "reconstruct", None) or model.serve
    assert np.asarray(endpoint(x)).shape[0] == 2
print(json.dumps(sorted(listed)))
"""


def test_the_wheel_carries_every_pretrained_model(tmp_path):
    """A wheel built from the repository holds saved_models/ as
    keras_ae/saved_models; installed into a fresh folder, every model loads
    (hashes checked) from a working directory outside the clone."""
    wheels, site, elsewhere = tmp_path / "wheels", tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    pip = [sys.executable, "-m", "pip", "-q"]
    build = subprocess.run(
        [*pip, "wheel", "--no-deps", "-w", str(wheels), str(REPO)],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = wheels.glob("keras_ae-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert "keras_ae/saved_models/manifest.json" in names
    for name, entry in MANIFEST.items():
        for file in entry["files"]:
            assert f"keras_ae/saved_models/{entry['path']}/{file}" in names, (name, file)
    install = subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(site), str(wheel)],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-3000:]
    env = {**os.environ, "PYTHONPATH": str(site), "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(
        [sys.executable, "-c", _FROM_THE_WHEEL, str(site)],
        capture_output=True, text=True, cwd=elsewhere, env=env, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == sorted(MANIFEST)


def test_pretrained_list_and_cli_listing(capsys):
    from keras_ae import cli

    listed = pretrained.list()
    assert sorted(listed) == sorted(MANIFEST)
    for name, entry in listed.items():
        assert entry["metrics"] == MANIFEST[name]["metrics"] and entry["size_bytes"] > 10_000
        assert "reconstruct" in entry["endpoints"] or "classify" in entry["endpoints"]
    assert cli.main(["pretrained"]) == 0
    printed = capsys.readouterr().out
    assert all(name in printed for name in MANIFEST) and "psnr 18.75" in printed
    assert cli.main(["pretrained", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(listed))

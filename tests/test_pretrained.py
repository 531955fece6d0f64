"""saved_models/: every manifest entry loads without keras_ae, has its shapes and its metric."""

from __future__ import annotations

import json
import shutil

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

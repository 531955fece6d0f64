"""export_saved_model: endpoints, overwrite, atomic writes, refusal of broken models."""

from __future__ import annotations

import shutil
from pathlib import Path

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae import export


@pytest.fixture
def small_model():
    keras.utils.set_random_seed(3)
    return keras_ae.build_dense_autoencoder(hidden_units=(16,), latent_dim=4)


def _serve(path, x):
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))  # keep a reference while calling it
    return loaded.serve(x).numpy()


def test_existing_path_needs_overwrite(small_model, tmp_path, x_small):
    path = keras_ae.export_saved_model(small_model, tmp_path / "sm")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        keras_ae.export_saved_model(small_model, path)
    with pytest.raises(ValueError, match="overwrite=True"):  # also a ValueError
        keras_ae.export_saved_model(small_model, path)
    small_model.fit(x_small, x_small, epochs=1, verbose=0)
    keras_ae.export_saved_model(small_model, path, overwrite=True)
    np.testing.assert_allclose(
        _serve(path, x_small), small_model.predict(x_small, verbose=0), atol=1e-5
    )
    assert [p.name for p in tmp_path.iterdir()] == ["sm"]  # no temporary left behind


def test_failure_mid_export_leaves_the_old_model(small_model, tmp_path, x_small, monkeypatch):
    path = keras_ae.export_saved_model(small_model, tmp_path / "sm")
    before = _serve(path, x_small)
    files_before = sorted(p.relative_to(path) for p in path.rglob("*"))

    archive_class = type(keras.export.ExportArchive())  # the backend's subclass
    original = archive_class.write_out

    def write_half_then_fail(self, filepath, **kwargs):
        original(self, filepath, **kwargs)
        shutil.rmtree(Path(filepath) / "variables")
        raise OSError("disk full")

    monkeypatch.setattr(archive_class, "write_out", write_half_then_fail)
    small_model.fit(x_small, x_small, epochs=1, verbose=0)
    with pytest.raises(OSError, match="disk full"):
        keras_ae.export_saved_model(small_model, path, overwrite=True)
    assert sorted(p.relative_to(path) for p in path.rglob("*")) == files_before
    np.testing.assert_array_equal(_serve(path, x_small), before)
    assert [p.name for p in tmp_path.iterdir()] == ["sm"]


def test_non_finite_weights_never_reach_disk(small_model, tmp_path):
    kernel = small_model.encoder.get_layer("code").kernel
    kernel.assign(np.full(kernel.shape, np.nan, "float32"))
    with pytest.raises(ValueError, match="NaN"):
        keras_ae.export_saved_model(small_model, tmp_path / "sm")
    with pytest.raises(ValueError, match="NaN"):
        keras_ae.save_keras(small_model, tmp_path / "m.keras")
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments(small_model, tmp_path):
    with pytest.raises(TypeError, match="model"):
        keras_ae.export_saved_model("not a model", tmp_path / "sm")
    with pytest.raises(TypeError, match="path"):
        keras_ae.export_saved_model(small_model, 42)
    with pytest.raises(ValueError, match=r"\.keras"):
        keras_ae.save_keras(small_model, tmp_path / "model.h5")


def test_publish_swaps_directories_atomically(tmp_path):
    old, new = tmp_path / "target", tmp_path / "new"
    old.mkdir()
    (old / "a").write_text("old")
    new.mkdir()
    (new / "b").write_text("new")
    export.publish(new, old)
    assert [p.name for p in old.iterdir()] == ["b"] and not new.exists()

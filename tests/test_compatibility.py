"""Files saved by keras_ae 0.1.0 load in this release and give the same values.

tests/data/release_0_1_0 holds a small model of every kind saved by 0.1.0,
when the model classes took one ``spec`` dict, with eight inputs and what
0.1.0 returned for them. Each loads into its kind's class today, returns the
same values, recompiles with its kind's defaults and still trains.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae import models
from keras_ae.anomaly import AnomalyDetector

RELEASE_0_1_0 = Path(__file__).parent / "data" / "release_0_1_0"

#: file -> (class it loads into, kind, the arguments of its own it keeps)
AUTOENCODERS = {
    "dense": (models.Autoencoder, "dense", {}),
    "normalize": (models.Autoencoder, "dense", {}),
    "conv": (models.Autoencoder, "conv", {}),
    "lstm": (models.Autoencoder, "lstm", {}),
    "tied": (models.TiedAutoencoder, "tied", {}),
    "denoising": (models.DenoisingAutoencoder, "denoising", {"noise": "gaussian", "seed": 3}),
    "sparse": (models.SparseAutoencoder, "sparse", {"sparsity": "kl", "target": 0.05}),
    "contractive": (
        models.ContractiveAutoencoder,
        "contractive",
        {"penalty": "hutchinson", "projections": 2, "seed": 7},
    ),
    "vae": (models.VariationalAutoencoder, "vae", {"likelihood": "bernoulli", "seed": 1}),
}


def _saved(name: str) -> tuple[Path, dict[str, np.ndarray]]:
    return RELEASE_0_1_0 / f"{name}.keras", dict(np.load(RELEASE_0_1_0 / f"{name}_io.npz"))


@pytest.mark.parametrize("name", sorted(AUTOENCODERS))
def test_a_0_1_0_autoencoder_loads_into_its_class_and_reconstructs_the_same(name, tmp_path):
    path, io = _saved(name)
    cls, kind, own = AUTOENCODERS[name]
    model = keras.saving.load_model(path)
    assert type(model) is cls and model.kind == kind
    assert own.items() <= model.get_config().items()
    np.testing.assert_allclose(model.reconstruct(io["x"]), io["reconstruction"], atol=1e-5)
    # the saved compile config came back through the class's own compile()
    assert model.optimizer is not None and model.loss is not None
    model.compile()  # this release's defaults for the kind
    loss = model.fit(io["x"], io["x"], epochs=4, batch_size=8, verbose=0).history["loss"]
    assert np.all(np.isfinite(loss)) and loss[-1] < loss[0]
    # saved again, it is written in this release's form and loads the same
    again = keras.saving.load_model(keras_ae.save_keras(model, tmp_path / "again.keras"))
    assert "spec" not in again.get_config() and again.get_config() == model.get_config()


def test_a_0_1_0_stacked_classifier_loads_and_predicts_the_same():
    path, io = _saved("stacked")
    model = keras.saving.load_model(path)
    assert isinstance(model, keras_ae.stacked.StackedClassifier)
    np.testing.assert_allclose(model.predict(io["x"], verbose=0), io["reconstruction"], atol=1e-5)


def test_a_0_1_0_anomaly_detector_loads_and_scores_the_same():
    path, io = _saved("anomaly")
    detector = AnomalyDetector.load(path)
    np.testing.assert_allclose(detector.score_samples(io["x"]), io["reconstruction"], rtol=1e-4)


@pytest.mark.backends
def test_0_1_0_files_saved_under_tensorflow_load_on_this_backend():
    """The kinds with layers of their own (tied kernels, a sparsity layer, a
    normalization, a VAE's heads) give 0.1.0's values on the backend this run
    uses (the TensorFlow run loads every kind above)."""
    for name in ("tied", "sparse", "normalize", "vae"):
        cls = AUTOENCODERS[name][0]
        path, io = _saved(name)
        model = keras.saving.load_model(path)
        assert type(model) is cls, name
        np.testing.assert_allclose(
            model.reconstruct(io["x"]), io["reconstruction"], atol=1e-5, err_msg=name
        )

"""The contractive penalty's Hutchinson estimate (``penalty="hutchinson"``).

The tests marked ``backends`` are backend-neutral and run under TensorFlow,
JAX and PyTorch (see tests/test_backends.py).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae import backend, export

EPOCHS, J_RATIO = 3, 0.5  # as the exact penalty's test in test_family.py; measured 0.18


def _np(value):
    return keras.ops.convert_to_numpy(value)


@pytest.mark.backends
@pytest.mark.parametrize("architecture", ["dense", "conv"])
def test_estimate_averages_to_the_exact_norm(architecture, mnist):
    """The mean of ‖J v‖² over many directions is the exact ‖J‖²_F per digit
    (relative standard deviation at most sqrt(2 / 1000) = 4.5%), for a dense
    trunk and for a padded conv trunk (tangents through ZeroPadding2D, Conv2D
    and Flatten)."""
    keras.utils.set_random_seed(0)
    if architecture == "dense":
        model = keras_ae.build_contractive_autoencoder(
            hidden_units=(64, 32), latent_dim=8, penalty="hutchinson", seed=3
        )
        x = mnist[1][0][:8]
    else:
        model = keras_ae.build_contractive_autoencoder(
            (27, 27, 1), architecture="conv", filters=(4, 8), latent_dim=4, penalty="hutchinson"
        )
        x = mnist[1][0][:8, :27, :27]
    exact = _np(backend.jacobian_norm(model.encoder, keras.ops.convert_to_tensor(x)))
    estimate = _np(model.jacobian_norm_estimate(x, projections=1000))
    assert estimate.shape == exact.shape == (8,) and np.all(exact > 0)
    np.testing.assert_allclose(estimate, exact, rtol=0.15)
    assert estimate.mean() == pytest.approx(exact.mean(), rel=0.05)
    one, other = (_np(model.jacobian_norm_estimate(x, projections=1)) for _ in range(2))
    assert not np.allclose(one, other)  # fresh directions at every call


@pytest.mark.backends
def test_hutchinson_model_round_trips_and_trains(mnist, tmp_path):
    """A ``.keras`` file keeps the penalty, its projections and its seed; the
    reloaded model predicts the same and trains on with the estimate."""
    keras.utils.set_random_seed(0)
    model = keras_ae.build_contractive_autoencoder(
        hidden_units=(32,), latent_dim=8, penalty="hutchinson", projections=3, seed=7
    )
    x, xt = mnist[0][0][:256], mnist[1][0][:64]
    history = model.fit(x, epochs=1, batch_size=64, verbose=0)
    assert sorted(history.history) == ["contractive_loss", "loss"]
    assert np.isfinite(history.history["contractive_loss"][0])
    loaded = keras.saving.load_model(keras_ae.save_keras(model, tmp_path / "m.keras"))
    assert type(loaded) is type(model)
    assert (loaded.penalty, loaded.projections, loaded.spec["seed"]) == ("hutchinson", 3, 7)
    np.testing.assert_allclose(
        loaded.predict(xt, verbose=0), model.predict(xt, verbose=0), atol=1e-5
    )
    assert sorted(loaded.fit(x, epochs=1, batch_size=64, verbose=0).history) == [
        "contractive_loss",
        "loss",
    ]
    if export.saved_model_supported():
        import tensorflow as tf

        served = tf.saved_model.load(str(keras_ae.export_saved_model(model, tmp_path / "sm")))
        np.testing.assert_allclose(
            served.serve(tf.constant(xt)).numpy(), model.predict(xt, verbose=0), atol=1e-5
        )


def test_default_is_the_estimate_and_older_files_stay_exact():
    """The builder's default penalty is the estimate with one direction; a spec
    saved before the ``penalty`` key existed reads as the exact penalty."""
    model = keras_ae.build_contractive_autoencoder(hidden_units=(8,), latent_dim=2)
    assert (model.penalty, model.projections) == ("hutchinson", 1)
    spec = {k: v for k, v in model.spec.items() if k not in ("penalty", "projections", "seed")}
    assert type(model).from_config({"spec": spec, "name": "old"}).penalty == "exact"


@pytest.mark.backends
@pytest.mark.parametrize("architecture", ["dense", "conv"])
def test_exact_penalty_trains(architecture, mnist):
    """``penalty="exact"``: the closed form (dense) and the backend's autodiff
    (conv) in a training step; ``contractive_loss`` is the exact mean ‖J‖²_F."""
    keras.utils.set_random_seed(0)
    if architecture == "dense":
        trunk = {"hidden_units": (32,), "latent_dim": 4}
    else:
        trunk = {"architecture": "conv", "filters": (4, 8), "latent_dim": 4}
    model = keras_ae.build_contractive_autoencoder(penalty="exact", **trunk)
    x = mnist[0][0][:128]
    before = float(np.mean(_np(model.jacobian_norm(x))))
    history = model.fit(x, epochs=1, batch_size=128, shuffle=False, verbose=0)
    assert history.history["contractive_loss"][0] == pytest.approx(before, rel=1e-4)


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"penalty": "approximate"}, ValueError, "penalty"),
        ({"penalty": None}, ValueError, "penalty"),
        ({"projections": 0}, ValueError, "projections"),
        ({"projections": 2.5}, (TypeError, ValueError), "projections"),
        ({"penalty": "hutchinson", "seed": "1"}, TypeError, "seed"),
        ({"activation": "elu"}, ValueError, "penalty"),
        ({"architecture": "lstm", "input_shape": (8, 2)}, ValueError, "penalty"),
    ],
)
def test_bad_penalty_arguments(kwargs, error, name):
    with pytest.raises(error, match=name) as info:
        keras_ae.build_contractive_autoencoder(**kwargs)
    assert "Received" in str(info.value)


def test_estimate_rejects_bad_projections(mnist):
    model = keras_ae.build_contractive_autoencoder(hidden_units=(8,), latent_dim=2, penalty="exact")
    with pytest.raises((TypeError, ValueError), match="projections"):
        model.jacobian_norm_estimate(mnist[1][0][:4], projections=0)


def test_training_with_the_estimate_contracts(mnist):
    """Trained a few epochs on the 8,000 digits with one direction per step, the
    code's exact ‖J‖²_F on test digits falls well below the plain model's."""
    (x_train, _), (x_test, _) = mnist
    norms = {}
    for penalty in (None, "hutchinson"):
        keras.utils.set_random_seed(0)
        if penalty is None:
            model = keras_ae.build_dense_autoencoder()
        else:
            model = keras_ae.build_contractive_autoencoder(penalty=penalty, seed=0)
        model.fit(x_train, x_train, epochs=EPOCHS, batch_size=128, verbose=0)
        norms[penalty] = float(np.mean(_np(model.jacobian_norm(x_test[:1000]))))
    ratio = norms["hutchinson"] / norms[None]
    print(f"||J||^2 plain {norms[None]:.1f}, estimated penalty {norms['hutchinson']:.2f}")
    assert ratio <= J_RATIO

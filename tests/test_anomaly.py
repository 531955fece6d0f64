"""keras_ae.anomaly: threshold rules, scores, AUROC, a real one-class run and export."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from conftest import call_without_keras_ae

import keras_ae
from keras_ae.anomaly import (
    THRESHOLD_RULES,
    AnomalyDetector,
    NotFittedError,
    compute_threshold,
    roc_auc,
)

SCORES = np.array([1.0, 2.0, 3.0, 4.0, 10.0])


# ---------------------------------------------------------------- threshold rules


@pytest.mark.parametrize(
    ("rule", "params", "expected"),
    [
        ("max", {}, 10.0),
        # mean 4, population variance (9 + 4 + 1 + 0 + 36) / 5 = 10
        ("mean_std", {"k": 1.0}, 4.0 + np.sqrt(10.0)),
        ("mean_std", {"k": 2.0}, 4.0 + 2 * np.sqrt(10.0)),
        # sorted position 0.9 * 4 = 3.6: 4 + 0.6 * (10 - 4)
        ("percentile", {"q": 90.0}, 7.6),
        ("percentile", {"q": 50.0}, 3.0),
        # 80th percentile: position 3.2: 4 + 0.2 * 6
        ("contamination", {"contamination": 0.2}, 5.2),
    ],
)
def test_threshold_rules_match_hand_computation(rule, params, expected):
    assert compute_threshold(SCORES, rule, **params) == pytest.approx(expected, rel=1e-6)


def test_every_rule_is_covered_and_contamination_is_a_percentile():
    assert set(THRESHOLD_RULES) == {"max", "mean_std", "percentile", "contamination"}
    assert compute_threshold(SCORES, "contamination", contamination=0.1) == pytest.approx(
        compute_threshold(SCORES, "percentile", q=90.0)
    )


def test_bad_rule_name_lists_the_valid_rules():
    with pytest.raises(ValueError, match="'max', 'mean_std', 'percentile', 'contamination'"):
        AnomalyDetector(threshold="median")
    with pytest.raises(ValueError, match="rule"):
        compute_threshold(SCORES, "median")


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"score": "mae"}, ValueError, "score"),
        ({"q": 150}, ValueError, "q"),
        ({"k": -1.0}, ValueError, "k"),
        ({"contamination": 0.0}, ValueError, "contamination"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"model": "an autoencoder"}, TypeError, "model"),
        ({"score": "elbo"}, ValueError, "elbo"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, name):
    with pytest.raises(error, match=name):
        AnomalyDetector(**kwargs)


# ---------------------------------------------------------------- AUROC


def test_roc_auc_hand_checked_cases():
    assert roc_auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == 1.0  # perfect
    assert roc_auc([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0]) == 0.0  # inverted
    assert roc_auc([0.5] * 6, [0, 1, 0, 1, 1, 0]) == 0.5  # all tied
    # anomalies {0.4, 0.8} vs normals {0.1, 0.4}: 1 + 0.5 (tie) + 1 + 1 of 4 pairs
    assert roc_auc([0.1, 0.4, 0.4, 0.8], [0, 0, 1, 1]) == pytest.approx(3.5 / 4)
    # anomalies {2, 2, 3} vs normals {1, 2}, a three-way tie at 2:
    # each 2 beats 1 and ties 2 (1.5 pairs, twice), 3 beats both (2 pairs): 5 of 6
    assert roc_auc([1, 2, 2, 2, 3], [0, 0, 1, 1, 1]) == pytest.approx(5 / 6)
    assert roc_auc(np.array([3.0, 1.0, 2.0]), np.array([True, False, False])) == 1.0


def test_roc_auc_equals_the_pair_count_on_random_ties():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 6, 300).astype(float)  # many ties
    labels = rng.integers(0, 2, 300)
    pos, neg = scores[labels == 1], scores[labels == 0]
    pairs = (pos[:, None] > neg).sum() + 0.5 * (pos[:, None] == neg).sum()
    assert roc_auc(scores, labels) == pytest.approx(pairs / (len(pos) * len(neg)), abs=1e-12)


def test_roc_auc_rejects_bad_labels():
    with pytest.raises(ValueError, match="both classes"):
        roc_auc([0.1, 0.2], [1, 1])
    with pytest.raises(ValueError, match="0 and 1"):
        roc_auc([0.1, 0.2], [0, 2])
    with pytest.raises(ValueError, match="shape"):
        roc_auc([0.1, 0.2, 0.3], [0, 1])


# ---------------------------------------------------------------- detector on a small model


@pytest.fixture
def small_detector_parts(mnist):
    keras.utils.set_random_seed(1)
    model = keras_ae.build_dense_autoencoder(hidden_units=(32,), latent_dim=4)
    return model, mnist[0][0][:200]


@pytest.mark.parametrize("rule", sorted(THRESHOLD_RULES))
def test_fit_calibrates_the_threshold_on_the_training_scores(small_detector_parts, rule):
    model, x = small_detector_parts
    detector = AnomalyDetector(model, threshold=rule, q=95, k=2, contamination=0.05)
    detector.fit(x, train=False)
    scores = detector.score_samples(x)
    np.testing.assert_array_equal(detector.train_scores_, scores)
    assert detector.threshold_ == compute_threshold(scores, rule, q=95, k=2, contamination=0.05)
    flagged = detector.predict(x).mean()
    expected = {"max": 0.0, "percentile": 0.05, "contamination": 0.05}
    if rule in expected:
        assert flagged == pytest.approx(expected[rule], abs=0.006)


def test_scores_and_predictions_have_one_value_per_sample(small_detector_parts, x_small):
    model, x = small_detector_parts
    detector = AnomalyDetector(model, batch_size=7)
    with pytest.raises(NotFittedError, match="fit"):
        detector.predict(x_small)
    detector.fit(x, train=False)
    scores, flags = detector.score_samples(x_small), detector.predict(x_small)
    assert scores.shape == flags.shape == (len(x_small),)
    assert scores.dtype == np.float32 and flags.dtype == np.int32
    assert set(np.unique(flags)) <= {0, 1}
    reconstruction = model.predict(x_small, verbose=0)
    expected = np.square(x_small - reconstruction).reshape(len(x_small), -1).mean(axis=1)
    np.testing.assert_allclose(scores, expected, rtol=1e-4, atol=1e-7)
    with pytest.raises(ValueError, match="shape"):
        detector.score_samples(x_small[:, :14])


def test_bce_score_needs_unit_range_data(small_detector_parts):
    model, x = small_detector_parts
    detector = AnomalyDetector(model, score="bce").fit(x, train=False)
    reconstruction = np.clip(model.predict(x, verbose=0), 1e-6, 1 - 1e-6)
    expected = -(x * np.log(reconstruction) + (1 - x) * np.log(1 - reconstruction))
    np.testing.assert_allclose(
        detector.score_samples(x), expected.reshape(len(x), -1).sum(axis=1), rtol=1e-4
    )
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        detector.score_samples(x * 2.0)


def test_elbo_score_is_the_mean_path_reconstruction_plus_analytic_kl(mnist):
    keras.utils.set_random_seed(2)
    vae = keras_ae.build_vae(hidden_units=(32,), latent_dim=2, seed=2)
    x = mnist[0][0][:100]
    detector = AnomalyDetector(vae, score="elbo").fit(x, train=False)
    z_mean, z_log_var = vae.encode(x)
    x_hat = np.clip(vae.decode(z_mean), 1e-6, 1 - 1e-6)
    nll = -(x * np.log(x_hat) + (1 - x) * np.log(1 - x_hat)).reshape(len(x), -1).sum(axis=1)
    kl = -0.5 * np.sum(1 + z_log_var - z_mean**2 - np.exp(z_log_var), axis=1)
    np.testing.assert_allclose(detector.score_samples(x), nll + kl, rtol=1e-4)
    np.testing.assert_array_equal(detector.score_samples(x), detector.score_samples(x))
    with pytest.raises(ValueError, match="VariationalAutoencoder"):
        AnomalyDetector(keras_ae.build_dense_autoencoder(), score="elbo")


# ---------------------------------------------------------------- a real run and its export


@pytest.fixture(scope="module")
def one_class(mnist):
    """The default detector trained briefly on the digit 4, and the test labels (1 = not 4)."""
    (x_train, y_train), (x_test, y_test) = mnist
    keras.utils.set_random_seed(0)
    detector = AnomalyDetector().fit(x_train[y_train == 4], epochs=20)
    return detector, x_test, (y_test != 4).astype("int32")


def test_default_detector_separates_one_digit_from_the_others(one_class):
    detector, x_test, labels = one_class
    assert isinstance(detector.model, keras_ae.models.Autoencoder)
    auroc = roc_auc(detector.score_samples(x_test), labels)
    assert auroc > 0.85, auroc
    flags = detector.predict(x_test)
    assert flags[labels == 1].mean() > 0.5  # most other digits flagged
    assert flags[labels == 0].mean() < 0.2  # few fours flagged


def test_exported_endpoints_match_the_detector_without_keras_ae(one_class, tmp_path):
    detector, x_test, _ = one_class
    x = x_test[:300]
    scores = detector.score_samples(x)
    detector.threshold_ = float(np.median(scores))  # both outcomes occur
    path = keras_ae.export_saved_model(detector, tmp_path / "detector")
    out = call_without_keras_ae(path, {"score__a": x, "is_anomaly__a": x, "encode__a": x}, tmp_path)
    assert {"score", "is_anomaly", "serve", "reconstruct", "encode", "decode"} <= set(
        out["__signatures__"]
    )
    np.testing.assert_allclose(out["score__a__0"], scores, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(out["is_anomaly__a__0"].astype("int32"), detector.predict(x))
    np.testing.assert_allclose(
        out["encode__a__0"], detector.model.encoder.predict(x, verbose=0), atol=1e-5
    )


def test_export_needs_a_fitted_detector(tmp_path):
    with pytest.raises(NotFittedError, match="fit"):
        keras_ae.export_saved_model(AnomalyDetector(), tmp_path / "detector")


def test_detector_refuses_unscaled_pixels_for_a_sigmoid_model(mnist):
    """The detector checks data as training.train does: [0, 255] pixels for a
    sigmoid model are refused, naming the argument, before any training."""
    x = mnist[1][0][:64] * 255.0
    detector = AnomalyDetector(keras_ae.build_dense_autoencoder(hidden_units=(16,), latent_dim=4))
    with pytest.raises(ValueError, match=r"`x_normal` must lie in \[0, 1\]"):
        detector.fit(x, epochs=1)
    assert not hasattr(detector, "threshold_")

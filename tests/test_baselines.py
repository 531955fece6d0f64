"""keras_ae.baselines: PCA on the embedded digits, and the rolling z-score of a series
by hand (its bad arguments are tested with the series detectors, in test_sequences.py)."""

from __future__ import annotations

import numpy as np
import pytest

from keras_ae import metrics
from keras_ae.baselines import PCA, rolling_zscore


@pytest.fixture(scope="module")
def digits(mnist):
    """200 training and 100 test digits."""
    return mnist[0][0][:200], mnist[1][0][:100]


def test_components_are_orthonormal_and_codes_have_their_width(digits):
    x_train, x_test = digits
    pca = PCA(16).fit(x_train)
    assert pca.components_.shape == (16, 784)
    np.testing.assert_allclose(pca.components_ @ pca.components_.T, np.eye(16), atol=1e-10)
    codes = pca.transform(x_test)
    assert codes.shape == (100, 16)
    # the training codes are centred and their variances fall component by component
    train_codes = pca.transform(x_train)
    np.testing.assert_allclose(train_codes.mean(axis=0), 0.0, atol=1e-4)
    assert np.all(np.diff(train_codes.var(axis=0)) <= 1e-8)
    recon = pca.reconstruct(x_test)
    assert recon.shape == x_test.shape and recon.dtype == np.float32


def test_training_error_is_the_discarded_variance(digits):
    """On its training data PCA's squared error is the sum of the squared
    singular values it leaves out (Eckart-Young)."""
    x_train, _ = digits
    flat = x_train.reshape(len(x_train), -1).astype("float64")
    singular = np.linalg.svd(flat - flat.mean(axis=0), compute_uv=False)
    errors = {}
    for k in (1, 8, 32):
        errors[k] = metrics.mse(x_train, PCA(k).fit(x_train).reconstruct(x_train))
        np.testing.assert_allclose(errors[k], np.sum(singular[k:] ** 2) / flat.size, rtol=1e-4)
    assert errors[1] > errors[8] > errors[32]
    # every direction kept: the training digits come back exactly (up to float32)
    full = PCA(len(x_train)).fit(x_train)
    np.testing.assert_allclose(full.reconstruct(x_train), x_train, atol=1e-5)


def test_pca_mse_is_the_test_error_of_the_fitted_pca(digits):
    x_train, x_test = digits
    expected = metrics.mse(x_test, PCA(8).fit(x_train).reconstruct(x_test))
    assert metrics.pca_mse(x_train, x_test, 8) == pytest.approx(expected)
    assert 0.01 < expected < 0.1  # 8 directions: well above 0, well below the digits' variance


@pytest.mark.parametrize(
    "n_components, error", [(0, ValueError), (2.5, TypeError), (201, ValueError)]
)
def test_bad_n_components_is_named_with_its_value(digits, n_components, error):
    with pytest.raises(error) as err:
        PCA(n_components).fit(digits[0])
    assert f"Received: n_components={n_components!r}" in str(err.value)


def test_rolling_zscore_by_hand():
    x = np.array([1.0, 2, 3, 2, 1, 10, 5, 5, 5, 5])
    scores = rolling_zscore(x, 3)
    # t=2: past (1, 2): |3 - 1.5| / 0.5; t=4: past (2, 3, 2): |1 - 7/3| / sqrt(2/9)
    np.testing.assert_allclose(scores[:5], [0, 0, 3, 0, np.sqrt(8)], rtol=1e-5)
    for t in range(5, 9):
        past = x[t - 3 : t]
        np.testing.assert_allclose(scores[t], abs(x[t] - past.mean()) / past.std(), rtol=1e-5)
    assert scores[9] == 0  # equal to a constant past
    assert rolling_zscore(np.r_[x, 6.0], 3)[10] > 1e3  # different from a constant past

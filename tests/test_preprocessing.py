"""nnlab.preprocessing: a Standardizer uses the statistics of its fit data, and only those."""

import numpy as np
import pytest

from nnlab.preprocessing import Standardizer

rng = np.random.default_rng(0)
TRAIN = rng.normal(loc=[5.0, -3.0, 0.0], scale=[2.0, 0.5, 10.0], size=(200, 3))


def test_fit_transform_standardises_the_fit_data():
    Z = Standardizer().fit_transform(TRAIN)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1, rtol=1e-12)


def test_new_data_is_scaled_with_the_fit_statistics():
    s = Standardizer().fit(TRAIN)
    new = np.array([[7.0, -3.0, 10.0], [5.0, -2.5, -10.0]])
    expected = (new - TRAIN.mean(axis=0)) / TRAIN.std(axis=0)
    np.testing.assert_allclose(s.transform(new), expected)
    # not the statistics of `new` itself (bug B2): its own standardisation differs
    assert not np.allclose(s.transform(new), Standardizer().fit_transform(new))
    np.testing.assert_allclose(s.inverse_transform(s.transform(new)), new)


def test_zero_variance_feature_is_centred_not_blown_up():
    X = np.column_stack([np.full(5, 3.0), np.arange(5.0)])
    Z = Standardizer().fit_transform(X)
    assert np.all(np.isfinite(Z))
    np.testing.assert_array_equal(Z[:, 0], 0.0)


def test_float32_and_one_feature():
    s = Standardizer().fit(TRAIN.astype(np.float32))
    assert s.transform(TRAIN.astype(np.float32)).dtype == np.float32
    y = np.array([2.0, 4.0, 6.0])
    s1 = Standardizer().fit(y)
    np.testing.assert_allclose(s1.inverse_transform(s1.transform(np.array([10.0]))), [10.0])


def test_clear_errors():
    with pytest.raises(ValueError, match=r"not been fit yet.*fit\(X_train\)"):
        Standardizer().transform(TRAIN)
    s = Standardizer().fit(TRAIN)
    with pytest.raises(ValueError, match=r"\(4, 2\).*\(n, 3\)"):
        s.transform(np.zeros((4, 2)))
    with pytest.raises(TypeError):
        Standardizer(with_mean=False)

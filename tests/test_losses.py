"""nnlab.losses: values, safety at 0/1 and huge logits, and gradients vs numerical ones."""

import warnings

import numpy as np
import pytest

from nnlab.gradcheck import numerical_gradient, relative_error
from nnlab.losses import bce_loss, binary_cross_entropy, mse, softmax_cross_entropy

rng = np.random.default_rng(0)


def test_bce_loss_matches_the_formula_and_is_a_float():
    y_hat = np.array([[0.9], [0.2], [0.6], [0.4]])
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    expected = -np.mean(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat))
    loss = bce_loss(y_hat, y)
    assert type(loss) is float
    assert loss == pytest.approx(expected, rel=1e-12)


def test_bce_loss_is_safe_at_zero_and_one():
    y = np.array([[1.0], [0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wrong = bce_loss(np.array([[0.0], [1.0]]), y)     # confidently wrong
        right = bce_loss(np.array([[1.0], [0.0]]), y)     # exactly right
    assert np.isfinite(wrong) and wrong > 20
    assert 0 <= right < 1e-9


def test_bce_loss_refuses_shapes_that_would_broadcast():
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(1, 4\)"):
        bce_loss(np.full((4, 1), 0.5), np.zeros((1, 4)))
    # (n,) against (n, 1) holds one target per prediction: accepted
    assert bce_loss(np.full((4, 1), 0.5), np.zeros(4)) == pytest.approx(np.log(2))


def _check_grad(loss_fn, pred, y):
    loss, grad = loss_fn(pred, y)
    numeric = numerical_gradient(lambda: loss_fn(pred, y)[0], pred)
    assert grad.shape == pred.shape
    assert relative_error(grad, numeric) < 1e-7


def test_mse_value_and_gradient():
    y_hat, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    assert mse(y_hat, y)[0] == pytest.approx(np.mean((y_hat - y) ** 2), rel=1e-12)
    _check_grad(mse, y_hat, y)


def test_binary_cross_entropy_gradient():
    y_hat = rng.uniform(0.05, 0.95, size=(6, 2))
    y = (rng.random((6, 2)) > 0.5).astype(float)
    assert binary_cross_entropy(y_hat, y)[0] == pytest.approx(bce_loss(y_hat, y), rel=1e-12)
    _check_grad(binary_cross_entropy, y_hat, y)


def test_softmax_cross_entropy_value_and_gradient():
    Z, y = rng.normal(size=(7, 4)), rng.integers(0, 4, size=7)
    logp = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
    assert softmax_cross_entropy(Z, y)[0] == pytest.approx(-logp[np.arange(7), y].mean())
    _check_grad(softmax_cross_entropy, Z, y)


def test_softmax_cross_entropy_gradient_carries_one_over_n():
    Z, y = rng.normal(size=(5, 3)), rng.integers(0, 3, size=5)
    loss1, dZ1 = softmax_cross_entropy(Z, y)
    loss2, dZ2 = softmax_cross_entropy(np.vstack([Z, Z]), np.concatenate([y, y]))
    assert loss2 == pytest.approx(loss1)                 # a mean: same loss
    np.testing.assert_allclose(dZ2[:5], dZ1 / 2)         # twice the samples, half the grad
    np.testing.assert_allclose(dZ1.sum(axis=1), 0, atol=1e-15)


def test_softmax_cross_entropy_is_stable_and_keeps_float32():
    Z = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 0.0]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, dZ = softmax_cross_entropy(Z, np.array([2, 1]))
    assert loss == pytest.approx(1e4, rel=1e-6)           # -log p of the impossible class
    assert dZ.dtype == np.float32 and np.all(np.isfinite(dZ))


def test_softmax_cross_entropy_explains_bad_labels():
    Z = np.zeros((3, 4))
    with pytest.raises(ValueError, match="one-hot.*argmax"):
        softmax_cross_entropy(Z, np.eye(4)[[0, 1, 2]])
    with pytest.raises(ValueError, match="label 4.*0..3"):
        softmax_cross_entropy(Z, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match="3 rows.*2 labels"):
        softmax_cross_entropy(Z, np.array([0, 1]))


# --------------------------------------------------------------------------- independent oracles
# sklearn.metrics.log_loss and scipy.special.log_softmax are implementations nnlab never
# calls: agreement with them is evidence, where our own formula would only repeat itself.

def test_bce_loss_agrees_with_sklearn_log_loss():
    from sklearn.metrics import log_loss

    local = np.random.default_rng(5)
    y_hat = local.uniform(0.01, 0.99, size=(50, 1))
    y = (local.random((50, 1)) > 0.4).astype(float)
    assert bce_loss(y_hat, y) == pytest.approx(log_loss(y.ravel(), y_hat.ravel()), rel=1e-12)
    assert binary_cross_entropy(y_hat, y)[0] == pytest.approx(
        log_loss(y.ravel(), y_hat.ravel()), rel=1e-12)


def test_softmax_cross_entropy_agrees_with_sklearn_and_scipy():
    from scipy.special import log_softmax
    from scipy.special import softmax as scipy_softmax
    from sklearn.metrics import log_loss

    local = np.random.default_rng(6)
    Z, y = local.normal(size=(40, 5)), local.integers(0, 5, size=40)
    loss, dZ = softmax_cross_entropy(Z, y)
    assert loss == pytest.approx(log_loss(y, scipy_softmax(Z, axis=1), labels=range(5)),
                                 rel=1e-12)
    np.testing.assert_allclose(dZ, (scipy_softmax(Z, axis=1) - np.eye(5)[y]) / 40, rtol=1e-12,
                               atol=1e-15)
    # logits far beyond exp's range: log_softmax is the truth (log_loss would clip)
    huge = local.normal(scale=2000, size=(10, 4))
    labels = local.integers(0, 4, size=10)
    expected = -log_softmax(huge, axis=1)[np.arange(10), labels].mean()
    assert softmax_cross_entropy(huge, labels)[0] == pytest.approx(expected, rel=1e-12)

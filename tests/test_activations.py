"""nnlab.activations: values, stability at extreme inputs, dtype, derivative vs numerics."""

import warnings

import numpy as np
import pytest

from nnlab.activations import sigmoid, sigmoid_derivative, softmax


def test_sigmoid_matches_the_formula_where_it_is_safe():
    z = np.linspace(-20, 20, 81)
    np.testing.assert_allclose(sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-12)
    assert sigmoid(0.0) == 0.5


def test_sigmoid_is_symmetric():
    z = np.random.default_rng(0).normal(0, 10, size=(5, 7))
    np.testing.assert_allclose(sigmoid(z) + sigmoid(-z), 1.0, rtol=1e-12)


def test_sigmoid_extreme_inputs_give_no_warning():
    z = np.array([-1e4, -1000.0, -50.0, 50.0, 1000.0, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sigmoid(z)
        d = sigmoid_derivative(z)
    assert s[0] == 0.0 and s[-1] == 1.0
    assert np.all(np.isfinite(d)) and np.all(d >= 0)


def test_sigmoid_keeps_float32_and_shape():
    z = np.ones((3, 4), dtype=np.float32)
    assert sigmoid(z).dtype == np.float32
    assert sigmoid(z).shape == (3, 4)
    assert sigmoid_derivative(z).dtype == np.float32
    assert sigmoid(np.arange(3)).dtype == np.float64   # integers become float


def test_sigmoid_derivative_matches_centred_differences():
    z = np.linspace(-6, 6, 25)
    h = 1e-5
    numeric = (sigmoid(z + h) - sigmoid(z - h)) / (2 * h)
    np.testing.assert_allclose(sigmoid_derivative(z), numeric, rtol=1e-8, atol=1e-12)
    assert sigmoid_derivative(0.0) == 0.25


def test_sigmoid_refuses_text():
    with pytest.raises(TypeError, match="z must"):
        sigmoid("1.0")


def test_softmax_rows_sum_to_one_and_shift_invariant():
    Z = np.random.default_rng(1).normal(size=(6, 4))
    P = softmax(Z)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(softmax(Z + 123.0), P, rtol=1e-10)
    expected = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(P, expected, rtol=1e-12)


def test_softmax_is_stable_for_large_logits():
    Z = np.array([[1000.0, 1000.0, -1000.0], [1e4, 0.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        P = softmax(Z)
    np.testing.assert_allclose(P[0], [0.5, 0.5, 0.0])
    np.testing.assert_allclose(P[1], [1.0, 0.0, 0.0])


def test_softmax_keeps_float32_and_does_not_touch_its_input():
    Z = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    before = Z.copy()
    P = softmax(Z)
    assert P.dtype == np.float32
    np.testing.assert_array_equal(Z, before)
    assert softmax(np.array([0.0, 0.0])).shape == (2,)   # one row as (k,)


# --------------------------------------------------------------------------- scipy as oracle
# scipy.special is an implementation nnlab never calls: agreement with it is evidence,
# where comparing with our own formula would only repeat it.

def test_sigmoid_agrees_with_scipy_expit_over_the_whole_range():
    from scipy.special import expit

    z = np.concatenate([np.linspace(-700, 700, 2801), [0.0, 36.0, 37.0]])
    np.testing.assert_allclose(sigmoid(z), expit(z), rtol=1e-13, atol=0)
    # beyond exp's range both give 0 and 1 (nnlab keeps subnormals scipy flushes to 0)
    z = np.array([-1e4, -800.0, -745.0, 745.0, 800.0, 1e4])
    np.testing.assert_allclose(sigmoid(z), expit(z), rtol=0, atol=1e-300)
    z32 = np.linspace(-80, 80, 321, dtype=np.float32)  # float32 leaves normal range at -87
    np.testing.assert_allclose(sigmoid(z32), expit(z32), rtol=1e-6, atol=0)


def test_sigmoid_derivative_agrees_with_scipy():
    from scipy.special import expit

    z = np.linspace(-10, 10, 401)
    np.testing.assert_allclose(sigmoid_derivative(z), expit(z) * expit(-z), rtol=1e-9, atol=0)
    # further out s * (1 - s) cancels where s is near 1: exact in absolute terms only
    z = np.linspace(-700, 700, 2801)
    np.testing.assert_allclose(sigmoid_derivative(z), expit(z) * expit(-z), rtol=0, atol=1e-15)


def test_softmax_agrees_with_scipy_including_huge_logits():
    from scipy.special import softmax as scipy_softmax

    rng = np.random.default_rng(3)
    for Z in (rng.normal(size=(8, 5)), rng.normal(scale=300, size=(8, 5)),
              np.array([[1e4, 0.0, -1e4], [-5e3, -5e3, -5e3]])):
        np.testing.assert_allclose(softmax(Z), scipy_softmax(Z, axis=1), rtol=1e-12, atol=1e-300)

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

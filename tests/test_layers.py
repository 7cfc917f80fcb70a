"""nnlab.layers: every layer's backward against numerical gradients, shapes, dtypes, errors."""

import numpy as np
import pytest

from nnlab.gradcheck import layer_numerical_gradient, relative_error
from nnlab.layers import Dense, Dropout, LeakyReLU, ReLU, Sigmoid, Tanh

rng = np.random.default_rng(0)


def _away_from_zero(shape):
    """Inputs at least 0.1 from 0, so a ReLU kink is never within h."""
    x = rng.normal(size=shape)
    return x + 0.1 * np.sign(x)


@pytest.mark.parametrize("make", [Sigmoid, Tanh, ReLU, LeakyReLU, lambda: LeakyReLU(0.3)])
def test_activation_backward_matches_numerical_gradient(make):
    layer = make()
    X, dY = _away_from_zero((5, 4)), rng.normal(size=(5, 4))
    layer.forward(X)
    dX = layer.backward(dY)
    assert dX.shape == X.shape
    assert relative_error(dX, layer_numerical_gradient(layer, X, dY)) < 1e-7


def test_dense_backward_matches_numerical_gradients():
    layer = Dense(4, 3, seed=1)
    layer.b[...] = rng.normal(size=3)
    X, dY = rng.normal(size=(6, 4)), rng.normal(size=(6, 3))
    Y = layer.forward(X)
    np.testing.assert_allclose(Y, X @ layer.W + layer.b)
    dX = layer.backward(dY)
    assert (dX.shape, layer.dW.shape, layer.db.shape) == ((6, 4), (4, 3), (3,))
    assert relative_error(dX, layer_numerical_gradient(layer, X, dY)) < 1e-7
    assert relative_error(layer.dW, layer_numerical_gradient(layer, X, dY, "W")) < 1e-7
    assert relative_error(layer.db, layer_numerical_gradient(layer, X, dY, "b")) < 1e-7


def test_dense_gradients_are_overwritten_in_place_not_accumulated():
    layer = Dense(3, 2)
    X, dY = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    dW = layer.dW
    layer.forward(X)
    layer.backward(dY)
    first = dW.copy()
    layer.backward(dY)
    assert layer.dW is dW                        # a reference to dW stays live
    np.testing.assert_allclose(layer.dW, first)  # and a second backward does not add up


def test_dense_init():
    layer = Dense(400, 300, seed=0)
    assert layer.W.shape == (400, 300) and layer.b.shape == (300,)
    assert not layer.b.any()
    assert layer.W.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert Dense(400, 300, init="xavier").W.std() == pytest.approx(np.sqrt(2 / 700), rel=0.02)
    np.testing.assert_array_equal(Dense(3, 2, seed=7).W, Dense(3, 2, seed=7).W)
    assert not np.array_equal(Dense(3, 2, seed=7).W, Dense(3, 2, seed=8).W)
    assert not Dense(3, 2, init="zeros").W.any()


@pytest.mark.parametrize("make", [lambda: Dense(4, 4, dtype=np.float32), Sigmoid, Tanh, ReLU,
                                  LeakyReLU, lambda: Dropout(0.5)])
def test_float32_stays_float32(make):
    layer = make()
    X = rng.normal(size=(3, 4)).astype(np.float32)
    Y = layer.forward(X)
    dX = layer.backward(np.ones_like(Y))
    assert Y.dtype == np.float32 and dX.dtype == np.float32
    for name in layer.params:
        assert getattr(layer, name).dtype == np.float32
        assert getattr(layer, "d" + name).dtype == np.float32


def test_dense_errors_name_the_bad_value_and_the_fix():
    layer = Dense(4, 3)
    with pytest.raises(ValueError, match=r"b has shape \(4, 1\); a dense layer keeps one bias "
                                         r"per neuron, shape \(3,\), not one per training"):
        layer.b = np.zeros((4, 1))
    with pytest.raises(ValueError, match=r"W has shape \(3, 4\).*B14.*\(4, 3\)"):
        layer.W = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"5 columns.*n_in=4"):
        layer.forward(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"reshape\(1, -1\)"):
        layer.forward(np.zeros(4))
    with pytest.raises(RuntimeError, match="before forward"):
        Dense(4, 3).backward(np.zeros((2, 3)))
    layer.forward(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"dY has shape \(2, 4\).*\(2, 3\)"):
        layer.backward(np.zeros((2, 4)))


@pytest.mark.parametrize("kwargs, error", [
    (dict(n_in=0, n_out=3), ValueError), (dict(n_in=2.5, n_out=3), TypeError),
    (dict(n_in=2, n_out=3, init="glorot"), ValueError),
    (dict(n_in=2, n_out=3, dtype=np.int32), TypeError),
    (dict(n_in=2, n_out=3, bias=False), TypeError)])
def test_dense_rejects_bad_arguments(kwargs, error):
    with pytest.raises(error):
        Dense(**kwargs)


def test_relu_passes_no_gradient_where_the_input_was_not_positive():
    layer = ReLU()
    Y = layer.forward(np.array([[-1.0, 0.0, 2.0]]))
    np.testing.assert_array_equal(Y, [[0.0, 0.0, 2.0]])
    np.testing.assert_array_equal(layer.backward(np.ones((1, 3))), [[0.0, 0.0, 1.0]])


def test_dropout_train_and_eval():
    layer = Dropout(0.25, seed=3)
    X = np.ones((200, 50))
    Y = layer.forward(X)
    dropped = Y == 0
    assert 0.2 < dropped.mean() < 0.3
    np.testing.assert_allclose(Y[~dropped], 1 / 0.75)       # inverted: kept ones scaled up
    assert Y.mean() == pytest.approx(1.0, abs=0.03)
    dY = rng.normal(size=X.shape)
    np.testing.assert_allclose(layer.backward(dY), dY * Y)   # same mask as forward
    layer.training = False
    assert layer.forward(X) is X and layer.backward(dY) is dY
    with pytest.raises(ValueError, match=r"\[0.0, 1.0\)"):
        Dropout(1.0)

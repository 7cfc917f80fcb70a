"""nnlab.network: named parameters and gradients, whole-network gradient check, modes."""

import numpy as np
import pytest

from nnlab.gradcheck import gradient_check
from nnlab.layers import Dense, Dropout, ReLU, Sigmoid, Tanh
from nnlab.losses import binary_cross_entropy, softmax_cross_entropy
from nnlab.network import Sequential

rng = np.random.default_rng(0)
X = rng.normal(size=(8, 3))
Y = rng.integers(0, 4, size=8)


def _net():
    return Sequential(Dense(3, 5, 1), Tanh(), Dense(5, 5, 2), Sigmoid(), Dense(5, 4, 3))


def test_params_and_grads_are_named_and_live():
    net = _net()
    params = net.params()
    assert list(params) == ["0.W", "0.b", "2.W", "2.b", "4.W", "4.b"]
    assert params["2.W"] is net[2].W
    net.backward(softmax_cross_entropy(net.forward(X), Y)[1])
    grads = net.grads()
    assert list(grads) == list(params)
    assert all(grads[k].shape == params[k].shape for k in params)
    assert net.n_params() == 3 * 5 + 5 + 5 * 5 + 5 + 5 * 4 + 4


def test_whole_network_passes_the_gradient_check():
    net = _net()
    dX = net.backward(softmax_cross_entropy(net.forward(X), Y)[1])
    assert dX.shape == X.shape
    errors = gradient_check(lambda: softmax_cross_entropy(net.forward(X), Y)[0],
                            net.params(), net.grads())
    assert max(errors.values()) < 1e-7


def test_skipping_the_first_dx_changes_no_gradient():
    net = _net()
    net.backward(softmax_cross_entropy(net.forward(X), Y)[1])
    full = {k: g.copy() for k, g in net.grads().items()}
    assert net.backward(softmax_cross_entropy(net.forward(X), Y)[1], need_dX=False) is None
    for k, g in net.grads().items():
        np.testing.assert_array_equal(g, full[k])


def test_train_eval_and_predict():
    net = Sequential([Dense(3, 50, 0), ReLU(), Dropout(0.5, seed=1), Dense(50, 1, 2), Sigmoid()])
    assert net.eval() is net and not any(layer.training for layer in net)
    expected = net.forward(X)
    net.train()
    assert all(layer.training for layer in net)
    assert not np.allclose(net.forward(X), expected)       # dropout on
    np.testing.assert_allclose(net.predict(X), expected)   # predict: dropout off
    np.testing.assert_allclose(net.predict(X, batch_size=3), expected)
    assert all(layer.training for layer in net)            # mode restored
    np.testing.assert_array_equal(net.predict_classes(X), (expected[:, 0] > 0.5))


def test_bce_network_gradient_check():
    net = Sequential(Dense(3, 4, 0), Tanh(), Dense(4, 1, 1), Sigmoid())
    y = (rng.random((8, 1)) > 0.5).astype(float)
    net.backward(binary_cross_entropy(net.forward(X), y)[1])
    errors = gradient_check(lambda: binary_cross_entropy(net.forward(X), y)[0],
                            net.params(), net.grads())
    assert max(errors.values()) < 1e-7


def test_repr_lists_layers_and_shapes():
    text = repr(_net())
    assert "(0) Dense(3 -> 5, float64)" in text and "(3) Sigmoid()" in text
    assert "parameters" in text


def test_construction_errors():
    with pytest.raises(TypeError, match=r"class ReLU.*ReLU\(\.\.\.\)"):
        Sequential(Dense(2, 2), ReLU)
    with pytest.raises(TypeError, match="forward"):
        Sequential(Dense(2, 2), np.tanh)
    with pytest.raises(ValueError, match="at least one layer"):
        Sequential()


def test_a_hidden_layer_net_passes_the_gradient_check_and_learns_and():
    """README, rung 03: "a hidden-layer net passes the gradient check and learns AND"."""
    from nnlab.data import and_gate
    from nnlab.optim import sgd_step

    X_and, y_and = and_gate()
    net = Sequential(Dense(2, 3, 0), Tanh(), Dense(3, 1, 1), Sigmoid())
    loss, grad = binary_cross_entropy(net.forward(X_and), y_and)
    net.backward(grad)
    errors = gradient_check(lambda: binary_cross_entropy(net.forward(X_and), y_and)[0],
                            net.params(), net.grads())
    assert max(errors.values()) < 1e-7, errors
    for _ in range(1000):
        loss, grad = binary_cross_entropy(net.forward(X_and), y_and)
        net.backward(grad)
        sgd_step(net.params(), net.grads(), 1.0)
    assert np.array_equal(net.forward(X_and) > 0.5, y_and > 0.5), net.forward(X_and)
    assert loss < 0.05, loss

"""nnlab.neuron: forward values, gradients vs numerics, and what one neuron can learn."""

import numpy as np
import pytest

from nnlab.gradcheck import numerical_gradient, relative_error
from nnlab.losses import bce_loss
from nnlab.neuron import neuron_forward, neuron_gradients, train_neuron

X2 = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
TABLES = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0]}


def test_forward_by_hand():
    w, b = np.array([[2.0], [-1.0]]), np.array([0.5])
    y_hat = neuron_forward(X2, w, b)
    z = np.array([0.5, -0.5, 2.5, 1.5])
    assert y_hat.shape == (4, 1)
    np.testing.assert_allclose(y_hat[:, 0], 1 / (1 + np.exp(-z)))


def test_forward_names_a_bias_per_sample():
    with pytest.raises(ValueError, match=r"b has shape \(4, 1\).*B1.*\(1,\)"):
        neuron_forward(X2, np.zeros((2, 1)), np.zeros((4, 1)))
    with pytest.raises(ValueError, match=r"w has shape \(1, 2\).*\(2, 1\)"):
        neuron_forward(X2, np.zeros((1, 2)), np.zeros(1))


def test_gradients_match_numerical_gradients_of_bce():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(6, 3))
    y = (rng.random((6, 1)) > 0.5).astype(float)
    w, b = rng.normal(size=(3, 1)), np.array([0.2])
    dw, db = neuron_gradients(X, y, neuron_forward(X, w, b))
    assert dw.shape == (3, 1) and db.shape == (1,)
    loss = lambda: bce_loss(neuron_forward(X, w, b), y)  # noqa: E731
    assert relative_error(dw, numerical_gradient(loss, w)) < 1e-7
    assert relative_error(db, numerical_gradient(loss, b)) < 1e-7


def _accuracy(w, b, y):
    return np.mean((neuron_forward(X2, w, b)[:, 0] > 0.5) == np.array(y))


@pytest.mark.parametrize("name", ["AND", "OR"])
def test_one_neuron_learns_and_and_or(name):
    y = np.array(TABLES[name], float).reshape(-1, 1)
    w, b, losses = train_neuron(X2, y)
    assert _accuracy(w, b, TABLES[name]) == 1.0
    assert len(losses) == 1000 and losses[-1] < 0.1 * losses[0]


def test_one_neuron_cannot_learn_xor():
    y = np.array(TABLES["XOR"], float).reshape(-1, 1)
    w, b, losses = train_neuron(X2, y)
    assert _accuracy(w, b, TABLES["XOR"]) < 1.0
    assert losses[-1] > 0.69                      # stuck near log 2: outputs near 0.5
    np.testing.assert_allclose(neuron_forward(X2, w, b), 0.5, atol=0.01)


def test_train_neuron_is_seeded_and_checks_arguments():
    y = np.array(TABLES["AND"], float).reshape(-1, 1)
    w1, _, l1 = train_neuron(X2, y, epochs=5, seed=1)
    w2, _, l2 = train_neuron(X2, y, epochs=5, seed=1)
    np.testing.assert_array_equal(w1, w2)
    assert l1 == l2
    with pytest.raises(ValueError, match="lr must"):
        train_neuron(X2, y, lr=-1)
    with pytest.raises(TypeError, match="epochs must"):
        train_neuron(X2, y, epochs=10.5)
    with pytest.raises(TypeError, match="momentum"):
        train_neuron(X2, y, momentum=0.9)

"""nnlab.gradcheck: the numerical gradient, the error formula, and the report's diagnoses."""

import numpy as np
import pytest

from nnlab.gradcheck import (
    gradient_check,
    layer_numerical_gradient,
    network_gradient_report,
    numerical_gradient,
    rel_error,
    relative_error,
)
from nnlab.layers import Dense, ReLU, Sigmoid, Tanh
from nnlab.losses import mse, softmax_cross_entropy
from nnlab.network import Sequential

rng = np.random.default_rng(0)
X = rng.normal(size=(5, 4))
Y = rng.integers(0, 3, size=5)


def test_numerical_gradient_of_a_known_function():
    x = rng.normal(size=(3, 2))
    grad = numerical_gradient(lambda: np.sum(x ** 3), x)
    assert grad.shape == x.shape
    np.testing.assert_allclose(grad, 3 * x ** 2, rtol=1e-8)


def test_numerical_gradient_restores_x_even_when_f_raises():
    x = np.array([1.0, 2.0])
    before = x.copy()
    numerical_gradient(lambda: float(x @ x), x)
    np.testing.assert_array_equal(x, before)

    def boom():
        raise RuntimeError("f failed")

    with pytest.raises(RuntimeError):
        numerical_gradient(boom, x)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_refuses_what_it_cannot_perturb():
    with pytest.raises(TypeError, match="float numpy array"):
        numerical_gradient(lambda: 0.0, np.arange(3))
    with pytest.raises(ValueError, match="single number"):
        numerical_gradient(lambda: np.zeros(2), np.zeros(2))


def test_relative_error_is_the_documented_formula():
    a, b = np.array([1.0, 2.0]), np.array([1.0, 2.5])
    assert relative_error(a, b) == pytest.approx(0.5 / 4.5)
    # one formula, not its neighbours: the largest difference over the largest |a| + |b|.
    # Elementwise (max of |a-b| / (|a|+|b|)) would give 1/3 here; norms would give 0.707.
    big_and_small = np.array([100.0, 1e-3]), np.array([100.0, 2e-3])
    assert relative_error(*big_and_small) == pytest.approx(1e-3 / 200.0, rel=1e-12)
    assert relative_error(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == 1.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    # the 1e-8 floor: tiny arrays are judged on an absolute scale
    assert relative_error(np.array([1e-10]), np.array([0.0])) == pytest.approx(1e-2)
    assert rel_error is relative_error
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        relative_error(np.zeros((2, 3)), np.zeros((3, 2)))


def _net(*middle, k=3):
    return Sequential(Dense(4, 6, 1), *middle, Dense(6, k, 2))


def test_gradient_check_on_a_network():
    net = _net(Tanh())
    loss, dZ = softmax_cross_entropy(net.forward(X), Y)
    net.backward(dZ)
    errors = gradient_check(lambda: softmax_cross_entropy(net.forward(X), Y)[0],
                            net.params(), net.grads())
    assert set(errors) == {"0.W", "0.b", "2.W", "2.b"}
    assert max(errors.values()) < 1e-7
    doubled = {k: 2 * g for k, g in net.grads().items()}
    errors = gradient_check(lambda: softmax_cross_entropy(net.forward(X), Y),
                            net.params(), doubled)
    assert min(errors.values()) == pytest.approx(1 / 3, rel=1e-5)   # |2g-g| / (2g+g)


def test_layer_numerical_gradient_matches_dense_backward():
    layer = Dense(4, 3, seed=5)
    dY = rng.normal(size=(5, 3))
    layer.forward(X)
    dX = layer.backward(dY)
    assert relative_error(dX, layer_numerical_gradient(layer, X, dY)) < 1e-7
    assert relative_error(layer.dW, layer_numerical_gradient(layer, X, dY, "W")) < 1e-7
    with pytest.raises(ValueError, match="has parameters"):
        layer_numerical_gradient(layer, X, dY, "V")


def test_report_passes_a_correct_network_and_prints_a_table():
    net = _net(Tanh(), Dense(6, 6, 3), Sigmoid())
    report = network_gradient_report(net, softmax_cross_entropy, X, Y)
    assert report.passed
    assert [e.name for e in report] == ["0.W", "0.b", "2.W", "2.b", "4.W", "4.b"]
    assert report.worst().error == max(report.errors().values()) < 1e-7
    text = str(report)
    assert "rel.error" in text and "4.b" in text and "PASSED" in text


class SumNotMean(Dense):
    def backward(self, dY, **kw):
        return super().backward(dY * len(dY), **kw)


class Ascent(Dense):
    def backward(self, dY, **kw):
        out = super().backward(dY, **kw)
        self.dW *= -1
        return out


class TransposedDW(Dense):
    def backward(self, dY, **kw):
        out = super().backward(dY, **kw)
        self.dW[...] = self.dW.T.copy()
        return out


class BadTanh(Tanh):
    def _slope(self):
        return 1 - self._slope_from        # B18: 1 - tanh instead of 1 - tanh**2


class MeanBias(Dense):
    def backward(self, dY, **kw):
        out = super().backward(dY, **kw)
        self.db /= len(dY)
        return out


def test_report_names_a_constant_factor_of_n():
    report = network_gradient_report(Sequential(Dense(4, 6, 1), Tanh(), SumNotMean(6, 3, 2)),
                                     softmax_cross_entropy, X, Y)
    assert not report.passed
    assert all("B5" in e.diagnosis and "5 x numeric" in e.diagnosis for e in report)


def test_report_names_a_flipped_sign_and_a_transpose():
    report = network_gradient_report(_net(Tanh(), Ascent(6, 6, 3)), softmax_cross_entropy,
                                     X, Y)
    assert "B15" in report["2.W"].diagnosis
    report = network_gradient_report(Sequential(Dense(4, 6, 1), Tanh(), TransposedDW(6, 6, 3),
                                                Tanh(), Dense(6, 3, 4)),
                                     softmax_cross_entropy, X, Y)
    assert "B14" in report["2.W"].diagnosis
    assert report["4.W"].passed


def test_report_locates_a_wrong_activation_derivative():
    report = network_gradient_report(_net(BadTanh()), softmax_cross_entropy, X, Y)
    assert report["2.W"].passed and not report["0.W"].passed
    assert "1 (BadTanh)" in report.diagnosis and "B18" in report.diagnosis


def test_report_notices_errors_only_in_biases():
    report = network_gradient_report(_net(Tanh(), MeanBias(6, 6, 3), Tanh()),
                                     softmax_cross_entropy, X, Y)
    assert not report["2.b"].passed and report["2.W"].passed
    assert "only the bias gradients" in report.diagnosis


def test_report_flags_a_relu_kink_instead_of_a_bug():
    net = Sequential(Dense(1, 2, 0), ReLU(), Dense(2, 1, 1))
    x = np.array([[1.0], [2.0]])
    net[0].W[...] = [[1.0, -1.0]]
    net[0].b[...] = [-1.0 + 1e-7, 0.5]          # unit 0's input is 1e-7 from the kink
    report = network_gradient_report(net, mse, x, np.array([[1.0], [0.0]]), h=1e-5)
    assert report["0.b"].kink and report["0.b"].passed
    assert report["0.b"].error > 1e-3            # the raw error alone would call it wrong
    assert "kink" in report["0.b"].diagnosis


def test_report_restores_training_mode():
    net = _net(ReLU()).train()
    network_gradient_report(net, "cross_entropy", X, Y)
    assert all(layer.training for layer in net)

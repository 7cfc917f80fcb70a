"""Catalogued bugs put back into the course notebooks' answer cells, as data.

Each `Injection` replaces one answer cell of a correct submission with a bug from the
catalogue (B1-B19) and names the test cell that must fail and the bug its check must
name. The notebook tests grade every injection; `make demo` builds its class from them.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass


@dataclass(frozen=True)
class Injection:
    """One seed bug put back into an answer cell, and where the grader must name it."""

    answer: str     # grade_id of the answer cell whose source is replaced
    source: str     # the buggy cell source, in full (signature included)
    test: str       # grade_id of the test cell that must fail (score 0)
    bug: str | None  # the catalogue id the failure must name ("B8"); None: a wrong answer
                     # that is no bug of the code (a misnamed diagnosis in notebook 07)
    note: str = ""  # where it comes from

    @property
    def code(self) -> str:
        """The cell as a student would have typed it (dedented, no blank edges)."""
        return textwrap.dedent(self.source).strip("\n")


BUGS_00_03: dict[str, list[Injection]] = {
    "00_welcome": [
        Injection("sigmoid", """
            def sigmoid(z):
                return 1 / (1 + np.exp(-z))
            """, "test_sigmoid", "B17", "seed 001's sigmoid: exp overflows at z = -1000"),
        Injection("sigmoid_derivative", """
            def sigmoid_derivative(z):
                return z * (1 - z)
            """, "test_sigmoid_derivative", "B18", "the formula for an already-activated input"),
    ],
    "01_single_neuron": [
        Injection("neuron_forward", """
            def neuron_forward(X, w, b):
                return sigmoid(X @ w)
            """, "test_neuron_forward", "B7", "no bias anywhere (seed 002)"),
        Injection("neuron_gradients", """
            def neuron_gradients(X, y, y_hat):
                dz = (y_hat - y) / X.shape[0]
                return X.T @ dz, dz
            """, "test_neuron_gradients", "B1", "one bias gradient per sample (seed 000)"),
        Injection("neuron_gradients", """
            def neuron_gradients(X, y, y_hat):
                dz = y_hat - y
                return X.T @ dz, dz.sum(axis=0)
            """, "test_neuron_gradients", "B5", "no 1/n: the gradient of a sum, the loss a mean"),
        Injection("train_neuron", """
            def train_neuron(X, y, lr=1.0, epochs=1000, seed=0):
                rng = np.random.default_rng(seed)
                w = rng.normal(0.0, 0.1, size=(X.shape[1], 1))
                b = np.zeros(1)
                losses = []
                for _ in range(epochs):
                    y_hat = neuron_forward(X, w, b)
                    losses.append(bce_loss(y_hat, y))
                    w = w - lr * w
                    b = b - lr * b
                return w, b, losses
            """, "test_train_neuron", "B12", "seed 003: weights updated with themselves"),
    ],
    "02_gradient_check": [
        Injection("gradient_check", """
            def gradient_check(loss_fn, params, grads, h=1e-5):
                return {name: relative_error(params[name],
                                             numerical_gradient(loss_fn, params[name], h))
                        for name in params}
            """, "test_gradient_check", "B5", "seed 001: the weights compared, not the gradients"),
        Injection("numerical_gradient", """
            def numerical_gradient(f, x, h=1e-5):
                x = x.copy()
                grad = np.zeros(x.shape)
                for i in np.ndindex(x.shape):
                    old = x[i]
                    x[i] = old + h
                    plus = f()
                    x[i] = old - h
                    minus = f()
                    x[i] = old
                    grad[i] = (plus - minus) / (2 * h)
                return grad
            """, "test_numerical_gradient", "B5", "a copy perturbed, so f() never sees it"),
    ],
    "03_hidden_layer": [
        Injection("relu", """
            class ReLU:
                params = ()
                def forward(self, X):
                    self.out = (X >= 0) * X
                    return self.out
                def backward(self, dY):
                    return dY * (self.out >= 0)
            """, "test_relu", "B8", "seed 002's relu2deriv"),
        Injection("tanh", """
            class Tanh:
                params = ()
                def forward(self, X):
                    self.T = np.tanh(X)
                    return self.T
                def backward(self, dY):
                    return dY * (1 - self.T)
            """, "test_tanh", "B18", "1 - tanh(z), not squared"),
        Injection("dense", """
            class Dense:
                params = ("W", "b")
                def __init__(self, n_in, n_out, seed=0):
                    self.W = np.random.default_rng(seed).normal(0, 0.5, size=(n_in, n_out))
                    self.b = np.zeros(n_out)
                def forward(self, X):
                    self.X = X
                    return X @ self.W + self.b
                def backward(self, dY):
                    self.dW = self.X.T @ dY
                    self.db = dY
                    return dY @ self.W.T
            """, "test_dense_backward", "B1", "seed 000: one bias gradient per sample"),
        Injection("dense", """
            class Dense:
                params = ("W", "b")
                def __init__(self, n_in, n_out, seed=0):
                    self.W = np.full((n_in, n_out), 0.1)
                    self.b = np.zeros(n_out)
                def forward(self, X):
                    self.X = X
                    return X @ self.W + self.b
                def backward(self, dY):
                    self.dW = self.X.T @ dY
                    self.db = dY.sum(axis=0)
                    return dY @ self.W.T
            """, "test_dense_init", "B6", "seed 001-style symmetric init: every weight equal"),
        Injection("faulty_layer", "faulty_layer = 6", "test_faulty_layer", None,
                  "find the bug: the Dense above the faulty activation blamed"),
    ],
}


# --------------------------------------------------------------------------- 04-06

XOR_SYMMETRIC_INIT = '''\
def train_xor(hidden, seed, lr=1.0, epochs=2000):
    """Seed 001's start: every weight the same value, so the hidden units stay twins."""
    net = Sequential([Dense(2, hidden, seed=seed), Tanh(), Dense(hidden, 1, seed=seed + 1),
                      Sigmoid()])
    for value in net.params().values():
        value[...] = 0.1
    X, y = xor_gate()
    losses = []
    for _ in range(epochs):
        y_hat = net.forward(X)
        loss, grad = binary_cross_entropy(y_hat, y)
        net.backward(grad)
        sgd_step(net.params(), net.grads(), lr)
        losses.append(loss)
    return net, losses
'''

XOR_ONE_NEURON = '''\
def train_xor(hidden, seed, lr=2.0, epochs=500):
    """Seed 001's network: one sigmoid neuron, `hidden` ignored."""
    net = Sequential(Dense(2, 1, seed=seed), Sigmoid())
    X, y = xor_gate()
    losses = []
    for _ in range(epochs):
        loss, grad = binary_cross_entropy(net.forward(X), y)
        losses.append(loss)
        net.backward(grad)
        sgd_step(net.params(), net.grads(), lr)
    return net, losses
'''

XOR_GRADIENT_ASCENT = '''\
def train_xor(hidden, seed, lr=2.0, epochs=500):
    """The step taken uphill: every parameter moved along its gradient (W += lr * dW)."""
    net = Sequential(Dense(2, hidden, seed=seed), Tanh(), Dense(hidden, 1, seed=seed + 1),
                     Sigmoid())
    X, y = xor_gate()
    losses = []
    for _ in range(epochs):
        loss, grad = binary_cross_entropy(net.forward(X), y)
        losses.append(loss)
        net.backward(grad)
        for name, value in net.params().items():
            value += lr * net.grads()[name]
    return net, losses
'''

STANDARDIZER_REFITS = '''\
class Standardizer:
    """Seed 000's scaling: statistics taken from whatever data is being transformed."""

    def fit(self, X):
        self.mean_ = X.mean(axis=0)
        self.std_ = X.std(axis=0)
        return self

    def transform(self, X):
        return (X - X.mean(axis=0)) / X.std(axis=0)

    def inverse_transform(self, Z):
        return Z * self.std_ + self.mean_
'''

SGD_WITH_WEIGHTS = '''\
def sgd_step(params, grads, lr):
    """Seed 003's update: each array moved by itself instead of by its gradient."""
    for name in params:
        params[name] -= lr * params[name]
'''

SGD_INTO_PARAM = '''\
def sgd_step(params, grads, lr):
    """Seed 004's update: the gradient added straight into the parameter."""
    for name in params:
        params[name] += grads[name]
'''

SOFTMAX_NO_MAX = '''\
def softmax(Z):
    """No max subtracted: exp overflows for large logits."""
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)
'''

CE_NO_MEAN = '''\
def softmax_cross_entropy(Z, y):
    """Loss is a mean, but the gradient forgets the 1/n."""
    n = Z.shape[0]
    P = softmax(Z)
    loss = -np.mean(np.log(P[np.arange(n), y]))
    dZ = P.copy()
    dZ[np.arange(n), y] -= 1
    return loss, dZ
'''

CE_LOG_ZERO = '''\
def softmax_cross_entropy(Z, y):
    """A stable softmax, then the log of a probability that can underflow to 0."""
    n = Z.shape[0]
    P = softmax(Z)
    loss = -np.mean(np.log(P[np.arange(n), y]))
    dZ = P.copy()
    dZ[np.arange(n), y] -= 1
    return loss, dZ / n
'''

CE_IS_MSE = '''\
def softmax_cross_entropy(Z, y):
    """Seed 002's loss: squared error between the linear scores and one-hot targets."""
    n, k = Z.shape
    Y = np.eye(k)[y]
    loss = np.mean(np.sum((Z - Y) ** 2, axis=1))
    return loss, 2 * (Z - Y) / n
'''

BUGS_04_06: dict[str, list[Injection]] = {
    "04_xor": [
        Injection("train_xor", XOR_SYMMETRIC_INIT, "test_train_xor", "B6"),
        Injection("train_xor", XOR_ONE_NEURON, "test_train_xor", "B4"),
        Injection("train_xor", XOR_GRADIENT_ASCENT, "test_train_xor", "B15"),
    ],
    "05_bias_and_scaling": [
        Injection("standardizer", STANDARDIZER_REFITS, "test_standardizer_new_data", "B2"),
        Injection("sgd_step", SGD_WITH_WEIGHTS, "test_sgd_step", "B12"),
        Injection("sgd_step", SGD_INTO_PARAM, "test_sgd_step", "B13"),
    ],
    "06_mnist_and_synthetic": [
        Injection("softmax", SOFTMAX_NO_MAX, "test_softmax", "B17"),
        Injection("softmax_cross_entropy", CE_NO_MEAN, "test_softmax_cross_entropy", "B5"),
        Injection("softmax_cross_entropy", CE_LOG_ZERO, "test_softmax_cross_entropy", "B17"),
        Injection("softmax_cross_entropy", CE_IS_MSE, "test_softmax_cross_entropy", "B9"),
    ],
}


# --------------------------------------------------------------------------- 07


def _clinic() -> dict[str, list[Injection]]:
    """Each clinic case's broken code handed back unfixed (its check names the case's bug;
    case c has none: B19, the learning rate; case f has two and is named after the first,
    B7), and case c named after triage's first suspect (B15), a wrong diagnosis that names
    no bug of the student's code."""
    from nnlab import clinic
    from nnlab.checks.rung07 import CASES, bugs

    return {"07_debugging_clinic": [
        *[Injection(f"train_{case}", clinic.source(case), f"test_train_{case}", bugs(case)[0],
                    f"clinic case {case}'s code unfixed") for case in CASES],
        Injection("diagnosis_c", 'diagnosis_c = "B15"', "test_diagnosis_c", None,
                  "case c named after triage's first suspect"),
    ]}


BUGS_07 = _clinic()

#: notebook -> every injection, for the demo class and anyone else who wants them all.
BUGS: dict[str, list[Injection]] = {
    name: [*BUGS_00_03.get(name, []), *BUGS_04_06.get(name, []), *BUGS_07.get(name, [])]
    for name in sorted({*BUGS_00_03, *BUGS_04_06, *BUGS_07})
}

"""The debugging clinic of notebook 07: small networks that "don't learn", with their data.

Each case is the source text of a training function `train_<case>(X, y, seed=0, lr=...,
epochs=...) -> (net, losses)` with one thing wrong (case c: nothing wrong in the code at
all; case f: two things, each of which alone keeps it below the target), exactly as the
student reads and copies it. `case(name)` runs that text
on the case's data and returns the loss history and trained network to diagnose.
`faulty_network()` is notebook 03's smaller exercise of the same kind.
"""

from __future__ import annotations

import linecache
from dataclasses import dataclass

import numpy as np

from nnlab import diagnose

#: The lines every case's code starts with (the student pastes them too).
_IMPORTS = """\
import numpy as np

from nnlab.layers import Dense, ReLU, Sigmoid, Tanh
from nnlab.losses import binary_cross_entropy
from nnlab.network import Sequential
from nnlab.optim import sgd_step
"""

_LOOP = """\
    losses = []
    for _ in range(epochs):
        loss, grad = {loss}(net.forward(X), y)
        losses.append(loss)
        net.backward(grad)
        sgd_step(net.params(), net.grads(), lr)
    return net, losses
"""

_CODE = {
    "a": '''
class Rectifier:
    """max(0, x), elementwise; no parameters."""
    params = ()

    def forward(self, X):
        self.out = np.maximum(X, 0.0)
        return self.out

    def backward(self, dY):
        return dY * (self.out >= 0)


def train_a(X, y, seed=0, lr=0.5, epochs=300):
    net = Sequential(Dense(2, 16, seed=seed), Rectifier(), Dense(16, 16, seed=seed + 1),
                     Rectifier(), Dense(16, 1, seed=seed + 2), Sigmoid())
''' + _LOOP.format(loss="binary_cross_entropy"),
    "b": '''
def step(params, grads, lr):
    """One gradient-descent step, in place, for every parameter."""
    for name, p in params.items():
        p -= lr * params[name]


def train_b(X, y, seed=0, lr=0.5, epochs=300):
    net = Sequential(Dense(2, 16, seed=seed), Tanh(), Dense(16, 1, seed=seed + 1), Sigmoid())
    losses = []
    for _ in range(epochs):
        loss, grad = binary_cross_entropy(net.forward(X), y)
        losses.append(loss)
        net.backward(grad)
        step(net.params(), net.grads(), lr)
    return net, losses
''',
    "c": '''
def train_c(X, y, seed=0, lr=50.0, epochs=300):
    net = Sequential(Dense(2, 16, seed=seed), ReLU(), Dense(16, 1, seed=seed + 1), Sigmoid())
''' + _LOOP.format(loss="binary_cross_entropy"),
    "d": '''
class Layer(Dense):
    """A Dense layer with weights drawn at the scale 1 / sqrt(n_in)."""

    def __init__(self, n_in, n_out, seed=0):
        super().__init__(n_in, n_out)
        rng = np.random.default_rng(seed)
        self.W = rng.normal(0, 1) * np.ones((n_in, n_out)) / np.sqrt(n_in)


def train_d(X, y, seed=0, lr=2.0, epochs=300):
    net = Sequential(Layer(2, 16, seed=seed), Tanh(), Layer(16, 1, seed=seed + 1), Sigmoid())
''' + _LOOP.format(loss="binary_cross_entropy"),
    "e": '''
def squared_error(y_hat, y):
    """Mean squared error and its gradient with respect to y_hat."""
    loss = float(np.mean((y_hat - y) ** 2))
    grad = 2 * (y - y_hat) / y.size
    return loss, grad


def train_e(X, y, seed=0, lr=5.0, epochs=300):
    net = Sequential(Dense(2, 16, seed=seed, init="xavier"), Tanh(),
                     Dense(16, 1, seed=seed + 1, init="xavier"), Sigmoid())
''' + _LOOP.format(loss="squared_error"),
    "f": '''
class Ramp:
    """The ramp max(0, x), elementwise; no parameters."""
    params = ()

    def forward(self, X):
        self.out = np.maximum(X, 0.0)
        return self.out

    def backward(self, dY):
        return dY * np.heaviside(self.out, 1.0)  # the step function: the ramp's slope


class Linear(Dense):
    """A Dense layer that trains its weights; its biases start at 0 and stay there."""
    params = ("W",)


def train_f(X, y, seed=0, lr=1.0, epochs=300):
    net = Sequential(Linear(2, 16, seed=seed), Ramp(), Linear(16, 1, seed=seed + 1), Sigmoid())
''' + _LOOP.format(loss="binary_cross_entropy"),
}

CASES = tuple(sorted(_CODE))


def source(name: str) -> str:
    """The full code of case `name` ("a" ... "f"), imports included, as the student sees it."""
    _known(name)
    return _IMPORTS + _CODE[name]


def body(name: str) -> str:
    """The code of case `name` without its import lines (the notebook's set-up cell has them)."""
    _known(name)
    return _CODE[name].strip("\n") + "\n"


def _known(name) -> None:
    if name not in _CODE:
        raise ValueError(f"no clinic case {name!r}; the cases are {', '.join(CASES)}")


def define(text: str, filename: str) -> dict:
    """Run the code `text` in a fresh namespace and return it; `filename` (unique) names it
    in tracebacks, and `inspect.getsource` finds its functions."""
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    space: dict = {"__name__": "nnlab.clinic.case"}
    exec(compile(text, filename, "exec"), space)  # noqa: S102 - the course's own text
    return space


def broken(name: str):
    """The training function of case `name`, made from `source(name)`."""
    return define(source(name), f"<clinic case {name}>")[f"train_{name}"]


def moons(n: int = 200, seed: int = 0, noise: float = 0.15):
    """Two interleaved half circles: X (n, 2), labels y (n, 1) of 0.0 / 1.0, shuffled."""
    rng = np.random.default_rng(seed)
    half = n // 2
    t = rng.uniform(0, np.pi, n)
    X = np.where(np.arange(n)[:, None] < half,
                 np.c_[np.cos(t), np.sin(t)],
                 np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
    X = X + rng.normal(0, noise, X.shape) - [0.5, 0.25]
    y = (np.arange(n) >= half).astype(float)[:, None]
    order = rng.permutation(n)
    return X[order], y[order]


def data(name: str, seed: int = 0):
    """``(X, y, X_val, y_val)`` of case `name`: 200 training and 200 validation samples,
    drawn from seeds ``2 * seed`` and ``2 * seed + 1``."""
    _known(name)
    return (*moons(200, 2 * seed), *moons(200, 2 * seed + 1))


@dataclass
class Case:
    """One patient: its code, data, the trained network and its loss history."""

    name: str
    code: str
    X: np.ndarray
    y: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    net: object
    losses: list
    own_train: object = None  # a reader's version of train_<name>, when `case` was given one

    @property
    def names(self) -> dict:
        """Everything the case's code defines (its layers, its loss, its train function)."""
        return define(self.code, f"<clinic case {self.name}>")

    @property
    def train(self):
        """The case's (broken) training function, to rerun with other data or settings; the
        reader's own when `case` was given one."""
        return self.own_train or self.names[f"train_{self.name}"]

    @property
    def loss_fn(self):
        """The loss function the case's code trains with, ``(y_hat, y) -> (loss, grad)``."""
        return self.names["squared_error" if self.name == "e" else "binary_cross_entropy"]

    def val_accuracy(self, net=None) -> float:
        """Accuracy of `net` (default: the case's trained net) on the validation data."""
        net = self.net if net is None else net
        return float(((net.predict(self.X_val) > 0.5) == (self.y_val > 0.5)).mean())


def case(name: str, seed: int = 0, train=None) -> Case:
    """Run case `name`'s code on its data with its own defaults; the patient to examine.

    With `train` (a reader's half-fixed ``train_<name>``) that function is run and examined
    instead, on the same data: what is left after one fault is fixed.
    """
    X, y, X_val, y_val = data(name, seed)
    with np.errstate(all="ignore"):
        net, losses = (train or broken(name))(X, y, seed=seed)
    return Case(name, source(name), X, y, X_val, y_val, net, losses, train)


#: The accuracy on validation data a fixed network must reach (checks/rung07.py).
TARGET = 0.95


def examine(patient: Case) -> str:
    """Every tool of the clinic run on `patient`, as one printable report.

    The loss-curve triage; the loss at initialisation against ln 2; the overfit-8-samples
    test; the gradient-check report of the network at initialisation on 8 samples; the
    activation statistics of the trained network; the update/weight ratios of the first
    step. The report shows evidence; naming the bug is the reader's job.
    """
    from nnlab.checks.triage import triage
    from nnlab.gradcheck import network_gradient_report

    train, X, y = patient.train, patient.X, patient.y
    with np.errstate(all="ignore"):
        start, _ = train(X, y, seed=0, epochs=0)
        stepped, _ = train(X, y, seed=0, epochs=1)
        before = {k: np.array(v) for k, v in start.params().items()}
        report = network_gradient_report(start, patient.loss_fn, X[:8], y[:8])
        sections = [
            ("1. loss curve (triage)", str(triage(patient.losses))),
            ("2. loss at initialisation", str(diagnose.loss_at_init(
                patient.losses, k=2, loss="mse" if patient.name == "e" else "cross_entropy"))),
            ("3. overfit 8 samples", str(diagnose.overfit_tiny(train, X, y, n=8, seed=0))),
            ("4. gradient check at initialisation, 8 samples", str(report)),
            ("5. activations of the trained network (training data)",
             diagnose.activation_stats(patient.net, X)),
            ("6. the first update, relative to the weights",
             diagnose.update_ratios(before, stepped.params(), stepped.grads())),
        ]
    return "\n\n".join(f"{head}\n{body}" for head, body in sections)


def compare(patient: Case, fixed=None):
    """The patient's loss curve, beside the one of `fixed` (the student's `train_<case>`)
    trained on the same data; prints both validation accuracies. Returns the figure.

    With `fixed` None (the exercise not done yet) it draws the broken run alone and says
    which exercise to finish, so a notebook run top to bottom does not stop here.
    """
    from nnlab.plot import loss_curves

    curves = {"as reported": patient.losses}
    if fixed is None:
        print(f"case {patient.name}: validation accuracy {patient.val_accuracy():.3f}; write "
              f"train_{patient.name} in the exercise above to see your fix beside it")
    else:
        with np.errstate(all="ignore"):
            net, curves["your fix"] = fixed(patient.X, patient.y, seed=0)
        print(f"case {patient.name}: validation accuracy {patient.val_accuracy():.3f} as "
              f"reported, {patient.val_accuracy(net):.3f} with your fix (target {TARGET:.2f})")
    fig = loss_curves(curves, logy=True, title=f"case {patient.name}: loss per epoch")
    fig.set_size_inches(5, 3)
    return fig


# --------------------------------------------------------------------------- notebook 03

class Act:
    """An elementwise activation given as two functions: f(X) and its derivative f'(X).

    Every activation of `faulty_network` is an `Act`, so the class name gives nothing away.
    """

    params = ()

    def __init__(self, f, df):
        self.f, self.df = f, df

    def forward(self, X):
        self.X = X
        return self.f(X)

    def backward(self, dY):
        return dY * self.df(self.X)

    def __repr__(self) -> str:
        return "Act()"


def faulty_network():
    """Notebook 03's "find the bug": 2-4-4-4-1 of reference Dense layers and `Act`
    activations (tanh, tanh, tanh, sigmoid), one of which has a wrong derivative.
    Returns ``(net, X (8, 2), y (8, 1))``."""
    from nnlab.activations import sigmoid
    from nnlab.layers import Dense
    from nnlab.network import Sequential

    def tanh_slope(X):
        return 1 - np.tanh(X) ** 2

    def sigmoid_slope(X):
        s = sigmoid(X)
        return s * (1 - s)

    net = Sequential(Dense(2, 4, seed=0, init="xavier"), Act(np.tanh, tanh_slope),
                     Dense(4, 4, seed=1, init="xavier"), Act(np.tanh, tanh_slope),
                     Dense(4, 4, seed=2, init="xavier"),
                     Act(np.tanh, lambda X: 1 - np.tanh(X)),   # B18: not squared
                     Dense(4, 1, seed=3, init="xavier"), Act(sigmoid, sigmoid_slope))
    X, y = moons(8, seed=5)
    return net, X, y

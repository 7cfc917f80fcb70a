"""An independent corpus: notebook cells written the way beginners and forum posters write
them, each run in a namespace of its own, as a notebook holds it.

Written before re-reading the rest of the zoo, for the second pass of the checks (issue 10):
loops, classes with extra attributes, einsum, keepdims slips, float32 throughout, scipy's
expit, generators. A loop cell (`train_neuron`, `gradient_check`) is given the notebook's
other cells too, so a bug in an earlier cell must be blamed on that cell (`note=`: the
words the check must print while it passes the loop), never on the loop.
"""

from __future__ import annotations

import linecache
import sys
import types

import numpy as np
from scipy import special

from nnlab.checks.zoo import correct, mutant


def cell(source: str, name: str, **names):
    """The object `name` after running `source` as notebook cells in a fresh namespace.

    Like a notebook, the cells get a module of their own (its source registered with
    linecache, as IPython does), so `inspect.getsource` works on what they define.
    """
    _count[0] += 1
    module = types.ModuleType(f"nnlab_corpus_cell_{_count[0]}")
    module.__file__ = f"<nnlab-corpus-cell-{_count[0]}>"
    linecache.cache[module.__file__] = (len(source), None, source.splitlines(True),
                                        module.__file__)
    sys.modules[module.__name__] = module
    module.__dict__.update({"np": np, "expit": special.expit, **names})
    exec(compile(source, module.__file__, "exec"), module.__dict__)  # noqa: S102
    return module.__dict__[name]


_count = [0]


# --------------------------------------------------------------------------- notebook 00

correct("check_sigmoid", "expit wrapped, as a notebook imports it")(cell("""
from scipy.special import expit as logistic

def sigmoid(z):
    return logistic(z)
""", "sigmoid"))
correct("check_sigmoid", "tanh identity, keeps dtype")(cell("""
def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))
""", "sigmoid"))
correct("check_sigmoid", "np.where with exp(-|z|) and a dtype-preserving 1")(cell("""
def sigmoid(z):
    z = np.asarray(z)
    e = np.exp(-np.abs(z))
    one = np.ones_like(z)
    return np.where(z >= 0, one, e) / (one + e)
""", "sigmoid"))
correct("check_sigmoid", "np.piecewise-free masks with out=")(cell("""
def sigmoid(z):
    z = np.asarray(z)
    out = np.empty_like(z, dtype=np.result_type(z, np.float32))
    pos = z >= 0
    out[pos] = 1 / (1 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1 + ez)
    return out
""", "sigmoid"))
mutant("check_sigmoid", None, "`if z >= 0:` on an array")(cell("""
def sigmoid(z):
    if z >= 0:
        return 1 / (1 + np.exp(-z))
    else:
        return np.exp(z) / (1 + np.exp(z))
""", "sigmoid"))
mutant("check_sigmoid", "B17", "clips at +-500 then the naive formula (overflows in float32)")(
    cell("""
def sigmoid(z):
    z = np.clip(z, -500, 500)
    return 1 / (1 + np.exp(-z))
""", "sigmoid"))
mutant("check_sigmoid", None, "float32 throughout: casts every input to float32")(cell("""
def sigmoid(z):
    z = np.asarray(z, dtype=np.float32)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))
""", "sigmoid"))

correct("check_sigmoid_derivative", "expit(z) * expit(-z)")(cell("""
def sigmoid_derivative(z):
    return expit(z) * expit(-z)
""", "sigmoid_derivative"))
correct("check_sigmoid_derivative", "cosh form 1 / (4 cosh(z/2)**2), guarded")(cell("""
def sigmoid_derivative(z):
    z = np.asarray(z, dtype=float)
    out = np.zeros_like(z)
    small = np.abs(z) < 700
    out[small] = 0.25 / np.cosh(z[small] / 2) ** 2
    return out
""", "sigmoid_derivative"))
mutant("check_sigmoid_derivative", None, "`if z >= 0:` on an array")(cell("""
def sigmoid_derivative(z):
    if z >= 0:
        s = 1 / (1 + np.exp(-z))
    else:
        s = np.exp(z) / (1 + np.exp(z))
    return s * (1 - s)
""", "sigmoid_derivative"))

# --------------------------------------------------------------------------- notebook 01

_NEURON = """
def neuron_forward(X, w, b):
    return expit(X @ w + b)

def bce_loss(y_hat, y):
    p = np.clip(y_hat, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))

def neuron_gradients(X, y, y_hat):
    n = X.shape[0]
    dz = y_hat - y
    return X.T @ dz / n, np.sum(dz, axis=0) / n
"""

_GRADS_PER_SAMPLE_DB = """
def neuron_gradients(X, y, y_hat):
    dz = (y_hat - y) / len(X)
    return X.T @ dz, dz           # db kept per sample: (n, 1)
"""

_LOSS_UNCLIPPED = """
def bce_loss(y_hat, y):
    return float(-np.mean(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)))
"""

_LOSS_SIGNED = """
def bce_loss(y_hat, y):
    return float(np.sum(y - y_hat))
"""

_TRAIN = """
def train_neuron(X, y, lr=1.0, epochs=1000, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.normal(0, 0.1, (X.shape[1], 1))
    b = np.zeros(1)
    losses = []
    for epoch in range(epochs):
        y_hat = neuron_forward(X, w, b)
        losses.append(bce_loss(y_hat, y))
        dw, db = neuron_gradients(X, y, y_hat)
        w = w - lr * dw
        b = b - lr * db
    return w, b, losses
"""

correct("check_neuron_forward", "einsum + expit")(cell("""
def neuron_forward(X, w, b):
    return expit(np.einsum("ij,jk->ik", X, w) + b)
""", "neuron_forward"))
correct("check_neuron_forward", "row loop with np.dot and float()")(cell("""
def neuron_forward(X, w, b):
    out = np.zeros((len(X), 1))
    for i, row in enumerate(X):
        z = float(np.dot(row, w[:, 0]) + b[0])
        out[i] = 1 / (1 + np.exp(-z))
    return out
""", "neuron_forward"))

correct("check_bce_loss", "log(p + eps) instead of a clip")(cell("""
def bce_loss(y_hat, y):
    eps = 1e-15
    return float(-np.mean(y * np.log(y_hat + eps) + (1 - y) * np.log(1 - y_hat + eps)))
""", "bce_loss"))
correct("check_bce_loss", "np.where per class, clipped")(cell("""
def bce_loss(y_hat, y):
    p = np.clip(y_hat, 1e-12, 1 - 1e-12)
    return float(np.mean(np.where(y == 1, -np.log(p), -np.log(1 - p))))
""", "bce_loss"))

correct("check_neuron_gradients", "per-sample loop accumulating")(cell("""
def neuron_gradients(X, y, y_hat):
    n, d = X.shape
    dw = np.zeros((d, 1))
    db = np.zeros(1)
    for i in range(n):
        err = y_hat[i, 0] - y[i, 0]
        dw[:, 0] += err * X[i] / n
        db[0] += err / n
    return dw, db
""", "neuron_gradients"))
correct("check_neuron_gradients", "the reference of the corpus")(cell(_NEURON,
                                                                         "neuron_gradients"))
mutant("check_neuron_gradients", "B1", "db kept per sample")(cell(_GRADS_PER_SAMPLE_DB,
                                                                   "neuron_gradients"))

# The loop cell with the notebook's other cells: right loop, right components.
correct("check_train_neuron", "loop on the notebook's right components")(
    cell(_NEURON + _TRAIN, "train_neuron"))
# Right loop, wrong component: the component's cell is to blame, not this one.
correct("check_train_neuron", "right loop; neuron_gradients keeps db per sample",
        note="`neuron_gradients` has bug B1")(
    cell(_NEURON + _GRADS_PER_SAMPLE_DB + _TRAIN, "train_neuron"))
correct("check_train_neuron", "right loop; bce_loss is the signed error sum(y - y_hat)",
        note="`bce_loss` has bug B3")(
    cell(_NEURON + _LOSS_SIGNED + _TRAIN, "train_neuron"))
correct("check_train_neuron", "right loop; bce_loss does not clip")(
    cell(_NEURON + _LOSS_UNCLIPPED + _TRAIN, "train_neuron"))
# Wrong loop AND wrong component: the loop's own bug is named.
mutant("check_train_neuron", "B12", "W -= lr * W on a per-sample-db neuron_gradients")(
    cell(_NEURON + _GRADS_PER_SAMPLE_DB + _TRAIN.replace("w = w - lr * dw", "w = w - lr * w"),
         "train_neuron"))
mutant("check_train_neuron", "B15", "bias-only sign flip: b += lr * db")(
    cell(_NEURON + _TRAIN.replace("b = b - lr * db", "b = b + lr * db"), "train_neuron"))
mutant("check_train_neuron", "B19", "learning rate far too small for the epochs")(
    cell(_NEURON + _TRAIN.replace("lr=1.0, epochs=1000", "lr=0.001, epochs=200"),
         "train_neuron"))
correct("check_train_neuron", "a class with extra attributes, float() losses")(cell(
    _NEURON + """
class Neuron:
    def __init__(self, d, seed):
        self.rng = np.random.default_rng(seed)
        self.w = self.rng.normal(0, 0.5, (d, 1))
        self.b = np.zeros(1)
        self.history = []

def train_neuron(X, y, lr=1.0, epochs=1000, seed=0):
    nn = Neuron(X.shape[1], seed)
    for _ in range(epochs):
        out = neuron_forward(X, nn.w, nn.b)
        nn.history.append(float(bce_loss(out, y)))
        dw, db = neuron_gradients(X, y, out)
        nn.w -= lr * dw
        nn.b -= lr * db
    return nn.w, nn.b, nn.history
""", "train_neuron"))

# --------------------------------------------------------------------------- notebook 02

_GC = """
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=float)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        fp = f()
        x[i] = old - h
        fm = f()
        x[i] = old
        grad[i] = (fp - fm) / (2 * h)
        it.iternext()
    return grad

def relative_error(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a) + np.abs(b)), 1e-8))
"""

_NUMGRAD_ROWS = """
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=float)
    for i in range(len(x)):          # rows only: a 2-D x is perturbed a row at a time
        old = x[i].copy()
        x[i] = old + h
        fp = f()
        x[i] = old - h
        fm = f()
        x[i] = old
        grad[i] = (fp - fm) / (2 * h)
    return grad
"""

_GRADCHECK = """
def gradient_check(loss_fn, params, grads, h=1e-5):
    out = {}
    for name in params:
        num = numerical_gradient(loss_fn, params[name], h)
        out[name] = relative_error(grads[name], num)
    return out
"""

correct("check_numerical_gradient", "np.nditer with multi_index")(cell(_GC,
                                                                       "numerical_gradient"))
correct("check_numerical_gradient", "flat view of x, ravel order")(cell("""
def numerical_gradient(f, x, h=1e-5):
    flat = x.reshape(-1)             # a view: writing into it writes into x
    g = np.zeros(flat.size)
    for k in range(flat.size):
        keep = flat[k]
        flat[k] = keep + h; up = f()
        flat[k] = keep - h; down = f()
        flat[k] = keep
        g[k] = (up - down) / (2 * h)
    return g.reshape(x.shape)
""", "numerical_gradient"))

correct("check_relative_error", "the corpus's reading: global max")(cell(_GC,
                                                                          "relative_error"))
correct("check_relative_error", "elementwise (CS231n) with np.maximum")(cell("""
def relative_error(a, b):
    a = np.asarray(a, dtype=float); b = np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)))
""", "relative_error"))
mutant("check_relative_error", None, "denominator |a + b|")(cell("""
def relative_error(a, b):
    a = np.asarray(a, dtype=float); b = np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a + b)), 1e-8))
""", "relative_error"))

correct("check_gradient_check", "the loop on the notebook's right helpers")(
    cell(_GC + _GRADCHECK, "gradient_check"))
correct("check_gradient_check", "right loop; numerical_gradient loops over rows only",
        note="`numerical_gradient`")(
    cell(_GC + _NUMGRAD_ROWS + _GRADCHECK, "gradient_check"))
mutant("check_gradient_check", "B5", "compares the numerical gradient with itself")(
    cell(_GC + _GRADCHECK.replace("relative_error(grads[name], num)",
                                  "relative_error(num, numerical_gradient(loss_fn, "
                                  "params[name], h))"), "gradient_check"))
mutant("check_gradient_check", "B5", "compares the parameters with the numerical gradient")(
    cell(_GC + _GRADCHECK.replace("grads[name], num", "params[name], num"), "gradient_check"))

# --------------------------------------------------------------------------- notebook 03

_SIG_LAYER = """
class Sigmoid:
    def forward(self, X):
        self.out = expit(X)
        return self.out

    def backward(self, dY):
        return dY * self.out * (1 - self.out)
"""
correct("check_sigmoid_layer", "expit, output cached")(cell(_SIG_LAYER, "Sigmoid"))
mutant("check_sigmoid_layer", None, "backward forgets dY (no chain rule)")(cell(
    _SIG_LAYER.replace("return dY * self.out", "return self.out"), "Sigmoid"))
mutant("check_tanh", None, "backward forgets dY (no chain rule)")(cell("""
class Tanh:
    def forward(self, X):
        self.t = np.tanh(X)
        return self.t

    def backward(self, dY):
        return 1 - self.t ** 2
""", "Tanh"))
correct("check_relu", "stores the mask, einsum-free")(cell("""
class ReLU:
    def __init__(self):
        self.mask = None
        self.calls = 0

    def forward(self, X):
        self.calls += 1
        self.mask = X > 0
        return X * self.mask

    def backward(self, dY):
        return dY * self.mask
""", "ReLU"))

correct("check_dense", "einsum, extra attributes, float32-friendly")(cell("""
class Dense:
    def __init__(self, n_in, n_out, seed=0):
        rng = np.random.default_rng(seed)
        self.W = rng.normal(0, np.sqrt(2 / n_in), (n_in, n_out))
        self.b = np.zeros(n_out)
        self.name = f"dense{n_in}x{n_out}"
        self.X = None

    def forward(self, X):
        self.X = X
        return np.einsum("ni,io->no", X, self.W) + self.b

    def backward(self, dY):
        self.dW = np.einsum("ni,no->io", self.X, dY)
        self.db = dY.sum(axis=0)
        return dY @ self.W.T
""", "Dense"))

# --------------------------------------------------------------------------- notebook 04

_XOR = """
from nnlab.data import xor_gate
from nnlab.layers import Dense, Sigmoid, Tanh
from nnlab.losses import binary_cross_entropy
from nnlab.network import Sequential
from nnlab.optim import sgd_step

def train_xor(hidden, seed, lr=2.0, epochs=500):
    X, y = xor_gate()
    net = Sequential(Dense(2, hidden, seed=seed), Tanh(), Dense(hidden, 1, seed=seed + 1),
                     Sigmoid())
    losses = []
    for _ in range(epochs):
        y_hat = net.forward(X)
        loss, grad = binary_cross_entropy(y_hat, y)
        losses.append(loss)
        net.backward(grad)
        sgd_step(net.params(), net.grads(), lr)
    return net, losses
"""
correct("check_train_xor", "the notebook's loop, a while loop")(cell(
    _XOR.replace("for _ in range(epochs):", "epoch = 0\n    while epoch < epochs:\n"
                 "        epoch += 1"), "train_xor"))
mutant("check_train_xor", "B19", "learning rate far too large (lr=60)")(cell(
    _XOR.replace("lr=2.0", "lr=60.0"), "train_xor"))
mutant("check_train_xor", "B19", "learning rate far too small (lr=0.01)")(cell(
    _XOR.replace("lr=2.0", "lr=0.01"), "train_xor"))
mutant("check_train_xor", "B15", "gradient ascent: a negative learning rate")(cell(
    _XOR.replace("sgd_step(net.params(), net.grads(), lr)",
                 "for k, p in net.params().items():\n"
                 "            p += lr * net.grads()[k]"), "train_xor"))

# --------------------------------------------------------------------------- notebook 05

_STD = """
class Standardizer:
    def fit(self, X):
        self.mu = X.mean(axis=0)
        self.sigma = X.std(axis=0)
        self.sigma[self.sigma < 1e-8 * np.maximum(np.abs(X).max(axis=0), 1)] = 1.0
        return self

    def transform(self, X):
        return (X - self.mu) / self.sigma

    def inverse_transform(self, Z):
        return Z * self.sigma + self.mu
"""
for _part in (None, "fit", "new_data", "round_trip", "edge_cases"):
    _kw = {} if _part is None else {"part": _part}
    correct("check_standardizer", f"a tolerance for constant columns ({_part or 'all'})",
            **_kw)(cell(_STD, "Standardizer"))
correct("check_standardizer", "std + 1e-8 in the denominator")(cell(_STD.replace(
    "self.sigma[self.sigma < 1e-8 * np.maximum(np.abs(X).max(axis=0), 1)] = 1.0",
    "self.sigma = self.sigma + 1e-8"), "Standardizer"))
mutant("check_standardizer", None, "constant only when std == 0 exactly",
       part="edge_cases")(cell(_STD.replace(
           "self.sigma < 1e-8 * np.maximum(np.abs(X).max(axis=0), 1)", "self.sigma == 0"),
           "Standardizer"))
_NO_RETURN = _STD.replace("        return self\n", "")
mutant("check_standardizer", None, "fit without `return self`", part="fit")(
    cell(_NO_RETURN, "Standardizer"))
for _part in ("new_data", "round_trip", "edge_cases"):
    correct("check_standardizer", f"fit without `return self`, part {_part}",
            part=_part)(cell(_NO_RETURN, "Standardizer"))
mutant("check_standardizer", "B2", "no `return self` AND statistics recomputed in transform")(
    cell(_NO_RETURN.replace("return (X - self.mu) / self.sigma",
                            "return (X - X.mean(axis=0)) / X.std(axis=0)"), "Standardizer"))

_SGD = """
def sgd_step(params, grads, lr):
    for key in params:
        if key not in grads:
            raise ValueError(f"grads has no {key!r}")
        if np.shape(grads[key]) != np.shape(params[key]):
            raise ValueError(f"grads[{key!r}] has the wrong shape")
        params[key] -= lr * grads[key]
"""
correct("check_sgd_step", "a loop with the promised ValueErrors")(cell(_SGD, "sgd_step"))
correct("check_sgd_step", "np.subtract(out=) over zipped keys")(cell("""
def sgd_step(params, grads, lr):
    if set(params) != set(grads):
        raise ValueError(f"keys differ: {sorted(set(params) ^ set(grads))}")
    for k, p in params.items():
        g = np.asarray(grads[k])
        if g.shape != p.shape:
            raise ValueError(f"{k}: {g.shape} != {p.shape}")
        np.subtract(p, lr * g, out=p)
""", "sgd_step"))
mutant("check_sgd_step", None, "no ValueError: a missing key raises KeyError")(cell("""
def sgd_step(params, grads, lr):
    for k in params:
        params[k] -= lr * grads[k]
""", "sgd_step"))

# --------------------------------------------------------------------------- notebook 06

correct("check_softmax", "scipy.special.softmax(axis=1)")(
    cell("def softmax(Z):\n    return special.softmax(Z, axis=1)\n", "softmax",
         special=special))
correct("check_softmax", "exp of log_softmax")(
    cell("def softmax(Z):\n    return np.exp(special.log_softmax(Z, axis=1))\n", "softmax",
         special=special))
correct("check_softmax_cross_entropy", "log_softmax and a one-hot of Z's dtype")(cell("""
def softmax_cross_entropy(Z, y):
    n = len(y)
    logp = special.log_softmax(Z, axis=1)
    onehot = np.zeros_like(Z)
    onehot[np.arange(n), y] = 1
    return float(-logp[np.arange(n), y].mean()), (np.exp(logp) - onehot) / n
""", "softmax_cross_entropy", special=special))
mutant("check_softmax_cross_entropy", "B17", "log(clip(P, 1e-12)) at a huge logit gap")(cell("""
def softmax_cross_entropy(Z, y):
    n = len(y)
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    P = E / E.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(np.clip(P[np.arange(n), y], 1e-12, 1.0)))
    dZ = P.copy()
    dZ[np.arange(n), y] -= 1
    return loss, dZ / n
""", "softmax_cross_entropy"))
mutant("check_softmax_cross_entropy", None, "float64 one-hot makes dZ float64 from float32 Z")(
    cell("""
def softmax_cross_entropy(Z, y):
    n = len(y)
    logp = special.log_softmax(Z, axis=1)
    onehot = np.zeros(Z.shape)
    onehot[np.arange(n), y] = 1
    return float(-logp[np.arange(n), y].mean()), (np.exp(logp) - onehot) / n
""", "softmax_cross_entropy", special=special))

correct("check_iterate_minibatches", "a generator over a permutation, ceil division")(cell("""
def iterate_minibatches(X, y, batch_size, seed):
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(X))
    for k in range(-(-len(X) // batch_size)):
        sel = idx[k * batch_size:(k + 1) * batch_size]
        yield X[sel], y[sel]
""", "iterate_minibatches"))
correct("check_iterate_minibatches", "a list built with np.array_split-free slicing")(cell("""
def iterate_minibatches(X, y, batch_size, seed):
    perm = np.random.default_rng(seed).permutation(X.shape[0])
    Xs, ys = X[perm], y[perm]
    return [(Xs[i:i + batch_size], ys[i:i + batch_size])
            for i in range(0, len(Xs), batch_size)]
""", "iterate_minibatches"))
mutant("check_iterate_minibatches", None, "n // bs + 1 batches: an empty last batch")(cell("""
def iterate_minibatches(X, y, batch_size, seed):
    idx = np.random.default_rng(seed).permutation(len(X))
    for k in range(len(X) // batch_size + 1):
        sel = idx[k * batch_size:(k + 1) * batch_size]
        yield X[sel], y[sel]
""", "iterate_minibatches"))
correct("check_softmax_cross_entropy", "per-sample loop, logsumexp, float32 kept")(cell("""
def softmax_cross_entropy(Z, y):
    n = Z.shape[0]
    loss = 0.0
    dZ = np.zeros_like(Z)
    for i in range(n):
        row = Z[i] - Z[i].max()
        logp = row - np.log(np.exp(row).sum())
        loss -= float(logp[y[i]])
        dZ[i] = np.exp(logp)
        dZ[i, y[i]] -= 1
    return loss / n, dZ / n
""", "softmax_cross_entropy"))

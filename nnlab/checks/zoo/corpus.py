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


# =========================================================================== second batch
# More of the same hand: the slips a forum thread shows most, and right code in odd shapes.

# ---- notebook 00
correct("check_sigmoid", "naive formula with the overflow silenced by np.errstate")(cell("""
def sigmoid(z):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))
""", "sigmoid"))
correct("check_sigmoid", "np.where on exp(-|z|) written out in both branches")(cell("""
def sigmoid(z):
    a = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + a), a / (1 + a))
""", "sigmoid"))
mutant("check_sigmoid", "B17", "exp(z) / (1 + exp(z)): overflows the other way")(cell("""
def sigmoid(z):
    return np.exp(z) / (1 + np.exp(z))
""", "sigmoid"))
mutant("check_sigmoid", None, "np.vectorize of a math formula: float32 comes back float64")(
    cell("""
import math

def _one(t):
    if t >= 0:
        return 1 / (1 + math.exp(-t))
    return math.exp(t) / (1 + math.exp(t))

sigmoid = np.vectorize(_one)
""", "sigmoid"))
mutant("check_sigmoid", None, "in place: z *= -1 changes the caller's array")(cell("""
def sigmoid(z):
    z *= -1
    e = np.exp(-np.abs(z))
    return np.where(z <= 0, 1, e) / (1 + e)
""", "sigmoid"))
correct("check_sigmoid_derivative", "s - s**2 on expit")(cell("""
def sigmoid_derivative(z):
    s = expit(z)
    return s - s ** 2
""", "sigmoid_derivative"))
mutant("check_sigmoid_derivative", "B17", "exp(-z) / (1 + exp(-z))**2")(cell("""
def sigmoid_derivative(z):
    return np.exp(-z) / (1 + np.exp(-z)) ** 2
""", "sigmoid_derivative"))
mutant("check_sigmoid_derivative", "B18", "z * (1 - z): the output's formula on the input")(
    cell("""
def sigmoid_derivative(z):
    return z * (1 - z)
""", "sigmoid_derivative"))

# ---- notebook 01
correct("check_neuron_forward", "b reshaped to a column, X.dot(w)")(cell("""
def neuron_forward(X, w, b):
    return expit(X.dot(w) + b.reshape(-1, 1))
""", "neuron_forward"))
correct("check_neuron_forward", "elementwise product summed with keepdims")(cell("""
def neuron_forward(X, w, b):
    return expit((X * w.T).sum(axis=1, keepdims=True) + b)
""", "neuron_forward"))
mutant("check_neuron_forward", None, "keepdims forgotten: (n,) instead of (n, 1)")(cell("""
def neuron_forward(X, w, b):
    return expit((X * w.T).sum(axis=1) + b)
""", "neuron_forward"))
mutant("check_neuron_forward", "B14", "w.T @ X.T: samples in columns")(cell("""
def neuron_forward(X, w, b):
    return expit(w.T @ X.T + b)
""", "neuron_forward"))
mutant("check_neuron_forward", "B7", "the bias forgotten")(cell("""
def neuron_forward(X, w, b):
    return expit(X @ w)
""", "neuron_forward"))

correct("check_bce_loss", "scikit-learn's log_loss")(cell("""
from sklearn.metrics import log_loss

def bce_loss(y_hat, y):
    return float(log_loss(y.ravel(), y_hat.ravel(), labels=[0, 1]))
""", "bce_loss"))
mutant("check_bce_loss", "B5", "summed over the samples, not averaged")(cell("""
def bce_loss(y_hat, y):
    p = np.clip(y_hat, 1e-12, 1 - 1e-12)
    return float(-np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))
""", "bce_loss"))
mutant("check_bce_loss", None, "only the y = 1 term")(cell("""
def bce_loss(y_hat, y):
    return float(-np.mean(y * np.log(np.clip(y_hat, 1e-12, 1))))
""", "bce_loss"))
mutant("check_bce_loss", "B17", "no clip: log(0) at a perfect prediction")(cell(
    _LOSS_UNCLIPPED, "bce_loss"))

correct("check_neuron_gradients", "means instead of /n, db as a 1-element array")(cell("""
def neuron_gradients(X, y, y_hat):
    dz = y_hat - y
    dw = np.mean(X * dz, axis=0).reshape(-1, 1)
    db = np.array([dz.mean()])
    return dw, db
""", "neuron_gradients"))
mutant("check_neuron_gradients", "B5", "no 1/n")(cell("""
def neuron_gradients(X, y, y_hat):
    dz = y_hat - y
    return X.T @ dz, dz.sum(axis=0)
""", "neuron_gradients"))
mutant("check_neuron_gradients", None, "keepdims: db of shape (1, 1)")(cell("""
def neuron_gradients(X, y, y_hat):
    dz = (y_hat - y) / len(X)
    return X.T @ dz, dz.sum(axis=0, keepdims=True)
""", "neuron_gradients"))
mutant("check_neuron_gradients", "B14", "dz.T @ X: dw transposed")(cell("""
def neuron_gradients(X, y, y_hat):
    dz = (y_hat - y) / len(X)
    return dz.T @ X, dz.sum(axis=0)
""", "neuron_gradients"))
mutant("check_neuron_gradients", "B15", "y - y_hat")(cell("""
def neuron_gradients(X, y, y_hat):
    dz = (y - y_hat) / len(X)
    return X.T @ dz, dz.sum(axis=0)
""", "neuron_gradients"))

_FORWARD_NO_BIAS = """
def neuron_forward(X, w, b):
    return expit(X @ w)
"""
correct("check_train_neuron", "right loop; neuron_forward drops the bias",
        note="`neuron_forward` has bug B7")(
    cell(_NEURON + _FORWARD_NO_BIAS + _TRAIN, "train_neuron"))
correct("check_train_neuron", "zero init, in-place updates, losses as an array")(cell(
    _NEURON + """
def train_neuron(X, y, lr=1.0, epochs=1000, seed=0):
    w = np.zeros((X.shape[1], 1))
    b = np.zeros(1)
    losses = np.zeros(epochs)
    for e in range(epochs):
        out = neuron_forward(X, w, b)
        losses[e] = bce_loss(out, y)
        dw, db = neuron_gradients(X, y, out)
        w -= lr * dw
        b -= lr * db.sum()
    return w, b, losses
""", "train_neuron"))
mutant("check_train_neuron", "B13", "b += db: the gradient added into the bias")(cell(
    _NEURON + _TRAIN.replace("b = b - lr * db", "b = b + db"), "train_neuron"))
mutant("check_train_neuron", None, "a loss recorded every 100 epochs only")(cell(
    _NEURON + _TRAIN.replace("        losses.append(bce_loss(y_hat, y))\n",
                             "        if epoch % 100 == 0:\n"
                             "            losses.append(bce_loss(y_hat, y))\n"),
    "train_neuron"))

# ---- notebook 02
correct("check_numerical_gradient", "nditer with readwrite op_flags")(cell("""
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    for _ in it:
        i = it.multi_index
        orig = float(x[i])
        x[i] = orig + h
        plus = f()
        x[i] = orig - h
        minus = f()
        x[i] = orig
        grad[i] = (plus - minus) / (2 * h)
    return grad
""", "numerical_gradient"))
mutant("check_numerical_gradient", None, "forward difference")(cell("""
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x)
    base = f()
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        grad[i] = (f() - base) / h
        x[i] = old
    return grad
""", "numerical_gradient"))
mutant("check_numerical_gradient", "B5", "perturbs a copy that f never reads")(cell("""
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp = x.copy(); xp[i] += h
        xm = x.copy(); xm[i] -= h
        grad[i] = (f() - f()) / (2 * h)
    return grad
""", "numerical_gradient"))
mutant("check_numerical_gradient", None, "divides by h, not 2h")(cell(
    _GC.replace("grad[i] = (fp - fm) / (2 * h)", "grad[i] = (fp - fm) / h"),
    "numerical_gradient"))
mutant("check_numerical_gradient", None, "never puts x back")(cell("""
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += h
        fp = f()
        x[i] -= 2 * h
        fm = f()
        grad[i] = (fp - fm) / (2 * h)
    return grad
""", "numerical_gradient"))
mutant("check_relative_error", None, "norms instead of max")(cell("""
def relative_error(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-8))
""", "relative_error"))
mutant("check_relative_error", None, "no floor: 0/0 for two zero gradients")(cell("""
def relative_error(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    with np.errstate(all="ignore"):
        return float(np.max(np.abs(a - b)) / np.max(np.abs(a) + np.abs(b)))
""", "relative_error"))
correct("check_gradient_check", "all inline: its own differences and error, flat views")(
    cell("""
def gradient_check(loss_fn, params, grads, h=1e-5):
    report = {}
    for name, p in params.items():
        flat = p.reshape(-1)
        num = np.zeros(flat.size)
        for k in range(flat.size):
            keep = flat[k]
            flat[k] = keep + h; up = loss_fn()
            flat[k] = keep - h; down = loss_fn()
            flat[k] = keep
            num[k] = (up - down) / (2 * h)
        g = np.asarray(grads[name], float).reshape(-1)
        report[name] = float(np.max(np.abs(g - num))
                             / max(np.max(np.abs(g) + np.abs(num)), 1e-8))
    return report
""", "gradient_check"))
correct("check_gradient_check", "right loop; numerical_gradient is one-sided",
        note="`numerical_gradient` is wrong")(cell(
    _GC.replace("x[i] = old - h\n        fm = f()", "x[i] = old\n        fm = f()")
    .replace("grad[i] = (fp - fm) / (2 * h)", "grad[i] = (fp - fm) / h") + _GRADCHECK
    .replace("num = numerical_gradient(loss_fn, params[name], h)",
             "num = numerical_gradient(loss_fn, params[name], h)"), "gradient_check"))

# ---- notebook 03
_DENSE = """
class Dense:
    def __init__(self, n_in, n_out, seed=0):
        rng = np.random.default_rng(seed)
        self.W = rng.standard_normal((n_in, n_out)) * 0.1
        self.b = np.zeros(n_out)

    def forward(self, X):
        self.X = X
        return X @ self.W + self.b

    def backward(self, dY):
        self.dW = self.X.T @ dY
        self.db = np.sum(dY, axis=0)
        return dY @ self.W.T
"""
correct("check_dense", "standard_normal * 0.1, np.sum")(cell(_DENSE, "Dense"))
correct("check_dense", "Xavier uniform, dot methods")(cell(_DENSE.replace(
    "self.W = rng.standard_normal((n_in, n_out)) * 0.1",
    "lim = np.sqrt(6 / (n_in + n_out))\n"
    "        self.W = rng.uniform(-lim, lim, size=(n_in, n_out))").replace(
    "self.dW = self.X.T @ dY", "self.dW = self.X.T.dot(dY)"), "Dense"))
mutant("check_dense", "B5", "db averaged over the batch")(cell(_DENSE.replace(
    "self.db = np.sum(dY, axis=0)", "self.db = dY.mean(axis=0)"), "Dense"))
mutant("check_dense", "B14", "dW = dY.T @ X")(cell(_DENSE.replace(
    "self.dW = self.X.T @ dY", "self.dW = dY.T @ self.X"), "Dense"))
mutant("check_dense", None, "b of shape (1, n_out)")(cell(_DENSE.replace(
    "self.b = np.zeros(n_out)", "self.b = np.zeros((1, n_out))"), "Dense"))
mutant("check_dense", None, "np.random.randn: the seed ignored")(cell(_DENSE.replace(
    "self.W = rng.standard_normal((n_in, n_out)) * 0.1",
    "self.W = np.random.randn(n_in, n_out) * 0.1"), "Dense"))
mutant("check_dense", "B6", "zeros for W")(cell(_DENSE.replace(
    "self.W = rng.standard_normal((n_in, n_out)) * 0.1",
    "self.W = np.zeros((n_in, n_out))"), "Dense"))
mutant("check_sigmoid_layer", "B18", "backward on the input: X * (1 - X)")(cell("""
class Sigmoid:
    def forward(self, X):
        self.X = X
        return expit(X)

    def backward(self, dY):
        return dY * self.X * (1 - self.X)
""", "Sigmoid"))
correct("check_sigmoid_layer", "stores the input, recomputes in backward")(cell("""
class Sigmoid:
    def forward(self, X):
        self.X = X.copy()
        return 1 / (1 + np.exp(-X))

    def backward(self, dY):
        s = 1 / (1 + np.exp(-self.X))
        return dY * s * (1 - s)
""", "Sigmoid"))
correct("check_tanh", "dY / cosh(X)**2")(cell("""
class Tanh:
    def forward(self, X):
        self.X = X
        return np.tanh(X)

    def backward(self, dY):
        return dY / np.cosh(self.X) ** 2
""", "Tanh"))
mutant("check_relu", "B8", "mask from the output: out >= 0")(cell("""
class ReLU:
    def forward(self, X):
        self.out = np.maximum(0, X)
        return self.out

    def backward(self, dY):
        return dY * (self.out >= 0)
""", "ReLU"))
correct("check_relu", "np.where on the stored input")(cell("""
class ReLU:
    def forward(self, X):
        self.X = X
        return np.where(X > 0, X, 0.0)

    def backward(self, dY):
        return np.where(self.X > 0, dY, 0.0)
""", "ReLU"))
mutant("check_relu", None, "backward forgets dY (no chain rule)")(cell("""
class ReLU:
    def forward(self, X):
        self.X = X
        return np.maximum(X, 0)

    def backward(self, dY):
        return (self.X > 0).astype(float)
""", "ReLU"))

# ---- notebook 04
mutant("check_train_xor", "B4", "no hidden layer: one Dense and a Sigmoid")(cell(
    _XOR.replace("net = Sequential(Dense(2, hidden, seed=seed), Tanh(), "
                 "Dense(hidden, 1, seed=seed + 1),\n                     Sigmoid())",
                 "net = Sequential(Dense(2, 1, seed=seed), Sigmoid())"), "train_xor"))
correct("check_train_xor", "lr and epochs of its own (lr=3.0, 400 epochs)")(cell(
    _XOR.replace("lr=2.0, epochs=500", "lr=3.0, epochs=400"), "train_xor"))

# ---- notebook 05
mutant("check_standardizer", None, "statistics per row (axis=1)")(cell(_STD.replace(
    "X.mean(axis=0)", "X.mean(axis=1, keepdims=True)").replace(
    "self.sigma = X.std(axis=0)", "self.sigma = X.std(axis=1, keepdims=True)").replace(
    "self.sigma[self.sigma < 1e-8 * np.maximum(np.abs(X).max(axis=0), 1)] = 1.0", ""),
    "Standardizer"))
mutant("check_standardizer", None, "transform writes into its input")(cell(_STD.replace(
    "return (X - self.mu) / self.sigma", "X -= self.mu\n        X /= self.sigma\n"
    "        return X"), "Standardizer"))
correct("check_standardizer", "sample std (ddof=1), constant test relative to the mean")(
    cell(_STD.replace("X.std(axis=0)", "X.std(axis=0, ddof=1)").replace(
        "1e-8 * np.maximum(np.abs(X).max(axis=0), 1)",
        "1e-9 * (np.abs(self.mu) + 1e-300)"), "Standardizer"))

# ---- notebook 06
mutant("check_softmax", None, "normalised over axis=0")(cell("""
def softmax(Z):
    E = np.exp(Z - Z.max(axis=0))
    return E / E.sum(axis=0)
""", "softmax"))
mutant("check_softmax", None, "keepdims forgotten: a row max that does not broadcast")(cell("""
def softmax(Z):
    E = np.exp(Z - np.max(Z, axis=1))
    return E / np.sum(E, axis=1)
""", "softmax"))
mutant("check_softmax", "B17", "one max for the whole array")(cell("""
def softmax(Z):
    E = np.exp(Z - Z.max())
    return E / E.sum(axis=1, keepdims=True)
""", "softmax"))
mutant("check_softmax_cross_entropy", "B5", "dZ without the 1/n")(cell("""
def softmax_cross_entropy(Z, y):
    n = len(y)
    logp = special.log_softmax(Z, axis=1)
    dZ = np.exp(logp)
    dZ[np.arange(n), y] -= 1
    return float(-logp[np.arange(n), y].mean()), dZ
""", "softmax_cross_entropy", special=special))
mutant("check_softmax_cross_entropy", "B5", "loss summed over the batch")(cell("""
def softmax_cross_entropy(Z, y):
    n = len(y)
    logp = special.log_softmax(Z, axis=1)
    dZ = np.exp(logp)
    dZ[np.arange(n), y] -= 1
    return float(-logp[np.arange(n), y].sum()), dZ / n
""", "softmax_cross_entropy", special=special))
correct("check_softmax_cross_entropy", "np.eye of Z's dtype for the one-hot")(cell("""
def softmax_cross_entropy(Z, y):
    n, k = Z.shape
    shifted = Z - Z.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    Y = np.eye(k, dtype=Z.dtype)[y]
    return float(-(Y * logp).sum() / n), (np.exp(logp) - Y) / n
""", "softmax_cross_entropy"))
mutant("check_iterate_minibatches", None, "np.random.shuffle(X) in place")(cell("""
def iterate_minibatches(X, y, batch_size, seed):
    np.random.seed(seed)
    np.random.shuffle(X)
    np.random.seed(seed)
    np.random.shuffle(y)
    for i in range(0, len(X), batch_size):
        yield X[i:i + batch_size], y[i:i + batch_size]
""", "iterate_minibatches"))
mutant("check_iterate_minibatches", None, "two permutations: X and y no longer match")(cell("""
def iterate_minibatches(X, y, batch_size, seed):
    rng = np.random.default_rng(seed)
    ix, iy = rng.permutation(len(X)), rng.permutation(len(y))
    for s in range(0, len(X), batch_size):
        yield X[ix[s:s + batch_size]], y[iy[s:s + batch_size]]
""", "iterate_minibatches"))
mutant("check_iterate_minibatches", None, "the partial last batch dropped")(cell("""
def iterate_minibatches(X, y, batch_size, seed):
    idx = np.random.default_rng(seed).permutation(len(X))
    for k in range(len(X) // batch_size):
        sel = idx[k * batch_size:(k + 1) * batch_size]
        yield X[sel], y[sel]
""", "iterate_minibatches"))
mutant("check_iterate_minibatches", None, "np.array_split: even sizes, not batch_size")(cell("""
def iterate_minibatches(X, y, batch_size, seed):
    idx = np.random.default_rng(seed).permutation(len(X))
    for sel in np.array_split(idx, int(np.ceil(len(X) / batch_size))):
        yield X[sel], y[sel]
""", "iterate_minibatches"))
mutant("check_gradient_check", None, "one-sided difference written inside the loop")(cell("""
def gradient_check(loss_fn, params, grads, h=1e-5):
    out = {}
    for name, p in params.items():
        base = loss_fn()
        num = np.zeros(p.shape)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + h
            num[i] = (loss_fn() - base) / h
            p[i] = old
        g = np.asarray(grads[name])
        out[name] = float(np.max(np.abs(g - num)) / max(np.max(np.abs(g) + np.abs(num)), 1e-8))
    return out
""", "gradient_check"))

# A notebook-04 loop on the student's own (ascending) sgd_step from notebook 05: the loop is
# right, the helper is not.
correct("check_train_xor", "right loop; its own sgd_step climbs (+=)",
        note="`sgd_step` has bug B15")(cell(_XOR + """
def sgd_step(params, grads, lr):
    for k in params:
        params[k] += lr * grads[k]
""", "train_xor"))
mutant("check_train_xor", "B4", "one neuron AND its own ascending sgd_step")(cell(
    _XOR.replace("net = Sequential(Dense(2, hidden, seed=seed), Tanh(), "
                 "Dense(hidden, 1, seed=seed + 1),\n                     Sigmoid())",
                 "net = Sequential(Dense(2, 1, seed=seed), Sigmoid())") + """
def sgd_step(params, grads, lr):
    for k in params:
        params[k] += lr * grads[k]
""", "train_xor"))

# A right derivative on the notebook's wrong sigmoid (tanh): the sigmoid's cell is named.
correct("check_sigmoid_derivative", "s * (1 - s) on a notebook sigmoid that is tanh",
        note="`sigmoid` is wrong")(cell("""
def sigmoid(z):
    return np.tanh(z)

def sigmoid_derivative(z):
    s = sigmoid(z)
    return s * (1 - s)
""", "sigmoid_derivative"))
mutant("check_sigmoid_derivative", "B18", "z * (1 - z) beside a right notebook sigmoid")(cell("""
def sigmoid(z):
    return expit(z)

def sigmoid_derivative(z):
    return z * (1 - z)
""", "sigmoid_derivative"))

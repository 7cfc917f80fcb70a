"""Checks for notebook 01, part 1: the neuron's forward pass, its loss and its gradients.

Each check computes what it expects with its own numpy code and, when the student's
answer differs, compares it with the answers the catalogued bugs give (a bias left out,
a per-sample bias, a sum instead of a mean, a flipped sign, ...) to name the bug.
`check_train_neuron` watches the training loop step by step (see the end of the module).
"""

from __future__ import annotations

import numpy as np

from nnlab.checks._core import (
    _abs,
    _array,
    _float64,
    as_array,
    as_float,
    call,
    check,
    describe,
    fail,
    finite,
    reference,
)
from nnlab.checks._student import signature_defaults
from nnlab.checks.rung00 import _rng, cause, close, own_sigmoid, unchanged, warned

__all__ = ["check_neuron_forward", "check_bce_loss", "check_neuron_gradients",
           "check_train_neuron"]

_log = np.log
_clip = np.clip


def own_bce(y_hat, y) -> float:
    """Mean binary cross-entropy, the checks' own (clipped at 1e-12)."""
    p = _clip(_array(y_hat, dtype=_float64), 1e-12, 1 - 1e-12)
    y = _array(y, dtype=_float64)
    return float((-(y * _log(p) + (1 - y) * _log(1 - p))).mean())


def _targets(rng, n):
    y = (rng.random((n, 1)) < 0.5).astype(_float64)
    y[0, 0], y[1, 0] = 0.0, 1.0  # both classes, always
    return y


# --------------------------------------------------------------------------- forward

@check("neuron_forward", rung="01", covers=("B1", "B7", "B14", "B17"))
def check_neuron_forward(obj, *, hidden=False):
    """Check `neuron_forward(X, w, b) -> y_hat` (notebook 01): X (n, d), w (d, 1), b (1,),
    y_hat (n, 1) = sigmoid(X @ w + b); probes two batch sizes, a nonzero bias, and inputs
    with |X @ w + b| near 1000, where the notebook's "values in (0, 1)" must still hold."""
    forbid = reference("nnlab.neuron", "neuron_forward")
    rng = _rng(1100 if hidden else 100)
    d = 2 if hidden else 3
    w = rng.normal(size=(d, 1))
    b = _array([-1.3 if hidden else 0.8])
    for n in ((7, 1) if hidden else (5, 1)):
        X = rng.normal(size=(n, d))
        what = f"neuron_forward(X, w, b) with X {X.shape}, w {w.shape}, b {b.shape}"
        args = (X.copy(), w.copy(), b.copy())
        try:
            result, _ = call(obj, *args, what=what, seconds=2.0, forbid=forbid)
        except Exception as err:
            _forward_error(err, what, n, d)
            raise
        for name, before, after in zip(("X", "w", "b"), (X, w, b), args, strict=True):
            unchanged(before, after, what, name)
        got = as_array(result, what)
        z = X @ w + b
        if got.shape != (n, 1):
            _forward_shape(got, what, n)
        if close(got, own_sigmoid(z)):
            continue
        if close(got, own_sigmoid(X @ w)):
            fail(f"{what} returned {describe(got)}, which is sigmoid(X @ w): the bias b = "
                 f"{b[0]:g} is ignored. Without it the decision boundary must pass through "
                 "the origin, and AND cannot be learned. Return sigmoid(X @ w + b).", "B7")
        if close(got, z):
            fail(f"{what} returned X @ w + b itself ({describe(got)}), values outside (0, 1): "
                 "the sigmoid is missing. Return sigmoid(X @ w + b).")
        if close(got, own_sigmoid(X @ w - b)):
            fail(f"{what} returned sigmoid(X @ w - b) ({describe(got)}): the bias is "
                 "subtracted. The neuron computes sigmoid(X @ w + b).")
        fail(f"{what} returned {describe(got)}, not sigmoid(X @ w + b). Compute it step by "
             "step for the first row by hand: z = X[0] @ w + b, then 1 / (1 + exp(-z)).")
    _forward_extremes(obj, hidden, forbid)


def _forward_extremes(obj, hidden, forbid):
    """Notebook 01 promises y_hat in (0, 1) for any input, so a large |X @ w + b| must give
    values in [0, 1] (0 and 1 are what float64 rounds the tails to), never nan or inf. An
    overflow warning alone is no failure here: notebook 01 promises values, not silence."""
    if hidden:
        w, b = _array([[-2.0], [1.0]]), _array([-1.3])
        X = _array([[400.0, 0.0], [-400.0, 0.0], [0.0, 900.0], [0.5, 3.0]])
    else:
        w, b = _array([[1.0], [2.0], [-1.0]]), _array([0.5])
        X = _array([[1000.0, 0.0, 0.0], [-1000.0, 0.0, 0.0], [0.0, 400.0, 0.0],
                    [0.0, 0.0, 800.0], [1.0, 1.0, 1.0]])
    z = X @ w + b
    what = (f"neuron_forward(X, w, b) with large inputs (z = X @ w + b from {z.min():g} to "
            f"{z.max():g})")
    fix = ("Notebook 01 promises y_hat in (0, 1) for any input: call the imported `sigmoid` "
           "(it never overflows), or exponentiate only -|z|: e = np.exp(-np.abs(z)), then "
           "np.where(z >= 0, 1, e) / (1 + e).")
    try:
        result, caught = call(obj, X.copy(), w.copy(), b.copy(), what=what, seconds=2.0,
                              forbid=forbid)
    except Exception as err:
        if isinstance(cause(err), (OverflowError, FloatingPointError)):
            fail(f"{what} raised {type(cause(err)).__name__}: exp(-z) at z = {z.min():g} is "
                 f"exp({-z.min():g}), beyond any float (math.exp raises, np.exp gives inf). "
                 + fix, "B17")
        raise
    got = as_array(result, what)
    if got.shape != z.shape:
        _forward_shape(got, what, z.shape[0])
    if not finite(got) or float(got.min()) < 0.0 or float(got.max()) > 1.0:
        bad = warned(caught)
        fail(f"{what} returned {describe(got)}: nan, inf or values outside [0, 1]"
             + (f" (numpy warned {bad[0]!r})" if bad else "") + ". Your exponential "
             "overflows: np.exp(1000) is inf, and np.exp(z) / (1 + np.exp(z)) is then "
             "inf / inf = nan. " + fix, "B17")
    if not close(got, own_sigmoid(z), rtol=1e-6, atol=1e-6):
        fail(f"{what} returned {describe(got)}, not sigmoid(X @ w + b) = "
             f"{describe(own_sigmoid(z))}: the tails are off by up to "
             f"{float(_abs(got - own_sigmoid(z)).max()):.2g}. If you clip z, clip no tighter "
             "than +-30 (sigmoid(30) = 1 - 1e-13). " + fix)


def _forward_error(err, what, n, d):
    exc = cause(err)
    text = str(exc)
    if isinstance(exc, ValueError) and any(k in text for k in ("matmul", "aligned", "shapes")):
        fail(f"{what} raised ValueError: {text}. The shapes do not chain: X is (n, d) = "
             f"({n}, {d}) and w is (d, 1) = ({d}, 1), so X @ w is ({n}, 1). Do not transpose "
             "w (w.T is (1, d)); samples are in rows.", "B14")
    if isinstance(exc, IndexError) or (isinstance(exc, ValueError) and "size 1" in text):
        fail(f"{what} raised {type(exc).__name__}: {text}. Your code expects one bias per "
             f"sample (b[i] for each of the {n} rows, or b reshaped to ({n}, 1)), but a neuron "
             "has ONE bias, shape (1,), shared by every sample; X @ w + b broadcasts it.",
             "B1")


def _forward_shape(got, what, n):
    if got.shape == (1, n):
        fail(f"{what} returned shape (1, {n}): the output is transposed (w.T @ X.T). Samples "
             f"are in rows: y_hat = sigmoid(X @ w + b) has shape ({n}, 1).", "B14")
    if got.shape == (n,):
        fail(f"{what} returned shape ({n},); keep the column: y_hat must be ({n}, 1), which "
             "X @ w + b gives with w of shape (d, 1). Do not ravel or flatten it.")
    fail(f"{what} returned {describe(got)}; expected shape ({n}, 1), one output per sample. "
         "Compute X @ w + b with w (d, 1) and b (1,), then the sigmoid.")


# --------------------------------------------------------------------------- loss

@check("bce_loss", rung="01", covers=("B3", "B5", "B17"))
def check_bce_loss(obj, *, hidden=False):
    """Check `bce_loss(y_hat, y) -> float` (notebook 01): the MEAN binary cross-entropy over
    the n samples, y_hat and y of shape (n, 1), finite when y_hat is exactly 0 or 1."""
    forbid = reference("nnlab.losses", "bce_loss")
    rng = _rng(1101 if hidden else 101)
    n = 9 if hidden else 6
    y = _targets(rng, n)
    y_hat = rng.uniform(0.05, 0.95, size=(n, 1))
    got = _loss(obj, y_hat, y, forbid)
    want = own_bce(y_hat, y)
    if not close(got, want, rtol=1e-6):
        _wrong_loss(got, want, y_hat, y, n)

    # Confident predictions: exactly 0 and 1. Right ones cost ~0, a wrong one a lot.
    m = 6 if hidden else 4
    y = _array([[0.0], [1.0]] * (m // 2))
    p = y.copy()
    got = _loss(obj, p, y, forbid, "with y_hat exactly equal to y (0s and 1s)")
    if not finite(_array(got)) or abs(got) > 1e-3:
        fail(f"bce_loss(y_hat, y) with perfect predictions y_hat = y in {{0, 1}} returned {got}; "
             "it should be ~0. The term (1 - y) * log(1 - y_hat) is 0 * log(0) = 0 * (-inf) "
             "= nan there. Clip first: y_hat = np.clip(y_hat, 1e-12, 1 - 1e-12).", "B17")
    p[0, 0] = 1.0  # a confident, wrong prediction: y = 0, y_hat = 1
    got = _loss(obj, p, y, forbid, "with one confident wrong prediction (y = 0, y_hat = 1)")
    if not finite(_array(got)) or got < 1.0 / m:
        fail(f"bce_loss(y_hat, y) with one prediction y_hat = 1 for a target y = 0 returned "
             f"{got}: log(1 - 1) = log(0) = -inf. The loss of a confident mistake is large "
             "but must stay finite, or training gets nan: clip y_hat into "
             "[1e-12, 1 - 1e-12] before taking logs.", "B17")


def _loss(obj, y_hat, y, forbid, how="") -> float:
    what = f"bce_loss(y_hat, y) with y_hat and y of shape {y_hat.shape}" + (
        f" {how}" if how else "")
    args = (y_hat.copy(), y.copy())
    try:
        with np.errstate(all="ignore"):
            result, caught = call(obj, *args, what=what, seconds=2.0, forbid=forbid)
    except Exception as err:
        if how and isinstance(cause(err), ValueError) and "domain" in str(cause(err)):
            fail(f"{what} raised ValueError: math domain error, from math.log(0). Clip the "
                 "predictions first: y_hat = min(max(y_hat, 1e-12), 1 - 1e-12).", "B17")
        raise
    unchanged(y_hat, args[0], what, "y_hat")
    unchanged(y, args[1], what, "y")
    value = as_float(result, what)
    if how and not finite(_array(value)):
        bad = warned(caught)
        fail(f"{what} returned {value}" + (f" (numpy warned {bad[0]!r})" if bad else "")
             + ": log(0) is -inf and 0 * log(0) is nan. Clip the predictions before taking "
             "logs: y_hat = np.clip(y_hat, 1e-12, 1 - 1e-12).", "B17")
    return value


def _wrong_loss(got, want, y_hat, y, n):
    head = f"bce_loss(y_hat, y) on {n} samples returned {got:.6g}"
    if close(got, want * n, rtol=1e-6):
        fail(f"{head}, exactly {n} times the mean cross-entropy: you sum over the samples "
             "instead of averaging. The course's losses are means (np.mean), so their "
             "gradients carry the 1/n; a sum makes the learning rate depend on n.", "B5")
    err = y - y_hat
    if close(got, err.sum()) or close(got, err.mean()) or close(got, -err.sum()) \
            or close(got, -err.mean()):
        fail(f"{head}: that is the signed error sum(y - y_hat) (or its mean), not a loss. "
             "Positive and negative errors cancel, so it sits near 0 while the model is "
             "wrong. Use -mean(y * log(y_hat) + (1 - y) * log(1 - y_hat)).", "B3")
    sq = (err ** 2).mean()
    if any(close(got, v) for v in (sq, sq / 2, sq * n, sq * n / 2)):
        fail(f"{head}: that is a squared error (MSE), not the binary cross-entropy. Use "
             "-mean(y * log(y_hat) + (1 - y) * log(1 - y_hat)).")
    if close(got, -want):
        fail(f"{head}, negative: the minus sign in front of the mean is missing. log of a "
             "probability is negative, so the cross-entropy is -mean(...), a positive number.")
    fail(f"{head}, not the mean binary cross-entropy. Check the formula term by term: "
         "-mean(y * log(y_hat) + (1 - y) * log(1 - y_hat)), with both terms.")


# --------------------------------------------------------------------------- gradients

@check("neuron_gradients", rung="01", covers=("B1", "B5", "B7", "B14", "B15", "B18"))
def check_neuron_gradients(obj, *, hidden=False):
    """Check `neuron_gradients(X, y, y_hat) -> (dw, db)` (notebook 01): gradients of the mean
    BCE of a sigmoid neuron, dw (d, 1) = X.T @ (y_hat - y) / n and db (1,)."""
    forbid = reference("nnlab.neuron", "neuron_gradients")
    rng = _rng(1102 if hidden else 102)
    n, d = (8, 2) if hidden else (6, 3)
    X = rng.normal(size=(n, d))
    y = _targets(rng, n)
    y_hat = rng.uniform(0.05, 0.95, size=(n, 1))
    what = f"neuron_gradients(X, y, y_hat) with X {X.shape}, y and y_hat {y.shape}"
    args = (X.copy(), y.copy(), y_hat.copy())
    result, _ = call(obj, *args, what=what, seconds=2.0, forbid=forbid)
    for name, before, after in zip(("X", "y", "y_hat"), (X, y, y_hat), args, strict=True):
        unchanged(before, after, what, name)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(f"{what} returned {type(result).__name__}; it must return a pair (dw, db).")
    if result[1] is None:
        fail(f"{what} returned db = None: the bias gets no gradient, so it never learns and "
             "every boundary goes through the origin. db = (y_hat - y).sum(axis=0) / n, "
             "shape (1,).", "B7")
    dw = as_array(result[0], what + ", its dw")
    db = as_array(result[1], what + ", its db")
    dz = (y_hat - y) / n
    want_w, want_b = X.T @ dz, dz.sum(axis=0)

    if dw.shape == (1, d):
        fail(f"{what} returned dw of shape (1, {d}): transposed. dw has the shape of w, "
             f"({d}, 1): dw = X.T @ dz, not dz.T @ X.", "B14")
    if dw.shape != (d, 1):
        fail(f"{what} returned dw with {describe(dw)}; it needs the shape of w, ({d}, 1). "
             "dw = X.T @ dz with dz = (y_hat - y) / n of shape (n, 1).")
    if db.shape in ((n, 1), (n,)):
        fail(f"{what} returned db of shape {db.shape}: one bias gradient per training "
             "example. A bias belongs to the neuron: db has shape (1,), summed over the "
             "batch: db = dz.sum(axis=0).", "B1")
    if db.shape != (1,):
        fail(f"{what} returned db with {describe(db)}; it needs the shape of b, (1,). "
             "np.sum(dz, axis=0) of a (n, 1) array gives (1,); keepdims=True or a plain "
             "np.sum(dz) give (1, 1) or a scalar.")
    if close(dw, want_w) and close(db, want_b):
        return
    _wrong_gradients(dw, db, want_w, want_b, X, y, y_hat, n, what)


def _ratio_bug(got, want, n, name, what):
    if close(got, n * want):
        fail(f"{what}: {name} is exactly {n} times the gradient of the mean loss ({n} = the "
             "number of samples): the 1/n is missing. The loss is a mean, so "
             "dz = (y_hat - y) / n.", "B5")
    if close(got, -want) or close(got, -n * want):
        fail(f"{what}: {name} has the opposite sign of the gradient ({describe(got)}). With "
             "y - y_hat instead of y_hat - y every update climbs the loss. The gradient "
             "of the BCE of a sigmoid neuron is dz = (y_hat - y) / n.", "B15")


def _wrong_gradients(dw, db, want_w, want_b, X, y, y_hat, n, what):
    mse_dz = (y_hat - y) * y_hat * (1 - y_hat)
    if close(dw, X.T @ mse_dz / n) or close(dw, X.T @ mse_dz) or close(dw, 2 * X.T @ mse_dz / n):
        fail(f"{what}: dw includes an extra factor y_hat * (1 - y_hat), the sigmoid's "
             "derivative. That is the gradient of the squared error. With the cross-entropy "
             "the sigmoid's derivative cancels: dL/dz = (y_hat - y) / n, nothing more.",
             "B18")
    if not close(dw, want_w):
        _ratio_bug(dw, want_w, n, "dw", what)
        fail(f"{what}: dw = {describe(dw)} is not X.T @ (y_hat - y) / n. Compute it for "
             "one weight by hand on two samples and compare.")
    if float(_abs(db).max()) == 0.0:
        fail(f"{what}: db is all zeros while dw is right: the bias gets no gradient, so it "
             "never moves. db = (y_hat - y).sum(axis=0) / n.", "B7")
    _ratio_bug(db, want_b, n, "db", what)
    fail(f"{what}: dw is right but db = {describe(db)} is not the sum over the batch of "
         "(y_hat - y) / n. db = dz.sum(axis=0), shape (1,).")


# --------------------------------------------------------------------------- training

_GATE_X = _array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
_GATES = {"AND": _array([[0.0], [0.0], [0.0], [1.0]]), "OR": _array([[0.0], [1.0], [1.0], [1.0]])}


def _trained(obj, y, forbid, **kwargs):
    shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    what = f"train_neuron(X, y{', ' if shown else ''}{shown}) on a truth table"
    args = (_GATE_X.copy(), y.copy())
    result, _ = call(obj, *args, what=what, seconds=5.0, forbid=forbid, **kwargs)
    unchanged(_GATE_X, args[0], what, "X")
    unchanged(y, args[1], what, "y")
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        fail(f"{what} returned {type(result).__name__}; it must return (w, b, losses).")
    w = as_array(result[0], what + ", its w")
    b = as_array(result[1], what + ", its b")
    losses = as_array(result[2], what + ", its losses")
    if w.shape == (1, 2):
        fail(f"{what} returned w of shape (1, 2): transposed. With X of shape (4, 2), w has "
             "one row per input, shape (2, 1), so that X @ w is (4, 1).", "B14")
    if w.shape != (2, 1):
        fail(f"{what} returned w with {describe(w)}; with 2 inputs w has shape (2, 1).")
    if b.shape in ((4, 1), (4,)):
        fail(f"{what} returned b of shape {b.shape}: one bias per training example. It fits "
             "the 4 training rows by echoing their targets and gives the same output for any "
             "new input. A neuron has ONE bias, shape (1,); db is summed over the batch.", "B1")
    if b.shape != (1,):
        fail(f"{what} returned b with {describe(b)}; a neuron has one bias, shape (1,).")
    if losses.ndim != 1:
        fail(f"{what} returned losses with {describe(losses)}; return a list with one float "
             "per epoch (append float(loss)).")
    return w, b, losses, what


def _step_kind(ps, gs, lr):
    """How one parameter moved between runs of 1, 2, 3 and 4 epochs, given the BCE gradients
    gs at those states: the update rule, read off exactly."""
    steps = [ps[k + 1] - ps[k] for k in range(3)]

    def each(targets):
        return all(close(s, t, rtol=1e-5, atol=1e-10) for s, t in zip(steps, targets,
                                                                      strict=True))
    if each([-lr * g for g in gs]):
        return "descent"
    if all(float(_abs(s).max()) == 0.0 for s in steps):
        return "still"
    if each([lr * g for g in gs]):
        return "ascent"
    if each(gs) or each([4 * g for g in gs]):
        return "added"
    if each([-lr * p for p in ps[:3]]):
        return "self"
    if all(close(steps[k] - steps[k - 1], -lr * gs[k], rtol=1e-5, atol=1e-10) for k in (1, 2)):
        return "accumulate"
    return "other"


def _which(kw, kb, kind):
    """Which parameters moved in the way `kind`: 'w', 'b' or 'w and b'."""
    both = [p for p, k in (("w", kw), ("b", kb)) if k == kind]
    return " and ".join(both)


def _same(a, b) -> bool:
    """Bit for bit the same array: what one deterministic run gives twice."""
    return close(a, b, rtol=0.0, atol=0.0)


def _epochs_used(ws, bs, sizes, lr):
    """The runs of 1, 2, 3 and 4 epochs must differ, with one loss per epoch each."""
    if sizes[0] > 1 and len(set(sizes)) == 1 and all(
            _same(ws[k], ws[0]) and _same(bs[k], bs[0]) for k in (1, 2, 3)):
        fail(f"train_neuron run with epochs=1, 2, 3 and 4 (lr={lr}, seed=0) returned the "
             f"same w, b and {sizes[0]} losses every time: the loop ignores the `epochs` "
             "argument (a hard-coded count such as range(1000), or a while loop with a "
             "stopping rule of its own), so the caller cannot choose how long to train: "
             "notebook 01's XOR run asks for epochs=10_000. Loop over the argument: "
             "for epoch in range(epochs).")
    for k, size in zip((1, 2, 3, 4), sizes, strict=True):
        if size not in (k, k + 1):
            fail(f"train_neuron(X, y, lr={lr}, epochs={k}, seed=0) returned {size} loss "
                 f"value(s) for {k} epoch(s); record one loss per epoch, `epochs` of them "
                 "(append inside the epoch loop).")


def _bce_grads(ws, bs, y):
    """The BCE gradients (dw, db) at each state (w, b), the checks' own."""
    gw, gb = [], []
    for w, b in zip(ws, bs, strict=True):
        dz = (own_sigmoid(_GATE_X @ w + b) - y) / 4
        gw.append(_GATE_X.T @ dz)
        gb.append(dz.sum(axis=0))
    return gw, gb


def _scale(ps, gs):
    """c when each of the steps ps[k + 1] - ps[k] is -c times the gradient gs[k], one c for
    all of them; None when the steps are not proportional to the gradients, or still."""
    steps = [ps[k + 1] - ps[k] for k in range(len(ps) - 1)]
    den = sum(float((g * g).sum()) for g in gs)
    if den == 0.0:
        return None
    c = -sum(float((s * g).sum()) for s, g in zip(steps, gs, strict=False)) / den
    if c == 0.0 or not all(close(s, -c * g, rtol=1e-5, atol=1e-10)
                           for s, g in zip(steps, gs, strict=False)):
        return None
    return c


def _lr_used(obj, y, lr, forbid, ws, bs, line):
    """Epochs 1-3 again with 3 times the learning rate: a parameter whose every step is -c
    times its gradient, with the same c for both rates, is updated without `lr`."""
    runs = [_trained(obj, y, forbid, lr=3 * lr, epochs=k, seed=0)[:2] for k in (1, 2, 3)]
    ws3, bs3 = [r[0] for r in runs], [r[1] for r in runs]
    gw, gb = _bce_grads(ws[:2], bs[:2], y)
    gw3, gb3 = _bce_grads(ws3[:2], bs3[:2], y)
    deaf = []
    for name, ps, gs, ps3, gs3 in (("w", ws[:3], gw, ws3, gw3), ("b", bs[:3], gb, bs3, gb3)):
        c, c3 = _scale(ps, gs), _scale(ps3, gs3)
        if c is not None and c3 is not None and abs(c3 - c) <= 1e-6 * abs(c):
            deaf.append((name, c))
    if deaf:
        who = " and ".join(name for name, _ in deaf)
        name, c = deaf[0]
        fail(f"train_neuron(X, y, epochs=3, seed=0) with lr={lr} and with lr={3 * lr:g}: "
             f"each step of {who} is -{c:.3g} times its gradient both times: the update of "
             f"{who} ignores the `lr` argument (`{name} -= d{name}`, or a learning rate fixed "
             "inside the function), so the caller's learning rate changes nothing. Write "
             f"{line[who]}, with the lr passed in.")


def _read_steps(obj, y, lr, forbid):
    runs = [_trained(obj, y, forbid, lr=lr, epochs=k, seed=0) for k in (1, 2, 3, 4)]
    ws = [r[0] for r in runs]
    bs = [r[1] for r in runs]
    _epochs_used(ws, bs, [r[2].size for r in runs], lr)
    gw, gb = _bce_grads(ws[:3], bs[:3], y)
    kw, kb = _step_kind(ws, gw, lr), _step_kind(bs, gb, lr)
    head = (f"train_neuron run for 1, 2, 3 and 4 epochs (lr={lr}, seed=0): between epochs, "
            f"w moved {describe(ws[1] - ws[0])}, b moved {describe(bs[1] - bs[0])}")
    line = {"w": "`w -= lr * dw`", "b": "`b -= lr * db`", "w and b": "`w -= lr * dw` and "
            "`b -= lr * db`"}
    right = {"w": " The update of w is right; only b's line is wrong.",
             "b": " The update of b is right; only w's line is wrong.", "w and b": ""}
    if "self" in (kw, kb) or (kw == kb == "still"):
        who = _which(kw, kb, "self") or "w and b"
        fail(f"{head}. Each step of {who} is -lr times the parameter itself (or nothing moves "
             "at all, as `w -= lr * w` does from zero): the update uses the weights, not the "
             "gradient. The weights shrink to 0 and every output goes to 0.5. Write "
             f"{line[who]}.{right['w' if who == 'b' else 'b' if who == 'w' else who]}",
             "B12")
    if "added" in (kw, kb):
        who = _which(kw, kb, "added")
        fail(f"{head}. {who} moves by +1 (or +n) times its gradient: the gradient is "
             f"added into the parameter (`{who[0]} += delta`) instead of into a gradient "
             "buffer, so the step has learning rate 1 and the wrong sign; outputs are pushed "
             f"to one end. Accumulate into d{who[0]}, then update {line[who]}.", "B13")
    _lr_used(obj, y, lr, forbid, ws, bs, line)
    if "ascent" in (kw, kb):
        who = _which(kw, kb, "ascent")
        other = {"w": "b", "b": "w"}.get(who)
        fine = (f" The update of {other} is right (it moves against its gradient); only "
                f"the line that updates {who} has the wrong sign." if other and
                (kw if other == "w" else kb) == "descent" else "")
        fail(f"{head}. Each step of {who} is +lr times its gradient: gradient ascent, so the "
             f"loss rises. The update is {line[who]} (minus), with the gradient from "
             f"y_hat - y.{fine}", "B15")
    if "accumulate" in (kw, kb):
        fail(f"{head}. Each step is the previous step plus -lr times the new gradient: the "
             "gradient buffers are never reset, so every old gradient is applied again and "
             "the weights run away. Compute dw, db fresh inside the epoch loop (or set them "
             "to zero before accumulating).", "B16")
    if kb == "still" and kw == "descent" and float(_abs(gb[0]).max()) > 0:
        fail(f"{head}. w follows the gradient but b never moves (b = {describe(bs[-1])}): "
             "there is effectively no bias, so the boundary goes through the origin and AND "
             "cannot be learned. Update `b -= lr * db` with db = (y_hat - y).sum(axis=0)/n.",
             "B7")
    return kw, kb


#: Self-contained reference versions of the notebook's earlier cells, swapped in to judge
#: the loop alone (see `_localise`).
REFERENCE_SOURCES = {
    "sigmoid": """
def sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -np.asarray(z, dtype=float)))
""",
    "neuron_forward": """
def neuron_forward(X, w, b):
    return np.exp(-np.logaddexp(0.0, -(X @ w + b)))
""",
    "bce_loss": """
def bce_loss(y_hat, y):
    p = np.clip(y_hat, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
""",
    "neuron_gradients": """
def neuron_gradients(X, y, y_hat):
    dz = (y_hat - y) / X.shape[0]
    return X.T @ dz, dz.sum(axis=0)
""",
}


@check("train_neuron", rung="01",
       covers=("B1", "B7", "B12", "B13", "B15", "B16", "B17", "B19"))
def check_train_neuron(obj, *, hidden=False):
    """Check `train_neuron(X, y, lr=..., epochs=..., seed=0) -> (w, b, losses)` (notebook 01):
    w (2, 1), b (1,), one loss per epoch; learns AND and OR (accuracy 1, loss falling).
    Short runs of 1-4 epochs reveal the update rule and that the loop uses its `epochs` and
    `lr` arguments (a rerun of 1-3 epochs with 3 times the rate); longer runs test that it
    learns. A failing loop is rerun on reference components, so a bug in
    `neuron_gradients` (or `bce_loss`, `neuron_forward`) is blamed on that cell, not on
    this one."""
    from nnlab.checks._localise import run_localised

    run_localised(obj, lambda quick: _train_neuron_probes(obj, hidden), REFERENCE_SOURCES,
                  hidden=hidden)


def _train_neuron_probes(obj, hidden):
    from nnlab.checks.triage import triage

    forbid = reference("nnlab.neuron", "train_neuron")
    first, second = ("OR", "AND") if hidden else ("AND", "OR")
    kinds = _read_steps(obj, _GATES[first], 0.3 if hidden else 0.5, forbid)
    explicit = {"lr": 2.0, "epochs": 200} if hidden else {"lr": 1.0, "epochs": 300}
    for gate, kwargs in ((first, {}), (second, explicit)):
        y = _GATES[gate]
        w, b, losses, what = _trained(obj, y, forbid, **kwargs)
        if kwargs and losses.size not in (kwargs["epochs"], kwargs["epochs"] + 1):
            fail(f"{what} returned {losses.size} losses for {kwargs['epochs']} epochs; record "
                 "one loss per epoch (append inside the epoch loop).")
        if losses.size < 3:
            fail(f"{what} returned {losses.size} loss value(s); record one loss per epoch, "
                 "appending inside the epoch loop, so the history can be read.")
        out = own_sigmoid(_GATE_X @ w + b)
        acc = float(((out > 0.5) == (y > 0.5)).mean())
        diag = triage(losses) if losses.size >= 3 else None
        if acc == 1.0 and finite(losses) and diag is not None and diag.label in ("ok", "noisy") \
                and losses[-1] < losses[0]:
            continue
        head = (f"{what} ({gate}) ended with accuracy {acc:.2f}, outputs {describe(out)}, "
                f"w = {describe(w)}, b = {describe(b)}")
        story = f" The loss history reads: {diag.message}" if diag else ""
        if not finite(losses):
            fail(f"{head}.{story} Clip y_hat before the log in the loss: "
                 "np.clip(y_hat, 1e-12, 1 - 1e-12).", "B17")
        if kinds == ("descent", "descent") and not kwargs:
            _rate_verdict(obj, head, losses, diag)
        if float(_abs(b).max()) == 0.0:
            fail(f"{head}. b is still exactly 0: the bias is never trained, so the boundary "
                 "goes through the origin and AND cannot be separated. Update b with "
                 "db = (y_hat - y).sum(axis=0) / n.", "B7")
        if diag is not None and diag.label == "rising":
            fail(f"{head}.{story} If only the bias climbs with step 1, it is B13 (gradient "
                 "added into the parameter); if everything climbs, the update sign.", "B15")
        if diag is not None and diag.label == "diverging":
            fail(f"{head}.{story}", "B16")
        if float(_abs(w).max()) < 1e-3 and float(_abs(out - 0.5).max()) < 1e-3:
            fail(f"{head}: the weights shrank to 0 and every output is 0.5, the signature of "
                 "an update with the weights themselves, `w -= lr * w` (or with the output "
                 "error instead of dw). Use `w -= lr * dw`.", "B12")
        fail(f"{head}; a single neuron reaches accuracy 1.00 on {gate} with a falling loss."
             f"{story} Check the update lines against w -= lr * dw, b -= lr * db, and that "
             f"your defaults ({_defaults(obj)}) are enough: lr=1.0, epochs=1000 are.")


def _rate_verdict(obj, head, losses, diag):
    """The update rule read right (w -= lr * dw, b -= lr * db) but the default run failed:
    the learning rate (or the epochs) is the problem, B19, not the code."""
    first, last = float(losses[0]), float(losses[-1])
    defaults = _defaults(obj)
    if not finite(losses) or last >= first or (diag is not None and diag.label in (
            "rising", "diverging", "oscillating")):
        fail(f"{head}. The update rule itself is right (each step is -lr times the "
             f"gradient), so the step is too big: with your defaults ({defaults}) the loss "
             "jumps around or rises from the first steps. Lower the default learning rate "
             "(lr=1.0 works here).", "B19")
    fail(f"{head}. The update rule itself is right (each step is -lr times the "
         f"gradient), but with your defaults ({defaults}) the loss went from {first:.4g} to "
         f"only {last:.4g}: the learning rate is far too small (or too few epochs) for "
         "training to get anywhere. Raise the default lr (lr=1.0, epochs=1000 work here).",
         "B19")


def _defaults(obj) -> str:
    defaults = signature_defaults(obj)
    if defaults is None:
        return "unknown"
    shown = [f"{k}={defaults[k]!r}" for k in ("lr", "epochs") if k in defaults]
    return ", ".join(shown) or "none given"

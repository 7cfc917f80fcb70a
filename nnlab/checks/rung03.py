"""Checks for notebook 03: the `Dense` layer and the `Sigmoid`, `Tanh`, `ReLU` layers.

Each check builds the student's layer, sets its parameters to known values, runs
`forward` then `backward`, and compares with its own numpy: the backward against
centred differences of its own forward. The probes make each layer bug leave its own
mark: a batch size unlike the layer width for a per-sample bias (B1), a square layer for
a transpose (B14), backward twice for accumulating buffers (B16), the ratio to the true
gradient for 1/n (B5) and sign (B15).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy

from nnlab.checks._core import (
    as_array,
    call,
    check,
    describe,
    fail,
    max_rel_error,
    numeric_grad,
    reference,
)

# numpy as it was at import: a student who replaces np.tanh later changes no verdict.
np = SimpleNamespace(**vars(numpy))

__all__ = ["check_dense", "check_sigmoid_layer", "check_tanh", "check_relu"]


def _close(a, b, tol: float = 1e-6) -> bool:
    return a.shape == b.shape and max_rel_error(a, b) < tol


def _attr(layer, name: str, what: str, bug=None, hint: str = ""):
    value = getattr(layer, name, None)
    if value is None:
        fail(f"{what} has no attribute `{name}` (or it is None). {hint}", bug)
    return value


# --------------------------------------------------------------------------- Dense

def _dense_init(Dense, n_in, n_out, seeds, forbid):
    what = f"Dense({n_in}, {n_out}, seed={seeds[0]})"
    layer, _ = call(Dense, n_in, n_out, seed=seeds[0], what=what, seconds=2, forbid=forbid)
    W = as_array(_attr(layer, "W", what, None, "Store the weights as self.W."), f"{what}.W")
    if W.shape != (n_in, n_out):
        flip = " (that is (n_out, n_in), transposed)" if W.shape == (n_out, n_in) else ""
        fail(f"{what}.W has shape {W.shape}{flip}; the course stores W as (n_in, n_out) = "
             f"({n_in}, {n_out}) so that forward is X @ W.")
    b = as_array(_attr(layer, "b", what, "B7", "A dense layer needs one bias per neuron: "
                       f"self.b = np.zeros({n_out})."), f"{what}.b")
    if b.shape != (n_out,):
        fail(f"{what}.b has shape {b.shape}; a dense layer keeps one bias per neuron, "
             f"shape ({n_out},) (1-D, never one per sample): self.b = np.zeros({n_out}).")
    if not (np.isfinite(W).all() and np.isfinite(b).all()):
        fail(f"{what} has non-finite values in W or b: W {describe(W)}, b {describe(b)}.")
    if W.std() < 1e-3:
        fail(f"{what}.W is {describe(W)}: all weights (nearly) equal. Every neuron then "
             "computes the same thing and gets the same gradient, so the units stay "
             "identical forever. Draw W at random: rng = np.random.default_rng(seed); "
             "W = rng.normal(0, scale, (n_in, n_out)).", "B6")
    if (np.ptp(W, axis=1) < 1e-12).all():
        fail(f"{what}.W has {n_out} identical columns ({describe(W)}): every neuron gets "
             "the same incoming weights, so the units stay identical. Draw each weight "
             "independently: rng.normal(0, scale, (n_in, n_out)).", "B6")
    other, _ = call(Dense, n_in, n_out, seed=seeds[1], what=f"Dense({n_in}, {n_out}, "
                    f"seed={seeds[1]})", seconds=2, forbid=forbid)
    W1 = as_array(_attr(other, "W", "Dense"), "Dense.W")
    if _close(W1, W, 1e-12):
        fail(f"Dense with seed={seeds[0]} and seed={seeds[1]} start from identical W: the "
             "seed is ignored, so every network in a seed sweep starts alike. Build the "
             "weights from rng = np.random.default_rng(seed).", "B6")
    again, _ = call(Dense, n_in, n_out, seed=seeds[0], what=what, seconds=2, forbid=forbid)
    if not _close(as_array(_attr(again, "W", "Dense"), "Dense.W"), W, 1e-12):
        fail(f"{what} built twice gives two different W: the seed does not fix the start, "
             "so runs cannot be repeated. Use rng = np.random.default_rng(seed), not "
             "np.random.randn (the global random state).")


def _set(layer, W, b):
    layer.W, layer.b = W.copy(), b.copy()


def _dense_forward(Dense, m, hidden, forbid):
    n_in, n_out = m
    rng = np.random.default_rng(31 if hidden else 3)
    layer, _ = call(Dense, n_in, n_out, seed=0, what="Dense(...)", seconds=2, forbid=forbid)
    W = rng.normal(size=(n_in, n_out))
    b = rng.uniform(0.5, 2.0, n_out) * rng.choice([-1, 1], n_out)
    for n in ((6, 1) if hidden else (4, 2)):
        _set(layer, W, b)
        X = rng.normal(size=(n, n_in))
        what = f"forward(X) with X of shape {X.shape}"
        out = as_array(call(layer.forward, X.copy(), what=what, seconds=2, forbid=forbid)[0],
                       what)
        if out.shape != (n, n_out):
            fail(f"{what} returned shape {out.shape}; expected (n, n_out) = ({n}, {n_out}). "
                 "forward must return X @ self.W + self.b, one row per sample.")
        if _close(out, X @ W + b):
            continue
        if _close(out, X @ W):
            fail(f"{what} returned X @ W without the bias (the check set b to {describe(b)}"
                 "). Without a bias every boundary passes through the origin. Return "
                 "X @ self.W + self.b.", "B7")
        fail(f"{what} returned {describe(out)}, which is not X @ W + b for the W and b the "
             "check stored in layer.W and layer.b. forward must read self.W and self.b "
             "(not copies made in __init__) and return X @ self.W + self.b.")
    # float32 in, float32 parameters: values must still be right.
    _set(layer, W.astype(np.float32), b.astype(np.float32))
    X = rng.normal(size=(3, n_in)).astype(np.float32)
    out = as_array(call(layer.forward, X, what="forward(float32 X)", forbid=forbid)[0],
                   "forward(float32 X)")
    if not _close(out, X.astype(float) @ W.astype(np.float32) + b.astype(np.float32), 1e-4):
        fail(f"forward with float32 X, W and b returned {describe(out)}, not X @ W + b.")


def _grads(W, b, X, dY):
    """Centred differences of sum((X @ W + b) * dY): the check's own dW, db, dX."""
    W, b, X = W.copy(), b.copy(), X.copy()

    def f():
        return float(((X @ W + b) * dY).sum())

    return numeric_grad(f, W), numeric_grad(f, b), numeric_grad(f, X)


def _classify(name, got, exp, n, what, transposed=None):
    """Fail with the bug whose signature `got` shows against the true gradient `exp`."""
    if transposed is not None and got.shape == transposed.shape and _close(got, transposed):
        fail(f"{what}: {name} equals the correct gradient computed with a transpose in the "
             f"wrong place (probed on a square layer, where shapes cannot tell). {_T[name]}",
             "B14")
    if got.shape != exp.shape:
        fail(f"{what}: {name} has shape {got.shape}; it must be {exp.shape}. {_T[name]}",
             "B14" if got.shape == exp.shape[::-1] and name != "db" else None)
    if _close(got, exp):
        return
    if _close(got, -exp):
        fail(f"{what}: {name} is exactly minus the gradient ({describe(got)}). With it, "
             "gradient descent climbs the loss. Remove the extra minus sign.", "B15")
    if _close(got, exp / n):
        fail(f"{what}: {name} is the true gradient divided by the batch size {n}. The 1/n "
             "belongs to the loss, and dY already carries it; the layer must not divide "
             f"again. Remove the `/ n` (or `/ len(X)`) from {name}.", "B5")
    fail(f"{what}: {name} = {describe(got)} does not match a numerical gradient of "
         f"sum(forward(X) * dY). {_T[name]}")


_T = {"dW": "The weight gradient is dW = X.T @ dY, shape (n_in, n_out).",
      "db": "The bias gradient is db = dY.sum(axis=0), shape (n_out,).",
      "dX": "The input gradient is dX = dY @ W.T, shape (n, n_in)."}


def _dense_backward(Dense, m, n, hidden, forbid):
    rng = np.random.default_rng(57 if hidden else 5)
    layer, _ = call(Dense, m, m, seed=0, what=f"Dense({m}, {m})", seconds=2, forbid=forbid)
    W = rng.normal(size=(m, m))
    b = rng.uniform(0.5, 2.0, m)
    X, dY = rng.normal(size=(n, m)), rng.normal(size=(n, m))
    dW, db, dX = _grads(W, b, X, dY)
    what = f"Dense({m}, {m}).backward(dY) with a batch of {n}"
    _set(layer, W, b)
    call(layer.forward, X.copy(), what="forward(X)", forbid=forbid)
    got_dX = call(layer.backward, dY.copy(), what="backward(dY)", forbid=forbid)[0]
    for name, old, grad in (("b", b, db), ("W", W, dW)):
        new = as_array(getattr(layer, name, old), f"layer.{name}")
        if new.shape == old.shape and not _close(new, old, 1e-12):
            bug = "B13" if _close(new - old, grad) else None
            fail(f"{what} changed layer.{name} itself. backward only computes gradients and "
                 f"stores them in d{name} (d{name} = ..., never {name} += ...); the "
                 "optimizer updates the parameters later."
                 + (" Here the gradient was added to the parameter: learning rate 1 and "
                    "the wrong sign." if bug else ""), bug)
    g_db = as_array(_attr(layer, "db", what, "B7", "backward must store the bias gradient "
                          "in self.db; without it the biases never learn."), "layer.db")
    if g_db.shape in ((n, m), (n, 1), (n,)):
        fail(f"{what}: db has shape {g_db.shape}: you keep one bias gradient per training "
             f"example. A bias belongs to a neuron: shape ({m},), summed over the batch: "
             "db = dY.sum(axis=0).", "B1")
    if g_db.shape == (m,) and not np.abs(g_db).any():
        fail(f"{what}: db is all zeros although dY is not; the biases never learn. Set "
             "self.db = dY.sum(axis=0).", "B7")
    g_dW = as_array(_attr(layer, "dW", what, None, "backward must store self.dW."),
                    "layer.dW")
    _classify("dW", g_dW, dW, n, what, transposed=dW.T)
    _classify("db", g_db, db, n, what)
    if got_dX is None:
        fail(f"{what} returned None; backward must return dX = dY @ self.W.T, the gradient "
             "for the layer below.")
    g_dX = as_array(got_dX, "backward(dY)")
    _classify("dX", g_dX, dX, n, what, transposed=dY @ W)
    # The same step again: buffers must be overwritten, not accumulated.
    call(layer.forward, X.copy(), what="forward(X)", forbid=forbid)
    call(layer.backward, dY.copy(), what="backward(dY)", forbid=forbid)
    for name, exp in (("dW", dW), ("db", db)):
        got = as_array(getattr(layer, name), f"layer.{name}")
        if _close(got, 2 * exp):
            fail(f"After a second forward/backward with the same X and dY, {name} doubled "
                 f"({describe(got)}): the gradient is added to the previous one ({name} += "
                 f"...). Assign it instead: self.{name} = ...", "B16")
        if not _close(got, exp):
            fail(f"A second forward/backward with the same X and dY gave a different {name} "
                 f"({describe(got)}). backward must depend only on the stored input and dY.")


def _dense_backward_rect(Dense, n_in, n_out, n, forbid):
    rng = np.random.default_rng(8)
    layer, _ = call(Dense, n_in, n_out, seed=0, what="Dense(...)", seconds=2, forbid=forbid)
    W, b = rng.normal(size=(n_in, n_out)), rng.normal(size=n_out)
    X, dY = rng.normal(size=(n, n_in)), rng.normal(size=(n, n_out))
    _set(layer, W, b)
    what = f"Dense({n_in}, {n_out}).backward(dY) with a batch of {n}"
    call(layer.forward, X, what="forward(X)", forbid=forbid)
    dX = as_array(call(layer.backward, dY, what=what, forbid=forbid)[0], what)
    dW = as_array(getattr(layer, "dW", None), "layer.dW")
    for name, got, shape in (("dW", dW, (n_in, n_out)), ("dX", dX, (n, n_in))):
        if got.shape != shape:
            fail(f"{what}: {name} has shape {got.shape}, expected {shape}. {_T[name]}",
                 "B14" if got.shape[::-1] == shape or name == "dX" else None)


@check("dense", rung="03", covers=("B1", "B5", "B6", "B7", "B13", "B14", "B15", "B16"))
def check_dense(Dense, *, hidden=False, part=None):
    """Check a `Dense(n_in, n_out, seed=0)` layer class (notebook 03).

    W (d, h), b (h,); forward(X (n, d)) -> X @ W + b, (n, h); backward(dY (n, h)) sets
    dW (d, h), db (h,) and returns dX (n, d). Parts: "init", "forward", "backward".
    """
    if part not in (None, *check_dense.parts):
        raise ValueError(f"part={part!r}; choose one of {check_dense.parts} or None")
    forbid = reference("nnlab.layers", "Dense")
    if part in (None, "init"):
        _dense_init(Dense, *((5, 2) if hidden else (3, 4)), (7, 11) if hidden else (0, 1),
                    forbid)
    if part in (None, "forward"):
        _dense_forward(Dense, (5, 2) if hidden else (3, 4), hidden, forbid)
    if part in (None, "backward"):
        _dense_backward(Dense, 4 if hidden else 3, 7 if hidden else 5, hidden, forbid)
        _dense_backward_rect(Dense, *((2, 5, 3) if hidden else (3, 2, 4)), forbid)


check_dense.parts = ("init", "forward", "backward")


# --------------------------------------------------------------------------- activations

def _sig(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _activation(cls, name, f, fprime, hidden, forbid, extra=None):
    """Shared forward/backward probe of a parameter-free layer; returns (X, dY, dX_got)."""
    rng = np.random.default_rng(41 if hidden else 4)
    n, d = (5, 3) if hidden else (4, 3)
    X = rng.normal(scale=2.0, size=(n, d))
    X[0, 0], X[1, 1], X[2, 2] = 0.0, -0.5, 0.5
    X[-1, -1] = -3.0
    layer, _ = call(cls, what=f"{name}()", seconds=2, forbid=forbid)
    # A first forward with other data: backward must use the most recent input.
    call(layer.forward, rng.normal(size=(n + 1, d)), what=f"{name}.forward", forbid=forbid)
    out = as_array(call(layer.forward, X.copy(), what=f"{name}.forward(X)", forbid=forbid)[0],
                   f"{name}.forward(X)", shape=X.shape)
    if not _close(out, f(X)):
        fail(f"{name}.forward(X) returned {describe(out)}, which is not {name.lower()}(X) "
             f"elementwise. forward must apply the activation to every entry of X.")
    dY = rng.normal(size=(n, d))
    what = f"{name}.backward(dY) after forward(X) with X of shape {X.shape}"
    got = call(layer.backward, dY.copy(), what=what, forbid=forbid)[0]
    if got is None:
        fail(f"{what} returned None; backward must return dX = dY * {name.lower()}'(X).")
    got = as_array(got, what)
    if got.shape != X.shape:
        fail(f"{what} returned shape {got.shape}; dX has the shape of X, {X.shape}: the "
             "derivative is applied elementwise (dY * f'(X)), not with a matrix product.")
    exp = dY * fprime(X)

    def matches(g, tol=1e-6):
        # `extra` marks entries where more than one answer is right (ReLU at exactly 0).
        forgiven = np.zeros(X.shape, bool) if extra is None else extra(X, dY, g)
        return _close(np.where(forgiven, exp, g), exp, tol)

    if matches(got):
        call(layer.forward, X.astype(np.float32), what=f"{name}.forward(float32 X)",
             forbid=forbid)
        g32 = as_array(call(layer.backward, dY.astype(np.float32), what=what, forbid=forbid)[0],
                       what)
        if g32.shape != X.shape or not matches(g32, 1e-4):
            fail(f"{what} with float32 X and dY returned {describe(g32)}, not dY * f'(X).")
        return None
    sel = (X != 0) if extra is not None else np.ones(X.shape, bool)
    if _close(got[sel], fprime(X)[sel]):
        fail(f"{what} returned {name.lower()}'(X) itself ({describe(got)}): the local slope "
             "is right, but dY is never used. backward receives dY = dLoss/dOutput, the "
             "gradient that arrived from the layers above, and the chain rule multiplies "
             f"it by the local slope: dLoss/dX = dLoss/dOutput * dOutput/dX, so "
             f"dX = dY * {name.lower()}'(X), elementwise. Without dY every layer below "
             "learns as if the loss were the sum of this layer's outputs.")
    if _close(got[sel], -exp[sel]):
        fail(f"{what} returned minus the gradient ({describe(got)}): training would climb "
             "the loss. Remove the extra minus sign in backward.", "B15")
    return X, dY, got, exp


@check("sigmoid_layer", rung="03", covers=("B15", "B18"))
def check_sigmoid_layer(Sigmoid, *, hidden=False):
    """Check a `Sigmoid` layer class (notebook 03): forward(X (n, h)) -> s(X), (n, h);
    backward(dY (n, h)) -> dY * s(X) * (1 - s(X)), (n, h)."""
    res = _activation(Sigmoid, "Sigmoid", _sig, lambda z: _sig(z) * (1 - _sig(z)), hidden,
                      reference("nnlab.layers", "Sigmoid"))
    if res is None:
        return
    X, dY, got, exp = res
    s = _sig(X)
    if _close(got, dY * _sig(s) * (1 - _sig(s))):
        fail("Sigmoid.backward applies sigmoid to the output a second time: it computes "
             "sigmoid'(out) where out = sigmoid(X) is already the output. With the stored "
             "output the derivative is dX = dY * out * (1 - out), no second sigmoid.", "B18")
    fail(f"Sigmoid.backward returned {describe(got)}, not dY * s * (1 - s) with s = "
         "sigmoid(X). Store the output in forward (self.out) and use "
         "dX = dY * self.out * (1 - self.out).", "B18")


@check("tanh", rung="03", covers=("B15", "B18"))
def check_tanh(Tanh, *, hidden=False):
    """Check a `Tanh` layer class (notebook 03): forward(X (n, h)) -> tanh(X), (n, h);
    backward(dY (n, h)) -> dY * (1 - tanh(X)**2), (n, h)."""
    res = _activation(Tanh, "Tanh", np.tanh, lambda z: 1 - np.tanh(z) ** 2, hidden,
                      reference("nnlab.layers", "Tanh"))
    if res is None:
        return
    X, dY, got, exp = res
    t = np.tanh(X)
    if _close(got, dY * (1 - t)):
        fail("Tanh.backward uses 1 - tanh(x) as the derivative; it is 1 - tanh(x)**2. Square "
             "the output: dX = dY * (1 - self.out**2).", "B18")
    if _close(got, dY * (1 - np.tanh(t) ** 2)):
        fail("Tanh.backward computes 1 - tanh(out)**2 where out is already tanh(X): tanh is "
             "applied twice. Use the stored output as it is: dX = dY * (1 - self.out**2).",
             "B18")
    fail(f"Tanh.backward returned {describe(got)}, not dY * (1 - tanh(X)**2). Store the "
         "output in forward and use dX = dY * (1 - self.out**2).", "B18")


def _relu_zero_ok(X, dY, got):
    # At exactly 0 ReLU has no derivative; 0 (the course's `X > 0`, as in nnlab.layers)
    # and 1 (`X >= 0` on the input) are both subgradients: accepted there, nowhere else.
    return (X == 0) & ((got == 0) | (np.abs(got - dY) <= 1e-6 * (1 + np.abs(dY))))


@check("relu", rung="03", covers=("B8", "B15"))
def check_relu(ReLU, *, hidden=False):
    """Check a `ReLU` layer class (notebook 03): forward(X (n, h)) -> max(X, 0), (n, h);
    backward(dY (n, h)) -> dY where X > 0, else 0 (at exactly 0, either is accepted)."""
    res = _activation(ReLU, "ReLU", lambda z: np.maximum(z, 0), lambda z: (z > 0) * 1.0,
                      hidden, reference("nnlab.layers", "ReLU"), extra=_relu_zero_ok)
    if res is None:
        return
    X, dY, got, exp = res
    neg, pos = X < 0, X > 0
    if _close(got[neg], dY[neg]) and _close(got[pos], dY[pos]):
        fail("ReLU.backward passes the gradient through where the input was negative "
             f"(dX there is {describe(got[neg])}, it should be 0). The mask is always true: "
             "`output >= 0` holds for every output of a ReLU. Mask with the input: "
             "dX = dY * (self.X > 0).", "B8")
    fail(f"ReLU.backward returned {describe(got)}, not dY * (X > 0): the gradient passes "
         "unchanged where the input was positive and is 0 where it was negative.")

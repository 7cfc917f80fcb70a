"""Checks for notebook 05: the `Standardizer` and `sgd_step`, the fixes for the forum bugs.

The Standardizer is fit on training data and then fed test data of another offset and
scale, so a transform that recomputes statistics from the data it is given (seed 000)
shows up as rows that change with the company they keep (B2). `sgd_step` gets a zero
gradient (an update that still moves uses the weights themselves: B12) and arrays that
a caller still holds, so rebinding instead of updating in place is caught.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy

from nnlab.checks._core import (
    CheckFailed,
    as_array,
    call,
    check,
    describe,
    fail,
    max_rel_error,
    reference,
)

# numpy as it was at import: a student who replaces np.mean later changes no verdict.
np = SimpleNamespace(**vars(numpy))

__all__ = ["check_standardizer", "check_sgd_step"]


def _close(a, b, tol: float = 1e-6) -> bool:
    return a.shape == b.shape and max_rel_error(a, b) < tol


def _same(a, b) -> bool:
    return a.shape == b.shape and max_rel_error(a, b) == 0.0


# --------------------------------------------------------------------------- Standardizer

def _data(hidden):
    rng = np.random.default_rng(55 if hidden else 5)
    n, d = (40, 4) if hidden else (30, 3)
    mu = rng.uniform(-50, 50, d)
    sd = rng.uniform(0.5, 20, d)
    train = mu + sd * rng.normal(size=(n, d))
    # New data: another offset and scale, so its own statistics differ from train's.
    test = 3 * mu + 10 + 4 * sd * rng.normal(size=(n // 2 + 3, d))
    return train, test


def _std_options(train):
    """The accepted statistics: mean and std per column (ddof 0 or 1)."""
    mu = train.mean(axis=0)
    return [(mu, train.std(axis=0, ddof=ddof)) for ddof in (0, 1)]


def _transform(obj, X, what, forbid):
    before = X.copy()
    out = as_array(call(obj.transform, X, what=what, seconds=2, forbid=forbid)[0], what)
    if not _same(X, before):
        fail(f"{what} changed its input array in place. The caller's data must stay as it "
             "was: compute Z = (X - self.mean) / self.std into a new array instead of "
             "X -= ... .")
    if out.shape != X.shape:
        fail(f"{what} returned shape {out.shape}; expected the shape of X, {X.shape}.")
    return out


def _batch_dependent(sc, X, Z, forbid, where):
    """B2 when the same samples transform differently in a smaller batch."""
    k = 5
    head = _transform(sc, X[:k].copy(), f"transform({where}[:{k}])", forbid)
    if not _close(head, Z[:k], 1e-9):
        fail(f"Fit on training data, transform gave the same {k} samples of {where} one "
             f"result in a batch of {k} and another inside the whole array (whose transformed "
             f"mean is {Z.mean():.3g}): transform computes statistics (mean, std, max) from "
             "the data it is given, so new data gets the wrong scale. Statistics belong to "
             "fit: store self.mean and self.std there, and only use them in transform.", "B2")


def _diagnose_train(Z, train, options, sc, forbid):
    for mu, sd in options:
        if _close(Z, (train - mu) / sd):
            return
    _batch_dependent(sc, train, Z, forbid, "X_train")
    if not np.isfinite(Z).all():
        fail(f"transform(X) after fit(X) contains nan or inf ({describe(Z)}).")
    if _close(Z, train):
        fail("transform(X) returns X unchanged: the inputs are not standardised, so features "
             "of very different scales slow or stall training. Return "
             "(X - self.mean) / self.std.", "B10")
    if _close(Z, (train - train.mean()) / train.std()):
        fail("transform(X) uses one mean and one std for the whole array. Each column (each "
             "feature) needs its own: self.mean = X.mean(axis=0), self.std = X.std(axis=0).")
    if _close(Z, (train - train.mean(axis=1, keepdims=True))
              / train.std(axis=1, keepdims=True)):
        fail("transform(X) standardises each row (each sample) instead of each column "
             "(each feature): use axis=0 in fit.")
    if _close(Z, train / np.abs(train).max(axis=0)) or _close(Z, train / train.max(axis=0)):
        fail("transform(X) divides by the maximum. The Standardizer gives every column mean "
             "0 and standard deviation 1: Z = (X - self.mean) / self.std.")
    fail(f"transform(X) after fit(X) gave columns with means {describe(Z.mean(axis=0))} and "
         f"standard deviations {describe(Z.std(axis=0))}; they should be 0 and 1. "
         "Use Z = (X - self.mean) / self.std with the statistics of each column.")


def _constant_column(Standardizer, train, value, forbid):
    """A constant column must come out as 0s. With 7.0 its std is exactly 0; with 0.1 the
    mean is rounded, so np.std gives about 1e-17, and `std == 0` (or `std > 0`) misses it."""
    flat = train.copy()
    flat[:, 1] = value
    const, _ = call(Standardizer, what="Standardizer()", seconds=2, forbid=forbid)
    call(const.fit, flat.copy(), what=f"fit(X) with a column of {value:g}s", forbid=forbid)
    Zc = _transform(const, flat.copy(), f"transform(X) with a column of {value:g}s", forbid)
    if np.isfinite(Zc).all() and abs(Zc[:, 1]).max() <= 1e-6:
        return
    spread = max(float(flat.std(axis=0, ddof=d)[1]) for d in (0, 1))
    size = f"{spread:.2g}" if spread > 0 else "about 1e-17"
    if np.isfinite(Zc).all():
        fail(f"With a constant column of {value:g}s, transform gave {describe(Zc[:, 1])} for "
             f"it instead of 0s. np.std of that column is {size}, not exactly 0 (the "
             "mean is rounded), so a test `std == 0` or `std > 0` misses it and the rounding "
             "noise is blown up to +-1. Treat a column as constant when its std is tiny "
             "RELATIVE to its values: std[std <= 1e-12 * np.abs(X).max(axis=0)] = 1.")
    fail(f"With a constant column of {value:g}s (std 0), transform gave {describe(Zc[:, 1])} "
         "for it: division by zero. Replace a (near-)zero std by 1 in fit, so a constant "
         "feature becomes 0: std[std <= 1e-12 * np.abs(X).max(axis=0)] = 1.")


def _before_fit(Standardizer, X, forbid):
    fresh, _ = call(Standardizer, what="Standardizer()", seconds=2, forbid=forbid)
    try:
        call(fresh.transform, X, what="transform before fit", seconds=2, forbid=forbid)
    except CheckFailed as exc:
        if exc.kind == "error" and "NotImplementedError" not in exc.message:
            return
        raise
    fail("transform(X) on a Standardizer that was never fit returned a result. It has no "
         "statistics yet; raise an error that says so, e.g. raise RuntimeError('call fit "
         "before transform').")


@check("standardizer", rung="05", covers=("B2", "B10"))
def check_standardizer(Standardizer, *, hidden=False, part=None):
    """Check a `Standardizer` class (notebook 05).

    fit(X (n, d)) -> self, storing per-column statistics; transform(X (m, d)) ->
    (X - mean) / std, (m, d); inverse_transform(Z (m, d)) -> X, (m, d).
    Parts: "fit", "new_data", "round_trip", "edge_cases".
    """
    if part not in (None, *check_standardizer.parts):
        raise ValueError(f"part={part!r}; choose one of {check_standardizer.parts} or None")
    forbid = reference("nnlab.preprocessing", "Standardizer")
    train, test = _data(hidden)
    options = _std_options(train)
    sc, _ = call(Standardizer, what="Standardizer()", seconds=2, forbid=forbid)
    returned = call(sc.fit, train.copy(), what="fit(X_train)", seconds=2, forbid=forbid)[0]
    if part in (None, "fit"):
        _diagnose_train(_transform(sc, train.copy(), "transform(X_train)", forbid), train,
                        options, sc, forbid)
    if part in (None, "new_data"):
        Z = _transform(sc, test.copy(), "transform(X_test)", forbid)
        if not any(_close(Z, (test - mu) / sd) for mu, sd in options):
            _batch_dependent(sc, test, Z, forbid, "X_test")
            _diagnose_train(_transform(sc, train.copy(), "transform(X_train)", forbid), train,
                            options, sc, forbid)
            fail(f"transform(X_test) gave {describe(Z)}, not (X_test - mean) / std with the "
                 "mean and std stored by fit(X_train).")
    if part in (None, "round_trip"):
        Z = _transform(sc, test.copy(), "transform(X_test)", forbid)
        what = "inverse_transform(transform(X_test))"
        back = as_array(call(sc.inverse_transform, Z.copy(), what=what, seconds=2,
                             forbid=forbid)[0], what)
        if not _close(back, test, 1e-9):
            bug = None
            if back.shape == test.shape and _close(back, Z * Z.std(axis=0) + Z.mean(axis=0)):
                bug = "B2"
            fail(f"{what} gave {describe(back)}, not X_test back. The inverse undoes transform "
                 "with the statistics stored by fit: X = Z * self.std + self.mean."
                 + (" Yours uses the statistics of Z itself." if bug else ""), bug)
    if part in (None, "edge_cases"):
        for value in (7.0, 0.1):
            _constant_column(Standardizer, train, value, forbid)
        _before_fit(Standardizer, train.copy(), forbid)
    # Last, and only in the fit part: a missing `return self` is one slip in one cell, and
    # must not hide a B2 nor cost the other parts (they call fit, then transform).
    if part in (None, "fit") and returned is not sc:
        fail(f"fit(X) returned {type(returned).__name__}, not the Standardizer itself; "
             "everything else in fit is right. End fit with `return self`, so that "
             "Standardizer().fit(X).transform(X) works.")


check_standardizer.parts = ("fit", "new_data", "round_trip", "edge_cases")


# --------------------------------------------------------------------------- sgd_step

def _params(hidden):
    rng = np.random.default_rng(77 if hidden else 7)
    shapes = ({"0.W": (3, 5), "0.b": (5,), "2.W": (5, 2), "2.b": (2,)} if hidden else
              {"0.W": (2, 3), "0.b": (3,), "1.W": (3, 1), "1.b": (1,)})
    params = {k: rng.normal(size=s) for k, s in shapes.items()}
    grads = {k: rng.normal(size=s) for k, s in shapes.items()}
    return params, grads, (0.05 if hidden else 0.1)


def _step(sgd_step, params, grads, lr, forbid, what):
    held = dict(params)  # what a caller (a layer holding its W) still points to
    before = {k: v.copy() for k, v in params.items()}
    call(sgd_step, params, {k: g.copy() for k, g in grads.items()}, lr, what=what, seconds=2,
         forbid=forbid)
    for key in before:
        if key not in params:
            fail(f"{what} removed the key {key!r} from params.")
        if params[key] is not held[key]:
            fail(f"{what} rebound params[{key!r}] to a new array (params[k] = params[k] - ...)."
                 " A layer that holds that array (its W) never sees the change, so the "
                 f"network does not learn. Update in place: params[k] -= lr * grads[k].")
    return before, {k: as_array(v, f"params[{k!r}]") for k, v in held.items()}


@check("sgd_step", rung="05", covers=("B12", "B13", "B15"))
def check_sgd_step(sgd_step, *, hidden=False):
    """Check `sgd_step(params, grads, lr)` (notebook 05): for every key,
    params[key] (any shape, e.g. W (d, h), b (h,)) -= lr * grads[key], in place."""
    forbid = reference("nnlab.optim", "sgd_step")
    params, grads, lr = _params(hidden)
    zero = {k: g * 0 for k, g in grads.items()}
    what = f"sgd_step(params, grads, lr={lr}) with every gradient 0"
    before, after = _step(sgd_step, {k: v.copy() for k, v in params.items()}, zero, lr, forbid,
                          what)
    for key, old in before.items():
        if not _same(after[key], old):
            shrunk = _close(after[key], old * (1 - lr)) or _close(after[key], old * (1 - lr) ** 2)
            fail(f"{what} still moved params[{key!r}] ({describe(old)} became "
                 f"{describe(after[key])}). The update must use the gradient, not the weights"
                 f": params[k] -= lr * grads[k]." + (
                     " Yours shrinks the weights by (1 - lr): W -= lr * W." if shrunk else ""),
                 "B12")
    what = f"sgd_step(params, grads, lr={lr})"
    before, after = _step(sgd_step, params, grads, lr, forbid, what)
    if all(_same(after[k], old) for k, old in before.items()):
        fail(f"{what} changed no array in params. If you build and return a new dict, the "
             "caller's arrays (the layers' W and b) never change: update each array in "
             "place, params[k] -= lr * grads[k].")
    for key, old in before.items():
        got, g = after[key], grads[key]
        if _close(got, old - lr * g):
            continue
        if _close(got, old):
            fail(f"{what} left params[{key!r}] unchanged while the others moved; every key "
                 "in params must be updated. Loop over params (or grads): "
                 "for k in params: params[k] -= lr * grads[k].")
        if _close(got, old + g):
            fail(f"{what} added the gradient itself to params[{key!r}]: learning rate 1 and "
                 "the wrong sign, so the outputs drift to 0.5. Subtract lr times the gradient"
                 ": params[k] -= lr * grads[k].", "B13")
        if _close(got, old + lr * g):
            fail(f"{what} added lr * grad to params[{key!r}]: that is gradient ascent and the "
                 "loss rises. Subtract: params[k] -= lr * grads[k].", "B15")
        if _close(got, old - g):
            fail(f"{what} ignores lr: params[{key!r}] moved by the whole gradient. Multiply "
                 "by the learning rate: params[k] -= lr * grads[k].")
        if _close(got, old - lr * lr * g):
            fail(f"{what} applies lr twice (lr * lr * grad) to params[{key!r}]. Multiply by "
                 "lr once.")
        fail(f"{what} moved params[{key!r}] to {describe(got)}, which is not "
             "params - lr * grads. Use params[k] -= lr * grads[k] for every key.")
    # Last: the update is right; now the errors the notebook asks for.
    _promised_errors(sgd_step, *_params(hidden), forbid)


def _promised_errors(sgd_step, params, grads, lr, forbid):
    """Notebook 05 asks for a ValueError naming the key when grads lacks a key of params or
    has another shape there (one that would broadcast silently, here)."""
    first = next(iter(params))
    short = {k: g.copy() for k, g in grads.items() if k != first}
    shape = {k: g.copy() for k, g in grads.items()}
    shape[first] = grads[first][..., :1].copy()   # (a, 1): broadcasts into (a, b) silently
    for broken, how in ((short, f"grads without the key {first!r}"),
                        (shape, f"grads[{first!r}] of shape {shape[first].shape} for "
                                f"params[{first!r}] of shape {params[first].shape}")):
        what = f"sgd_step(params, grads, lr={lr}) with {how}"
        try:
            call(sgd_step, {k: v.copy() for k, v in params.items()}, broken, lr, what=what,
                 seconds=2, forbid=forbid)
        except CheckFailed as exc:
            if exc.kind != "error" or "NotImplementedError" in exc.message:
                raise
            raised = type(exc.__context__).__name__ if exc.__context__ else "an error"
            # by type here, by the message's words through the grader's oracle
            if isinstance(exc.__context__, ValueError) or " raised ValueError" in exc.message:
                continue
            fail(f"{what} raised {raised}, not ValueError. Notebook 05 asks for a "
                 "ValueError that names the key, so the caller learns which parameter is "
                 f"wrong: raise ValueError(f\"grads has no entry {{name!r}}\") (and one for a "
                 "shape that differs).")
        else:
            fail(f"{what} returned without an error. Notebook 05 asks for a ValueError that "
                 "names the key when grads lacks a key of params or has a different shape "
                 "there; a shape that broadcasts would silently update with the wrong numbers. "
                 "Check before updating: if name not in grads or grads[name].shape != "
                 "p.shape: raise ValueError(...).")

"""Checks for notebook 02: the numerical gradient, the relative error and the gradient check.

The probes use cubic functions, whose centred difference is known exactly
(c * (3 x**2 + h**2)), so a forward difference, an ignored `h`, or a perturbation that `f`
never sees each give a distinct number. Expected values come from the checks' own code.
"""

from __future__ import annotations

import numpy as np

from nnlab.checks._core import (
    _abs,
    _array,
    _float64,
    _max,
    as_array,
    as_float,
    call,
    check,
    describe,
    fail,
    finite,
    max_rel_error,
    numeric_grad,
    reference,
)
from nnlab.checks._student import KernelFunction
from nnlab.checks.rung00 import _rng, close, own_sigmoid

__all__ = ["check_numerical_gradient", "check_relative_error", "check_gradient_check"]

_cos = np.cos


def _cubic(rng, shape):
    """A probe point x (entries of either sign, |x| in [0.5, 1.5]) and weights c."""
    x = rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    c = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return x, c


def global_rel_error(a, b) -> float:
    """The other reading of the formula: max|a - b| / max(max(|a| + |b|), 1e-8)."""
    a = _array(a, dtype=_float64)
    b = _array(b, dtype=_float64)
    return float(_max(_abs(a - b)) / max(float(_max(_abs(a) + _abs(b))), 1e-8))


def _matches(value, a, b, rtol=1e-3) -> bool:
    """Whether `value` is the relative error of a and b, under either reading."""
    return any(close(value, ref, rtol=rtol, atol=1e-14)
               for ref in (max_rel_error(a, b), global_rel_error(a, b)))


# --------------------------------------------------------------------------- numerical gradient

@check("numerical_gradient", rung="02", covers=("B5",))
def check_numerical_gradient(obj, *, hidden=False):
    """Check `numerical_gradient(f, x, h=1e-5) -> array like x` (notebook 02): centred
    differences (f(x+h) - f(x-h)) / 2h, x perturbed in place so f() sees it, then restored;
    any shape of x (n,), (n, d)."""
    forbid = reference("nnlab.gradcheck", "numerical_gradient")
    rng = _rng(1200 if hidden else 200)
    x, c = _cubic(rng, (5,) if hidden else (4,))
    h = 5e-3 if hidden else 1e-2
    what = f"numerical_gradient(f, x, h={h:g}) with x of shape {x.shape} and f = sum(c * x**3)"
    f = KernelFunction("lambda: float((c * x ** 3).sum())", c=c, x=x)
    got = _numgrad(obj, f, x, what, forbid, h=h)
    centred = c * (3 * x ** 2 + h ** 2)
    if close(got, centred, rtol=1e-7, atol=1e-12):
        pass
    elif float(_abs(got).max()) == 0.0:
        fail(f"{what} returned all zeros: f() never saw your perturbation. f reads the array "
             "x itself, so change x in place (old = x[i]; x[i] = old + h; fp = f(); ...; "
             "x[i] = old), not a copy of it. A numerical gradient that sees nothing makes "
             "the gradient check compare against 0, which looks like a random failure.", "B5")
    elif close(got, c * (3 * x ** 2 + 3 * x * h + h ** 2), rtol=1e-7) or \
            close(got, c * (3 * x ** 2 - 3 * x * h + h ** 2), rtol=1e-7):
        fail(f"{what} returned {describe(got)}: a one-sided (forward or backward) difference, "
             f"(f(x+h) - f(x)) / h. Its error is of order h = {h:g} (here about 3*c*x*h), the "
             "centred difference (f(x+h) - f(x-h)) / (2h) is of order h**2, a hundred times "
             "more accurate at this h. Use the centred difference.")
    elif close(got, 3 * c * x ** 2, rtol=1e-6, atol=1e-9):
        fail(f"{what} returned {describe(got)}, the result for a much smaller h: your function "
             f"ignores its argument h = {h:g} (a hard-coded step?). Use the h it is given.")
    elif close(got, 2 * centred, rtol=1e-7) or close(got, centred / 2, rtol=1e-7):
        fail(f"{what} returned {describe(got)}, a factor 2 off: the centred difference "
             "divides by 2h, the distance between x - h and x + h.")
    else:
        fail(f"{what} returned {describe(got)}, not the centred difference. For f = x**3 at "
             "x = 1 with h = 0.01 it is (1.01**3 - 0.99**3) / 0.02 = 3.0001. Check each "
             "element is perturbed on its own, by +h and -h, and put back.")

    X, C = _cubic(rng, (2, 2, 2) if hidden else (2, 3))
    what = f"numerical_gradient(f, x) with a {X.ndim}-D x of shape {X.shape} and the default h"
    f = KernelFunction("lambda: float((C * np.sin(X)).sum())", C=C, X=X)
    got = _numgrad(obj, f, X, what, forbid)
    if not close(got, C * _cos(X), rtol=1e-6, atol=1e-8):
        fail(f"{what} returned {describe(got)}, not the gradient, although a 1-D x worked: "
             "x[i] on a 2-D array is a whole row, so a loop over range(len(x)) perturbs rows. "
             "Visit every element: `for idx in np.ndindex(x.shape):` and use x[idx].")


def _numgrad(obj, f, x, what, forbid, **kwargs):
    before = x.copy()
    result, _ = call(obj, f, x, what=what, seconds=3.0, forbid=forbid, **kwargs)
    if not close(x, before, rtol=0, atol=1e-12):
        fail(f"{what} left x changed (max change {float(_abs(x - before).max()):.3g}): save "
             "each entry before perturbing it and put it back (x[i] = old) after both "
             "evaluations, or every later gradient is taken at the wrong point.")
    got = as_array(result, what)
    if got.shape != x.shape:
        fail(f"{what} returned {describe(got)}; the gradient has one entry per entry of x, "
             f"shape {x.shape}. Start from grad = np.zeros_like(x).")
    return got


# --------------------------------------------------------------------------- relative error

@check("relative_error", rung="02", covers=())
def check_relative_error(obj, *, hidden=False):
    """Check `relative_error(a, b) -> float` (notebook 02): max |a - b| / max(|a| + |b|, 1e-8),
    either elementwise (CS231n's rel_error) or over the whole arrays; 0 for two zero arrays."""
    forbid = reference("nnlab.gradcheck", "relative_error")
    rng = _rng(1201 if hidden else 201)
    shape = (4, 2) if hidden else (3, 4)
    a = rng.normal(size=shape)
    b = a + rng.normal(scale=0.05, size=shape) * _abs(a)
    got = _rel(obj, a, b, forbid, f"a, b of shape {shape}, b within ~5% of a")
    if not _matches(got, a, b, rtol=1e-9):
        _wrong_rel(got, a, b)

    z = _array([[0.0, 0.0], [0.0, 0.0]])
    got = _rel(obj, z, z.copy(), forbid, "two arrays of zeros")
    if not finite(_array(got)) or got != 0.0:
        fail(f"relative_error(a, b) with two arrays of zeros returned {got}: 0/0. The floor "
             "in max(|a| + |b|, 1e-8) is there for exactly this case (a gradient that is 0 "
             "for every weight): divide by np.maximum(np.abs(a) + np.abs(b), 1e-8).")
    # Entries of opposite sign: a denominator |a + b| cancels there.
    a = _array([[1.0, -2.0], [0.5, 0.3]])
    b = _array([[-1.1, 2.1], [0.4, 0.35]])
    got = _rel(obj, a, b.copy(), forbid, "entries of opposite sign")
    if not _matches(got, a, b, rtol=1e-9):
        if finite(_array(got)) and got > 1.0:
            fail(f"relative_error(a, b) with entries of opposite sign (a = {describe(a)}, "
                 f"b = {describe(b)}) returned {got:.4g}, above 1, which |a - b| / (|a| + |b|) "
                 "never is: your denominator is |a + b|, which cancels to 0 when a and b "
                 "have opposite signs (a gradient whose sign is flipped!). Use "
                 "np.abs(a) + np.abs(b).")
        _wrong_rel(got, a, b)
    got = _rel(obj, 1.0, 1.5, forbid, "the plain numbers 1.0 and 1.5")
    if not close(got, 0.2, rtol=1e-12):
        fail(f"relative_error(1.0, 1.5) returned {got}; |1 - 1.5| / (1 + 1.5) = 0.2. It must "
             "work on plain numbers too: wrap them with np.asarray or use np.abs, np.max.")


def _rel(obj, a, b, forbid, how):
    what = f"relative_error(a, b) with {how}"
    args = (a.copy(), b.copy()) if hasattr(a, "copy") else (a, b)
    with np.errstate(all="ignore"):
        result, _ = call(obj, *args, what=what, seconds=2.0, forbid=forbid)
    return as_float(result, what)


def _wrong_rel(got, a, b):
    head = f"relative_error(a, b) on two arrays of shape {a.shape} returned {got:.4g}"
    diff = a - b
    den = _abs(a) + _abs(b)
    if close(got, float((_abs(diff) / den).mean()), rtol=1e-9) or \
            close(got, float(_abs(diff).mean() / den.mean()), rtol=1e-9):
        fail(f"{head}: a mean, not the max. One badly wrong weight among many correct ones "
             "would vanish in a mean; the gradient check must report the worst entry.")
    if close(got, float((diff / den).max()), rtol=1e-9) or \
            close(got, float(diff.max() / den.max()), rtol=1e-9):
        fail(f"{head}: the absolute value of a - b is missing, so errors in one direction "
             "are ignored. Use np.abs(a - b).")
    fail(f"{head}, not max |a - b| / max(|a| + |b|, 1e-8). Compute it by hand for "
         "a = 1.0, b = 1.5: 0.5 / 2.5 = 0.2.")


# --------------------------------------------------------------------------- gradient check

#: Self-contained reference versions of the notebook's earlier cells, swapped in to judge
#: the gradient check's loop alone (see `_localise`).
REFERENCE_SOURCES = {
    "numerical_gradient": """
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        fp = f()
        x[i] = old - h
        fm = f()
        x[i] = old
        grad[i] = (fp - fm) / (2 * h)
    return grad
""",
    "relative_error": """
def relative_error(a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(a) + np.abs(b))), 1e-8))
""",
}


@check("gradient_check", rung="02", covers=("B5",))
def check_gradient_check(obj, *, hidden=False):
    """Check `gradient_check(loss_fn, params, grads, h=1e-5) -> dict` (notebook 02): for each
    name in params (arrays such as w (d, 1), b (1,)), the relative error between grads[name]
    and the centred numerical gradient of loss_fn(); params restored afterwards. A failing
    loop is rerun on reference `numerical_gradient` and `relative_error`, so their bugs are
    blamed on their own cells."""
    from nnlab.checks._localise import run_localised

    run_localised(obj, lambda quick: _gradient_check_probes(obj, hidden), REFERENCE_SOURCES,
                  hidden=hidden)


def _gradient_check_probes(obj, hidden):
    forbid = reference("nnlab.gradcheck", "gradient_check")
    rng = _rng(1202 if hidden else 202)
    n, d = (7, 2) if hidden else (5, 3)
    X = rng.normal(size=(n, d))
    y = (rng.random((n, 1)) < 0.5).astype(_float64)
    for _ in range(100):  # parameters on the same side as their gradients, so that
        # comparing parameters with gradients (seed 001) never gives exactly 1, the value
        # a numerical gradient of zeros gives
        params = {"w": rng.normal(size=(d, 1)), "b": rng.normal(size=(1,))}
        dz = (own_sigmoid(X @ params["w"] + params["b"]) - y) / n
        if (params["w"] * (X.T @ dz)).min() > 0 and float(params["b"][0] * dz.sum()) > 0:
            break

    loss_fn = KernelFunction(_BCE_LOSS_FN, name="loss_fn", X=X, y=y, params=params)

    dz = (own_sigmoid(X @ params["w"] + params["b"]) - y) / n
    grads = {"w": X.T @ dz, "b": dz.sum(axis=0)}
    what = f"gradient_check(loss_fn, params, grads) on a neuron with w {(d, 1)}, b (1,)"
    got = _gc(obj, loss_fn, params, grads, what, forbid)
    if all(close(v, 1.0, rtol=1e-6) for v in got.values()):
        fail(f"{what} reported 1.0 for every parameter: the numerical gradients came out as "
             "zeros, so loss_fn() never saw your perturbation. Perturb params[name] in place "
             "(the very array loss_fn reads), not a copy of it.", "B5")
    for name, value in got.items():
        if value <= 1e-5:
            continue
        num = numeric_grad(loss_fn, params[name], 1e-5)
        if _matches(value, params[name], num, rtol=1e-2):
            fail(f"{what} reported {value:.3g} for {name!r} although the gradients are right: "
                 "that number is the relative error between the PARAMETERS and the numerical "
                 "gradient (seed 001 printed the weights next to the approximation). Compare "
                 f"grads[{name!r}], not params[{name!r}], with the numerical gradient.", "B5")
        fail(f"{what} reported {value:.3g} for {name!r}, although these gradients are right "
             "(the relative error should be below 1e-7). Check that each entry is perturbed "
             "by +h and -h, loss_fn() is called after each, and the difference is / (2h); a "
             "one-sided difference gives errors around 1e-5.")

    wrong = {"w": grads["w"].copy(), "b": 3 * grads["b"]}
    what2 = what + ", db deliberately 3 times too large"
    got = _gc(obj, loss_fn, params, wrong, what2, forbid)
    if got["b"] < 1e-9 and got["w"] < 1e-9:
        fail(f"{what2} reported {got['w']:.3g} for 'w' and {got['b']:.3g} for 'b': nothing "
             "wrong, although db is 3 times too large. Your check compares an array with "
             "itself (the numerical gradient with a second numerical gradient, or grads with "
             "grads), so it can never fail. Compare grads[name], the analytic gradient, with "
             "numerical_gradient(loss_fn, params[name], h).", "B5")
    if got["b"] < 0.1 or got["w"] > 1e-5:
        fail(f"{what2} reported {got['w']:.3g} for 'w' and {got['b']:.3g} for 'b'; a wrong db "
             "must show up on 'b' (about 0.5) and only there. Compute each entry from its own "
             "parameter's arrays: numerical gradient of params[name] vs grads[name].")

    h = 5e-3 if hidden else 1e-2
    cparams, coef = {}, {}
    for name, shape in (("u", (3,)), ("v", (2, 2))):
        cparams[name], coef[name] = _cubic(rng, shape)

    cubic = KernelFunction("lambda: float(sum((coef[k] * cparams[k] ** 3).sum() "
                           "for k in cparams))", coef=coef, cparams=cparams)

    exact = {k: 3 * coef[k] * cparams[k] ** 2 for k in cparams}
    what3 = f"gradient_check(loss_fn, params, grads, h={h:g}) on loss = sum(c * p**3)"
    got = _gc(obj, cubic, cparams, exact, what3, forbid, h=h)
    for k, p in cparams.items():
        if _matches(got[k], exact[k], coef[k] * (3 * p ** 2 + h ** 2), rtol=1e-2):
            continue
        if _matches(got[k], exact[k], coef[k] * (3 * p ** 2 + 3 * p * h + h ** 2), rtol=1e-2):
            fail(f"{what3} reported {got[k]:.3g} for {k!r}: the size of a one-sided "
                 "difference's error, (f(p+h) - f(p)) / h, of order h. The centred difference "
                 "(f(p+h) - f(p-h)) / (2h) errs by order h**2; use it.")
        fail(f"{what3} reported {got[k]:.3g} for {k!r}, not the relative error of a centred "
             f"difference with h = {h:g}. Use the h you are given, and the centred difference.")


_BCE_LOSS_FN = """
def loss_fn():
    z = X @ params["w"] + params["b"]
    p = np.exp(-np.logaddexp(0.0, -z))
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())
"""


def _gc(obj, loss_fn, params, grads, what, forbid, **kwargs) -> dict:
    before = {k: v.copy() for k, v in params.items()}
    given = {k: v.copy() for k, v in grads.items()}
    result, _ = call(obj, loss_fn, params, given, what=what, seconds=3.0, forbid=forbid,
                     **kwargs)
    for k, v in params.items():
        if not close(v, before[k], rtol=0, atol=1e-12):
            fail(f"{what} left params[{k!r}] changed: put every entry back after "
                 "perturbing it (old = p[i]; ...; p[i] = old), or the training that follows "
                 "starts from the wrong weights.")
    if not isinstance(result, dict):
        fail(f"{what} returned {type(result).__name__}; return a dict name -> relative error, "
             "with one entry per parameter array: {'w': 3e-9, 'b': 1e-10}.")
    if set(result) != set(params):
        missing = sorted(set(params) - set(result))
        extra = sorted(set(result) - set(params))
        fail(f"{what} returned entries {sorted(result)}; expected one per parameter, "
             f"{sorted(params)} (missing {missing}, unexpected {extra}). Loop over "
             "params.items() and store an error under each name.")
    return {k: as_float(v, f"{what}, entry {k!r}") for k, v in result.items()}

"""Specimens for the checks of notebook 02: numerical gradients, relative errors, gradient checks.

Mutants include seed 001's gradient check, which printed the weights beside the numerical
gradient, a perturbation of a copy that `f` never sees, forward differences, a mean instead
of a max, and parameters left perturbed.
"""

from __future__ import annotations

import numpy as np

from nnlab.checks.zoo import correct, mutant

# --------------------------------------------------------------------------- numerical gradient


@correct("check_numerical_gradient", "np.nditer, saving the old value (CS231n)")
def numgrad_nditer(f, x, h=1e-5):
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        fp = f()
        x[ix] = old - h
        fm = f()
        x[ix] = old
        grad[ix] = (fp - fm) / (2 * h)
        it.iternext()
    return grad


@correct("check_numerical_gradient", "np.ndindex, restored by arithmetic")
def numgrad_ndindex(f, x, h=1e-5):
    g = np.empty(x.shape)
    for idx in np.ndindex(*x.shape):
        x[idx] += h
        up = f()
        x[idx] -= 2 * h
        down = f()
        x[idx] += h
        g[idx] = (up - down) / (2 * h)
    return g


@correct("check_numerical_gradient", "over a flat view of x")
def numgrad_flat(f, x, h=1e-5):
    flat = x.reshape(-1)
    out = np.zeros(flat.size)
    for i in range(flat.size):
        keep = flat[i]
        flat[i] = keep + h
        a = f()
        flat[i] = keep - h
        b = f()
        flat[i] = keep
        out[i] = (a - b) / (2 * h)
    return out.reshape(x.shape)


@mutant("check_numerical_gradient", "B5", "perturbs a copy of x that f never reads")
def numgrad_copy(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp = x.copy()
        xp[idx] += h
        fp = f()
        xm = x.copy()
        xm[idx] -= h
        fm = f()
        grad[idx] = (fp - fm) / (2 * h)
    return grad


@mutant("check_numerical_gradient", "B5", "perturbs the loop variable, a scalar")
def numgrad_scalar(f, x, h=1e-5):
    grad = []
    for v in x.flat:
        v = v + h
        fp = f()
        v = v - 2 * h
        fm = f()
        grad.append((fp - fm) / (2 * h))
    return np.array(grad).reshape(x.shape)


@mutant("check_numerical_gradient", None, "forward difference")
def numgrad_forward(f, x, h=1e-5):
    grad = np.zeros_like(x)
    f0 = f()
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        grad[idx] = (f() - f0) / h
        x[idx] = old
    return grad


@mutant("check_numerical_gradient", None, "h ignored: a hard-coded step")
def numgrad_fixed_h(f, x, h=1e-5):
    return numgrad_nditer(f, x, 1e-6)


@mutant("check_numerical_gradient", None, "x never put back")
def numgrad_not_restored(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        x[idx] += h
        fp = f()
        x[idx] -= 2 * h
        fm = f()
        grad[idx] = (fp - fm) / (2 * h)
    return grad


@mutant("check_numerical_gradient", None, "loop over range(len(x)): rows of a 2-D x")
def numgrad_rows(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in range(len(x)):
        old = x[i].copy()
        x[i] = old + h
        fp = f()
        x[i] = old - h
        fm = f()
        x[i] = old
        grad[i] = (fp - fm) / (2 * h)
    return grad


@mutant("check_numerical_gradient", None, "divides by h, not 2h")
def numgrad_half_step(f, x, h=1e-5):
    return numgrad_nditer(f, x, h) * 2


# --------------------------------------------------------------------------- relative error

@correct("check_relative_error", "elementwise, CS231n's rel_error")
def rel_elementwise(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


@correct("check_relative_error", "over the whole arrays")
def rel_global(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.abs(a - b).max() / max((np.abs(a) + np.abs(b)).max(), 1e-8)


@correct("check_relative_error", "a loop over the pairs")
def rel_loop(a, b):
    worst = 0.0
    for u, v in zip(np.ravel(a), np.ravel(b), strict=True):
        worst = max(worst, abs(u - v) / max(abs(u) + abs(v), 1e-8))
    return worst


@mutant("check_relative_error", None, "no floor: 0/0 for zero gradients")
def rel_no_floor(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))


@mutant("check_relative_error", None, "mean instead of max")
def rel_mean(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


@mutant("check_relative_error", None, "no abs on the difference")
def rel_no_abs(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max((a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


@mutant("check_relative_error", None, "divides by |a| only")
def rel_one_sided(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-8)))


# --------------------------------------------------------------------------- gradient check

def _numeric(loss_fn, p, h):
    g = np.zeros_like(p, dtype=float)
    for idx in np.ndindex(p.shape):
        old = p[idx]
        p[idx] = old + h
        up = loss_fn()
        p[idx] = old - h
        down = loss_fn()
        p[idx] = old
        g[idx] = (up - down) / (2 * h)
    return g


def _rel(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


@correct("check_gradient_check", "centred differences per parameter, elementwise error")
def gc_dict(loss_fn, params, grads, h=1e-5):
    return {name: _rel(grads[name], _numeric(loss_fn, p, h)) for name, p in params.items()}


@correct("check_gradient_check", "np.nditer loop, global relative error")
def gc_nditer(loss_fn, params, grads, h=1e-5):
    report = {}
    for name in params:
        p = params[name]
        num = np.zeros(p.shape)
        it = np.nditer(p, flags=["multi_index"])
        for _ in it:
            i = it.multi_index
            saved = p[i]
            p[i] = saved + h
            lp = loss_fn()
            p[i] = saved - h
            lm = loss_fn()
            p[i] = saved
            num[i] = (lp - lm) / (2 * h)
        diff = np.abs(num - grads[name]).max()
        report[name] = diff / max((np.abs(num) + np.abs(grads[name])).max(), 1e-8)
    return report


@mutant("check_gradient_check", "B5", "seed 001: the weights printed beside the numerical gradient")
def gc_compares_params(loss_fn, params, grads, h=1e-5):
    return {name: _rel(params[name], _numeric(loss_fn, p, h)) for name, p in params.items()}


@mutant("check_gradient_check", "B5", "weights instead of gradients, a loop")
def gc_compares_params_loop(loss_fn, params, grads, h=1e-5):
    out = {}
    for key, W in params.items():
        approx = _numeric(loss_fn, W, h)
        out[key] = max(abs(w - a) / max(abs(w) + abs(a), 1e-8)
                       for w, a in zip(W.ravel(), approx.ravel(), strict=True))
    return out


@mutant("check_gradient_check", "B5", "perturbs copies of the parameters")
def gc_copies(loss_fn, params, grads, h=1e-5):
    return {name: _rel(grads[name], _numeric(loss_fn, p.copy(), h))
            for name, p in params.items()}


@mutant("check_gradient_check", "B5", "perturbs a deep copy of the dict")
def gc_dict_copy(loss_fn, params, grads, h=1e-5):
    mine = {k: v.copy() for k, v in params.items()}
    return {k: _rel(grads[k], _numeric(loss_fn, mine[k], h)) for k in mine}


@mutant("check_gradient_check", None, "forward differences")
def gc_forward(loss_fn, params, grads, h=1e-5):
    out = {}
    base = loss_fn()
    for name, p in params.items():
        num = np.zeros(p.shape)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + h
            num[idx] = (loss_fn() - base) / h
            p[idx] = old
        out[name] = _rel(grads[name], num)
    return out


@mutant("check_gradient_check", None, "only the first parameter")
def gc_first_only(loss_fn, params, grads, h=1e-5):
    name = next(iter(params))
    return {name: _rel(grads[name], _numeric(loss_fn, params[name], h))}


@mutant("check_gradient_check", None, "parameters left perturbed")
def gc_not_restored(loss_fn, params, grads, h=1e-5):
    out = {}
    for name, p in params.items():
        num = np.zeros(p.shape)
        for idx in np.ndindex(p.shape):
            p[idx] += h
            up = loss_fn()
            p[idx] -= 2 * h
            num[idx] = (up - loss_fn()) / (2 * h)
        out[name] = _rel(grads[name], num)
    return out


@mutant("check_gradient_check", None, "compares every parameter's numeric gradient with grads['w']")
def gc_wrong_key(loss_fn, params, grads, h=1e-5):
    first = grads[next(iter(grads))]
    return {n: _rel(first.ravel()[: p.size].reshape(p.shape), _numeric(loss_fn, p, h))
            for n, p in params.items()}

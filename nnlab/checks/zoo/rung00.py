"""Specimens for the checks of notebook 00: sigmoids and sigmoid derivatives, right and wrong.

The mutants are the ways students actually write these: the textbook one-liner that
overflows, np.where with both branches evaluated, a math.exp loop, the derivative that
expects the sigmoid's output. The correct variants differ in formula and style.
"""

from __future__ import annotations

import math
import types

import numpy as np
from scipy.special import expit

from nnlab.checks.zoo import correct, mutant

# --------------------------------------------------------------------------- sigmoid


@correct("check_sigmoid", "exp(-|z|) with np.where, vectorised")
def sigmoid_abs(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1, e) / (1 + e)


@correct("check_sigmoid", "0.5 * (1 + tanh(z / 2)), an identity without exp")
def sigmoid_tanh(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


@correct("check_sigmoid", "loop over elements with math.exp on the safe side")
def sigmoid_loop(z):
    out = np.empty_like(z)
    for idx in np.ndindex(z.shape):
        v = z[idx]
        if v >= 0:
            out[idx] = 1 / (1 + math.exp(-v))
        else:
            ev = math.exp(v)
            out[idx] = ev / (1 + ev)
    return out


@correct("check_sigmoid", "scipy.special.expit")
def sigmoid_expit(z):
    return expit(z)


@correct("check_sigmoid", "exp(-logaddexp(0, -z)), in log space")
def sigmoid_logaddexp(z):
    return np.exp(-np.logaddexp(0, -z))


@mutant("check_sigmoid", "B17", "textbook one-liner 1/(1+exp(-z)) (seed 001, seed 003)")
def sigmoid_naive(z):
    return 1 / (1 + np.exp(-z))


@mutant("check_sigmoid", "B17", "exp(z) / (1 + exp(z)): inf/inf = nan at z = 1000")
def sigmoid_exp_ratio(x):
    ex = np.exp(x)
    return ex / (1 + ex)


@mutant("check_sigmoid", "B17", "np.where with both branches computed on every element")
def sigmoid_where_both(z):
    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))


@mutant("check_sigmoid", "B17", "math.exp loop without the safe branch (OverflowError)")
def sigmoid_math_loop(z):
    out = np.empty_like(z)
    for idx in np.ndindex(z.shape):
        out[idx] = 1.0 / (1.0 + math.exp(-z[idx]))
    return out


@mutant("check_sigmoid", None, "sign flipped inside the exponential")
def sigmoid_flipped(z):
    e = np.exp(-np.abs(z))
    return np.where(z < 0, 1, e) / (1 + e)


@mutant("check_sigmoid", None, "tanh instead of the sigmoid")
def sigmoid_is_tanh(z):
    return np.tanh(z)


@mutant("check_sigmoid", None, "overwrites its input in place")
def sigmoid_in_place(z):
    z *= -1
    np.clip(z, -500, 500, out=z)
    np.exp(z, out=z)
    z += 1
    return 1 / z


@mutant("check_sigmoid", None, "forces float64, losing float32")
def sigmoid_float64(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1, e) / (1 + e)


@mutant("check_sigmoid", None, "loops over rows: z[i] of a 2-D array is a whole row")
def sigmoid_rows(z):
    out = np.zeros(z.shape)
    for i in range(len(z)):
        v = float(np.ravel(z[i])[0])
        out[i] = 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))
    return out.astype(np.asarray(z).dtype)


# --------------------------------------------------------------------------- derivative

def _stable(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1, e) / (1 + e)


@correct("check_sigmoid_derivative", "s * (1 - s) with a stable sigmoid")
def dsig_product(z):
    s = _stable(z)
    return s * (1 - s)


@correct("check_sigmoid_derivative", "exp(-|z|) / (1 + exp(-|z|))**2, symmetric in z")
def dsig_symmetric(z):
    e = np.exp(-np.abs(z))
    return e / (1 + e) ** 2


@correct("check_sigmoid_derivative", "0.25 / cosh(z/2)**2, a loop with math")
def dsig_cosh_loop(z):
    out = np.empty_like(z)
    for idx in np.ndindex(z.shape):
        half = abs(z[idx]) / 2
        out[idx] = 0.0 if half > 350 else 0.25 / math.cosh(half) ** 2
    return out


@mutant("check_sigmoid_derivative", "B18", "z * (1 - z): the formula for the output, given z")
def dsig_of_output(z):
    return z * (1 - z)


@mutant("check_sigmoid_derivative", "B18", "sig_prime of an already activated value (seed 001)")
def dsig_twice(z):
    a = _stable(z)
    return _stable(a) * (1 - _stable(a))


@mutant("check_sigmoid_derivative", "B18", "a loop that activates twice")
def dsig_twice_loop(x):
    out = np.zeros_like(x)
    for i, v in np.ndenumerate(x):
        s = 1 / (1 + math.exp(-min(max(v, -500), 500)))
        s2 = 1 / (1 + math.exp(-s))
        out[i] = s2 * (1 - s2)
    return out


@mutant("check_sigmoid_derivative", "B18", "tanh's derivative 1 - s**2 for the sigmoid")
def dsig_tanh_style(z):
    return 1 - _stable(z) ** 2


@mutant("check_sigmoid_derivative", "B17", "exp(-z) / (1 + exp(-z))**2: inf/inf at z = -1000")
def dsig_exp_ratio(z):
    e = np.exp(-z)
    return e / (1 + e) ** 2


@mutant("check_sigmoid_derivative", "B17", "exp(z) / (1 + exp(z))**2: inf/inf at z = 1000")
def dsig_exp_ratio_pos(z):
    with np.errstate(all="ignore"):
        ez = np.exp(z)
        return ez / (1 + ez) ** 2


@mutant("check_sigmoid_derivative", "B17",
        "seed 001's sig_prime on its naive sigmoid: right numbers, exp overflow warned")
def sig_prime_seed001(x):
    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    return sigmoid(x) * (1 - sigmoid(x))


@mutant("check_sigmoid_derivative", "B17", "a loop over the entries with a naive np.exp")
def dsig_naive_loop(z):
    out = np.empty_like(z)
    for i in np.ndindex(z.shape):
        s = 1.0 / (1.0 + np.exp(-z[i]))
        out[i] = s * (1.0 - s)
    return out


def _in_notebook(fn, **names):
    """`fn` as a student's notebook would hold it: its globals are numpy and the student's
    other functions (`sigmoid`), so the check meets the student's own sigmoid there."""
    return types.FunctionType(fn.__code__, {"np": np, **names}, fn.__name__)


def _dsig_on_own_sigmoid(z):
    s = sigmoid(z)  # noqa: F821 - the notebook's own sigmoid, given by _in_notebook
    return s * (1 - s)


def _dsig_inline_naive(z):
    s = 1 / (1 + np.exp(-z))
    return s * (1 - s)


# The bug is the student's naive sigmoid, which check_sigmoid names B17; the derivative built
# on it is right and passes, so one bug costs one test, not two.
correct("check_sigmoid_derivative", "s * (1 - s) on the notebook's own naive sigmoid")(
    _in_notebook(_dsig_on_own_sigmoid, sigmoid=sigmoid_naive))
mutant("check_sigmoid_derivative", "B17", "its own naive exp beside the notebook's stable sigmoid")(
    _in_notebook(_dsig_inline_naive, sigmoid=sigmoid_logaddexp))


# The float32 student of notebook 00 (issue 10): told "no loop over z[i]" before; the
# message now says float32 (the wording is tested in test_checks_second_pass.py).
@mutant("check_sigmoid_derivative", None, "float32 throughout: casts z to float32")
def dsig_float32(z):
    z = np.asarray(z, dtype=np.float32)
    e = np.exp(-np.abs(z))
    s = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    return s * (1 - s)


@mutant("check_sigmoid_derivative", None, "computes in float32, hands back float64")
def dsig_float32_inside(z):
    s = _stable(np.float32(z))
    return (s * (1 - s)).astype(np.float64)


@correct("check_sigmoid_derivative", "keeps the input's float dtype with np.result_type")
def dsig_dtype_following(z):
    z = np.asarray(z)
    z = z.astype(np.result_type(z, np.float32), copy=False)
    e = np.exp(-np.abs(z))
    return e / (1 + e) ** 2


@correct("check_sigmoid_derivative", "s - s**2 on a stable sigmoid (cancels near the tails)")
def dsig_difference(z):
    s = _stable(z)
    return s - s ** 2


@mutant("check_sigmoid_derivative", None, "returns the sigmoid, not its slope")
def dsig_is_sigmoid(z):
    return _stable(z)


@mutant("check_sigmoid_derivative", None, "sign flipped")
def dsig_negative(z):
    s = _stable(z)
    return s * (s - 1)

"""Checks for notebook 00: `sigmoid` and `sigmoid_derivative`.

Each check probes moderate values, a 2-D batch, a float32 array and very large |z|, and
computes what it expects with its own stable sigmoid. The small numeric helpers at the
top are shared with the checks of notebooks 01 and 02.
"""

from __future__ import annotations

import numpy as np

from nnlab.checks._core import (
    _abs,
    _array,
    _float64,
    _max,
    as_array,
    call,
    check,
    describe,
    fail,
    finite,
    reference,
)
from nnlab.checks._student import student_global

__all__ = ["check_sigmoid", "check_sigmoid_derivative"]

# Captured at import, like _core's: a student who replaces np.exp cannot change a verdict.
_exp = np.exp
_log = np.log
_where = np.where
_tanh = np.tanh
_rng = np.random.default_rng
_float32 = np.float32


# --------------------------------------------------------------------------- helpers

def own_sigmoid(z):
    """The checks' own stable sigmoid (float64), independent of nnlab's reference."""
    z = _array(z, dtype=_float64)
    e = _exp(-_abs(z))
    return _where(z >= 0, 1.0, e) / (1.0 + e)


def close(a, b, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """True when `a` and `b` have the same shape and agree elementwise, in float64."""
    a = _array(a, dtype=_float64)
    b = _array(b, dtype=_float64)
    if a.shape != b.shape or not finite(a):
        return False
    return a.size == 0 or float(_max(_abs(a - b) - atol - rtol * _abs(b))) <= 0.0


def cause(err: BaseException) -> BaseException | None:
    """The student's own exception behind a `CheckFailed` of kind "error", if any."""
    return err.__context__ if getattr(err, "kind", "") == "error" else None


def unchanged(before: np.ndarray, after: np.ndarray, what: str, name: str) -> None:
    """Fail when the student's code wrote into an input array it was handed."""
    if before.shape != after.shape or not close(after, before, rtol=0, atol=1e-12):
        fail(f"{what} changed its input `{name}` in place (before: {describe(before)}, after: "
             f"{describe(after)}). A function must not overwrite the array it is given: the "
             "caller still needs it. Work on a new array (`z2 = -z`, not `z *= -1`).")


def warned(messages: list[str]) -> list[str]:
    """The numeric warnings (overflow, nan, division by zero) among `messages`."""
    keys = ("overflow", "invalid value", "divide by zero")
    return [m for m in messages if any(k in m for k in keys)]


def _probe(fn, z, what, forbid, seconds=2.0):
    """Call fn(z) on a copy of z, check it left z alone; return (array, warnings)."""
    z_in = z.copy()
    result, caught = call(fn, z_in, what=what, seconds=seconds, forbid=forbid)
    unchanged(z, z_in, what, "z")
    dtype = getattr(result, "dtype", None)
    if z.dtype == _float64 and dtype == _float32:
        fail(f"{what} returned float32 for a float64 z: your code converts to float32 "
             "(np.float32(...), dtype=np.float32, .astype(np.float32)), so a float64 input "
             "loses half its digits. Compute with z as it comes: numpy keeps float64 as "
             "float64 and float32 as float32 on its own.")
    return as_array(result, what), caught


def _shape_ok(got, z, what):
    if got.shape != z.shape:
        fail(f"{what} returned {describe(got)}; the input had shape {z.shape}. An activation "
             "works elementwise: the output has exactly the input's shape. Use numpy "
             "operations on the whole array instead of indexing or reshaping it.")


# --------------------------------------------------------------------------- sigmoid

def _large_probe(hidden):
    if hidden:
        return _array([[-900.0, -745.5, -40.0], [0.0, 746.0, 1200.0]])
    return _array([-1000.0, -710.0, -50.0, 0.0, 50.0, 710.0, 1000.0])


@check("sigmoid", rung="00", covers=("B17",))
def check_sigmoid(obj, *, hidden=False):
    """Check `sigmoid(z) -> array` (notebook 00): elementwise, any shape, dtype kept, and no
    overflow for large |z| (B17)."""
    forbid = reference("nnlab.activations", "sigmoid")
    rng = _rng(1000 if hidden else 0)
    z = rng.normal(0.0, 3.0, size=7 if hidden else 5)
    z[1] = 0.0
    what = f"sigmoid(z) with z of shape {z.shape}"
    got, _ = _probe(obj, z, what, forbid)
    _shape_ok(got, z, what)
    if not close(got, own_sigmoid(z)):
        _wrong_sigmoid(got, z, what)

    z2 = rng.normal(0.0, 2.0, size=(2, 5) if hidden else (3, 4))
    what2 = f"sigmoid(Z) with a 2-D Z of shape {z2.shape}"
    got2, _ = _probe(obj, z2, what2, forbid)
    _shape_ok(got2, z2, what2)
    if not close(got2, own_sigmoid(z2)):
        fail(f"{what2} gave wrong values ({describe(got2)}) although a 1-D z worked. Your "
             "code treats rows differently from single numbers: use elementwise numpy "
             "(`np.exp`, `np.where`, arithmetic) on the whole array, with no loop over z[i].")

    z32 = rng.normal(0.0, 2.0, size=(4,)).astype(_float32)
    what32 = "sigmoid(z) with a float32 z"
    result, _ = call(obj, z32.copy(), what=what32, seconds=2.0, forbid=forbid)
    dtype = getattr(result, "dtype", type(result))
    if dtype != _float32:
        fail(f"{what32} returned dtype {dtype}; it should keep float32. A network trained in "
             "float32 would silently double its memory. Do not convert with `dtype=float` "
             "or `np.float64(...)`; numpy keeps the input's dtype if you just compute with z.")

    for zl in (_large_probe(hidden), _large_probe(hidden).astype(_float32)):
        _sigmoid_extremes(obj, zl, forbid)


def _sigmoid_extremes(obj, zl, forbid):
    kind = " in float32" if zl.dtype == _float32 else ""
    whatl = f"sigmoid(z) at large |z|{kind} (z from {zl.min():g} to {zl.max():g})"
    try:
        gotl, caught = _probe(obj, zl, whatl, forbid)
    except Exception as err:
        if isinstance(cause(err), (OverflowError, FloatingPointError)):
            fail(f"{whatl} raised {type(cause(err)).__name__}: exp(-z) for z = {zl.min():g} is "
                 "exp(1000)-sized, beyond any float. Compute with exp(-|z|), which is at most "
                 "1: sigmoid(z) = 1/(1+e) for z >= 0 and e/(1+e) for z < 0, e = exp(-|z|).",
                 "B17")
        raise
    _shape_ok(gotl, zl, whatl)
    bad = warned(caught)
    if not finite(gotl) or not close(gotl, own_sigmoid(zl), rtol=1e-5, atol=1e-12):
        fail(f"{whatl} returned {describe(gotl)}: nan or inf or wrong values at the extremes"
             + (f", with the warning {bad[0]!r}" if bad else "") + ". Your exp overflows: "
             "exp(1000) is inf, and inf/inf is nan. Compute with e = exp(-|z|), which never "
             "exceeds 1: sigmoid(z) = 1/(1+e) where z >= 0, e/(1+e) where z < 0.", "B17")
    if bad and kind:
        fail(f"{whatl} gave the right numbers but numpy warned {bad[0]!r}: float32 "
             "overflows at exp(89), so clipping z to +-500 (or any bound above 88) before "
             "exp(-z) still overflows in float32, and a float32 network gets inf. Do not "
             "rely on a clip: only ever exponentiate -|z|, which is at most 0: "
             "e = np.exp(-np.abs(z)), then np.where(z >= 0, 1, e) / (1 + e).", "B17")
    if bad:
        fail(f"{whatl} gave the right numbers but numpy warned {bad[0]!r}: somewhere you "
             "compute exp of a large positive number (1/(1+np.exp(-z)) at z = -1000 computes "
             "exp(1000) = inf, and np.where evaluates BOTH branches on every element). The "
             "answer survives by luck. Only ever exponentiate -|z|: e = np.exp(-np.abs(z)), "
             "then np.where(z >= 0, 1, e) / (1 + e).", "B17")


def _wrong_sigmoid(got, z, what):
    if close(got, own_sigmoid(-z)):
        fail(f"{what} returned {describe(got)}, which is sigmoid(-z): the sign inside the "
             "exponential is flipped. sigmoid(z) = 1 / (1 + exp(-z)) rises from 0 to 1; "
             "sigmoid(2) is about 0.88, not 0.12.")
    if close(got, _tanh(z)):
        fail(f"{what} returned tanh(z) ({describe(got)}). The sigmoid is 1 / (1 + exp(-z)), "
             "between 0 and 1; tanh is between -1 and 1.")
    fail(f"{what} returned {describe(got)} for z = {describe(z)}; "
         "sigmoid(0) must be 0.5 and sigmoid(z) = 1 / (1 + exp(-z)) lies strictly between 0 "
         "and 1. Compare your formula with that one term by term.")


# --------------------------------------------------------------------------- derivative

#: The notebook's `sigmoid`, self-contained, swapped in when the derivative fails: a
#: derivative built on a wrong `sigmoid` is right, and that cell is named instead.
REFERENCE_SOURCES = {"sigmoid": """
def sigmoid(z):
    z = np.asarray(z)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1, e) / (1 + e)
"""}


@check("sigmoid_derivative", rung="00", covers=("B17", "B18"))
def check_sigmoid_derivative(obj, *, hidden=False):
    """Check `sigmoid_derivative(z) -> array` (notebook 00): the slope s(z)(1 - s(z)) with
    respect to z, elementwise; not applied to the output again (B18); finite for large |z|.
    A failure is rerun with a reference `sigmoid` in the notebook's namespace, so a
    derivative built on a wrong `sigmoid` passes and that cell is named."""
    from nnlab.checks._localise import run_localised

    run_localised(obj, lambda quick: _derivative_probes(obj, hidden), REFERENCE_SOURCES,
                  hidden=hidden)


def _derivative_probes(obj, hidden):
    forbid = reference("nnlab.activations", "sigmoid_derivative")
    rng = _rng(1001 if hidden else 1)
    z = rng.normal(0.0, 2.0, size=6 if hidden else 5)
    z[2] = 0.0
    # A point in the tail, where the slope is about 1e-4 and 1 - s is tiny: float32 keeps
    # 3 of its digits at most, so a derivative computed in float32 shows here.
    z[-1] = 10.0 if hidden else 9.0
    what = f"sigmoid_derivative(z) with z of shape {z.shape}"
    got, _ = _probe(obj, z, what, forbid)
    _shape_ok(got, z, what)
    s = own_sigmoid(z)
    if not close(got, s * (1 - s)):
        _wrong_derivative(got, z, what)

    z2 = rng.normal(0.0, 2.0, size=(3, 2) if hidden else (2, 3))
    what2 = f"sigmoid_derivative(Z) with a 2-D Z of shape {z2.shape}"
    got2, _ = _probe(obj, z2, what2, forbid)
    _shape_ok(got2, z2, what2)
    s2 = own_sigmoid(z2)
    if not close(got2, s2 * (1 - s2)):
        _float32_precision(got2, s2 * (1 - s2), what2)
        fail(f"{what2} gave wrong values ({describe(got2)}) although a 1-D z worked. Use "
             "elementwise numpy on the whole array, with no loop over z[i].")

    zl = _large_probe(hidden)
    whatl = f"sigmoid_derivative(z) at large |z| (z from {zl.min():g} to {zl.max():g})"
    try:
        gotl, caught = _probe(obj, zl, whatl, forbid)
    except Exception as err:
        if isinstance(cause(err), (OverflowError, FloatingPointError)):
            fail(f"{whatl} raised {type(cause(err)).__name__}: an exponential overflowed. "
                 "Write the derivative as s * (1 - s) with your stable sigmoid s.", "B17")
        raise
    sl = own_sigmoid(zl)
    if not finite(gotl) or not close(gotl, sl * (1 - sl), rtol=1e-6, atol=1e-12):
        bad = warned(caught)
        fail(f"{whatl} returned {describe(gotl)}: nan or inf where the slope is ~0"
             + (f" (numpy warned {bad[0]!r})" if bad else "") + ". A formula like "
             "exp(-z) / (1 + exp(-z))**2 computes inf/inf at z = -1000. Write it as "
             "s * (1 - s) with s = sigmoid(z), computed the stable way.", "B17")
    bad = warned(caught)
    if bad and not _overflow_is_sigmoids(obj, zl, forbid):
        fail(f"{whatl} gave the right numbers but numpy warned {bad[0]!r}: an exponential "
             "overflowed on the way (seed 001's sig_prime on a naive sigmoid does this). In a "
             "network the same overflow turns into nan. Build the derivative on a stable "
             "sigmoid: s = sigmoid(z) with exp(-|z|), then s * (1 - s).", "B17")


def _overflow_is_sigmoids(obj, z, forbid):
    """True when the derivative is right and only inherits the overflow of the student's own
    `sigmoid` (s = sigmoid(z); s * (1 - s) on a naive sigmoid): check_sigmoid names that B17
    already, and one bug costs the student one test, not two."""
    own = student_global(obj, "sigmoid")
    if not callable(own) or own is obj:
        return False
    try:
        _, caught = _probe(own, z, "sigmoid(z) at large |z|", forbid)
    except Exception:
        return False
    return bool(warned(caught))


def _float32_precision(got, want, what):
    """Right to float32's 7 digits but not to float64's: the code computes in float32 and
    hands back float64 (a float32 result is named by `_probe` already)."""
    if close(got, want, rtol=0.0, atol=1e-6):
        err = float(_max(_abs(got - want)))
        fail(f"{what} returned {describe(got)}: right to about 7 digits, off by up to "
             f"{err:.2g}, which float64 never is (it keeps 16 digits): your code computes in "
             "float32 somewhere (np.float32(...), dtype=np.float32, .astype(np.float32)) and "
             "converts back, so a float64 input loses half its digits; near the tails, where "
             "1 - s is tiny, most of them. Compute with z as it comes: numpy keeps float64 as "
             "float64 and float32 as float32 on its own.")


def _wrong_derivative(got, z, what):
    s = own_sigmoid(z)
    _float32_precision(got, s * (1 - s), what)
    ss = own_sigmoid(s)
    if close(got, z * (1 - z)):
        fail(f"{what} returned z * (1 - z) ({describe(got)}; at z = 0 it gives 0, the true slope "
             "is 0.25). That formula expects the sigmoid's OUTPUT, but this function receives "
             "z, the input, not sigmoid(z). Compute s = sigmoid(z) first, then return "
             "s * (1 - s).", "B18")
    if close(got, ss * (1 - ss)):
        fail(f"{what} returned sigmoid(s) * (1 - sigmoid(s)) with s = sigmoid(z) "
             f"({describe(got)}; at z = 0 that is 0.235, the slope is 0.25): the sigmoid is "
             "applied twice, as if z were already activated. The function receives z; call "
             "sigmoid once: s = sigmoid(z); return s * (1 - s).", "B18")
    if close(got, 1 - s * s) or close(got, 1 - _tanh(z) ** 2):
        fail(f"{what} returned {describe(got)}, the shape of tanh's derivative (1 - a**2). The "
             "sigmoid's derivative is s * (1 - s) with s = sigmoid(z); at z = 0 it is 0.25.",
             "B18")
    if close(got, s):
        fail(f"{what} returned sigmoid(z) itself ({describe(got)}), not its slope. The "
             "derivative is s * (1 - s) with s = sigmoid(z); at z = 0 it is 0.25.")
    if close(got, -s * (1 - s)):
        fail(f"{what} returned -s * (1 - s) ({describe(got)}): the slope of the sigmoid is "
             "never negative, the function only rises. Drop the minus sign.")
    fail(f"{what} returned {describe(got)}; the slope of the sigmoid at z = 0 is 0.25, it is "
         "positive everywhere and falls towards 0 for large |z|. The formula is s * (1 - s) "
         "with s = sigmoid(z).")

"""The machinery every check shares: the failure type, the bug catalogue's words,
time limits, and defences against a student's namespace.

A check probes a student's object with inputs chosen so that each catalogued bug
leaves a distinct signature, and raises `CheckFailed` naming the bug. Everything a
check computes for comparison uses numpy functions captured when this module was
imported, so replacing `numpy.testing` or `numpy.allclose` in the kernel later
changes nothing here.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import sys
import threading
import warnings

import numpy as np
import numpy.testing as _npt

from nnlab.checks._student import ReferenceCalled, RemoteTimeout, is_remote

# Pristine references, taken at import. Checks use these, never `np.<name>` looked up
# at call time, so a student who monkeypatches numpy cannot change a verdict.
_array = np.array
_isfinite = np.isfinite
_abs = np.abs
_max = np.max
_ndarray = np.ndarray
_float64 = np.float64
_generic = np.generic
_WATCHED = {
    "numpy.testing.assert_allclose": (_npt, "assert_allclose", _npt.assert_allclose),
    "numpy.testing.assert_array_equal": (_npt, "assert_array_equal", _npt.assert_array_equal),
    "numpy.testing.assert_almost_equal": (_npt, "assert_almost_equal", _npt.assert_almost_equal),
    "numpy.allclose": (np, "allclose", np.allclose),
    "numpy.isclose": (np, "isclose", np.isclose),
    "numpy.array_equal": (np, "array_equal", np.array_equal),
    "numpy.asarray": (np, "asarray", np.asarray),
    "numpy.array": (np, "array", np.array),
}

# --------------------------------------------------------------------------- catalogue

#: Bug id -> (short name, the symptom a student sees). The words of COURSE.md.
CATALOGUE: dict[str, tuple[str, str]] = {
    "B1": ("bias stored per training sample",
           "perfect fit on the training data, the same output for any new data; "
           "the biases echo the targets"),
    "B2": ("targets or inputs scaled with statistics of the data being transformed",
           "good fit on the training data, wrong scale on new data"),
    "B3": ("signed error summed as the loss",
           "the loss sits near 0 while the model is wrong"),
    "B4": ("one neuron asked to learn XOR",
           "all outputs near 0.5, the cost barely falls"),
    "B5": ("gradient check compares the wrong arrays, or loss and gradient disagree on 1/n",
           "the check fails by a constant factor, or looks random"),
    "B6": ("all weights initialised to (nearly) the same value",
           "hidden units stay identical; outputs all alike"),
    "B7": ("no bias anywhere",
           "decision boundaries forced through the origin; accuracy stuck early"),
    "B8": ("ReLU derivative taken as `output >= 0` (always true)",
           "dead units still pass gradient; training noisy or stuck"),
    "B9": ("MSE on one-hot outputs of a linear layer instead of softmax cross-entropy",
           "slow, poor classification"),
    "B10": ("inputs not standardised", "slow or stalled training"),
    "B11": ("training accuracy measured with dropout on",
            "train accuracy far below test accuracy"),
    "B12": ("weights updated with themselves or with the output error instead of dW",
            "weights shrink to zero; the fit is flat"),
    "B13": ("gradient added into the parameter instead of its gradient buffer",
            "effective learning rate 1 and the wrong sign: the outputs are pushed to one end "
            "and the printed cost settles near 0.5"),
    "B14": ("gradient of W transposed, or dX computed with W instead of W.T",
            "a shape error, or wrong numbers on square layers"),
    "B15": ("gradient sign flipped (gradient ascent)", "the loss rises"),
    "B16": ("gradient buffers not reset between steps",
            "the loss explodes after a few epochs"),
    "B17": ("exp overflow or log(0): softmax without subtracting the max, an unclipped log",
            "nan or inf in the loss"),
    "B18": ("an activation's derivative written wrong (1 - tanh(z), sigmoid' of the output)",
            "the gradient check fails on that layer only"),
    "B19": ("learning rate too large (or far too small): not a bug in the code",
            "the loss jumps around or rises from the first steps (too large); it falls, "
            "but barely (too small)"),
}


class CheckFailed(AssertionError):
    """A check found something wrong.

    Attributes
    ----------
    bug : str or None
        The catalogue id (``"B1"`` ... ``"B19"``), or None when the symptom matches no
        catalogued bug.
    check : str or None
        The check that failed, e.g. ``"check_dense"``.
    kind : str
        ``"bug"`` (a wrong answer), ``"error"`` (the student's code raised),
        ``"timeout"`` (it did not return), ``"integrity"`` (the kernel was tampered
        with, or the answer only calls the reference).
    """

    def __init__(self, message: str, bug: str | None = None, *, check: str | None = None,
                 kind: str = "bug"):
        if bug is not None and bug not in CATALOGUE:
            raise ValueError(f"unknown bug id {bug!r}; the catalogue has B1..B19")
        super().__init__(message)
        self.message = message
        self.bug = bug
        self.check = check
        self.kind = kind

    def __str__(self) -> str:
        head = self.check or "check"
        if self.bug:
            head += f" found bug {self.bug} ({CATALOGUE[self.bug][0]})"
        elif self.kind == "timeout":
            head += " gave up waiting"
        elif self.kind == "integrity":
            head += " cannot trust this answer"
        elif self.kind == "error":
            head += ": your code raised an error"
        else:
            head += " found a problem"
        return f"{head}\n{self.message}"


def fail(message: str, bug: str | None = None, *, kind: str = "bug"):
    """Raise `CheckFailed`; the running check fills in its own name."""
    raise CheckFailed(message, bug, kind=kind)


#: The notes of the check that ran last: what it found wrong in ANOTHER cell while this
#: one passed ("this cell is right; `neuron_gradients` has bug B1: fix it first").
NOTES: list[str] = []


def note(message: str) -> None:
    """Record a note for the student; the check prints it when it passes."""
    NOTES.append(message)


# --------------------------------------------------------------------------- registry

#: check name ("check_dense") -> the check function. Filled by `@check`.
REGISTRY: dict[str, callable] = {}


def check(graded_name: str, *, rung: str, covers: tuple[str, ...] = ()):
    """Register a check for the graded name `graded_name` (from COURSE.md).

    The wrapped check runs the integrity scan first, and stamps its own name on any
    `CheckFailed` it raises. `covers` lists the bug ids the check can name; the
    selftest and the tests use it.
    """

    def decorate(fn):
        name = f"check_{graded_name}"

        @functools.wraps(fn)
        def wrapper(obj, *args, **kwargs):
            # A student needs the diagnosis, not the check's own frames: they are dropped
            # (pytest hides this one too). A student exception behind the failure keeps its
            # traceback, shown as the failure's context.
            __tracebackhide__ = True  # noqa: F841
            NOTES.clear()
            try:
                integrity_scan()
                result = fn(obj, *args, **kwargs)
                notes = list(NOTES)
                for text in notes:
                    print(f"{name}: {text}")
                NOTES[:] = notes
                return result
            except CheckFailed as diagnosis:
                diagnosis.check = diagnosis.check or name
                # The check found a problem in your code: read the diagnosis printed below.
                raise diagnosis.with_traceback(None)  # noqa: B904 - context kept on purpose

        wrapper.graded_name = graded_name
        wrapper.rung = rung
        wrapper.covers = tuple(covers)
        REGISTRY[name] = wrapper
        return wrapper

    return decorate


# --------------------------------------------------------------------------- integrity

def integrity_scan() -> None:
    """Fail when a function the checks or the tests rely on was replaced in this kernel."""
    for dotted, (module, attr, original) in _WATCHED.items():
        if getattr(module, attr, None) is not original:
            fail(f"`{dotted}` has been replaced in this kernel. The checks do not use it, "
                 "but a grader will flag the submission. Remove the line that assigns to "
                 f"`{dotted}`, then restart the kernel and run all cells.", kind="integrity")


def reference_codes(*objs) -> set:
    """The code objects of reference functions and of every method of reference classes."""
    codes = set()
    for obj in objs:
        if isinstance(obj, type):
            for klass in obj.__mro__:
                if klass is object:
                    continue
                for value in vars(klass).values():
                    fn = getattr(value, "__func__", value)
                    if hasattr(fn, "__code__"):
                        codes.add(fn.__code__)
        else:
            fn = getattr(obj, "__func__", obj)
            if hasattr(fn, "__code__"):
                codes.add(fn.__code__)
    return codes


@contextlib.contextmanager
def forbid_reference(what: str, *reference_objs):
    """Fail when the student's code calls the nnlab reference it is meant to replace.

    Any alias counts (`from nnlab.activations import sigmoid as s`), because calls are
    matched by code object with a profile hook, not by name.
    """
    codes = reference_codes(*reference_objs)
    hits: list[str] = []

    def profiler(frame, event, arg):
        if event == "call" and frame.f_code in codes and not hits:
            hits.append(frame.f_code.co_qualname)

    previous = sys.getprofile()
    sys.setprofile(profiler)
    try:
        yield
    finally:
        sys.setprofile(previous)
    if hits:
        fail(_calls_reference(what, hits[0]), kind="integrity")


def _calls_reference(what: str, name: str) -> str:
    return (f"{what} calls nnlab's reference `{name}` instead of computing the result "
            "itself. The reference is there for the later notebooks; here the point is to "
            "write it. Replace the call with your own numpy code.")


# --------------------------------------------------------------------------- time limits

class _OutOfTime(BaseException):
    """Raised inside student code at the deadline. A BaseException, so that a plain
    `except Exception:` in the student's loop does not swallow it."""


def _too_slow(what: str, seconds: float) -> str:
    return (f"{what} did not return within {seconds:g} s, so the check gave up. Look for a "
            "loop whose condition never becomes false (a `while` whose variable is never "
            "updated, an epoch counter that is reset inside the loop), or far more epochs "
            "than the notebook asks for.")


@contextlib.contextmanager
def time_limit(seconds: float, what: str):
    """Give up on `what` after `seconds`, with a diagnosis instead of a hung kernel.

    Works where SIGALRM exists and we are on the main thread (a Jupyter kernel, pytest,
    the autograder). The alarm repeats every 0.2 s until the block is left, so a loop
    that swallows the first interruption is interrupted again; if that one is swallowed
    too (`except BaseException: continue`), the next line the code runs raises, which
    no handler of its own can catch.
    """
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return
    # The frame that entered the `with` block: frames below it are the code under limit.
    enclosing = sys._getframe(0).f_back.f_back
    stuck: list = []   # frames of that code, once one interruption has been swallowed
    alarms = 0

    def tracer(frame, event, arg):
        # Escalation: raise on the next line the stuck frames run, including the lines of
        # the `except` clause that swallowed the alarm, so no handler can catch it again.
        if event == "line" and any(frame is f for f in stuck):
            raise _OutOfTime()
        return None if event == "call" else tracer

    def on_alarm(signum, frame):
        nonlocal alarms
        alarms += 1
        if alarms > 1 and not stuck:
            f = frame
            while f is not None and f is not enclosing:
                if f.f_code.co_filename != __file__:
                    f.f_trace = tracer
                    stuck.append(f)
                f = f.f_back
            sys.settrace(tracer)
        raise _OutOfTime()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    previous_trace = sys.gettrace()
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.2)
    try:
        yield
    except _OutOfTime:
        signal.setitimer(signal.ITIMER_REAL, 0)
        fail(_too_slow(what, seconds), kind="timeout")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if stuck:
            sys.settrace(previous_trace)
            for f in stuck:
                f.f_trace = None
            stuck.clear()


# --------------------------------------------------------------------------- calling

def call(fn, *args, what: str, seconds: float = 5.0, forbid=(), **kwargs):
    """Call student code `fn(*args, **kwargs)` under a time limit.

    Returns ``(result, warnings)`` where `warnings` lists the warning messages raised
    during the call (an overflow in `np.exp` shows up here). An exception from the
    student's code becomes a `CheckFailed` of kind "error" that says which call failed;
    `NotImplementedError` gets the message a fresh notebook needs.
    `forbid` lists reference objects the call must not use.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if is_remote(fn):
                # In the student's kernel, through the oracle: the limit is kept there (and
                # by the oracle's own deadline), warnings come back and are re-issued here,
                # and the reference is not ours to watch (the sandbox keeps it out).
                result = fn._nnlab_call(args, kwargs, seconds=seconds, forbid=forbid)
            else:
                with time_limit(seconds, what):
                    if forbid:
                        with forbid_reference(what, *forbid):
                            result = fn(*args, **kwargs)
                    else:
                        result = fn(*args, **kwargs)
        except CheckFailed:
            raise
        except RemoteTimeout:
            fail(_too_slow(what, seconds), kind="timeout")
        except ReferenceCalled as hit:
            fail(_calls_reference(what, str(hit)), kind="integrity")
        except NotImplementedError:
            fail(f"{what} raised NotImplementedError: the exercise is not done yet. Replace "
                 "the line `raise NotImplementedError()` with your code.", kind="error")
        except Exception as exc:  # the student's bug, reported as a diagnosis
            fail(f"{what} raised {type(exc).__name__}: {exc}{_explain_error(exc)}",
                 kind="error")
    return result, [str(w.message) for w in caught]


def _explain_error(exc: BaseException) -> str:
    """Words for a numpy error beginners meet, appended to the raw message."""
    text = str(exc)
    if isinstance(exc, ValueError) and "truth value of an array" in text:
        return (". An `if` (or `and`, `or`, `while`) on an array asks for ONE True/False "
                "about many numbers: `if z >= 0:` works on a single number, not on an array. "
                "Write elementwise code instead: np.where(z >= 0, a, b) picks a or b for "
                "each element (both are computed for every element, so keep both safe), or "
                "use a boolean mask: out[z >= 0] = ...")
    if isinstance(exc, ValueError) and "could not be broadcast" in text:
        return (". The shapes do not line up. A statistic taken along an axis "
                "(Z.max(axis=1), X.mean(axis=0)) loses that axis; keep it with keepdims=True "
                "when you combine it with the rows again. Samples are rows (axis 0), features "
                "or classes are columns (axis 1): check which axis each step reduces.")
    return ""


def as_array(value, what: str, *, shape: tuple | None = None) -> np.ndarray:
    """A float64 copy of a student's result, refusing objects that only pretend.

    A plain base-class array is made with the pristine `np.array`, so an object whose
    `__eq__` always returns True, or an ndarray subclass with a rigged comparison,
    is never compared as it is.
    """
    if isinstance(value, (list, tuple)) and not value:
        fail(f"{what} returned an empty {type(value).__name__}; expected a numpy array.")
    if not isinstance(value, (_ndarray, _generic, float, int, list, tuple)):
        fail(f"{what} returned an object of type {type(value).__name__}; expected a numpy "
             "array (or a float). Return the array you computed.", kind="integrity")
    try:
        arr = _array(value, dtype=_float64, copy=True)
    except (TypeError, ValueError) as exc:
        fail(f"{what} returned something that is not a numeric array ({exc}).")
    if shape is not None and arr.shape != tuple(shape):
        fail(f"{what} returned shape {arr.shape}; expected {tuple(shape)}.")
    return arr


def as_float(value, what: str) -> float:
    """A Python float from a student's scalar result, refusing arrays of other sizes."""
    arr = as_array(value, what)
    if arr.size != 1:
        fail(f"{what} returned an array of shape {arr.shape}; expected a single number "
             "(a float). Did you forget to take the mean over the batch?")
    return float(arr.reshape(()))


def max_rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """`max |a - b| / max(|a| + |b|, 1e-8)`, elementwise, in float64."""
    a = _array(a, dtype=_float64)
    b = _array(b, dtype=_float64)
    denom = _abs(a) + _abs(b)
    denom[denom < 1e-8] = 1e-8
    return float(_max(_abs(a - b) / denom)) if a.size else 0.0


def numeric_grad(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Centred differences of the scalar `f()` with respect to `x`, perturbed in place.

    The checks' own implementation, independent of the student's and of the reference.
    """
    grad = np.zeros(x.shape, dtype=_float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        fp = f()
        x[i] = old - h
        fm = f()
        x[i] = old
        grad[i] = (fp - fm) / (2 * h)
    return grad


def finite(arr: np.ndarray) -> bool:
    return bool(_isfinite(arr).all())


def describe(arr: np.ndarray, digits: int = 3) -> str:
    """A short, safe rendering of a (student's) array for a message: shape and a few values."""
    arr = _array(arr, dtype=_float64)
    flat = arr.reshape(-1)
    shown = ", ".join(f"{v:.{digits}g}" for v in flat[:4])
    more = ", ..." if flat.size > 4 else ""
    return f"shape {arr.shape} [{shown}{more}]"


def reference(module: str, name: str) -> tuple:
    """``(nnlab's reference object,)`` for `forbid=`, or ``()`` when it cannot be imported.

    Lets a check forbid calling the reference while the reference module is still being
    written, or in an environment where it fails to import.
    """
    import importlib

    try:
        return (getattr(importlib.import_module(module), name),)
    except (ImportError, AttributeError):
        return ()

"""The checks' shared machinery: time limits, the reference ban, objects that pretend to be
arrays, a tampered numpy, and `CheckFailed` itself, each against real student-like code."""

import signal
import subprocess
import sys
import textwrap
import threading
import time
import types

import numpy as np
import pytest

import nnlab.activations
from nnlab.checks import CATALOGUE, REGISTRY, CheckFailed, check_relu, check_sigmoid
from nnlab.checks._core import (
    _WATCHED,
    as_array,
    as_float,
    call,
    fail,
    forbid_reference,
    integrity_scan,
    max_rel_error,
    numeric_grad,
    time_limit,
)
from nnlab.checks.zoo import rung00 as zoo00
from nnlab.checks.zoo import rung03 as zoo03

# --------------------------------------------------------------------------- time_limit


def _swallowing_loop():
    """A student's retry loop that eats every interruption it recognises."""
    n = 0
    while True:
        try:
            n += 1
        except (KeyboardInterrupt, Exception):
            n = 0


def test_time_limit_stops_a_loop_that_swallows_keyboardinterrupt_and_exception():
    before = signal.getsignal(signal.SIGALRM)
    start = time.perf_counter()
    with pytest.raises(CheckFailed) as info:
        with time_limit(0.3, "train(X, y)"):
            _swallowing_loop()
    elapsed = time.perf_counter() - start
    assert 0.25 < elapsed < 3.0
    exc = info.value
    assert exc.kind == "timeout" and exc.bug is None
    assert "train(X, y) did not return within 0.3 s" in str(exc)
    assert "gave up waiting" in str(exc)
    # Nothing left behind: the old handler is back and no alarm is pending.
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_time_limit_stops_a_bare_except_loop():
    def bare():
        n = 0
        while True:
            try:
                n += 1
            except:  # noqa: E722 - the point of the test
                pass

    with pytest.raises(CheckFailed) as info:
        with time_limit(0.3, "bare()"):
            bare()
    assert info.value.kind == "timeout"


def test_a_check_gives_up_on_a_function_that_never_returns():
    def sigmoid(z):
        while True:
            try:
                z = z + 0
            except Exception:
                pass

    start = time.perf_counter()
    with pytest.raises(CheckFailed) as info:
        check_sigmoid(sigmoid)
    assert info.value.kind == "timeout" and info.value.check == "check_sigmoid"
    assert "did not return" in str(info.value)
    assert time.perf_counter() - start < 6


def test_time_limit_leaves_fast_code_and_its_errors_alone():
    with time_limit(1.0, "fast"):
        assert sum(range(10)) == 45
    with pytest.raises(ZeroDivisionError):
        with time_limit(1.0, "raises"):
            1 / 0  # noqa: B018
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_time_limit_off_the_main_thread_runs_without_a_limit():
    # SIGALRM only reaches the main thread: elsewhere the block simply runs.
    seen = []

    def worker():
        with time_limit(0.01, "in a thread"):
            time.sleep(0.05)
            seen.append("done")

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(5)
    assert seen == ["done"]


@pytest.mark.slow
def test_time_limit_against_a_loop_that_swallows_baseexception():
    code = textwrap.dedent("""
        import time
        from nnlab.checks._core import time_limit, CheckFailed
        def stubborn():
            while True:
                try:
                    time.sleep(0.01)
                except BaseException:
                    continue
        try:
            with time_limit(0.2, "stubborn()"):
                stubborn()
        except CheckFailed:
            print("gave up")
    """)
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=4)
    except subprocess.TimeoutExpired:
        out = None
    assert out is not None and "gave up" in out.stdout


# --------------------------------------------------------------------------- reference ban


def test_forbid_reference_catches_an_aliased_reference():
    from nnlab.activations import sigmoid as s  # the alias a student would write

    def my_sigmoid(z):
        return s(z)

    with pytest.raises(CheckFailed) as info:
        with forbid_reference("my_sigmoid(z)", nnlab.activations.sigmoid):
            my_sigmoid(np.zeros(3))
    exc = info.value
    assert exc.kind == "integrity"
    assert "my_sigmoid(z) calls nnlab's reference `sigmoid`" in str(exc)
    assert "Replace the call with your own numpy code" in str(exc)


def test_forbid_reference_catches_a_copy_of_the_reference_code():
    # Same code object under another name and globals: still the reference.
    clone = types.FunctionType(nnlab.activations.sigmoid.__code__,
                               nnlab.activations.sigmoid.__globals__, "mine")
    with pytest.raises(CheckFailed, match="reference"):
        with forbid_reference("mine(z)", nnlab.activations.sigmoid):
            clone(np.ones(2))


def test_forbid_reference_allows_own_code_and_restores_the_profiler():
    previous = sys.getprofile()
    with forbid_reference("own(z)", nnlab.activations.sigmoid):
        out = 1 / (1 + np.exp(-np.zeros(3)))
    assert out.tolist() == [0.5, 0.5, 0.5]
    assert sys.getprofile() is previous


def test_checks_refuse_a_function_that_calls_the_reference():
    def sigmoid(z):
        return nnlab.activations.sigmoid(z)

    with pytest.raises(CheckFailed) as info:
        check_sigmoid(sigmoid)
    assert info.value.kind == "integrity" and info.value.bug is None


def test_checks_refuse_a_subclass_of_a_reference_layer():
    layers = pytest.importorskip("nnlab.layers")

    class ReLU(layers.ReLU):
        pass

    with pytest.raises(CheckFailed) as info:
        check_relu(ReLU)
    assert info.value.kind == "integrity" and "reference" in str(info.value)


def test_replacing_nnlab_functions_in_the_kernel_changes_no_verdict(monkeypatch):
    # The checks compute what they expect with their own numpy, never with nnlab.
    monkeypatch.setattr(nnlab.activations, "sigmoid", lambda z: np.zeros_like(z))
    check_sigmoid(zoo00.sigmoid_abs)
    with pytest.raises(CheckFailed) as info:
        check_sigmoid(zoo00.sigmoid_naive)
    assert info.value.bug == "B17"


# --------------------------------------------------------------------------- pretend arrays


class AlwaysEqual:
    """Equal to everything: `np.testing`-free graders that use `==` give it full marks."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = object.__hash__


class RiggedArray(np.ndarray):
    """A real ndarray whose comparisons always say 'equal'."""

    def __eq__(self, other):
        return np.ones(self.shape, bool).view(np.ndarray)

    def __ne__(self, other):
        return np.zeros(self.shape, bool).view(np.ndarray)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if ufunc in (np.equal, np.less_equal, np.less):
            return np.ones(np.broadcast(*inputs).shape, bool)
        inputs = [x.view(np.ndarray) if isinstance(x, RiggedArray) else x for x in inputs]
        return getattr(ufunc, method)(*inputs, **kwargs)


def test_as_array_refuses_an_always_equal_object():
    assert AlwaysEqual() == np.arange(3)  # what it would get away with
    with pytest.raises(CheckFailed) as info:
        as_array(AlwaysEqual(), "sigmoid(z)")
    exc = info.value
    assert exc.kind == "integrity"
    assert "sigmoid(z) returned an object of type AlwaysEqual" in str(exc)


def test_as_array_strips_a_rigged_ndarray_subclass():
    rigged = np.full(4, 7.0).view(RiggedArray)
    assert bool((rigged == np.zeros(4)).all())  # what it would get away with
    plain = as_array(rigged, "f(x)")
    assert type(plain) is np.ndarray and plain.dtype == np.float64
    assert not bool((plain == np.zeros(4)).all())
    assert np.shares_memory(plain, rigged) is False


def test_checks_fail_a_rigged_answer_with_the_wrong_values():
    def sigmoid(z):
        return np.zeros(np.shape(z)).view(RiggedArray)

    with pytest.raises(CheckFailed) as info:
        check_sigmoid(sigmoid)
    assert info.value.kind == "bug"

    def sigmoid_eq(z):
        return AlwaysEqual()

    with pytest.raises(CheckFailed) as info:
        check_sigmoid(sigmoid_eq)
    assert info.value.kind == "integrity"


def test_as_array_and_as_float_say_what_is_wrong():
    assert as_array([1, 2], "f()").tolist() == [1.0, 2.0]
    with pytest.raises(CheckFailed, match=r"f\(\) returned an empty list"):
        as_array([], "f()")
    with pytest.raises(CheckFailed, match=r"returned shape \(2,\); expected \(3,\)"):
        as_array(np.zeros(2), "f()", shape=(3,))
    with pytest.raises(CheckFailed, match="not a numeric array"):
        as_array([[1, 2], [3]], "f()")
    assert as_float(np.float32(0.5), "loss") == 0.5
    with pytest.raises(CheckFailed, match=r"shape \(3,\); expected a single number"):
        as_float(np.ones(3), "bce_loss(y_hat, y)")


# --------------------------------------------------------------------------- integrity scan


@pytest.mark.parametrize("dotted", list(_WATCHED))
def test_integrity_scan_notices_each_replaced_function(dotted):
    module, attr, original = _WATCHED[dotted]
    setattr(module, attr, lambda *a, **k: None)
    try:
        with pytest.raises(CheckFailed) as info:
            integrity_scan()
        assert info.value.kind == "integrity"
        assert f"`{dotted}` has been replaced" in str(info.value)
    finally:
        setattr(module, attr, original)
    integrity_scan()  # restored: quiet again


def test_a_check_runs_the_scan_before_anything_else():
    original = np.testing.assert_allclose
    np.testing.assert_allclose = lambda *a, **k: None
    try:
        with pytest.raises(CheckFailed) as info:
            check_sigmoid(zoo00.sigmoid_abs)  # a correct answer, in a tampered kernel
        exc = info.value
        assert exc.kind == "integrity" and exc.check == "check_sigmoid"
        assert "check_sigmoid cannot trust this answer" in str(exc)
    finally:
        np.testing.assert_allclose = original
    check_sigmoid(zoo00.sigmoid_abs)


# --------------------------------------------------------------------------- CheckFailed


def test_checkfailed_is_an_assertionerror_with_its_attributes():
    exc = CheckFailed("db has shape (4, 1): one bias per sample.", "B1", check="check_dense")
    assert isinstance(exc, AssertionError)
    assert (exc.bug, exc.check, exc.kind) == ("B1", "check_dense", "bug")
    assert exc.message == "db has shape (4, 1): one bias per sample."
    lines = str(exc).splitlines()
    assert lines[0] == f"check_dense found bug B1 ({CATALOGUE['B1'][0]})"
    assert lines[1] == exc.message


@pytest.mark.parametrize("kind,head", [("bug", "check found a problem"),
                                       ("timeout", "check gave up waiting"),
                                       ("integrity", "check cannot trust this answer"),
                                       ("error", "check: your code raised an error")])
def test_checkfailed_heads_without_a_bug_id(kind, head):
    exc = CheckFailed("what happened", None, kind=kind)
    assert exc.bug is None
    assert str(exc) == f"{head}\nwhat happened"


@pytest.mark.parametrize("bad", ["B20", "B0", "b1", "bug 1", "11"])
def test_unknown_bug_id_rejected(bad):
    with pytest.raises(ValueError, match=f"unknown bug id {bad!r}"):
        CheckFailed("x", bad)
    with pytest.raises(ValueError, match="B1..B19"):
        fail("x", bad)


def test_catalogue_is_b1_to_b18_with_words():
    assert list(CATALOGUE) == [f"B{i}" for i in range(1, 20)]
    assert all(name and symptom for name, symptom in CATALOGUE.values())


def test_registered_checks_stamp_their_name_and_only_cover_catalogued_bugs():
    for name, fn in REGISTRY.items():
        assert name == f"check_{fn.graded_name}"
        assert set(fn.covers) <= set(CATALOGUE), name
    with pytest.raises(CheckFailed) as info:
        check_relu(zoo03.ReluSeed002)
    assert info.value.check == "check_relu" and info.value.bug == "B8"


# --------------------------------------------------------------------------- call & numbers


def test_call_turns_student_errors_into_diagnoses_and_records_warnings():
    def stub(z):
        raise NotImplementedError()

    with pytest.raises(CheckFailed) as info:
        call(stub, 1.0, what="sigmoid(z)")
    assert info.value.kind == "error" and "raise NotImplementedError()" in str(info.value)

    with pytest.raises(CheckFailed) as info:
        call(lambda z: z["x"], np.zeros(2), what="f(z)")
    assert "f(z) raised IndexError" in str(info.value)

    result, caught = call(lambda z: np.exp(z), np.array([1000.0]), what="exp(z)")
    assert np.isinf(result[0]) and any("overflow" in m for m in caught)


def test_max_rel_error_and_numeric_grad_against_known_values():
    assert max_rel_error(np.array([1.0, 0.0]), np.array([1.0, 0.0])) == 0.0
    assert max_rel_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
    assert max_rel_error(np.zeros(2), np.full(2, 1e-9)) == pytest.approx(0.1)  # the 1e-8 floor
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    grad = numeric_grad(lambda: float((x**3).sum()), x)
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-6)
    assert x.tolist() == [[1.0, -2.0], [0.5, 3.0]]  # restored after probing


def test_after_giving_up_on_a_swallowing_loop_tracing_is_restored():
    import time as _time

    def stubborn():
        while True:
            try:
                _time.sleep(0.01)
            except BaseException:  # noqa: BLE001 - the student's code under test
                continue

    before = sys.gettrace()
    with pytest.raises(CheckFailed) as info:
        call(stubborn, what="stubborn()", seconds=0.2)
    assert info.value.kind == "timeout" and "did not return within 0.2 s" in str(info.value)
    assert sys.gettrace() is before
    result, _ = call(lambda: 3, what="a quick function")
    assert result == 3


def test_a_failed_check_shows_the_diagnosis_not_the_checks_own_frames():
    from nnlab.checks import check_sigmoid

    def sigmoid(z):
        return 1 / (1 + np.exp(-np.asarray(z)))   # overflows at large -z: B17

    with pytest.raises(CheckFailed) as info:
        check_sigmoid(sigmoid)
    frames = [tb.tb_frame.f_code.co_name for tb in _walk(info.value.__traceback__)]
    assert frames[-1] == "wrapper" and frames.count("wrapper") == 1, frames
    assert not {"fail", "check_sigmoid"} & set(frames)   # the check body and fail() dropped
    assert info.value.bug == "B17" and info.value.check == "check_sigmoid"


def _walk(tb):
    while tb is not None:
        yield tb
        tb = tb.tb_next

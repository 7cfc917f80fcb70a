"""The defences every check shares, run on every check in the registry.

A student's first submission is an nbgrader stub; a self-learner's worst is a loop that
never returns; a cheat's cheapest is to silence numpy.testing. Each check must answer all
three with a diagnosis of the right kind, and its visible run must stay under a second.
The objects are built from each check's first correct zoo specimen, so a new check is
covered the moment it has specimens (test_checks_selftest.py makes sure it does).
Check-specific defences (always-equal results shaped like each check's answer, calls to
each reference) stay in the rung files beside the probes they exercise.
"""

from __future__ import annotations

import inspect
import time

import numpy as np
import pytest

from nnlab.checks import REGISTRY, CheckFailed
from nnlab.checks.zoo import load

SPECIMENS = load()


def _correct(name: str):
    return next(s for s in SPECIMENS if s.check == name and s.correct)


def _first_mutant(name: str):
    return next(s for s in SPECIMENS if s.check == name and not s.correct)


# Checks of a written answer (notebook 07's catalogue ids, 03's layer index): the student
# hands in a value, not code, so there is nothing to stub out or to hang.
CODE_CHECKS = sorted(n for n in REGISTRY
                     if not isinstance(_correct(n).obj, (str, int, float)))


def _stub(*args, **kwargs):
    raise NotImplementedError()


def _spin(*args, **kwargs):
    while True:  # and swallows the interruption a naive timeout would send
        try:
            time.sleep(0.01)
        except Exception:
            pass


def _everywhere(obj, body):
    """`body` in place of `obj` (a function), or of every public method `obj` (a class)
    defines itself: what the student's version looks like before (or instead of) an answer."""
    if not inspect.isclass(obj):
        return body
    methods = {k: body for k, v in vars(obj).items() if callable(v) and not k.startswith("_")}
    return type(f"{obj.__name__}Student", (obj,), methods)


@pytest.mark.parametrize("name", CODE_CHECKS)
def test_an_nbgrader_stub_is_told_to_write_the_answer(name):
    specimen = _correct(name)
    with pytest.raises(CheckFailed) as info:
        REGISTRY[name](_everywhere(specimen.obj, _stub), **specimen.kwargs)
    assert info.value.kind == "error", info.value
    assert "raise NotImplementedError()" in info.value.message
    assert info.value.bug is None  # a stub is not a bug of the catalogue


@pytest.mark.parametrize("name", CODE_CHECKS)
def test_code_that_never_returns_is_given_up_on_with_a_message(name):
    specimen = _correct(name)
    started = time.process_time()
    with pytest.raises(CheckFailed) as info:
        REGISTRY[name](_everywhere(specimen.obj, _spin), **specimen.kwargs)
    assert info.value.kind == "timeout", info.value
    assert "did not return" in info.value.message
    assert time.process_time() - started < 10  # CPU s; the per-call limit is a few seconds


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_silenced_numpy_testing_is_an_integrity_failure_not_a_pass(name, monkeypatch):
    # The cheat of FACTS.md: assert_allclose made a no-op from an answer cell. Fed a
    # mutant, the check must neither pass nor blame the bug: it names the tampering.
    # A right answer in a tampered kernel is no proof either; restored, it passes again.
    right = _correct(name)
    with monkeypatch.context() as patched:
        patched.setattr(np.testing, "assert_allclose", lambda *a, **k: None)
        for specimen in (_first_mutant(name), right):
            with pytest.raises(CheckFailed) as info:
                REGISTRY[name](specimen.obj, **specimen.kwargs)
            assert info.value.kind == "integrity", (specimen.style, info.value)
            assert "numpy.testing.assert_allclose" in info.value.message
    REGISTRY[name](right.obj, **right.kwargs)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_the_visible_check_runs_in_under_a_second(name):
    specimen = _correct(name)
    started = time.process_time()
    REGISTRY[name](specimen.obj, **specimen.kwargs)
    assert time.process_time() - started < 1.0  # CPU seconds: the machine is shared

"""Every check against its mutation zoo: each mutant named by the exact bug id, each
correct-but-different variant passed, visible and hidden. The coverage rule (two mutants
per covered bug, two correct variants per check) is in test_checks_selftest.py; each
rung's own probes and defences are in test_checks_rungNN.py.
"""

import re

import pytest

from nnlab.checks import REGISTRY, CheckFailed, _core
from nnlab.checks.zoo import load

SPECIMENS = load()


def numbers_in(message: str) -> list[str]:
    return re.findall(r"-?\d+\.\d+(?:e[-+]?\d+)?", message)


@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
@pytest.mark.parametrize("specimen", SPECIMENS,
                         ids=lambda s: f"{s.check}-{s.obj.__name__}")
def test_zoo(specimen, hidden):
    check = REGISTRY[specimen.check]
    if specimen.correct:
        check(specimen.obj, hidden=hidden, **specimen.kwargs)
        if specimen.note:  # a right loop on a wrong component: that cell is named
            assert any(specimen.note in text for text in _core.NOTES), _core.NOTES
        return
    with pytest.raises(CheckFailed) as info:
        check(specimen.obj, hidden=hidden, **specimen.kwargs)
    exc = info.value
    assert isinstance(exc, AssertionError)
    assert exc.bug == specimen.bug, (
        f"{specimen.style}: named {exc.bug}, expected {specimen.bug}\n{exc}")
    # An error of the student's code counts when it is explained (an `if` on an array, a
    # statistic that lost its axis).
    assert exc.kind == "bug" or (exc.kind == "error" and exc.__context__ is not None
                                 and _core._explain_error(exc.__context__)), exc
    assert exc.check == specimen.check
    # A diagnosis a student can act on, not a dump: a few lines, a handful of numbers.
    msg = str(exc)
    assert len(exc.message) > 40
    assert "[[" not in msg and "array(" not in msg
    assert len(msg) < 1000 and len(numbers_in(exc.message)) <= 20, msg


def test_every_check_has_a_zoo():
    assert {s.check for s in SPECIMENS} == set(REGISTRY)

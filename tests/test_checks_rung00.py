"""The checks of notebook 00 against their mutation zoo, plus the defences a check needs."""

import importlib
import re

import numpy as np
import pytest

from nnlab.checks import CheckFailed, rung00
from nnlab.checks.zoo import ZOO

importlib.import_module("nnlab.checks.zoo.rung00")
SPECIMENS = [s for s in ZOO if s.check in rung00.__all__]
IDS = [f"{s.check}-{s.obj.__name__}" for s in SPECIMENS]


def run(spec, hidden):
    getattr(rung00, spec.check)(spec.obj, hidden=hidden, **spec.kwargs)


def numbers_in(message):
    return re.findall(r"-?\d+\.\d+(?:e-?\d+)?", message)


@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
@pytest.mark.parametrize("spec", SPECIMENS, ids=IDS)
def test_zoo(spec, hidden):
    if spec.correct:
        run(spec, hidden)
        return
    with pytest.raises(CheckFailed) as info:
        run(spec, hidden)
    err = info.value
    assert isinstance(err, AssertionError)
    assert err.bug == spec.bug, f"{spec.style}: named {err.bug}, expected {spec.bug}\n{err}"
    assert err.check == spec.check
    assert len(err.message) > 80  # a diagnosis, not a bare "wrong"
    # never a dump of arrays: `describe` shows at most 4 values per array
    assert len(numbers_in(err.message)) <= 14, err.message


def test_zoo_covers_every_bug_twice_and_two_correct_variants():
    for name in rung00.__all__:
        check = getattr(rung00, name)
        mine = [s for s in SPECIMENS if s.check == name]
        assert sum(s.correct for s in mine) >= 2
        for bug in check.covers:
            assert sum(1 for s in mine if not s.correct and s.bug == bug) >= 2, (name, bug)
        assert any(not s.correct and s.bug is None for s in mine), name


def test_b17_message_names_the_fix():
    from nnlab.checks.zoo.rung00 import sigmoid_naive

    with pytest.raises(CheckFailed) as info:
        rung00.check_sigmoid(sigmoid_naive)
    assert "exp(-|z|)" in str(info.value) or "np.abs(z)" in str(info.value)


def test_b18_output_formula_says_the_function_receives_z():
    from nnlab.checks.zoo.rung00 import dsig_of_output

    with pytest.raises(CheckFailed) as info:
        rung00.check_sigmoid_derivative(dsig_of_output)
    assert "receives" in info.value.message and "not sigmoid(z)" in info.value.message


@pytest.mark.parametrize("name", rung00.__all__)
def test_not_implemented_stub(name):
    def stub(z):
        raise NotImplementedError()

    with pytest.raises(CheckFailed) as info:
        getattr(rung00, name)(stub)
    assert info.value.kind == "error"
    assert "raise NotImplementedError()" in info.value.message


@pytest.mark.parametrize("name", rung00.__all__)
def test_never_returns(name):
    def spin(z):
        while True:
            try:
                pass
            except Exception:
                pass

    with pytest.raises(CheckFailed) as info:
        getattr(rung00, name)(spin)
    assert info.value.kind == "timeout"


class AlwaysEqual:
    def __eq__(self, other):
        return True

    __array_priority__ = 1000


@pytest.mark.parametrize("name", rung00.__all__)
def test_always_equal_object_refused(name):
    with pytest.raises(CheckFailed) as info:
        getattr(rung00, name)(lambda z: AlwaysEqual())
    assert info.value.kind == "integrity"


def test_reference_calls_are_refused_under_any_alias():
    act = pytest.importorskip("nnlab.activations")
    alias = act.sigmoid

    def mine(z):
        return alias(z)

    with pytest.raises(CheckFailed) as info:
        rung00.check_sigmoid(mine)
    assert info.value.kind == "integrity"
    with pytest.raises(CheckFailed) as info:
        rung00.check_sigmoid_derivative(lambda z: act.sigmoid_derivative(z))
    assert info.value.kind == "integrity"


def test_patched_numpy_testing_is_flagged():
    from nnlab.checks.zoo.rung00 import sigmoid_abs

    original = np.testing.assert_allclose
    np.testing.assert_allclose = lambda *a, **k: None
    try:
        with pytest.raises(CheckFailed) as info:
            rung00.check_sigmoid(sigmoid_abs)
        assert info.value.kind == "integrity"
        assert "numpy.testing.assert_allclose" in info.value.message
    finally:
        np.testing.assert_allclose = original
    rung00.check_sigmoid(sigmoid_abs)


def test_patched_np_exp_does_not_change_the_verdict():
    from nnlab.checks.zoo.rung00 import sigmoid_tanh

    original = np.exp
    np.exp = lambda z: original(z) * 0 + 1  # would make every expected sigmoid 0.5
    try:
        rung00.check_sigmoid(sigmoid_tanh)
    finally:
        np.exp = original

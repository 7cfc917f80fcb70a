"""The checks of notebook 00: their own probes and defences (the zoo runs in test_checks_zoo.py)."""

import numpy as np
import pytest

from nnlab.checks import CheckFailed, rung00


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
    import nnlab.activations as act
    alias = act.sigmoid

    def mine(z):
        return alias(z)

    with pytest.raises(CheckFailed) as info:
        rung00.check_sigmoid(mine)
    assert info.value.kind == "integrity"
    with pytest.raises(CheckFailed) as info:
        rung00.check_sigmoid_derivative(lambda z: act.sigmoid_derivative(z))
    assert info.value.kind == "integrity"


def test_patched_np_exp_does_not_change_the_verdict():
    from nnlab.checks.zoo.rung00 import sigmoid_tanh

    original = np.exp
    np.exp = lambda z: original(z) * 0 + 1  # would make every expected sigmoid 0.5
    try:
        rung00.check_sigmoid(sigmoid_tanh)
    finally:
        np.exp = original

"""The checks of notebook 02: their own probes and defences (the zoo runs in test_checks_zoo.py)."""


import numpy as np
import pytest

from nnlab.checks import CheckFailed, rung02


def test_seed001_gradient_check_is_told_it_compares_the_weights():
    from nnlab.checks.zoo.rung02 import gc_compares_params

    with pytest.raises(CheckFailed) as info:
        rung02.check_gradient_check(gc_compares_params)
    assert info.value.bug == "B5" and "PARAMETERS" in info.value.message


def test_forward_difference_is_named_as_such():
    from nnlab.checks.zoo.rung02 import numgrad_forward

    with pytest.raises(CheckFailed) as info:
        rung02.check_numerical_gradient(numgrad_forward)
    assert info.value.bug is None and "centred difference" in info.value.message


class AlwaysEqual:
    def __eq__(self, other):
        return True

    def __lt__(self, other):
        return True

    def __le__(self, other):
        return True


FAKES = {
    "check_numerical_gradient": lambda f, x, h=1e-5: AlwaysEqual(),
    "check_relative_error": lambda a, b: AlwaysEqual(),
    "check_gradient_check": lambda loss_fn, params, grads, h=1e-5: {
        k: AlwaysEqual() for k in params},
}


@pytest.mark.parametrize("name", rung02.__all__)
def test_always_equal_object_refused(name):
    with pytest.raises(CheckFailed) as info:
        getattr(rung02, name)(FAKES[name])
    assert info.value.kind == "integrity"


@pytest.mark.parametrize("ref, name", [
    ("numerical_gradient", "check_numerical_gradient"),
    ("relative_error", "check_relative_error"),
    ("gradient_check", "check_gradient_check"),
])
def test_calling_the_reference_is_refused(ref, name):
    import nnlab.gradcheck as mod
    alias = getattr(mod, ref)

    def mine(*args, **kwargs):
        return alias(*args, **kwargs)

    with pytest.raises(CheckFailed) as info:
        getattr(rung02, name)(mine)
    assert info.value.kind == "integrity"


def test_patched_numpy_allclose_is_flagged():
    from nnlab.checks.zoo.rung02 import rel_elementwise

    original = np.allclose
    np.allclose = lambda *a, **k: True
    try:
        with pytest.raises(CheckFailed) as info:
            rung02.check_relative_error(rel_elementwise)
        assert info.value.kind == "integrity" and "numpy.allclose" in info.value.message
    finally:
        np.allclose = original

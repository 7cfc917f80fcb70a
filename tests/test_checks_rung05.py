"""The checks of notebook 05: their own probes and defences (the zoo runs in test_checks_zoo.py)."""


import numpy as np
import pytest

from nnlab.checks import CheckFailed, check_sgd_step, check_standardizer
from nnlab.checks.zoo import load
from nnlab.checks.zoo import rung05 as zoo

NAMES = ("check_standardizer", "check_sgd_step")
SPECIMENS = [s for s in load() if s.check in NAMES]


def test_standardizer_parts():
    for part in check_standardizer.parts:
        check_standardizer(zoo.StandardizerVec, part=part)
    with pytest.raises(CheckFailed) as info:
        check_standardizer(zoo.StandardizerRefits, part="new_data")
    assert info.value.bug == "B2"
    check_standardizer(zoo.StandardizerRefits, part="fit")  # same data: refitting is hidden
    with pytest.raises(CheckFailed, match="constant column"):
        check_standardizer(zoo.StandardizerNoGuard, part="edge_cases")
    with pytest.raises(ValueError, match="part='x'"):
        check_standardizer(zoo.StandardizerVec, part="x")


def test_sgd_step_update_seen_by_a_holder_of_the_array():
    # The property the check enforces, on the real thing: a layer's W is the params entry.
    W = np.ones((2, 2))
    params, grads = {"0.W": W}, {"0.W": np.full((2, 2), 2.0)}
    zoo.sgd_step_loop(params, grads, 0.5)
    assert W[0, 0] == 0.0
    zoo.sgd_step_rebind(params, grads, 0.5)
    assert W[0, 0] == 0.0  # the holder did not see this one
    with pytest.raises(CheckFailed, match="rebound"):
        check_sgd_step(zoo.sgd_step_rebind)


class _AlwaysEqual:
    def __eq__(self, other):
        return True


class _CheatTransform(zoo.StandardizerVec):
    def transform(self, X):
        return _AlwaysEqual()


def test_always_equal_object_refused():
    with pytest.raises(CheckFailed) as info:
        check_standardizer(_CheatTransform)
    assert info.value.kind == "integrity"


def test_reference_call_refused():
    import nnlab.optim as optim

    def wrapper(params, grads, lr):
        return optim.sgd_step(params, grads, lr)

    with pytest.raises(CheckFailed) as info:
        check_sgd_step(wrapper)
    assert info.value.kind == "integrity"


def test_reference_call_refused_standardizer():
    import nnlab.preprocessing as prep

    class Wrapper(prep.Standardizer):
        pass

    with pytest.raises(CheckFailed) as info:
        check_standardizer(Wrapper)
    assert info.value.kind == "integrity"


def test_reference_passes(monkeypatch):
    import nnlab.checks.rung05 as rung05

    monkeypatch.setattr(rung05, "reference", lambda module, name: ())
    import nnlab.optim as optim
    rung05.check_sgd_step(optim.sgd_step)
    rung05.check_sgd_step(optim.sgd_step, hidden=True)
    import nnlab.preprocessing as prep
    rung05.check_standardizer(prep.Standardizer)
    rung05.check_standardizer(prep.Standardizer, hidden=True)



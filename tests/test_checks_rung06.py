"""The checks of notebook 06: their own probes and defences (the zoo runs in test_checks_zoo.py)."""


import numpy as np
import pytest

from nnlab.checks import (
    REGISTRY,
    CheckFailed,
    check_iterate_minibatches,
    check_softmax,
    check_softmax_cross_entropy,
)
from nnlab.checks.zoo import load
from nnlab.checks.zoo import rung06 as zoo

NAMES = ("check_softmax", "check_softmax_cross_entropy", "check_iterate_minibatches")
SPECIMENS = [s for s in load() if s.check in NAMES]


def test_hard_coded_visible_answer_fails_hidden():
    # A softmax that memorised the visible probe's answers passes nothing hidden.
    seen = {}

    def recorder(Z):
        out = zoo.softmax_stable(Z)
        seen[Z.tobytes()] = out
        return out

    check_softmax(recorder)

    def memorised(Z):
        return seen.get(Z.tobytes(), np.full(Z.shape, 1.0 / Z.shape[1]))

    check_softmax(memorised)
    with pytest.raises(CheckFailed):
        check_softmax(memorised, hidden=True)


def _lazy_hang(X, y, batch_size, seed):
    yield X[:1], y[:1]
    while True:
        pass


def test_timeout_inside_the_generator_is_a_diagnosis():
    with pytest.raises(CheckFailed) as info:
        check_iterate_minibatches(_lazy_hang)
    assert info.value.kind == "timeout"


class _AlwaysEqual:
    def __eq__(self, other):
        return True


def test_always_equal_object_refused():
    with pytest.raises(CheckFailed) as info:
        check_softmax(lambda Z: _AlwaysEqual())
    assert info.value.kind == "integrity"
    with pytest.raises(CheckFailed) as info:
        check_softmax_cross_entropy(lambda Z, y: (_AlwaysEqual(), _AlwaysEqual()))
    assert info.value.kind == "integrity"


def test_patched_numpy_exp_changes_no_verdict(monkeypatch):
    # The check computes its expected softmax with numpy as it was at import.
    def softmax_by_power(Z):
        e = np.power(np.e, Z - Z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    monkeypatch.setattr(np, "exp", lambda z: np.ones_like(z))
    check_softmax(softmax_by_power)


def test_reference_call_refused():
    import nnlab.activations as activations
    if not hasattr(activations, "softmax"):
        pytest.skip("nnlab.activations.softmax not written yet")

    def wrapper(Z):
        return activations.softmax(Z)

    with pytest.raises(CheckFailed) as info:
        check_softmax(wrapper)
    assert info.value.kind == "integrity"


def test_reference_passes(monkeypatch):
    import nnlab.checks.rung06 as rung06

    monkeypatch.setattr(rung06, "reference", lambda module, name: ())
    found = 0
    for module, name in (("nnlab.activations", "softmax"),
                         ("nnlab.losses", "softmax_cross_entropy"),
                         ("nnlab.train", "iterate_minibatches")):
        try:
            ref = getattr(__import__(module, fromlist=[name]), name)
        except (ImportError, AttributeError):
            continue
        found += 1
        for hidden in (False, True):
            REGISTRY[f"check_{name}"].__wrapped__(ref, hidden=hidden)
    if not found:
        pytest.skip("no reference module for notebook 06 yet")



"""The checks of notebook 01 against their mutation zoo, plus the defences a check needs."""

import importlib
import time

import numpy as np
import pytest

from nnlab.checks import CheckFailed, rung01
from nnlab.checks.zoo import ZOO

importlib.import_module("nnlab.checks.zoo.rung01")
SPECIMENS = [s for s in ZOO if s.check in rung01.__all__]
IDS = [f"{s.check}-{s.obj.__name__}" for s in SPECIMENS]


def run(spec, hidden):
    getattr(rung01, spec.check)(spec.obj, hidden=hidden, **spec.kwargs)


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
    assert len(err.message) > 80
    assert "[[" not in err.message and "array(" not in err.message  # no array dumps


def test_zoo_covers_every_bug_twice_and_two_correct_variants():
    for name in rung01.__all__:
        check = getattr(rung01, name)
        mine = [s for s in SPECIMENS if s.check == name]
        assert sum(s.correct for s in mine) >= 2, name
        for bug in check.covers:
            assert sum(1 for s in mine if not s.correct and s.bug == bug) >= 2, (name, bug)
        assert any(not s.correct and s.bug is None for s in mine), name


def test_gradient_ratio_is_reported_as_the_batch_size():
    from nnlab.checks.zoo.rung01 import grads_no_mean

    with pytest.raises(CheckFailed) as info:
        rung01.check_neuron_gradients(grads_no_mean)
    assert "exactly 6 times" in info.value.message  # the visible probe has n = 6
    with pytest.raises(CheckFailed) as info:
        rung01.check_neuron_gradients(grads_no_mean, hidden=True)
    assert "exactly 8 times" in info.value.message


def test_per_sample_bias_message_says_the_fix():
    from nnlab.checks.zoo.rung01 import grads_db_per_sample

    with pytest.raises(CheckFailed) as info:
        rung01.check_neuron_gradients(grads_db_per_sample)
    assert "(6, 1)" in info.value.message and "sum(axis=0)" in info.value.message


def test_bce_seed000_signed_sum_is_b3():
    from nnlab.checks.zoo.rung01 import bce_signed_sum

    with pytest.raises(CheckFailed) as info:
        rung01.check_bce_loss(bce_signed_sum)
    assert info.value.bug == "B3" and "cancel" in info.value.message


def stub(*args, **kwargs):
    raise NotImplementedError()


def spin(*args, **kwargs):
    while True:
        try:
            time.sleep(0.01)
        except Exception:
            pass


class AlwaysEqual:
    def __eq__(self, other):
        return True

    def __lt__(self, other):
        return True


FAKES = {
    "check_neuron_forward": lambda X, w, b: AlwaysEqual(),
    "check_bce_loss": lambda y_hat, y: AlwaysEqual(),
    "check_neuron_gradients": lambda X, y, y_hat: (AlwaysEqual(), AlwaysEqual()),
    "check_train_neuron": lambda X, y, lr=1.0, epochs=10, seed=0: (
        AlwaysEqual(), AlwaysEqual(), AlwaysEqual()),
}


@pytest.mark.parametrize("name", rung01.__all__)
def test_not_implemented_stub(name):
    with pytest.raises(CheckFailed) as info:
        getattr(rung01, name)(stub)
    assert info.value.kind == "error"
    assert "raise NotImplementedError()" in info.value.message


@pytest.mark.parametrize("name", ["check_bce_loss", "check_train_neuron"])
def test_never_returns(name):
    t0 = time.perf_counter()
    with pytest.raises(CheckFailed) as info:
        getattr(rung01, name)(spin)
    assert info.value.kind == "timeout"
    assert time.perf_counter() - t0 < 8


@pytest.mark.parametrize("name", rung01.__all__)
def test_always_equal_object_refused(name):
    with pytest.raises(CheckFailed) as info:
        getattr(rung01, name)(FAKES[name])
    assert info.value.kind == "integrity"


@pytest.mark.parametrize("module, ref, name", [
    ("nnlab.neuron", "neuron_forward", "check_neuron_forward"),
    ("nnlab.losses", "bce_loss", "check_bce_loss"),
    ("nnlab.neuron", "neuron_gradients", "check_neuron_gradients"),
    ("nnlab.neuron", "train_neuron", "check_train_neuron"),
])
def test_calling_the_reference_is_refused(module, ref, name):
    mod = pytest.importorskip(module)
    alias = getattr(mod, ref)

    def mine(*args, **kwargs):
        return alias(*args, **kwargs)

    with pytest.raises(CheckFailed) as info:
        getattr(rung01, name)(mine)
    assert info.value.kind == "integrity"
    assert ref in info.value.message


def test_patched_numpy_testing_is_flagged():
    from nnlab.checks.zoo.rung01 import bce_clip

    original = np.testing.assert_allclose
    np.testing.assert_allclose = lambda *a, **k: None
    try:
        with pytest.raises(CheckFailed) as info:
            rung01.check_bce_loss(bce_clip)
        assert info.value.kind == "integrity"
    finally:
        np.testing.assert_allclose = original

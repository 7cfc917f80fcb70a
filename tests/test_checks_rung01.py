"""The checks of notebook 01: their own probes and defences (the zoo runs in test_checks_zoo.py)."""


import pytest

from nnlab.checks import CheckFailed, rung01


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
    from importlib import import_module

    mod = import_module(module)
    alias = getattr(mod, ref)

    def mine(*args, **kwargs):
        return alias(*args, **kwargs)

    with pytest.raises(CheckFailed) as info:
        getattr(rung01, name)(mine)
    assert info.value.kind == "integrity"
    assert ref in info.value.message



"""The checks of notebook 03: their own probes and defences (the zoo runs in test_checks_zoo.py)."""


import numpy as np
import pytest

from nnlab.checks import CheckFailed, check_dense, check_relu, check_tanh
from nnlab.checks.zoo import load
from nnlab.checks.zoo import rung03 as zoo

SPECIMENS = [s for s in load() if s.check in
             ("check_dense", "check_sigmoid_layer", "check_tanh", "check_relu")]


def test_parts_each_catch_their_own_bug():
    check_dense(zoo.DenseZeros, part="forward")  # init bugs do not leak into other parts
    check_dense(zoo.DenseVec, part="init")
    with pytest.raises(CheckFailed) as info:
        check_dense(zoo.DenseZeros, part="init")
    assert info.value.bug == "B6"
    with pytest.raises(CheckFailed) as info:
        check_dense(zoo.DenseDwSign, part="backward")
    assert info.value.bug == "B15"
    with pytest.raises(ValueError, match="part='fwd'"):
        check_dense(zoo.DenseVec, part="fwd")


class _AlwaysEqual:
    shape = (4, 4)

    def __eq__(self, other):
        return True

    def __array__(self, dtype=None, copy=None):
        raise TypeError("not an array")


class _CheatForward(zoo.DenseVec):
    def forward(self, X):
        return _AlwaysEqual()


def test_always_equal_object_refused():
    with pytest.raises(CheckFailed) as info:
        check_dense(_CheatForward, part="forward")
    assert info.value.kind == "integrity"


def test_patched_numpy_function_changes_no_verdict(monkeypatch):
    class TanhByExp:
        def forward(self, X):
            self.out = (1 - np.exp(-2 * X)) / (1 + np.exp(-2 * X))
            return self.out

        def backward(self, dY):
            return dY * (1 - self.out**2)

    monkeypatch.setattr(np, "tanh", lambda z: np.zeros_like(z))
    check_tanh(TanhByExp)


def test_reference_call_refused():
    import nnlab.layers as layers

    class Wrapper(layers.Dense):
        pass

    with pytest.raises(CheckFailed) as info:
        check_dense(Wrapper)
    assert info.value.kind == "integrity"
    assert "reference" in str(info.value)


def test_reference_layers_pass(monkeypatch):
    import nnlab.checks.rung03 as rung03
    import nnlab.layers as layers

    # The reference is what the checks must accept: run them with the ban lifted.
    monkeypatch.setattr(rung03, "reference", lambda module, name: ())
    rung03.check_dense(layers.Dense)
    rung03.check_sigmoid_layer(layers.Sigmoid)
    rung03.check_tanh(layers.Tanh)
    rung03.check_relu(layers.ReLU)
    rung03.check_dense(layers.Dense, hidden=True)


def test_relu_at_zero_accepts_either_subgradient():
    check_relu(zoo.ReluMask)   # 0 at 0, as nnlab.layers.ReLU
    check_relu(zoo.ReluWhere)  # 1 at 0



"""nnlab.fallback: a demonstration cell gets the student's function, or the reference
with a note, and a real bug in the student's function is not hidden."""

import numpy as np
import pytest

from nnlab import layers
from nnlab.fallback import layer_probe, yours_or_reference
from nnlab.train import iterate_minibatches


def reference(x):
    return 2 * x


def test_a_working_answer_is_used_silently(capsys):
    def yours(x):
        return x + x

    assert yours_or_reference(yours, reference, lambda f: f(1), name="double",
                              exercise="Exercise 1") is yours
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("yours", [None, "stub"])
def test_a_blank_answer_falls_back_with_a_note(yours, capsys):
    def stub(x):
        raise NotImplementedError()

    got = yours_or_reference(stub if yours == "stub" else None, reference, lambda f: f(1),
                             name="double", exercise="Exercise 1")
    assert got is reference
    out = capsys.readouterr().out
    assert "`double` is not written yet (Exercise 1)" in out
    assert "test_fallback.reference" in out


def test_a_generator_stub_is_found_by_consuming_the_probe(capsys):
    def stub(X, y, batch_size, seed):
        raise NotImplementedError()
        yield

    got = yours_or_reference(stub, iterate_minibatches,
                             lambda f: next(iter(f([[0.0]], [0], 1, 0))),
                             name="iterate_minibatches", exercise="Exercise 3")
    assert got is iterate_minibatches
    assert "nnlab.train.iterate_minibatches" in capsys.readouterr().out


def test_a_buggy_answer_raises_its_own_error():
    def buggy(x):
        return x / 0

    with pytest.raises(ZeroDivisionError):
        yours_or_reference(buggy, reference, lambda f: f(1), name="double",
                           exercise="Exercise 1")


class HalfWrittenDense(layers.Dense):
    """A student's Dense whose forward works and whose backward is still the stub."""

    def backward(self, dY):
        raise NotImplementedError()


@pytest.mark.parametrize("yours, expected", [
    (layers.Dense, "yours"), (HalfWrittenDense, "reference"), (None, "reference")])
def test_a_layer_class_falls_back_unless_forward_and_backward_both_run(yours, expected):
    got = yours_or_reference(yours, layers.Dense, layer_probe(np.ones((4, 2)), 2, 3, seed=0),
                             name="Dense", exercise="the Dense exercise")
    assert got is (yours if expected == "yours" else layers.Dense)

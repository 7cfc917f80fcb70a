"""nnlab.fallback: a demonstration cell gets the student's function, or the reference
with a note, and a real bug in the student's function is not hidden."""

import pytest

from nnlab.fallback import yours_or_reference
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

"""The checks of notebook 07 beyond the zoo: case f's diagnosis in every form a student
may write it, and what its feedback says when one of the two faults is missing. (The zoo,
tests/test_checks_zoo.py, holds each check's mutants and correct variants; the clinic's
cases themselves are in tests/test_clinic.py.)"""

import pytest

from nnlab import clinic
from nnlab.checks import CheckFailed, check_diagnosis_f, check_train_f
from nnlab.checks.rung07 import CASES, bugs


def test_case_f_is_the_one_combined_case():
    assert bugs("f") == ("B7", "B8")
    assert [case for case in CASES if len(bugs(case)) > 1] == ["f"]
    assert check_train_f.covers == ("B7", "B8") and check_diagnosis_f.covers == ()


@pytest.mark.parametrize("answer", ["B7 B8", "B8 B7", "b7,b8", " B8 and B7 ", "B7+B8",
                                    ["B8", "B7"], ("B7", "B8"), {"B7", "B8"}, "B7 B8 B7"])
@pytest.mark.parametrize("hidden", [False, True])
def test_both_ids_in_any_order_and_form_pass(answer, hidden):
    check_diagnosis_f(answer, hidden=hidden)


@pytest.mark.parametrize("answer, missing", [("B8", "B7"), ("B7", "B8"), (["b8"], "B7")])
def test_one_id_alone_fails_saying_one_is_missing(answer, missing):
    with pytest.raises(CheckFailed) as info:
        check_diagnosis_f(answer)
    text = str(info.value)
    assert info.value.bug is None
    right = ({"B7", "B8"} - {missing}).pop()
    assert f"{right} is right" in text and "One fault is missing" in text
    assert missing not in text  # the visible test points to a tool, not to the answer
    with pytest.raises(CheckFailed, match=f"Missing: {missing} "):
        check_diagnosis_f(answer, hidden=True)


@pytest.mark.parametrize("answer, words", [
    ("B8 B10", "B10 (inputs not standardised) is not in case f's code"),
    ("B7 B8 B12", "B7 and B8 are right; name only those two"),
    ("B10", "Both faults are missing"),
    ("B7B8", "'B7B8' is not a catalogue id"),
    ("", "it names no id"),
    (7, "diagnosis_f is a int"),
    (["B7", 8], "diagnosis_f is a list"),
])
def test_wrong_answers_say_what_is_wrong(answer, words):
    with pytest.raises(CheckFailed, match=None) as info:
        check_diagnosis_f(answer)
    assert words in str(info.value), str(info.value)


def _half_fixed(edit):
    old, new = edit
    return clinic.define(clinic.source("f").replace(old, new), f"<half fix {new}>")["train_f"]


@pytest.mark.parametrize("edit, remains, fixed", [
    (('params = ("W",)', 'params = ("W", "b")'), "B8", "B7"),
    (("np.heaviside(self.out, 1.0)", "(self.out > 0)"), "B7", "B8"),
])
def test_train_f_says_which_fault_remains(edit, remains, fixed):
    with pytest.raises(CheckFailed) as info:
        check_train_f(_half_fixed(edit))
    assert info.value.bug == remains
    assert f"One of case f's two faults is fixed ({fixed}," in str(info.value)


def test_train_f_on_the_unfixed_code_names_both():
    with pytest.raises(CheckFailed) as info:
        check_train_f(clinic.broken("f"))
    assert info.value.bug == "B7"
    assert "the other remains too" in str(info.value) and "(B8)" in str(info.value)

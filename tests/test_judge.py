"""The judge: test cells from the instructor's notebooks run in the grader against a real
kernel, names resolved where they belong, verdicts written as nbgrader scores them, and
the kernel's own run compared. One kernel for the module (about 2 s), plus one
`JudgedExecute` run of the toy notebook (about 5 s).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import nbformat
import numpy as np
import pytest
from test_oracle import _kernel, _run
from traitlets.config import Config

from autograder import submission
from autograder.judge import Instructor, Verdict, call_key, disagreement, judge
from autograder.oracle import Oracle
from autograder.preprocessors import EVENTS, JudgedExecute

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"
TOY = Path(__file__).parent / "fixtures" / "submissions"
NB01 = Instructor.read(NOTEBOOKS / "01_single_neuron.ipynb")
NB03 = Instructor.read(NOTEBOOKS / "03_hidden_layer.ipynb")


@pytest.fixture(scope="module")
def kernel():
    km, kc = _kernel()  # the oracle tests' kernel and runner serve here too
    oracle = Oracle(km.get_connection_info(), interrupt=km.interrupt_kernel, seconds=10)
    oracle.start()
    yield oracle, lambda code: _run(kc, code)
    oracle.close()
    km.shutdown_kernel(now=True)


def test_the_instructors_notebook_says_where_each_name_comes_from():
    assert "test_hand_forward" in NB01.tests and "HIDDEN TESTS" in NB01.tests["test_train_neuron"]
    assert NB01.imports["and_gate"] == ("nnlab.data", "and_gate")
    assert NB01.imports["sigmoid"] == ("nnlab.activations", "sigmoid")
    assert NB01.imports["np"] == ("numpy", None)
    assert {"neuron_forward", "z_by_hand", "y_hat_by_hand"} <= NB01.solutions


def test_a_plain_assert_cell_reads_the_students_values_with_the_graders_helpers(kernel):
    oracle, run = kernel
    # a junk `sigmoid` in the kernel: the cell's `sigmoid` is the instructor's import
    run("import numpy as np\nsigmoid = lambda z: 0 * z\n"
        "z_by_hand = [-1.5, -2.5, 0.5, -0.5]\n"
        "y_hat_by_hand = 1 / (1 + np.exp(-np.array(z_by_hand)))")
    verdict = judge("test_hand_forward", NB01.tests["test_hand_forward"], oracle, NB01)
    assert verdict.outcome == "pass", verdict
    run("y_hat_by_hand = [0.5, 0.5, 0.5, 0.5]")
    verdict = judge("test_hand_forward", NB01.tests["test_hand_forward"], oracle, NB01)
    assert (verdict.outcome, verdict.ename) == ("error", "AssertionError")
    assert "y_hat_by_hand: entries [0, 1, 2, 3]" in verdict.evalue


def test_a_name_a_solution_defines_is_always_the_students():
    instructor = Instructor(imports={"sigmoid": ("nnlab.activations", "sigmoid")},
                            solutions={"sigmoid"})

    class Kernel:
        def lookup(self, name):
            return {"sigmoid": "the student's"}[name]

    verdict = judge("t", "assert sigmoid == \"the student's\", sigmoid", Kernel(), instructor)
    assert verdict.outcome == "pass", verdict
    # not defined by a solution: the grader's own object, never the kernel's
    verdict = judge("t", "import nnlab.activations as a\nassert sigmoid is a.sigmoid",
                    Kernel(), Instructor(imports={"sigmoid": ("nnlab.activations", "sigmoid")}))
    assert verdict.outcome == "pass", verdict


def test_a_name_the_kernel_lacks_is_a_name_error_and_builtins_are_the_graders(kernel):
    oracle, run = kernel
    run("len = lambda x: 42\nrange = None")
    verdict = judge("t", "assert len([1]) == 1 and list(range(2)) == [0, 1]\n"
                         "nowhere_defined_name", oracle, Instructor())
    assert (verdict.outcome, verdict.ename) == ("error", "NameError"), verdict
    # names used inside comprehensions and functions of the cell resolve too
    run("hand = [1.0, 2.0]")
    verdict = judge("t", "wrong = [i for i in range(2) if hand[i] > 5]\n"
                         "def f():\n    return hand\nassert f() == [1.0, 2.0] and not wrong",
                    oracle, Instructor())
    assert verdict.outcome == "pass", verdict


@pytest.mark.parametrize("hidden", [False, True])
def test_a_class_check_judges_the_kernels_class(kernel, hidden):
    oracle, run = kernel
    run("from nnlab.checks.zoo import rung03 as _z\n"
        "from nnlab.checks.zoo import load as _load\n"
        "_dense = [s for s in _load() if s.check == 'check_dense']\n"
        "Dense = next(s.obj for s in _dense if s.correct)\n"
        "Accumulating = next(s.obj for s in _dense if s.bug == 'B16')")
    source = NB03.tests["test_dense_backward"]
    verdict = judge("test_dense_backward", source, oracle, NB03)
    assert verdict.outcome == "pass", verdict
    assert verdict.calls == [call_key("check_dense", "type", {"part": "backward"}),
                             call_key("check_dense", "type", {"part": "backward",
                                                              "hidden": True})]
    run("Dense = Accumulating")
    verdict = judge("test_dense_backward", source, oracle, NB03)
    assert (verdict.outcome, verdict.bug) == ("fail", "B16"), verdict
    assert len(verdict.calls) == 1  # the visible check failed; the hidden one never ran


def test_the_verdict_is_written_as_nbgrader_scores_it_and_the_worker_reads_it():
    failed = Verdict("test_x", "fail", "CheckFailed",
                     "check_dense found bug B16 (gradient buffers not reset between steps)\n"
                     "A second forward/backward ...", "B16")
    cell = nbformat.v4.new_code_cell("check_dense(Dense)", metadata={
        "nbgrader": {"grade": True, "solution": False, "grade_id": "test_x", "points": 3}})
    cell.outputs = failed.outputs()
    nb = nbformat.v4.new_notebook(cells=[cell])
    nbformat.validate(nb)
    found = submission.diagnoses(nb)
    assert [(d["check"], d["bug"], d["error"]) for d in found] == [
        ("check_dense", "B16", "CheckFailed")]
    cell.outputs = Verdict("test_x", "pass").outputs()
    nbformat.validate(nb)
    assert submission.diagnoses(nb) == []


def test_a_check_that_never_returns_is_a_timeout_verdict(kernel):
    oracle, run = kernel
    run("def sigmoid(z):\n    while True:\n        pass")
    verdict = judge("t", "check_sigmoid(sigmoid)", oracle, Instructor())
    assert verdict.outcome == "timeout" and "did not return within" in verdict.evalue
    assert oracle.request("ping") == "pong"  # the kernel was stopped, not lost


def test_what_the_kernel_ran_is_compared_with_what_the_judge_ran():
    a = call_key("check_sigmoid", "function", {})
    b = call_key("check_sigmoid", "function", {"hidden": True})
    ok = {"stub": True, "bound": {"check_sigmoid": True}}
    passed = Verdict("t", "pass", calls=[a, b])
    assert disagreement(passed, [a, b], False, ok) is None
    assert "did not run as written" in disagreement(passed, [a], False, ok)
    assert "did not run as written" in disagreement(passed, [], False, ok)
    assert "did not run as written" in disagreement(passed, [b, a], False, ok)
    failed = Verdict("t", "fail", calls=[a])  # stopped at the first check
    assert disagreement(failed, [a, b], False, ok) is None
    assert "is not the grader's stub" in disagreement(
        passed, [a, b], False, {"stub": True, "bound": {"check_sigmoid": False}})
    assert "not the grader's stub module" in disagreement(passed, [a, b], False, {})
    plain = Verdict("t", "error", "AssertionError", "wrong")  # a cell without checks
    assert disagreement(plain, [], True, ok) is None
    assert "passed in the kernel" in disagreement(plain, [], False, ok)


def _toy(name):
    nb = nbformat.read(str(TOY / f"submitted-{name}.ipynb"), as_version=4)
    config = Config()
    config.JudgedExecute.kernel_name = "python3"
    config.JudgedExecute.timeout = 20
    config.JudgedExecute.instructor_notebook = str(TOY / "instructor" / "toy.ipynb")
    EVENTS.clear()
    nb, _ = JudgedExecute(config=config).preprocess(
        nb, {"metadata": {"path": tempfile.mkdtemp()}})
    tests = {c.metadata.nbgrader["grade_id"]: c for c in nb.cells
             if c.get("metadata", {}).get("nbgrader", {}).get("grade")
             and not c.metadata.nbgrader.get("solution")}
    return tests, list(EVENTS)


def test_the_executor_runs_standalone_and_judges_with_the_hidden_tests():
    tests, events = _toy("passes-public-fails-hidden")
    assert "BEGIN HIDDEN TESTS" in tests["test_sigmoid"].source  # the instructor's cell
    [out] = tests["test_sigmoid"].outputs
    assert out.output_type == "error" and out.ename == "CheckFailed"
    assert [o.output_type for o in tests["test_sigmoid_derivative"].outputs] == ["stream"]
    assert events == [], events  # honest: the kernel ran what the judge ran


def test_an_array_a_check_sends_comes_back_changed_only_by_student_code(kernel):
    oracle, run = kernel
    run("def scale(x):\n    x *= 2\n    return None")
    x = np.ones(3)
    oracle.lookup("scale")(x)
    assert x.tolist() == [2.0, 2.0, 2.0]


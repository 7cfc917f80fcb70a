"""Which demonstrations a grading run leaves out (autograder/skipping.py).

The rule is read on small notebooks here, and on the real course: every cell the course
tags `skip-in-grading` is left out of a perfect submission's grading run. That the verdicts
are the same both ways is graded for real in tests/test_course_e2e.py.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.judge import Instructor
from autograder.skipping import SKIP_TAG, WORD, cells_to_skip, may_set, reads, tagged_cells

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))


def demo(source: str, cell_id: str) -> nbformat.NotebookNode:
    return new_code_cell(source, id=cell_id, metadata={"tags": [SKIP_TAG]})


def answer(source: str, grade_id: str) -> nbformat.NotebookNode:
    return new_code_cell(source, id=grade_id, metadata={"nbgrader": {
        "grade": False, "solution": True, "locked": False, "grade_id": grade_id}})


def checked(source: str, grade_id: str) -> nbformat.NotebookNode:
    return new_code_cell(source, id=grade_id, metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": True, "points": 1,
        "grade_id": grade_id}})


def skipped(cells, instructor_cells=None) -> list[str]:
    """Ids of the cells of a submission made of `cells` that grading leaves out, the
    instructor's notebook being `instructor_cells` (default: the same cells)."""
    instructor = Instructor.from_notebook(new_notebook(cells=instructor_cells or cells))
    nb = new_notebook(cells=cells)
    return [nb.cells[i].id for i in sorted(cells_to_skip(
        nb, instructor.skippable, instructor.tests, set(instructor.imports)))]


SETUP = new_code_cell("import numpy as np\nfrom nnlab import clinic", id="setup",
                      metadata={"nbgrader": {"grade": False, "solution": False,
                                             "locked": True, "grade_id": "setup"}})
SHOW = demo("patient = clinic.case('a')\nprint(patient.code)", "show")
SWEEP = demo("runs = [train(s) for s in range(8)]\nprint(np.mean(runs))", "sweep")


# ------------------------------------------------------------------ reads / may_set

def test_reads_counts_a_name_loaded_before_the_cell_binds_it():
    assert reads("y = x + 1\nprint(y)") == {"x", "print"}
    assert "x" in reads("x += 1")
    # a target that is not a bare name reads its object, inside a tuple too
    assert reads("a, x.b = 1, 2") == {"x"}
    assert reads("a, (b, c[i]) = f()") == {"f", "c", "i"}
    assert reads("for x.k in r:\n    pass") == {"r", "x"}
    assert "i" not in reads("for i in range(3):\n    print(i)")
    assert "i" in reads("for i in []:\n    pass\nprint(i)")  # an empty loop binds nothing
    assert "t" in reads("if flag:\n    t = 1\nprint(t)")


def test_reads_leaves_out_a_functions_own_locals_and_keeps_its_globals():
    assert reads("def f(X, y):\n    Z = X @ W\n    return Z + y") == {"W"}
    assert reads("[k for k in ks if k > limit]") == {"ks", "limit"}


def test_reads_takes_every_word_of_a_cell_that_reaches_names_dynamically():
    found = reads('fix = globals().get("train_a")')
    assert {"train_a", "globals", "fix"} <= found
    assert "patient_a" in reads('eval("patient_a.X")')
    assert "anything" in reads("def broken(:\n    anything")  # does not parse


def test_may_set_names_what_a_cell_binds_or_changes_through_a_name():
    changed = may_set("net = build()\nnet2.fit(X)\nrng.normal()\nh[0].W = 1\n"
                      "train(model, data=D)\nprint(len(P))\nnp.linspace(0, 1)\n", {"np"})
    assert changed == {"net", "net2", "X", "rng", "h", "model", "D"}
    assert may_set("def f(a):\n    local = a.copy()\n    local.sort()\n    return local",
                   set()) == {"f"}
    assert may_set("def f():\n    global seen\n    seen.append(1)", set()) == {"f", "seen"}


# ------------------------------------------------------------------ cells_to_skip

def test_a_demonstration_no_later_cell_reads_is_left_out():
    cells = [SETUP, SHOW, answer("def train(seed):\n    return seed", "train"), SWEEP,
             checked("assert train(1) == 1", "test_train")]
    assert skipped(cells) == ["show", "sweep"]


def test_a_student_cell_that_reads_a_demonstrations_name_keeps_it_running():
    student = answer("def train(seed):\n    return patient.X[seed]", "train")
    assert skipped([SETUP, SHOW, student, SWEEP]) == ["sweep"]
    # a parameter of the same name is the function's own: the demonstration still goes
    student = answer("def train(patient):\n    return patient", "train")
    assert skipped([SETUP, SHOW, student, SWEEP]) == ["show", "sweep"]
    # reached by its name in a string: kept, to be safe
    student = answer("def train(seed):\n    return globals()['patient']", "train")
    assert skipped([SETUP, SHOW, student, SWEEP]) == ["sweep"]


def test_a_test_cell_is_read_as_the_instructor_wrote_it():
    cells = [SETUP, SHOW, checked("assert patient.code", "test_show")]
    assert skipped(cells) == []
    # the submission's copy of the test says nothing of `patient`; the instructor's does
    theirs = [SETUP, SHOW, checked("pass", "test_show")]
    assert skipped(theirs, instructor_cells=cells) == []


def test_a_demonstration_that_changes_what_a_later_cell_uses_keeps_running():
    cells = [SETUP, new_code_cell("net = make()", id="make"),
             demo("net.fit(X_train)", "fit"), new_code_cell("print(net.score())", id="use")]
    assert skipped(cells) == []


def test_only_the_instructors_tag_on_an_unchanged_cell_counts():
    plain = new_code_cell(SHOW.source, id="show")
    # tagged in the submission only: the student cannot make a cell go
    assert skipped([SETUP, SHOW], instructor_cells=[SETUP, plain]) == []
    # edited by the student: their code now, it runs
    edited = demo(SHOW.source + "\nhelper = 1", "show")
    assert skipped([SETUP, edited], instructor_cells=[SETUP, SHOW]) == []
    # an answer or a test cell never goes, whatever its tags
    tagged_answer = answer("def train(seed):\n    return seed", "train")
    tagged_answer.metadata["tags"] = [SKIP_TAG]
    assert tagged_cells(new_notebook(cells=[tagged_answer])) == {}
    assert skipped([SETUP, tagged_answer]) == []


def test_without_the_instructors_notebook_nothing_is_left_out():
    # the judge falls back to the notebook itself, trusting only locked and test cells
    nb = new_notebook(cells=[SETUP, SHOW, SWEEP, new_markdown_cell("text")])
    fallback = Instructor.from_notebook(nb, trusted=lambda c: bool(
        c.get("metadata", {}).get("nbgrader", {}).get("locked")))
    assert fallback.skippable == {}


# ------------------------------------------------------------------ the real course

@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_cell_the_course_tags_is_left_out_of_a_perfect_run(name):
    """The source notebook is the perfect submission (answers and tests as written): each
    tagged cell goes, so no tag is dead weight, and none is on a graded cell."""
    path = ROOT / "notebooks" / f"{name}.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    instructor = Instructor.read(path)
    tags = [c.get("id") for c in nb.cells if SKIP_TAG in c.get("metadata", {}).get("tags", [])]
    assert sorted(instructor.skippable) == sorted(tags), "a tag on a graded cell"
    left_out = {nb.cells[i].get("id") for i in cells_to_skip(
        nb, instructor.skippable, instructor.tests, set(instructor.imports))}
    assert left_out == set(tags), f"tagged but run: {sorted(set(tags) - left_out)}"


def test_a_crafted_cell_is_read_by_its_words_and_never_breaks_the_analysis():
    """The analysis runs in the grader on the student's cells: a cell too long to parse
    cheaply, or one that sends the parser into recursion, counts every word as read."""
    long_cell = "z = " + " + ".join(f"a{i}" for i in range(5_000)) + "\npatient.X"
    assert reads(long_cell) == set(WORD.findall(long_cell))
    deep = "x = " + "-" * 100_000 + "patient"
    assert "patient" in reads(deep)
    mine = answer("def train(seed):\n    return seed", "train")
    for crafted in (long_cell, deep):
        assert skipped([SETUP, SHOW, answer(crafted, "train"), SWEEP],
                       instructor_cells=[SETUP, SHOW, mine, SWEEP]) == ["sweep"]

"""`python -m nnlab.checks notebook`: a self-learner's whole-notebook check, run for real
(a kernel per run) on small nbgrader-style notebooks written here, and on a real course
notebook with a catalogued bug, against the grader's diagnosis of the same file."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from nnlab.checks.notebook import hidden_variant

ROOT = Path(__file__).resolve().parents[1]

SETUP = "import numpy as np\nfrom nnlab.checks import check_sigmoid"
NAIVE = "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))"
STABLE = ("def sigmoid(z):\n    z = np.asarray(z)\n    e = np.exp(-np.abs(z))\n"
          "    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))")
TEST = "# sigmoid: no overflow\ncheck_sigmoid(sigmoid)"


def _notebook(tmp_path, answer: str):
    def meta(**kw):
        base = {"grade": False, "solution": False, "locked": False, "schema_version": 3,
                "task": False}
        base.update(kw)
        return {"nbgrader": base}

    nb = new_notebook(cells=[
        new_markdown_cell("# a tiny course notebook"),
        new_code_cell(SETUP),
        new_code_cell(answer, metadata=meta(solution=True, grade_id="sigmoid")),
        new_code_cell(TEST, metadata=meta(grade=True, locked=True, grade_id="test_sigmoid",
                                          points=3)),
    ])
    path = tmp_path / "00_tiny.ipynb"
    nbformat.write(nb, str(path))
    return path


def _run(*args):
    return subprocess.run([sys.executable, "-m", "nnlab.checks", "notebook", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_a_buggy_notebook_gets_the_graders_diagnosis_and_exit_1(tmp_path):
    path = _notebook(tmp_path, NAIVE)
    before = path.read_bytes()
    done = _run(path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAIL  test_sigmoid (3 points)" in done.stdout
    assert "check_sigmoid found bug B17" in done.stdout
    assert "0 of 3 points" in done.stdout
    assert path.read_bytes() == before, "the notebook file must not change"


@pytest.mark.slow
def test_a_right_notebook_passes_visible_and_hidden_with_exit_0(tmp_path):
    done = _run(_notebook(tmp_path, STABLE))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS  test_sigmoid (3 points)" in done.stdout and "3 of 3 points" in done.stdout


def test_a_missing_file_is_named_with_exit_2(tmp_path):
    done = _run(tmp_path / "nope.ipynb")
    assert done.returncode == 2 and "nope.ipynb: no such notebook" in done.stderr


def test_the_hidden_run_adds_hidden_true_to_every_check_call():
    got = hidden_variant("# dense\ncheck_dense(Dense)\nx = 1\ncheck_dense(Dense, part='init')")
    assert got.splitlines()[1:] == ["check_dense(Dense, hidden=True)", "x = 1",
                                    "check_dense(Dense, part='init', hidden=True)"]
    # a source notebook's test cell already makes its hidden call: nothing to add
    assert hidden_variant("check_x(f, hidden=True)") is None
    assert hidden_variant("assert z_by_hand == [1]") is None


def _bugs_named(report: str) -> set[tuple[str, str]]:
    """(grade id, bug id) of each failing test cell in the command's report."""
    named = set()
    for block in re.split(r"^(?=PASS|FAIL)", report, flags=re.M):
        head = re.match(r"FAIL  (\w+) ", block)
        if head:
            bug = re.search(r"found bug (B\d+)", block)
            named.add((head[1], bug[1] if bug else ""))
    return named


@pytest.mark.slow
@pytest.mark.xdist_group("grading-checks_notebook")
def test_a_course_notebook_with_a_catalogued_bug_gets_the_graders_diagnosis(tmp_path):
    """The README's example, student/03_hidden_layer.ipynb, with seed 002's ReLU derivative
    (B8) typed into the solved release: the command names the bug the grader names."""
    from autograder.injections import BUGS
    from autograder.sample import solved

    name, root = "03_hidden_layer", tmp_path / "course"
    (bug,) = [b for b in BUGS[name] if b.bug == "B8"]

    def cli(*args):
        done = subprocess.run([sys.executable, "-m", "autograder", *args, "--course", str(root)],
                              capture_output=True, text=True, timeout=1800, cwd=ROOT)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    cli("release", name)
    release = nbformat.read(str(root / "release" / name / f"{name}.ipynb"), as_version=4)
    nb = solved(release, nbformat.read(str(ROOT / "notebooks" / f"{name}.ipynb"), as_version=4))
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == bug.answer]
    cell.source = bug.code
    submitted = root / "submitted" / "learner" / name / f"{name}.ipynb"
    submitted.parent.mkdir(parents=True)
    nbformat.write(nb, str(submitted))

    mine = _run(submitted)
    assert mine.returncode == 1, mine.stdout + mine.stderr
    cli("grade")
    cli("report")
    with open(root / "reports" / "diagnoses.csv", newline="") as fh:
        graders = {(d["grade_id"], d["bug"]) for d in csv.DictReader(fh)
                   if d["student"] == "learner"}
    assert graders == {(bug.test, "B8")}, graders
    assert _bugs_named(mine.stdout) == graders, mine.stdout

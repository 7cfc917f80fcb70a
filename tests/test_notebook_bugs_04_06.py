"""Bug injections for notebooks 04-06, graded by real nbgrader.

Each injection replaces one answer cell of a correct submission with a catalogued bug,
autogrades it with `nbgrader autograde` in a temporary course, and requires that the
named test cell scores 0 and that its feedback names the bug. The correct submission
must score full marks, so a test cell that always fails is caught too.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.injections import BUGS_04_06

ROOT = Path(__file__).resolve().parents[1]
NBGRADER = [sys.executable, "-m", "nbgrader"]


# The injections live in autograder/injections.py (the demo class is built from them too).
INJECTIONS = BUGS_04_06


# --------------------------------------------------------------------------- the course

SOLUTION_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


def completed(source_cell: str) -> str:
    """What a student who solved the cell would have in it: the source minus the markers."""
    return "\n".join(line for line in source_cell.splitlines()
                     if not SOLUTION_MARKERS.match(line))


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1", MPLBACKEND="Agg")
    proc = subprocess.run([*NBGRADER, *args], cwd=course, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{proc.stderr[-3000:]}"
    return proc


def submission(release: Path, source: Path, replace: dict[str, str]) -> nbformat.NotebookNode:
    """The released notebook with every answer filled in from the source notebook, except
    the answer cells in `replace` (grade_id -> cell text)."""
    answers = {}
    for cell in nbformat.read(source, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            answers[meta["grade_id"]] = completed(cell.source)
    nb = nbformat.read(release, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in replace:
            cell.source = replace[grade_id]
        elif grade_id in answers:
            cell.source = answers[grade_id]
    return nb


def cell_output(nb: nbformat.NotebookNode, grade_id: str) -> str:
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            parts = []
            for out in cell.get("outputs", []):
                parts += [out.get("text", ""), out.get("evalue", ""),
                          "\n".join(out.get("traceback", []))]
            return "\n".join(parts)
    raise KeyError(f"no cell with grade_id {grade_id!r}")


@pytest.fixture(scope="module", params=sorted(INJECTIONS))
def graded(request, tmp_path_factory):
    """Autograde, in one nbgrader run, a correct submission and one submission per bug.

    Returns (notebook name, course dir, gradebook as {student: {test grade_id: (score,
    max)}}).
    """
    name = request.param
    course = tmp_path_factory.mktemp(f"course_{name}")
    (course / "source" / name).mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / f"{name}.ipynb", course / "source" / name)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{course}/gradebook.db'\n"
        "c.Execute.timeout = 120\n")
    nbgrader(course, "generate_assignment", name, "--force")
    release = course / "release" / name / f"{name}.ipynb"
    source = course / "source" / name / f"{name}.ipynb"
    students = {"correct": {}}
    for i, inj in enumerate(INJECTIONS[name]):
        students[f"bug{i}"] = {inj.answer: inj.source}
    for student, replace in students.items():
        folder = course / "submitted" / student / name
        folder.mkdir(parents=True)
        nbformat.write(submission(release, source, replace), folder / f"{name}.ipynb")
    nbgrader(course, "autograde", name)

    from nbgrader.api import Gradebook

    scores: dict[str, dict[str, tuple[float, float]]] = {}
    gb = Gradebook(f"sqlite:///{course}/gradebook.db")
    try:
        for student in students:
            sub = gb.find_submission_notebook(name, name, student)
            scores[student] = {g.name: (g.score, g.max_score) for g in sub.grades
                               if g.cell_type == "code" and g.max_score}
    finally:
        gb.close()
    return name, course, scores


def manifest_tests(name: str) -> set[str]:
    manifest = json.loads((ROOT / "notebooks" / "manifest.json").read_text())
    return {c["grade_id"] for c in manifest["notebooks"][name]["cells"] if c["kind"] == "test"}


@pytest.mark.slow
@pytest.mark.xdist_group("notebook_bugs_04_06")
def test_correct_submission_gets_full_marks(graded):
    name, _, scores = graded
    correct = scores["correct"]
    assert set(correct) == manifest_tests(name), "gradebook and manifest disagree on tests"
    lost = {gid: s for gid, s in correct.items() if s[0] != s[1]}
    assert not lost, f"{name}: the source notebook's own solutions lose points: {lost}"


@pytest.mark.slow
@pytest.mark.xdist_group("notebook_bugs_04_06")
def test_each_injected_bug_is_caught_and_named(graded):
    name, course, scores = graded
    problems = []
    for i, inj in enumerate(INJECTIONS[name]):
        student = f"bug{i}"
        score, max_score = scores[student][inj.test]
        if score != 0:
            problems.append(f"{inj.bug} in {inj.answer}: {inj.test} scored {score}/{max_score}")
            continue
        graded_nb = nbformat.read(
            course / "autograded" / student / name / f"{name}.ipynb", as_version=4)
        text = cell_output(graded_nb, inj.test)
        if f"found bug {inj.bug}" not in text:
            problems.append(f"{inj.bug} in {inj.answer}: {inj.test} failed without naming "
                            f"it:\n{text[-800:]}")
    assert not problems, "\n".join(problems)

"""The README's instructor path on the real course, through the public command line only.

Every notebook in notebooks/manifest.json is released with `python -m autograder release`;
a small class hands it in: `perfect` (the instructor's solutions), `blank` (the release as
given), `buggy` (the solutions with one catalogued bug per notebook, taken from the bug
injections the notebook tests already define) and `absent` (one notebook handed in, no
folder for the others). Then `grade` with its default limits, `feedback` and `report`;
the tests read only the course folder: reports/*.csv and feedback/*.html. The same three
students are graded once more with `--run-every-cell`, which must change no verdict.
"""

from __future__ import annotations

import csv
import html
import json
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("grading-course_e2e")]
# This file's tests share one xdist worker (their module fixtures grade once); other
# grading files may run beside them: each set of limits has its own kernelspec
# (kernel.spec_name) and each worker its own kernel user (kernel.claim_slot).

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = json.loads((ROOT / "notebooks" / "manifest.json").read_text())["notebooks"]
NOTEBOOKS = sorted(MANIFEST)
SOLUTION_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)


# A student whose train_xor reads the global X, y of 04's first demonstration (tagged
# skip-in-grading) instead of making its own: that demonstration must run for them, and so
# must the next, which hands X and y to calls that could change them; the rest still go.
GLOBALS_READER = ("04_xor", "X, y = xor_gate()", {"nb04-04-b4", "nb04-06-by-hand"})


def _points(name: str, kind: str) -> dict[str, float]:
    return {c["grade_id"]: c["points"] for c in MANIFEST[name]["cells"] if c["kind"] == kind}


def catalogued_bugs() -> dict[str, object]:
    """notebook -> one bug injection (fields answer, source, test, bug), from the notebook
    tests' own tables, so this test grades bugs they prove are named. Per notebook, the
    injection into the LAST answer cell: no later test cell calls it, so it costs its own
    test cell alone (a bug in `neuron_forward` also fails `train_neuron`, rightly)."""
    from autograder.injections import BUGS

    chosen = {}
    for name, bugs in BUGS.items():
        if name not in MANIFEST or not bugs:
            continue
        order = [c["grade_id"] for c in MANIFEST[name]["cells"]]
        chosen[name] = max(bugs, key=lambda b: order.index(b.answer))
    return chosen


def _gid(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _filled(release, source, replace: dict[str, str] | None = None):
    """The release with the instructor's answers typed in (markers dropped), some replaced."""
    answers = {_gid(c): "\n".join(line for line in c.source.splitlines()
                                  if not SOLUTION_MARKER.match(line))
               for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    answers.update(replace or {})
    nb = nbformat.from_dict(json.loads(json.dumps(release)))
    for cell in nb.cells:
        if _gid(cell) in answers:
            cell.source = answers[_gid(cell)]
    return nb


def _cli(*args: str, timeout: int = 3600) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)
    assert done.returncode == 0, (f"python -m autograder {' '.join(args)} exited "
                                  f"{done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("course-e2e") / "course"
    started = time.perf_counter()
    out = _cli("release", "--course", str(root)).stdout
    bugs = catalogued_bugs()
    for name in NOTEBOOKS:
        assert f"release {name}: ok" in out, out
        release = nbformat.read(str(root / "release" / name / f"{name}.ipynb"), as_version=4)
        source = nbformat.read(str(ROOT / "notebooks" / f"{name}.ipynb"), as_version=4)
        students = {"perfect": _filled(release, source), "blank": release}
        if name in bugs:
            bug = bugs[name]
            code = textwrap.dedent(bug.source).strip("\n")
            students["buggy"] = _filled(release, source, {bug.answer: code})
        if name == NOTEBOOKS[0]:
            students["absent"] = release
        if name == GLOBALS_READER[0]:  # train_xor on the X, y a demonstration set
            answer = next(c.source for c in source.cells if _gid(c) == "train_xor")
            students["reads-globals"] = _filled(release, source, {"train_xor": "\n".join(
                line for line in answer.splitlines() if line.strip() != GLOBALS_READER[1]
                and not SOLUTION_MARKER.match(line))})
        for student, nb in students.items():
            folder = root / "submitted" / student / name
            folder.mkdir(parents=True)
            nbformat.write(nb, str(folder / f"{name}.ipynb"))
    graded = _cli("grade", "--course", str(root))
    feedback = _cli("feedback", "--course", str(root))
    report = _cli("report", "--course", str(root))
    # a cost figure for the log, never asserted on (the machine is shared)
    print(f"\ncourse e2e: {len(NOTEBOOKS)} notebooks, release+grade+feedback+report in "
          f"{time.perf_counter() - started:.0f} s wall")
    with open(root / "reports" / "grades.csv", newline="") as fh:
        grades = {(r["student"], r["assignment"]): r for r in csv.DictReader(fh)}
    with open(root / "reports" / "diagnoses.csv", newline="") as fh:
        diagnoses = list(csv.DictReader(fh))
    return {"root": root, "grades": grades, "diagnoses": diagnoses, "bugs": bugs,
            "out": {"grade": graded.stdout, "feedback": feedback.stdout,
                    "report": report.stdout}}


def test_every_manifest_notebook_has_a_catalogued_bug_to_grade():
    missing = [n for n in NOTEBOOKS if n not in catalogued_bugs()]
    assert not missing, (f"no bug injection for {missing}: add one to BUGS in "
                         "tests/test_notebooks.py, a tests/notebook_bugs_*.py, or INJECTIONS in "
                         "tests/test_notebook_bugs_04_06.py")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_the_solutions_get_every_automatic_point(course, name):
    row = course["grades"][("perfect", name)]
    auto, manual = _points(name, "test"), _points(name, "manual")
    assert row["status"] == "graded" and not row["reasons"], row
    assert float(row["score"]) == sum(auto.values()), row
    assert float(row["max_score"]) == sum(auto.values()) + sum(manual.values()), row
    assert not [d for d in course["diagnoses"]
                if d["student"] == "perfect" and d["assignment"] == name]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_the_blank_release_is_graded_zero_not_an_error(course, name):
    row = course["grades"][("blank", name)]
    assert row["status"] == "graded" and not row["reasons"], row
    assert float(row["score"]) == 0.0, row


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_catalogued_bug_costs_exactly_its_test_cell_and_is_named(course, name):
    bug = course["bugs"].get(name)
    if bug is None:
        pytest.fail(f"no catalogued bug for {name} (see the test above)")
    row = course["grades"][("buggy", name)]
    auto = _points(name, "test")
    assert row["status"] == "graded", row
    assert float(row["score"]) == sum(auto.values()) - auto[bug.test], (row, bug.test)
    mine = {(d["grade_id"], d["bug"]) for d in course["diagnoses"]
            if d["student"] == "buggy" and d["assignment"] == name}
    assert mine == {(bug.test, bug.bug or "")}, (bug, mine)


def test_a_student_without_a_folder_is_missing_not_zero(course):
    for name in NOTEBOOKS[1:]:
        row = course["grades"][("absent", name)]
        assert row["status"] == "missing" and row["score"] == "", row
    assert course["grades"][("absent", NOTEBOOKS[0])]["status"] == "graded"
    assert "0 submission(s) graded with a problem" in course["out"]["grade"]
    # absent and reads-globals each hand in one notebook
    assert f"{2 * (len(NOTEBOOKS) - 1)} missing" in course["out"]["grade"]


def _visible_text(page: str) -> str:
    """The text a reader of the HTML sees: tags (the syntax highlighting) dropped."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def _secret_lines(root: Path, name: str) -> set[str]:
    """Lines between BEGIN/END HIDDEN TESTS in the source that the release never shows
    (00 shows its hidden calls on purpose, to explain grading: those are not secret)."""
    cells = nbformat.read(str(ROOT / "notebooks" / f"{name}.ipynb"), as_version=4).cells
    release = nbformat.read(str(root / "release" / name / f"{name}.ipynb"), as_version=4)
    public = {line.strip() for c in release.cells for line in c.source.splitlines()}
    secret = {line.strip() for c in cells for block in HIDDEN.findall(c.source)
              for line in block.splitlines()} - public
    return {line for line in secret if len(line) >= 6}  # not `)` or `pass`


def test_the_course_has_hidden_test_code_to_keep_secret(course):
    with_secrets = [n for n in NOTEBOOKS if _secret_lines(course["root"], n)]
    assert len(with_secrets) >= len(NOTEBOOKS) - 1, with_secrets


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_feedback_never_contains_hidden_test_code(course, name):
    root = course["root"]
    secret = _secret_lines(root, name)
    release = nbformat.read(str(root / "release" / name / f"{name}.ipynb"), as_version=4)
    visible_tests = {line.strip() for c in release.cells
                     if c.metadata.get("nbgrader", {}).get("grade")
                     and not c.metadata.nbgrader.get("solution")
                     for line in c.source.splitlines() if line.strip().startswith("check_")}
    for student in ("perfect", "blank", "buggy"):
        path = root / "feedback" / student / name / f"{name}.html"
        if student == "buggy" and name not in course["bugs"]:
            continue
        assert path.is_file(), f"no feedback {path}: {course['out']['feedback']}"
        text = _visible_text(path.read_text())
        # the search works: the public test calls are found in the same text
        assert any(line in text for line in visible_tests), (name, student, visible_tests)
        leaked = sorted(line for line in secret if line in text)
        assert not leaked, f"{path} shows hidden test code: {leaked}"


@pytest.fixture(scope="module")
def every_cell(course, tmp_path_factory):
    """The perfect, blank and buggy students graded again, the demonstrations tagged
    skip-in-grading run too (`grade --run-every-cell`)."""
    root = tmp_path_factory.mktemp("course-every-cell") / "course"
    _cli("release", "--course", str(root))
    for student in ("perfect", "blank", "buggy"):
        shutil.copytree(course["root"] / "submitted" / student, root / "submitted" / student)
    graded = _cli("grade", "--course", str(root), "--run-every-cell")
    _cli("report", "--course", str(root))
    with open(root / "reports" / "grades.csv", newline="") as fh:
        grades = {(r["student"], r["assignment"]): r for r in csv.DictReader(fh)}
    with open(root / "reports" / "diagnoses.csv", newline="") as fh:
        diagnoses = list(csv.DictReader(fh))
    return {"root": root, "grades": grades, "diagnoses": diagnoses, "out": graded.stdout}


def _tagged(name: str) -> set[str]:
    from autograder.skipping import SKIP_TAG

    nb = nbformat.read(str(ROOT / "notebooks" / f"{name}.ipynb"), as_version=4)
    return {c.get("id") for c in nb.cells if SKIP_TAG in c.metadata.get("tags", [])}


def _left_out(root: Path, student: str, name: str) -> set[str]:
    from autograder.skipping import NOTE

    nb = nbformat.read(str(root / "autograded" / student / name / f"{name}.ipynb"),
                       as_version=4)
    return {c.get("id") for c in nb.cells if c.cell_type == "code"
            and [o.get("text") for o in c.get("outputs", [])] == [NOTE]}


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_leaving_out_the_demonstrations_changes_no_verdict(course, every_cell, name):
    fields = ("status", "score", "max_score", "reasons")
    for student in ("perfect", "blank", "buggy"):
        mine, theirs = course["grades"][(student, name)], every_cell["grades"][(student, name)]
        assert [mine[f] for f in fields] == [theirs[f] for f in fields], (student, mine, theirs)

    def said(diagnoses):
        return sorted((d["student"], d["grade_id"], d["bug"], d["message"]) for d in diagnoses
                      if d["assignment"] == name and d["student"] != "absent")

    assert said(course["diagnoses"]) == said(every_cell["diagnoses"])
    # and the default run did leave them out, of the perfect submission every tagged one
    assert _left_out(course["root"], "perfect", name) == _tagged(name) != set()
    assert _left_out(every_cell["root"], "perfect", name) == set()


def test_a_demonstration_a_students_answer_reads_is_run_for_them(course):
    name, _, kept = GLOBALS_READER
    row, perfect = course["grades"][("reads-globals", name)], course["grades"][("perfect", name)]
    assert (row["status"], row["score"]) == ("graded", perfect["score"]), row
    left_out = _left_out(course["root"], "reads-globals", name)
    assert left_out == _tagged(name) - kept, left_out

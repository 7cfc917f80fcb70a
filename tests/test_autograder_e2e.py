"""The class grader end to end with real nbgrader, real kernels and a real gradebook.

One small class is graded once per module: the toy assignment (sigmoid and its
derivative, 3 + 3 points) handed in by one student per scenario in
tests/fixtures/submissions/ (perfect, blank, two catalogued bugs, every fault and every
cheat). The grader is SIGKILLed after its first record and run again, so every test below
also checks that the resumed run finished the class.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from autograder import grade, report, sandbox, steps
from autograder.course import Course

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("grading-autograder_e2e")]
# This file's tests share one xdist worker (their module fixtures grade once); other
# grading files may run beside them: each set of limits has its own kernelspec
# (kernel.spec_name) and each worker its own kernel user (kernel.claim_slot).

FIXTURES = Path(__file__).parent / "fixtures" / "submissions"
LIMITS = {"timeout_cell": 5, "timeout_submission": 30}
ROOT = os.geteuid() == 0
# In the bubblewrap sandbox the kernel grading `toy` has no nnlab reference of sigmoid
# (a stub that raises stands in its place) and no course files at all.
SANDBOXED = sandbox.unavailable() is None

# scenario -> (status, reasons that must be recorded, score out of 6; None = no score)
EXPECTED = {
    "perfect": ("graded", [], 6.0),
    "blank": ("graded", [], 0.0),
    "bug-B17": ("graded", [], 3.0),
    "bug-B18": ("graded", [], 3.0),
    "passes-public-fails-hidden": ("graded", [], 3.0),
    "infinite-loop": ("error:cell-timeout", ["cell-timeout"], 3.0),
    "interrupt-swallowing-loop": ("error:kernel-unresponsive", ["kernel-unresponsive"], 3.0),
    "dead-kernel": ("error:kernel-died", ["kernel-died"], 3.0),
    "memory-bomb": ("error:memory-limit", ["memory-limit"], 3.0),
    "fork-bomb": ("error:process-limit", ["process-limit"], 3.0),
    "output-flood": ("error:output-flood", ["output-flood"], 6.0),
    "input-call": ("error:input-call", ["input-call"], 3.0),
    "corrupt-json": ("error:corrupt-json", [], None),
    "test-cell-deleted": ("error:cells-deleted", ["cells-deleted"], 6.0),
    "test-cell-duplicated": ("error:cells-duplicated", ["cells-duplicated"], 6.0),
    "missing-notebook": ("missing", ["wrong-files"], None),
    "cheat-monkeypatch": ("graded", [], 0.0),
    "cheat-always-equal": ("graded", [], 0.0),
    "cheat-input-transformer": ("graded", [], 0.0),
    "cheat-read-source": ("graded", [], 0.0),
    # its sigmoid calls the withheld reference, and its derivative calls its sigmoid
    # the sigmoid calls the reference: no marks; the derivative built on it is right, and the
    # check, rerun on a reference sigmoid, gives it its points and names the sigmoid cell
    "cheat-calls-reference": ("graded", [], 3.0),
    "cheat-read-source-by-path": ("graded", [], 6.0),
    "cheat-shadow-package": ("graded", [], 0.0),
    "cheat-symlinks": ("graded", [], 6.0),
    # issue 9's attacks on a verdict decided in the kernel: junk answers, no marks
    "cheat-shell-class": ("graded", [], 0.0),
    "cheat-compile": ("graded", [], 0.0),
    "cheat-swap-code": ("graded", [], 0.0),
    "cheat-event-callback": ("graded", [], 0.0),
    "cheat-oracle-server": ("graded", [], 0.0),
    "cheat-thread-repatch": ("graded", [], 0.0),
    "cheat-reference-clone": ("graded", [], 0.0),
    # honest but unusual: full marks
    "honest-expit": ("graded", [], 6.0),
    "honest-callable-object": ("graded", [], 6.0),
}
READ_BY_PATH = """_reached = []
for _path, _mode in [({source!r}, "r"), ({db!r}, "ab")]:
    try:
        open(_path, _mode).close()
        _reached.append("opened")
    except OSError as _error:
        _reached.append(type(_error).__name__)
print("reached:", _reached)"""
# cheat -> words one of its integrity flags must contain
DISAGREES = "the kernel's own run of this test disagrees with the grader's verdict: "
NOT_RUN = DISAGREES + "the test cell did not run as written in the kernel"
CHEAT_FLAGS = {
    "cheat-monkeypatch": DISAGREES + "the notebook's check_sigmoid is not the grader's stub",
    "cheat-always-equal": "defines `__eq__`",
    "cheat-input-transformer": NOT_RUN,
    "cheat-shell-class": NOT_RUN,
    "cheat-compile": NOT_RUN,
    "cheat-swap-code": NOT_RUN,
    "cheat-thread-repatch": NOT_RUN,
    "cheat-event-callback": DISAGREES + "the notebook's check_sigmoid is not the grader's stub",
    "cheat-oracle-server": DISAGREES + "the kernel could not say what the test cell ran",
    "cheat-reference-clone": "check_sigmoid cannot trust this answer: ",
    "cheat-read-source": "names the grader's files",
    "cheat-read-source-by-path": "names the grader's files ('/",
    "cheat-shadow-package": "not given to the kernel: nnlab",
    "cheat-symlinks": "links handed in were not followed: answers.ipynb, data/db",
}
if not SANDBOXED:  # caught by the check itself, in the kernel: the integrity report names it
    CHEAT_FLAGS["cheat-calls-reference"] = "check_sigmoid cannot trust this answer: "


def _status_records(course: Course) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(course.status_dir.glob("*/*.json"))]


def _gradebook_rows(course: Course) -> list[tuple]:
    """(student, grade cell, auto score, manual score, grade row id) for every grade."""
    with sqlite3.connect(course.db) as db:
        return db.execute(
            "SELECT submitted_assignment.student_id, base_cell.name, grade.auto_score, "
            "grade.manual_score, grade.id FROM grade "
            "JOIN base_cell ON grade.cell_id = base_cell.id "
            "JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
            "JOIN submitted_assignment ON submitted_notebook.assignment_id = "
            "submitted_assignment.id "
            "ORDER BY submitted_assignment.student_id, base_cell.name").fetchall()


def _build_class(course: Course) -> None:
    for fixture in sorted(FIXTURES.glob("submitted-*.ipynb")):
        scenario = fixture.stem.removeprefix("submitted-")
        dest = course.submission(scenario, "toy")
        dest.parent.mkdir(parents=True)
        shutil.copyfile(fixture, dest)
    # A student who handed in the wrong file: the notebook itself is missing.
    folder = course.submitted / "missing-notebook" / "toy"
    folder.mkdir(parents=True)
    (folder / "my answers.txt").write_text("I could not get Jupyter to start\n")
    # A student who knows where the course lives: built here, the path is only known now.
    nb = nbformat.read(str(FIXTURES / "submitted-perfect.ipynb"), as_version=4)
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    answer.source = READ_BY_PATH.format(source=str(course.source / "toy" / "toy.ipynb"),
                                        db=str(course.db)) + "\n\n" + answer.source
    dest = course.submission("cheat-read-source-by-path", "toy")
    dest.parent.mkdir(parents=True)
    nbformat.write(nb, str(dest))
    # Links handed in beside the notebook, to the instructor's notebook and the gradebook.
    nb = nbformat.read(str(FIXTURES / "submitted-perfect.ipynb"), as_version=4)
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    answer.source = READ_BY_PATH.format(source="answers.ipynb", db="data/db") + "\n\n" \
        + answer.source
    dest = course.submission("cheat-symlinks", "toy")
    (dest.parent / "data").mkdir(parents=True)
    nbformat.write(nb, str(dest))
    (dest.parent / "answers.ipynb").symlink_to(course.source / "toy" / "toy.ipynb")
    (dest.parent / "data" / "db").symlink_to(course.db)
    # A blank notebook handed in beside a fake `nnlab` whose checks pass everything: the
    # kernel's folder comes first on sys.path, so it would shadow the real package.
    dest = course.submission("cheat-shadow-package", "toy")
    (dest.parent / "nnlab").mkdir(parents=True)
    shutil.copyfile(FIXTURES / "submitted-blank.ipynb", dest)
    (dest.parent / "nnlab" / "__init__.py").write_text("")
    (dest.parent / "nnlab" / "checks.py").write_text(
        "class CheckFailed(Exception):\n    pass\n\n"
        "def check_sigmoid(*a, **k):\n    pass\n\n"
        "def check_sigmoid_derivative(*a, **k):\n    pass\n")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The toy class: released, graded (killed once mid-batch, then resumed), reported."""
    course = Course(tmp_path_factory.mktemp("course"))
    assert steps.release(course, notebooks=FIXTURES / "instructor") == {"toy": "ok"}
    _build_class(course)
    started = time.perf_counter()
    cli = subprocess.Popen(
        [sys.executable, "-m", "autograder", "grade", "--course", str(course.root),
         "--jobs", "2", "--timeout-cell", str(LIMITS["timeout_cell"]),
         "--timeout-submission", str(LIMITS["timeout_submission"])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while not any(course.status_dir.glob("*/*.json")) and time.time() < deadline:
        time.sleep(0.2)
    os.killpg(cli.pid, signal.SIGKILL)
    cli.wait()
    killed_at = len(_status_records(course))
    first = grade.run(course, jobs=2, **LIMITS, echo=lambda *a: None)
    seconds = time.perf_counter() - started
    paths = report.write(course, echo=lambda *a: None)
    print(f"\ntoy class of {len(EXPECTED)} graded in {seconds:.1f} s "
          f"(killed after {killed_at} records)")
    return {"course": course, "killed_at": killed_at, "resumed": first, "paths": paths,
            "seconds": seconds}


@pytest.fixture(scope="module")
def rows(graded) -> dict[str, dict]:
    with open(graded["paths"]["grades"], newline="") as fh:
        return {r["student"]: r for r in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def records(graded) -> dict[str, dict]:
    return {r["student"]: r for r in _status_records(graded["course"])}


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_each_scenario_gets_its_status_reason_and_score(scenario, rows, records):
    status, reasons, score = EXPECTED[scenario]
    row = rows[scenario]
    assert row["status"] == status, (row, records.get(scenario, {}).get("detail"))
    for reason in reasons:
        assert reason in row["reasons"].split(), row
    if score is None:
        assert row["score"] == "", row
    else:
        assert float(row["score"]) == score, (row, records[scenario].get("diagnoses"))
        assert float(row["max_score"]) == 6.0


def test_no_failure_is_a_silent_zero(rows, records):
    for student, row in rows.items():
        record = records[student]
        if row["status"] == "graded":
            # every lost point is a failing check on record, with its message
            lost = 6.0 - float(row["score"])
            failing = {d["grade_id"] for d in record["diagnoses"] if d["message"]}
            assert lost == 3.0 * len(failing), (row, record["diagnoses"])
        elif row["status"] == "missing":
            assert row["score"] == "" and record["detail"], row
        else:
            assert row["status"].removeprefix("error:") in row["reasons"].split() \
                or record["detail"], row


def test_unreadable_submissions_say_why(records):
    assert "not valid JSON" in records["corrupt-json"]["detail"]
    assert "my answers.txt" in records["missing-notebook"]["detail"]
    assert "test_sigmoid" in records["test-cell-deleted"]["detail"]


@pytest.mark.parametrize("cheat", sorted(CHEAT_FLAGS))
def test_cheats_are_flagged(cheat, graded):
    with open(graded["paths"]["integrity"], newline="") as fh:
        flags = [r["flag"] for r in csv.DictReader(fh) if r["student"] == cheat]
    assert any(CHEAT_FLAGS[cheat] in f for f in flags), flags


@pytest.mark.parametrize("student", ["perfect", "blank", "bug-B17", "bug-B18",
                                     "passes-public-fails-hidden", "honest-expit",
                                     "honest-callable-object"])
def test_honest_work_is_never_flagged_by_the_judge(student, graded):
    with open(graded["paths"]["integrity"], newline="") as fh:
        flags = [r["flag"] for r in csv.DictReader(fh) if r["student"] == student]
    assert not any(DISAGREES in f for f in flags), flags


def test_calling_the_reference_is_named(records):
    messages = [d["message"] for d in records["cheat-calls-reference"]["diagnoses"]]
    # Sandboxed, the reference is a stub that raises; the oracle's kernel-side watch sees
    # the call first and names it. Either way the answer earns nothing (EXPECTED).
    words = ["calls nnlab's reference `sigmoid`"]
    if SANDBOXED:
        words.append("nnlab's reference `sigmoid` is not available while notebook toy is graded")
    assert any(w in m for m in messages for w in words), messages


@pytest.mark.skipif(not ROOT, reason="the kernel runs as another user only when grading as root")
def test_the_kernel_cannot_reach_the_instructors_files(graded):
    course = graded["course"]
    kernel_info = json.loads((course.grader / "kernel.json").read_text())
    assert kernel_info["user"], kernel_info
    executed = nbformat.read(str(course.autograded / "cheat-read-source-by-path" / "toy"
                                 / "toy.ipynb"), as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    # in the sandbox the course's files do not exist at all; without it, they are refused
    error = "FileNotFoundError" if SANDBOXED else "PermissionError"
    assert f"reached: ['{error}', '{error}']" in printed, printed


def test_links_handed_in_give_the_kernel_nothing(graded):
    course = graded["course"]
    executed = nbformat.read(str(course.autograded / "cheat-symlinks" / "toy" / "toy.ipynb"),
                             as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert "opened" not in printed and "reached: [" in printed, printed
    assert course.db.stat().st_uid == os.geteuid()  # its owner was not changed through a link


def test_bugs_are_diagnosed(graded):
    with open(graded["paths"]["diagnoses"], newline="") as fh:
        found = {(r["student"], r["grade_id"], r["bug"]) for r in csv.DictReader(fh)}
    assert ("bug-B17", "test_sigmoid", "B17") in found
    assert ("bug-B18", "test_sigmoid_derivative", "B18") in found
    # the answer tuned to the public test fails the hidden probe at |z| = 1000, named B17
    assert ("passes-public-fails-hidden", "test_sigmoid", "B17") in found
    with open(graded["paths"]["summary_csv"], newline="") as fh:
        summary = {r["bug"]: r for r in csv.DictReader(fh)}
    assert summary["B17"]["students"] == "2" and summary["B18"]["students"] == "1"
    assert list(summary)[0] == "B17"  # the commonest bug first
    png = graded["paths"]["plot"].read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 2000
    text = graded["paths"]["summary_md"].read_text()
    assert "| B18 |" in text and "Status counts:" in text
    assert "| perfect | 6/6 |  |" in text
    assert "| dead-kernel | 3/6* | toy kernel-died; toy 1 integrity flag(s) |" in text


def test_kill_then_resume_loses_and_duplicates_nothing(graded, records):
    course = graded["course"]
    assert 1 <= graded["killed_at"] < len(EXPECTED)
    assert not graded["resumed"]["failed_workers"]
    assert graded["resumed"]["skipped"] >= graded["killed_at"]
    assert set(records) == set(EXPECTED)
    rows = _gradebook_rows(course)
    pairs = [(student, cell) for student, cell, *_ in rows]
    assert len(pairs) == len(set(pairs)), "a grade is in the gradebook twice"
    graded_students = {s for s, r in records.items() if r["score"] is not None}
    assert {s for s, _ in pairs} == graded_students
    assert all(len([p for p in pairs if p[0] == s]) == 2 for s in graded_students)


def test_grading_again_changes_nothing(graded):
    course = graded["course"]
    before_csv = graded["paths"]["grades"].read_bytes()
    before_rows = _gradebook_rows(course)
    again = grade.run(course, jobs=2, **LIMITS, echo=lambda *a: None)
    assert again["graded"] == 0 and again["skipped"] == len(EXPECTED)
    paths = report.write(course, echo=lambda *a: None)
    assert paths["grades"].read_bytes() == before_csv
    assert _gradebook_rows(course) == before_rows


def test_feedback_shows_the_diagnosis_and_hides_hidden_tests(graded):
    course = graded["course"]
    assert steps.feedback(course) == {"toy": "ok"}
    html = (course.feedback / "bug-B18" / "toy" / "toy.html").read_text()
    assert "B18" in html and "check_sigmoid_derivative found bug B18" in html
    for student in ("bug-B18", "passes-public-fails-hidden", "perfect"):
        html = (course.feedback / student / "toy" / "toy.html").read_text()
        for secret in ("hidden=True", "probe 7731", "probe 4412", "HIDDEN_MARKER"):
            assert secret not in html, (student, secret)
    # the hidden check is what failed here: its diagnosis is shown, its code is not
    html = (course.feedback / "passes-public-fails-hidden" / "toy" / "toy.html").read_text()
    assert "check_sigmoid found bug B17" in html and "# (hidden tests: not shown)" in html

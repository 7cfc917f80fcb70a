"""An LMS's zip of submissions in, its grade file out, through nbgrader's zip_collect.

A Canvas zip and a Moodle zip are built the way each LMS names its download (plus entries
no LMS writes: a glob in a name, a '..' id, a path that leaves the folder), collected with
`python -m autograder collect --zip`, graded with `grade`, and exported with `export`.
Costs about 30 s: four notebooks graded.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder import ids, lms, report, sample
from autograder.course import Course
from autograder.injections import BUGS

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("lms")]

ROOT = Path(__file__).resolve().parents[1]
NAME = "01_single_neuron"
BUG = next(b for b in BUGS[NAME] if b.bug == "B7")


def cli(course: Path, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "autograder", *args, "--course", str(course)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.mark.parametrize("bad", ["a*", "x?", "[ab]", "a/b", "..", "a..b", "a+b", ".hidden",
                                 "-rf", "", "x" * 65, "jane smith", "é"])
def test_unsafe_student_ids_are_refused_with_the_reason(bad):
    why = ids.refusal(bad, "somewhere")
    assert why is not None and repr(bad) in why and "somewhere" in why


@pytest.mark.parametrize("good", ["alice", "smithjane_1001", "jane.smith@uni.edu", "s-42"])
def test_plain_student_ids_pass(good):
    assert ids.problem(good) is None


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("lms")
    course = base / "course"
    cli(course, "release", NAME)
    c = Course(course)
    release = nbformat.read(c.release / NAME / f"{NAME}.ipynb", as_version=4)
    source = nbformat.read(c.source / NAME / f"{NAME}.ipynb", as_version=4)
    good = nbformat.writes(sample.solved(release, source))
    buggy_nb = sample.solved(release, source)
    for cell in sample.answer_cells(buggy_nb):
        if cell.metadata.nbgrader.grade_id == BUG.answer:
            cell.source = BUG.code
    buggy = nbformat.writes(buggy_nb)
    canvas = base / "submissions.zip"
    with zipfile.ZipFile(canvas, "w") as zf:
        zf.writestr(f"smithjane_1001_5001_{NAME}.ipynb", good)
        zf.writestr(f"doejohn_LATE_1002_5002_{NAME}-1.ipynb", buggy)
        zf.writestr("evil*_1003_5003_x.ipynb", good)
        zf.writestr("mallory_.._5004_x.ipynb", good)
        zf.writestr("smithjane_1001_5001_notes.txt", "my notes")
    moodle = base / "moodle.zip"
    with zipfile.ZipFile(moodle, "w") as zf:
        zf.writestr(f"Ana Lima_2001_assignsubmission_file_/{NAME}.ipynb", good)
        zf.writestr("Bob O'Neil_2002_assignsubmission_file_/Untitled.ipynb", buggy)
        zf.writestr("Eve_2*3_assignsubmission_file_/x.ipynb", good)
        zf.writestr("../outside.ipynb", good)
    collected = {"canvas": cli(course, "collect", NAME, "--zip", str(canvas), "--lms", "canvas"),
                 "moodle": cli(course, "collect", NAME, "--zip", str(moodle), "--lms", "moodle")}
    cli(course, "grade", "--jobs", "1")
    exported = {k: cli(course, "export", "--lms", k) for k in ("canvas", "moodle")}
    return {"course": c, "base": base, "collected": collected, "exported": exported}


def test_zip_collect_puts_each_student_in_submitted(graded):
    c = graded["course"]
    assert c.students() == ["analima_2001", "boboneil_2002", "doejohn_1002", "smithjane_1001"]
    for student in c.students():
        assert c.submission(student, NAME).is_file()
    # nbgrader's zip_collect conventions: the download and its extraction stay in downloaded/
    assert (c.root / "downloaded" / NAME / "archive" / "moodle.zip").is_file()
    assert (c.root / "downloaded" / NAME / "extracted").is_dir()


def test_unsafe_entries_are_refused_and_named(graded):
    canvas = graded["collected"]["canvas"].stderr
    moodle = graded["collected"]["moodle"].stderr
    assert "refused student id 'evil*_1003'" in canvas and "glob" in canvas, canvas
    assert "refused student id 'mallory_..'" in canvas and "'..'" in canvas, canvas
    assert "refused student id 'eve_2*3'" in moodle, moodle
    assert "refused zip entry '../outside.ipynb'" in moodle, moodle
    assert not (graded["base"] / "outside.ipynb").exists()
    assert not any(graded["course"].root.rglob("outside.ipynb"))


def _records(c: Course) -> dict:
    return {s: r for (s, a), r in report.records(c).items() if a == NAME}


def test_canvas_grade_file_has_canvas_columns_and_the_grades(graded):
    c = graded["course"]
    path = c.reports / "canvas_grades.csv"
    assert str(path) in graded["exported"]["canvas"].stdout
    rows = list(csv.reader(open(path, newline="")))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", NAME]
    recs = _records(c)
    assert rows[1][0] == "Points Possible" and float(rows[1][5]) == recs["smithjane_1001"][
        "max_score"]
    body = {r[1]: r for r in rows[2:]}
    assert set(body) == {"1001", "1002"}, "only Canvas students go in Canvas's file"
    assert body["1001"][0] == "smithjane"
    assert float(body["1001"][5]) == recs["smithjane_1001"]["score"]
    assert float(body["1002"][5]) == recs["doejohn_1002"]["score"]
    assert recs["doejohn_1002"]["score"] < recs["smithjane_1001"]["score"]


def test_moodle_worksheet_has_participants_grades_and_the_bug(graded):
    c = graded["course"]
    path = c.reports / f"moodle_grades_{NAME}.csv"
    rows = list(csv.DictReader(open(path, newline="")))
    assert list(rows[0]) == ["Identifier", "Full name", "Grade", "Maximum Grade",
                             "Feedback comments"]
    by = {r["Identifier"]: r for r in rows}
    assert set(by) == {"Participant 2001", "Participant 2002"}
    recs = _records(c)
    assert float(by["Participant 2001"]["Grade"]) == recs["analima_2001"]["score"]
    assert float(by["Participant 2002"]["Grade"]) == recs["boboneil_2002"]["score"]
    assert f"B7 in {BUG.test}" in by["Participant 2002"]["Feedback comments"]
    assert "B7" not in by["Participant 2001"]["Feedback comments"]


def test_export_without_lms_students_says_what_to_run(tmp_path):
    with pytest.raises(ValueError, match="collect --zip"):
        lms.export(Course(tmp_path / "empty"), "canvas")


@pytest.mark.parametrize("args, says", [
    (["collect"], "has no exchange: run `python -m autograder release --exchange DIR`"),
    (["collect", NAME, "--zip", str(ROOT / "README.md"), "--lms", "canvas"], "is not a zip"),
    (["export", "--lms", "moodle"], "run `collect --zip FILE --lms moodle ASSIGNMENT` first"),
])
def test_cli_refuses_bad_input_with_the_fix(tmp_path, args, says):
    done = subprocess.run([sys.executable, "-m", "autograder", *args, "--course",
                           str(tmp_path / "course")], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and says in done.stderr, (done.returncode, done.stderr)

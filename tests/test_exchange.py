"""The course through nbgrader's real exchange: release, fetch, submit, collect, grade,
return, fetch feedback.

A temporary exchange root (mode 1777) and a home folder per student; the students' side
runs nbgrader's own exchange classes (what the Assignments tab and `nbgrader fetch /
submit / fetch_feedback` call), the instructor's side runs `python -m autograder`. Alice
hands in a catalogued bug (B7, no bias), Bob the solutions. Costs about 40 s, most of it
the grading of two notebooks and nbgrader's imports in each command.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder import sample
from autograder.course import Course
from autograder.injections import BUGS

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("exchange")]

ROOT = Path(__file__).resolve().parents[1]
NAME = "01_single_neuron"
BUG = next(b for b in BUGS[NAME] if b.bug == "B7")


def cli(course: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "autograder", *args, "--course", str(course)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    if check:
        assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done


def as_student(exchange_root: Path, home: Path, student: str, action: str, **settings):
    """One student-side exchange action (fetch_assignment, submit, fetch_feedback)."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange import default
    from traitlets.config import Config

    config = Config()
    config.Exchange.root = str(exchange_root)
    config.Exchange.assignment_dir = str(home)
    config.Exchange.cache = str(home / ".nbgrader_cache")
    config.CourseDirectory.course_id = "nnlab"
    config.CourseDirectory.student_id = student
    config.CourseDirectory.assignment_id = NAME
    for dotted, value in settings.items():
        section, trait = dotted.split(".")
        setattr(config[section], trait, value)
    cls = {"fetch_assignment": default.ExchangeFetchAssignment, "submit": default.ExchangeSubmit,
           "fetch_feedback": default.ExchangeFetchFeedback}[action]
    cls(coursedir=CourseDirectory(config=config), authenticator=Authenticator(config=config),
        config=config).start()


def hidden_test_lines(source: Path) -> list[str]:
    lines = []
    for cell in nbformat.read(source, as_version=4).cells:
        for block in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS",
                                cell.source, flags=re.S):
            lines += [line.strip() for line in block.splitlines() if line.strip()]
    return lines


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    """One term on the exchange, run once: everything the tests below read."""
    base = tmp_path_factory.mktemp("term")
    course, root = base / "course", base / "exchange"
    released = cli(course, "release", NAME, "--exchange", str(root))
    homes = {s: base / "home" / s for s in ("alice", "bob")}
    for student, home in homes.items():
        home.mkdir(parents=True)
        as_student(root, home, student, "fetch_assignment")
    source = Course(course).source / NAME / f"{NAME}.ipynb"
    fetched = homes["alice"] / NAME / f"{NAME}.ipynb"
    nb = sample.solved(nbformat.read(fetched, as_version=4), nbformat.read(source, as_version=4))
    buggy = [c for c in sample.answer_cells(nb) if c.metadata.nbgrader.grade_id == BUG.answer]
    buggy[0].source = BUG.code
    nbformat.write(nb, fetched)
    solved = sample.solved(nbformat.read(homes["bob"] / NAME / f"{NAME}.ipynb", as_version=4),
                           nbformat.read(source, as_version=4))
    nbformat.write(solved, homes["bob"] / NAME / f"{NAME}.ipynb")
    for student, home in homes.items():
        as_student(root, home, student, "submit")
    # Two folders no honest student makes: a glob in the id, and one in Bob's name that
    # belongs to another system user.
    inbound = root / "nnlab" / "inbound"
    (inbound / f"a*+{NAME}+2026-01-01 00:00:00.000000 UTC").mkdir()
    forged = inbound / f"bob+{NAME}+2027-01-01 00:00:00.000000 UTC"
    forged.mkdir()
    nobody = pwd.getpwnam("nobody")
    os.chown(forged, nobody.pw_uid, nobody.pw_gid)
    collected = cli(course, "collect")
    graded = cli(course, "grade", "--jobs", "1")
    returned = cli(course, "return", NAME)
    for student, home in homes.items():
        as_student(root, home, student, "fetch_feedback")
    return {"course": Course(course), "root": root, "homes": homes, "released": released,
            "collected": collected, "graded": graded, "returned": returned, "source": source}


def test_release_publishes_to_the_exchange(term):
    outbound = term["root"] / "nnlab" / "outbound" / NAME / f"{NAME}.ipynb"
    assert outbound.is_file(), term["released"].stdout
    assert "BEGIN SOLUTION" not in outbound.read_text()
    assert oct(term["root"].stat().st_mode & 0o7777) == "0o1777"


def test_collect_takes_each_students_submission_and_refuses_forged_ids(term):
    course = term["course"]
    assert course.students() == ["alice", "bob"]
    out = term["collected"].stdout + term["collected"].stderr
    assert "refused student id 'a*'" in out and "glob character" in out, out
    assert "claims student 'bob' but belongs to system user 'nobody'" in out, out
    # Bob's notebook is his own (the forged, later folder was not taken): full solutions.
    text = course.submission("bob", NAME).read_text()
    assert "raise NotImplementedError" not in text


def test_grade_names_alices_bug_and_gives_bob_full_marks(term):
    from autograder import report

    records = report.records(term["course"])
    manifest = json.loads((ROOT / "notebooks" / "manifest.json").read_text())
    tests = {c["grade_id"] for c in manifest["notebooks"][NAME]["cells"] if c["kind"] == "test"}
    assert BUG.test in tests
    lost = {g: c for g, c in records[("bob", NAME)]["cells"].items()
            if g in tests and c["score"] != c["max"]}
    assert records[("bob", NAME)]["status"] == "graded" and not lost, lost
    assert records[("alice", NAME)]["cells"][BUG.test]["score"] == 0
    bugs = {(d["student"], d["grade_id"], d["bug"])
            for d in report.diagnosis_rows(term["course"])}
    assert ("alice", BUG.test, "B7") in bugs, bugs


def test_each_student_fetches_only_their_own_feedback_without_hidden_tests(term):
    pages = {s: list((home / NAME / "feedback").glob(f"*/{NAME}.html"))
             for s, home in term["homes"].items()}
    assert all(len(p) == 1 for p in pages.values()), (pages, term["returned"].stdout)
    alice, bob = (pages[s][0].read_text() for s in ("alice", "bob"))
    assert "found bug B7" in alice and "found bug" not in bob
    hidden = hidden_test_lines(term["source"])
    assert hidden, "the source notebook has no hidden tests to hide"
    leaked = [line for line in hidden if line in alice or line in bob]
    assert not leaked, f"hidden test code in the returned feedback: {leaked}"

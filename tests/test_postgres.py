"""The gradebook on a real PostgreSQL server (`--db URL`): release, grade, feedback,
report and plain nbgrader commands run in the course folder (what the formgrader does)
all use it, and no SQLite file appears. About 40 s on 2 cores: the toy assignment, two
students, Debian's PostgreSQL started in a temporary folder."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import __main__ as cli
from autograder.course import PACKAGE, Course
from autograder.gradebook import all_grades
from tests.pgserver import postgres

FIXTURES = Path(__file__).parent / "fixtures" / "submissions"
NBGRADER = str(Path(sys.executable).parent / "nbgrader")


def _cli(*args) -> str:
    done = subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_nothing_but_the_course_names_the_sqlite_file():
    naming = [p.name for p in PACKAGE.glob("*.py") if "sqlite" in p.read_text().lower()]
    assert naming == ["course.py"], naming


def test_a_gradebook_that_is_not_a_url_is_refused_with_the_fix(tmp_path, capsys):
    with pytest.raises(ValueError, match="'gradebook.db' is not an SQLAlchemy URL"):
        Course(tmp_path, "gradebook.db")
    assert cli.main(["--db", "gradebook.db", "report", "--course", str(tmp_path)]) == 2
    assert "postgresql+psycopg://" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.xdist_group("grading-postgres")
def test_every_command_uses_the_postgresql_gradebook(tmp_path):
    with postgres() as url:
        course = Course(tmp_path / "course", url)
        db = ["--course", str(course.root), "--db", url]
        _cli(*db, "release", "--notebooks", str(FIXTURES / "instructor"))
        for student in ("perfect", "bug-B18"):
            dest = course.submission(student, "toy")
            dest.parent.mkdir(parents=True)
            shutil.copyfile(FIXTURES / f"submitted-{student}.ipynb", dest)
        _cli(*db, "grade", "--timeout-cell", "10", "--timeout-submission", "60")
        assert _cli(*db, "feedback").count("feedback toy: ok") == 1
        html = (course.feedback / "bug-B18" / "toy" / "toy.html").read_text()
        assert "check_sigmoid_derivative found bug B18" in html
        _cli(*db, "report")
        with open(course.reports / "grades.csv", newline="") as fh:
            scores = {r["student"]: r["score"] for r in csv.DictReader(fh)}
        assert scores == {"perfect": "6.0", "bug-B18": "3.0"}
        grades = all_grades(url)
        assert [(s, c, score) for s, _, c, score in grades] == [
            ("bug-B18", "test_sigmoid", 3.0), ("bug-B18", "test_sigmoid_derivative", 0.0),
            ("perfect", "test_sigmoid", 3.0), ("perfect", "test_sigmoid_derivative", 3.0)]
        # Plain nbgrader in the course folder (as the formgrader runs) reads the URL from
        # the course's nbgrader_config.py: its export sees the same grades.
        config = (course.root / "nbgrader_config.py")
        assert re.search(r"db_url = 'postgresql\+psycopg://", config.read_text())
        assert config.stat().st_mode & 0o077 == 0  # a URL may carry a password
        done = subprocess.run([NBGRADER, "export", "--to", str(tmp_path / "export.csv")],
                              cwd=course.root, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        with open(tmp_path / "export.csv", newline="") as fh:
            exported = {r["student_id"]: float(r["raw_score"]) for r in csv.DictReader(fh)}
        assert exported == {"perfect": 6.0, "bug-B18": 3.0}
        assert not course.db.exists()

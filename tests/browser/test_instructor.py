"""An instructor grades a tiny class with `python -m autograder grade` and opens nbgrader's
formgrader in JupyterLab: the students and their scores are there, and they are the scores
the gradebook holds (a perfect submission gets every autograded point, a blank one none).
"""

from __future__ import annotations

import subprocess

import nbformat
import pytest
from labdriver import ROOT, venv_python

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

ASSIGNMENT = "00_welcome"
#: student id -> (first name, last name, what they hand in)
CLASS = {"alice": ("Alice", "Solved", "solved"), "bob": ("Bob", "Blank", "blank")}


def _autograder(*args: str, course) -> str:
    done = subprocess.run([venv_python(), "-m", "autograder", *args, "--course", str(course)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"autograder {args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _points(nb) -> tuple[float, float]:
    """(autograded points, all points) of the source notebook's grade cells."""
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    auto = sum(c.metadata.nbgrader.points for c in graded if c.cell_type == "code")
    return float(auto), float(sum(c.metadata.nbgrader.points for c in graded))


def _score_text(value: float) -> str:
    return f"{round(value, 2):g}"


@pytest.fixture
def graded_class(chromium_executable, tmp_path):
    """A course of one assignment released by the autograder, two submissions, graded by the
    autograder."""
    from nbgrader.api import Gradebook

    from autograder.sample import solved

    course = tmp_path / "course"
    _autograder("release", ASSIGNMENT, course=course)
    source = nbformat.read(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    release = nbformat.read(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
                            as_version=4)
    handed_in = {"solved": solved(release, source), "blank": release}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for sid, (first, last, kind) in CLASS.items():  # as `nbgrader db student import` does
            gradebook.update_or_create_student(sid, first_name=first, last_name=last)
            folder = course / "submitted" / sid / ASSIGNMENT
            folder.mkdir(parents=True)
            nbformat.write(handed_in[kind], folder / f"{ASSIGNMENT}.ipynb")
    _autograder("grade", "--assignment", ASSIGNMENT, course=course)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {sid: (gradebook.find_submission(ASSIGNMENT, sid).score,
                        gradebook.find_submission(ASSIGNMENT, sid).max_score) for sid in CLASS}
        # The students page adds up every assignment of the course (01 and 04 too, unsubmitted).
        overall = {sid: (gradebook.find_student(sid).score, gradebook.find_student(sid).max_score)
                   for sid in CLASS}
    # A local exchange, so the formgrader does not warn about /usr/local/share/nbgrader.
    (tmp_path / "exchange").mkdir()
    with open(course / "nbgrader_config.py", "a") as config:
        config.write(f"c.Exchange.root = {str(tmp_path / 'exchange')!r}\n")
    return course, source, scores, overall


def test_formgrader_shows_the_graded_students_and_their_scores(graded_class, start_lab,
                                                               browser_page, shot):
    course, source, scores, overall = graded_class
    auto, total = _points(source)
    assert auto > 0 and total >= auto, f"{ASSIGNMENT} has no autograded points to show"
    assert scores["alice"] == (auto, total), (
        f"the solved submission scored {scores['alice']}, expected {auto} of {total}")
    assert scores["bob"] == (0.0, total), f"the blank submission scored {scores['bob']}"

    server = start_lab(course)  # the course root holds nbgrader_config.py: the server's CWD
    page = browser_page
    page.goto(server.url("formgrader"))
    page.locator("h1", has_text="Manage Assignments").wait_for()
    row = page.locator("tr", has_text=ASSIGNMENT)
    row.wait_for()
    assert "exchange directory" not in page.inner_text("body")

    page.locator("a", has_text="Manage Students").first.click()
    page.locator("h1", has_text="Manage Students").wait_for()
    for sid, (first, last, _) in CLASS.items():
        cells = page.locator("tr", has_text=sid).first.locator("td")
        cells.first.wait_for()
        texts = [t.strip() for t in cells.all_inner_texts()]
        score, max_score = overall[sid]
        assert f"{last}, {first}" in texts, f"{sid}'s name is not in the row {texts}"
        assert f"{_score_text(score)} / {_score_text(max_score)}" in texts, (
            f"{sid} scored {score} of {max_score} in the gradebook; the formgrader row says "
            f"{texts}")
    shot(page, "manage-students")

    page.goto(server.url(f"formgrader/manage_submissions/{ASSIGNMENT}"))
    page.locator("h1", has_text="Manage Submissions").wait_for()
    for sid in CLASS:
        cells = page.locator("tr", has_text=sid).first.locator("td")
        cells.first.wait_for()
        texts = [t.strip() for t in cells.all_inner_texts()]
        score, max_score = scores[sid]
        assert "graded" in texts and f"{_score_text(score)} / {_score_text(max_score)}" in texts, (
            f"{sid}'s submission row reads {texts}")
    shot(page, "submissions")
    assert not page.console_errors, f"the formgrader's pages raised: {page.console_errors}"

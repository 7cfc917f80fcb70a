"""The door (names, links, old formats, mutated test cells) and faults graded as far as
they go, with real nbgrader.

The first tests need no kernel (`door.name_problem`, `door.admit` on the fixtures). The
class below is graded once (the toy assignment; about 40 s on 2 cores, most of it the
submissions that run into the time limits on purpose): students named `*` and `.hidden`,
old notebook formats, a test cell turned into markdown, renamed, or duplicated with new
points, answers that pass and then time out or exhaust the submission's time, a
lowered recursion limit, a broken numpy, and a 20 MB attachment, a 20 MB image output and
a link to an attachment that is not there, for the feedback.
"""

from __future__ import annotations

import base64
import copy
import csv
import json
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

from autograder import door, grade, report, steps
from autograder.course import Course

FIXTURES = Path(__file__).parent / "fixtures" / "submissions"
SOURCE = FIXTURES / "instructor" / "toy.ipynb"
BAD_NAMES = {"*": "glob character", "../x": "parent folder", "a/b": "path separator",
             ".hidden": "starts with a dot", "": "empty", "tab\there": "control character",
             "s[12]": "glob character"}


@pytest.mark.parametrize("name", sorted(BAD_NAMES))
def test_bad_names_are_refused_with_the_reason(name):
    problem = door.name_problem("student id", name)
    assert problem and BAD_NAMES[name] in problem, problem


@pytest.mark.parametrize("name", ["alice", "bob-2", "c.d@uni.edu", "00_welcome", "Émile"])
def test_ordinary_names_pass(name):
    assert door.name_problem("student id", name) is None


def test_screen_records_refusals_and_keeps_the_rest(tmp_path):
    course = Course(tmp_path)
    units = [("alice", "toy"), ("*", "toy"), ("../x", "toy"), ("a/b", "toy"),
             (".hidden", "toy"), ("bob", "../toy")]
    assert door.screen(course, units) == [("alice", "toy")]
    refused = {(r["student"], r["assignment"]): r for r in report.records(course).values()}
    assert set(refused) == set(units[1:])
    for rec in refused.values():
        assert rec["status"] == "error:bad-name" and "not graded: the" in rec["detail"]
    # nothing was written outside the course's status folder, whatever the name said
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert all(p.parts[:3] == ("grader", "status", "_refused") for p in written), written
    with pytest.raises(ValueError, match=r"glob character"):
        door.screen(course, [], asked=(["*"], None))


def _course_with(tmp_path, student: str, nb_or_path) -> Course:
    course = Course(tmp_path / "course")
    (course.source / "toy").mkdir(parents=True)
    shutil.copyfile(SOURCE, course.source / "toy" / "toy.ipynb")
    dest = course.submission(student, "toy")
    dest.parent.mkdir(parents=True)
    if isinstance(nb_or_path, Path):
        shutil.copyfile(nb_or_path, dest)
    else:
        dest.write_text(nb_or_path)
    return course


@pytest.mark.parametrize("scenario, fatal, notes", [
    ("perfect", None, []),
    ("corrupt-json", "corrupt-json", []),
    ("test-cell-deleted", None, ["cells-deleted"]),
    ("test-cell-duplicated", None, ["cells-duplicated"]),
])
def test_admit_reads_each_fixture(tmp_path, scenario, fatal, notes):
    course = _course_with(tmp_path, "s", FIXTURES / f"submitted-{scenario}.ipynb")
    result = door.admit(course, "s", "toy", tmp_path / "scratch")
    assert (result.fatal, result.notes) == (fatal, notes), result.detail


def test_admit_names_what_is_there_when_the_notebook_is_missing(tmp_path):
    course = _course_with(tmp_path, "s", "{}")
    course.submission("s", "toy").rename(course.submission("s", "toy").with_name("toy(1).ipynb"))
    result = door.admit(course, "s", "toy", tmp_path / "scratch")
    assert result.fatal == "missing" and "toy(1).ipynb" in result.detail
    assert result.notes == ["wrong-files"]


def test_admit_refuses_json_that_is_not_a_notebook(tmp_path):
    course = _course_with(tmp_path, "s", json.dumps({"cells": "no"}))
    assert door.admit(course, "s", "toy", tmp_path / "scratch").fatal == "not-a-notebook"


def test_admit_never_follows_a_link(tmp_path):
    course = _course_with(tmp_path, "s", FIXTURES / "submitted-perfect.ipynb")
    folder = course.submitted / "s" / "toy"
    (folder / "answers.ipynb").symlink_to(course.source / "toy" / "toy.ipynb")
    (folder / "data").mkdir()
    (folder / "data" / "db").symlink_to(tmp_path / "gradebook.db")
    result = door.admit(course, "s", "toy", tmp_path / "scratch")
    assert result.fatal is None
    assert result.flags[0]["flag"].endswith("answers.ipynb, data/db")
    assert sorted(p.name for p in (tmp_path / "scratch").rglob("*")) == ["data", "toy.ipynb"]
    # a submitted notebook that is itself a link is not read either
    course.submission("s", "toy").unlink()
    course.submission("s", "toy").symlink_to(SOURCE)
    assert door.admit(course, "s", "toy", tmp_path / "scratch2").fatal == "missing"


def _v3(nb4) -> str:
    """A notebook in nbformat 3 (worksheets, `input` instead of `source`)."""
    return nbformat.writes(nbformat.convert(copy.deepcopy(nb4), 3), version=3)  # in place


def _v4_minor0(nb4) -> str:
    old = json.loads(nbformat.writes(nb4))
    old["nbformat_minor"] = 0
    for cell in old["cells"]:
        cell.pop("id", None)
    return json.dumps(old)


@pytest.mark.parametrize("make", [_v3, _v4_minor0], ids=["v3", "v4.0"])
def test_old_formats_are_upgraded_not_reported_as_deleted(tmp_path, make):
    perfect = nbformat.read(str(FIXTURES / "submitted-perfect.ipynb"), as_version=4)
    course = _course_with(tmp_path, "s", make(perfect))
    result = door.admit(course, "s", "toy", tmp_path / "scratch")
    assert result.fatal is None and result.notes == [], result.detail
    assert result.upgraded.endswith(f"-> 4.{nbformat.v4.nbformat_minor}"), result.upgraded
    upgraded = nbformat.read(str(tmp_path / "scratch" / "toy.ipynb"), as_version=4)
    assert door.counts(upgraded) == door.counts(perfect)


def mutated(kind: str) -> nbformat.NotebookNode:
    """The perfect submission with its first test cell mutated as `kind` says."""
    nb = nbformat.read(str(FIXTURES / "submitted-perfect.ipynb"), as_version=4)
    index, test = next((i, c) for i, c in enumerate(nb.cells)
                       if c.metadata.get("nbgrader", {}).get("grade_id") == "test_sigmoid")
    if kind == "markdown":
        test.cell_type = "markdown"
        test.pop("outputs", None)
        test.pop("execution_count", None)
    elif kind == "renamed":
        test.metadata.nbgrader["grade_id"] = "test_sigmoid_mine"
        test.source = "pass"
    elif kind == "duplicated":
        twin = nbformat.from_dict(json.loads(json.dumps(test)))
        twin.pop("id", None)
        twin.metadata.nbgrader["points"] = 100
        test.metadata.nbgrader["points"] = 50
        nb.cells.insert(index + 1, twin)
    return nb


@pytest.mark.parametrize("kind, note", [("markdown", "cells-changed"),
                                        ("renamed", "cells-deleted"),
                                        ("duplicated", "cells-duplicated")])
def test_mutated_test_cells_are_put_back_from_the_source(tmp_path, kind, note):
    course = _course_with(tmp_path, "s", nbformat.writes(mutated(kind)))
    result = door.admit(course, "s", "toy", tmp_path / "scratch")
    assert result.fatal is None and note in result.notes, result
    graded = nbformat.read(str(tmp_path / "scratch" / "toy.ipynb"), as_version=4)
    source = nbformat.read(str(SOURCE), as_version=4)
    want = next(c for c in source.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "test_sigmoid")
    got = [c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade_id")
           == "test_sigmoid"]
    assert len(got) == 1 and got[0].cell_type == "code" and got[0].source == want.source
    assert got[0].metadata.nbgrader["points"] == want.metadata.nbgrader["points"] == 3


def test_the_feedback_filter_bounds_each_output_and_the_notebook():
    from autograder.preprocessors import HideHiddenTests

    hide = HideHiddenTests(max_output_bytes=1000, max_total_bytes=2500)
    small = [nbformat.v4.new_output("stream", name="stdout", text="x" * 600) for _ in range(5)]
    big = nbformat.v4.new_output("display_data", data={"image/png": "A" * 5000})
    cell = nbformat.v4.new_code_cell("print()", outputs=[big, *small])
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb, _ = hide.preprocess(nb, {})
    texts = [o.get("text", "") for o in nb.cells[0].outputs]
    assert "output of 0.0 MB removed" in texts[0]  # one output over the limit
    assert texts[1:4] == ["x" * 600] * 3  # then the notebook's budget runs out
    assert all("removed from the feedback" in t for t in texts[4:])


# ------------------------------------------------------------------ one graded class

PASS_THEN = {
    # graded tests pass, then an ungraded cell runs into a limit
    "pass-then-cell-timeout": "while True:\n    pass",
    "pass-then-submission-timeout": "import time\ntime.sleep(4)",  # repeated, see below
    "pass-then-lowers-recursion": "import sys\nsys.setrecursionlimit(60)",
    # (numpy's own attributes would be put back by the in-kernel guard, until it goes)
    "pass-then-breaks-numpy": "import sys\nsys.modules['numpy'] = None",
}
EXPECTED = {
    "*": ("error:bad-name", None),
    ".hidden": ("error:bad-name", None),
    "old-v3": ("graded", 6.0),
    "old-v4-0": ("graded", 6.0),
    "test-cell-markdown": ("error:cells-changed", 6.0),
    "test-cell-renamed": ("error:cells-deleted", 6.0),
    "test-cell-duplicated-points": ("error:cells-duplicated", 6.0),
    "pass-then-cell-timeout": ("error:cell-timeout", 6.0),
    "pass-then-submission-timeout": ("error:submission-timeout", 6.0),
    "big-attachment": ("graded", 6.0),
}
LIMITS = {"timeout_cell": 5, "timeout_submission": 15}


def _with_cells(sources: list[str], where: str = "end") -> nbformat.NotebookNode:
    nb = nbformat.read(str(FIXTURES / "submitted-perfect.ipynb"), as_version=4)
    cells = [nbformat.v4.new_code_cell(s) for s in sources]
    if where == "end":
        nb.cells += cells
    else:  # before the first test cell
        at = next(i for i, c in enumerate(nb.cells)
                  if c.metadata.get("nbgrader", {}).get("grade_id") == "test_sigmoid")
        nb.cells[at:at] = cells
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("door"))
    assert steps.release(course, notebooks=FIXTURES / "instructor") == {"toy": "ok"}
    perfect = nbformat.read(str(FIXTURES / "submitted-perfect.ipynb"), as_version=4)
    notebooks = {
        "*": nbformat.writes(perfect), ".hidden": nbformat.writes(perfect),
        "old-v3": _v3(perfect), "old-v4-0": _v4_minor0(perfect),
        "test-cell-markdown": nbformat.writes(mutated("markdown")),
        "test-cell-renamed": nbformat.writes(mutated("renamed")),
        "test-cell-duplicated-points": nbformat.writes(mutated("duplicated")),
        "pass-then-cell-timeout": nbformat.writes(_with_cells(
            [PASS_THEN["pass-then-cell-timeout"]])),
        "pass-then-submission-timeout": nbformat.writes(_with_cells(
            [PASS_THEN["pass-then-submission-timeout"]] * 5)),
        "lowers-recursion": nbformat.writes(_with_cells(
            [PASS_THEN["pass-then-lowers-recursion"]], where="before")),
        "breaks-numpy": nbformat.writes(_with_cells(
            [PASS_THEN["pass-then-breaks-numpy"]], where="before")),
    }
    big = nbformat.read(str(FIXTURES / "submitted-perfect.ipynb"), as_version=4)
    blob = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * (20 << 20)).decode()
    big.cells.append(nbformat.v4.new_markdown_cell(
        "![big](attachment:big.png)", attachments={"big.png": {"image/png": blob}}))
    big.cells.append(nbformat.v4.new_code_cell(
        "from IPython.display import Image\nImage(data=b'\\x89PNG\\r\\n\\x1a\\n' + "
        "bytes(20 << 20), format='png')"))
    big.cells.append(nbformat.v4.new_markdown_cell("![gone](attachment:never-attached.png)"))
    notebooks["big-attachment"] = nbformat.writes(big)
    for student, text in notebooks.items():
        dest = course.submission(student, "toy")
        dest.parent.mkdir(parents=True)
        dest.write_text(text)
    result = grade.run(course, jobs=1, **LIMITS, echo=lambda *a: None)
    paths = report.write(course, echo=lambda *a: None)
    with open(paths["grades"], newline="") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    records = {r["student"]: r for r in report.records(course).values()}
    return {"course": course, "rows": rows, "records": records, "result": result}


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_each_student_gets_its_status_and_score(graded, student):
    status, score = EXPECTED[student]
    row, record = graded["rows"][student], graded["records"].get(student, {})
    assert row["status"] == status, (row, record.get("detail"), record.get("events"))
    assert (float(row["score"]) if row["score"] else None) == score, (row, record)


def test_bad_names_never_reach_nbgrader(graded):
    course = graded["course"]
    for student in ("*", ".hidden"):
        assert "not graded: the student id" in graded["records"][student]["detail"]
        assert not (course.autograded / student).exists()
    # `*` was not expanded: every other student was graded once, as themselves
    assert all(r["student"] != "*" or r["status"] == "error:bad-name"
               for r in graded["rows"].values())


@pytest.mark.parametrize("student, reason", [("lowers-recursion", "recursion-limit"),
                                             ("breaks-numpy", "environment-broken")])
def test_a_broken_environment_is_never_plain_graded(graded, student, reason):
    row = graded["rows"][student]
    assert row["status"] != "graded" and reason in row["reasons"].split(), (
        row, graded["records"][student].get("events"))


def test_mutations_and_upgrades_are_recorded(graded):
    records = graded["records"]
    assert "upgraded from 3.0 to 4." in records["old-v3"]["detail"]
    assert "upgraded from 4.0 to 4." in records["old-v4-0"]["detail"]
    assert "test_sigmoid" in records["test-cell-markdown"]["detail"]
    assert "test_sigmoid_mine" in records["test-cell-renamed"]["detail"]
    # the duplicate's 100 points never reached the gradebook
    assert records["test-cell-duplicated-points"]["max_score"] == 6.0


def test_feedback_is_bounded_whatever_the_notebook_holds(graded):
    course = graded["course"]
    assert steps.feedback(course) == {"toy": "ok"}
    html = course.feedback / "big-attachment" / "toy" / "toy.html"
    size = html.stat().st_size
    assert size < 3 << 20, size  # 40 MB of attachment and image went in
    assert "removed from the feedback" in html.read_text()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))

"""`make demo`, the README's first command, run in the suite: `python -m autograder demo`
(what the Makefile target runs after `install`) on the real course in a temp folder.

It must print a release line per notebook, the grade table and the bug summary, and
write the reports it names. The grades are checked against notebooks/manifest.json, the
sample faults against the statuses the toy-class e2e test proves. Its duration is a
bench figure (`python -m bench demo`), never asserted here.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("grading-demo")]
# This file's tests share one xdist worker (their module fixtures grade once); other
# grading files may run beside them: each set of limits has its own kernelspec
# (kernel.spec_name) and each worker its own kernel user (kernel.claim_slot).

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = json.loads((ROOT / "notebooks" / "manifest.json").read_text())["notebooks"]
NOTEBOOKS = sorted(MANIFEST)


def _points(name: str) -> tuple[float, float]:
    cells = MANIFEST[name]["cells"]
    auto = sum(c["points"] for c in cells if c["kind"] == "test")
    return auto, auto + sum(c["points"] for c in cells if c["kind"] == "manual")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    course = tmp_path_factory.mktemp("demo") / "course"
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "autograder", "demo", "--course", str(course)],
                          cwd=ROOT, capture_output=True, text=True, timeout=3600)
    print(f"\nmake demo: {time.perf_counter() - started:.0f} s wall (bench figure, not asserted)")
    assert done.returncode == 0, f"demo exited {done.returncode}:\n{done.stdout[-3000:]}\n" \
                                 f"{done.stderr[-3000:]}"
    with open(course / "reports" / "grades.csv", newline="") as fh:
        grades = {(r["student"], r["assignment"]): r for r in csv.DictReader(fh)}
    with open(course / "reports" / "diagnoses.csv", newline="") as fh:
        diagnoses = list(csv.DictReader(fh))
    return {"course": course, "out": done.stdout, "grades": grades, "diagnoses": diagnoses}


def test_it_releases_every_notebook_and_prints_the_class(demo):
    for name in NOTEBOOKS:
        assert f"release {name}: ok" in demo["out"], demo["out"][:3000]
        assert f"feedback {name}: ok" in demo["out"], demo["out"][-3000:]
    from autograder import demo as sample_class

    assert re.search(rf"sample class: {len(sample_class.STUDENTS)} students x "
                     rf"{len(NOTEBOOKS)} notebooks \(\d+ catalogued bugs put in\)", demo["out"])


@pytest.mark.parametrize("role, full", [("PERFECT", True), ("BLANK", False)])
def test_the_printed_grade_table_has_the_manifests_points(demo, role, full):
    from autograder import demo as sample_class

    student = getattr(sample_class, role)
    cells = []
    for name in NOTEBOOKS:
        auto, total = _points(name)
        cells.append(f"{auto if full else 0:g}/{total:g}")
    row = f"| {student} | " + " | ".join(cells) + " |  |"
    assert row in demo["out"].splitlines(), (row, demo["out"][-4000:])


def test_it_writes_the_reports_it_names(demo):
    for name in ("grades.csv", "diagnoses.csv", "integrity.csv", "bug_summary.csv",
                 "summary.md", "bug_summary.png"):
        path = demo["course"] / "reports" / name
        assert re.search(rf"\s{re.escape(str(path))}$", demo["out"], re.M), name
        assert path.stat().st_size > 0, path
    assert "no catalogued bug found" not in demo["out"]


def test_each_bug_student_is_diagnosed_with_their_bug(demo):
    from autograder import demo as sample_class

    checked = 0
    for name in NOTEBOOKS:
        for student, bugs in sample_class.planned_bugs(name).items():
            row = demo["grades"].get((student, name))
            if not bugs or row is None or row["status"] == "missing":
                continue  # got that notebook right
            assert row["status"] == "graded", (student, name, row)
            found = {d["bug"] for d in demo["diagnoses"]
                     if d["student"] == student and d["assignment"] == name}
            # every bug put in is named in that notebook's diagnoses
            assert {b.bug for b in bugs} <= found, (student, name, [b.bug for b in bugs], found)
            checked += 1
    assert checked >= 2 * len(NOTEBOOKS), f"only {checked} buggy notebooks in the demo class"


def test_the_sample_faults_get_the_statuses_the_toy_class_proves(demo):
    from test_autograder_e2e import EXPECTED

    first = NOTEBOOKS[0]
    checked = 0
    for (student, name), row in demo["grades"].items():
        if name == first and student in EXPECTED and student not in ("perfect", "blank"):
            assert row["status"] == EXPECTED[student][0], row
            checked += 1
    assert checked >= 10, f"only {checked} fault/cheat students in the demo class"

"""The README's grading limits, each shown to take effect, through the command line only.

A toy class (the two-function assignment of tests/fixtures) is graded twice:
once with non-default limits (`--memory 1200 --nproc 30 --timeout-cell 10
--timeout-submission 12`), once with the defaults (`--force`, since the limits alone do
not make a submission "changed"). Each student does something that only the tighter
limit forbids: allocates 600 MB (a kernel holds about 900 MB of address space before
that), forks 40 processes (about 10 more are the kernel's threads), sleeps 2 x 7 s. Under the tight
limits each gets its reason; under the defaults the same notebooks earn full marks. Two
more students: one hands in a named pipe beside the notebook (the grader cannot copy it:
`grader-error`, recorded, never a silent 0), one tries to write the library its kernel
imports (read-only to the kernel user). Everything is read from reports/grades.csv and
the executed notebooks under autograded/.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("grading-grader_limits")]
# This file's tests share one xdist worker (their module fixtures grade once); other
# grading files may run beside them: each set of limits has its own kernelspec
# (kernel.spec_name) and each worker its own kernel user (kernel.claim_slot).

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "submissions"
TIGHT = ["--memory", "1200", "--nproc", "30", "--timeout-cell", "10",
         "--timeout-submission", "12"]
AS_ROOT = os.geteuid() == 0
# student -> code put at the top of the first answer cell (the sleeper: of both)
STUDENTS = {
    "big-array": "_big = np.ones(600 << 20, dtype=np.uint8)  # 600 MB, touched",
    "forks-40": ("import os as _os, time as _time\n"
                 "for _ in range(40):\n"
                 "    if _os.fork() == 0:\n"
                 "        _time.sleep(3)\n"
                 "        _os._exit(0)"),
    "sleeps-2x7s": "import time as _time\n_time.sleep(7)",
    "named-pipe": "",
    "writes-library": ("import numpy as _numpy, nnlab as _nnlab\n"
                       "for _mod in (_numpy, _nnlab):\n"
                       "    try:\n"
                       "        open(_mod.__file__, 'a').close()\n"
                       "        print('wrote', _mod.__name__)\n"
                       "    except OSError as _error:\n"
                       "        print('refused', _mod.__name__, type(_error).__name__)"),
}


def _cli(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True,
                          text=True, timeout=1200, cwd=ROOT)
    assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done


def _grades(course: Path) -> dict[str, dict]:
    _cli("report", "--course", str(course))
    with open(course / "reports" / "grades.csv", newline="") as fh:
        return {r["student"]: r for r in csv.DictReader(fh)}


def _submission(student: str) -> nbformat.NotebookNode:
    nb = nbformat.read(str(FIXTURES / "submitted-perfect.ipynb"), as_version=4)
    answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    targets = answers if student == "sleeps-2x7s" else answers[:1]
    for cell in targets:
        cell.source = STUDENTS[student] + "\n\n" + cell.source
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("limits") / "course"
    _cli("release", "--course", str(course), "--notebooks", str(FIXTURES / "instructor"))
    for student in STUDENTS:
        folder = course / "submitted" / student / "toy"
        folder.mkdir(parents=True)
        nbformat.write(_submission(student), str(folder / "toy.ipynb"))
    os.mkfifo(course / "submitted" / "named-pipe" / "toy" / "notes")
    tight = _cli("grade", "--course", str(course), *TIGHT).stdout
    tight_rows = _grades(course)
    executed = nbformat.read(str(course / "autograded" / "writes-library" / "toy" / "toy.ipynb"),
                             as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    default = _cli("grade", "--course", str(course), "--force").stdout
    return {"tight": tight_rows, "default": _grades(course), "printed": printed,
            "out": {"tight": tight, "default": default}}


@pytest.mark.parametrize("student, reason", [
    ("big-array", "memory-limit"),
    pytest.param("forks-40", "process-limit", marks=pytest.mark.skipif(
        not AS_ROOT, reason="--nproc counts the kernel user's processes: only when grading "
                            "as root does the kernel have a user of its own")),
    ("sleeps-2x7s", "submission-timeout"),
])
def test_a_non_default_limit_takes_effect(course, student, reason):
    tight, default = course["tight"][student], course["default"][student]
    assert tight["status"] == f"error:{reason}", tight
    assert reason in tight["reasons"].split(), tight
    assert f"{student}/toy: error:{reason}" in course["out"]["tight"]
    # the same notebook under the default limits: nothing forbids it
    assert default["status"] == "graded" and float(default["score"]) == 6.0, default


def test_the_cell_limit_alone_does_not_stop_the_sleeper(course):
    # 7 s cells under a 10 s cell limit: it is the 12 s per-notebook limit that struck
    assert "cell-timeout" not in course["tight"]["sleeps-2x7s"]["reasons"].split()


def test_a_submission_the_grader_cannot_handle_is_a_grader_error_not_a_zero(course):
    for run in ("tight", "default"):
        row = course[run]["named-pipe"]
        assert row["status"] == "error:grader-error" and row["score"] == "", row
    # every other student of the class was graded in the same run
    assert course["default"]["big-array"]["status"] == "graded"


@pytest.mark.skipif(not AS_ROOT, reason="the kernel runs as another user only when grading "
                                        "as root; as the grader's own user it may write")
def test_the_kernel_user_cannot_write_the_library_it_imports(course):
    assert "refused numpy" in course["printed"] and "refused nnlab" in course["printed"], \
        course["printed"]
    assert "wrote" not in course["printed"], course["printed"]

"""How fast `python -m autograder grade --jobs 2` grades a class, against stock nbgrader.

One class of honest submissions of the whole course (every notebook in notebooks/,
each student perfect, blank or carrying a catalogued bug from the zoo) is graded twice
in one run: by our grader with two workers and the resource-limited kernel, and by
stock `nbgrader autograde` one assignment after another with the stock kernel, each on
its own copy of the same released course. The scores of every grade cell must agree.
Class size: NNLAB_BENCH_CLASS students (default 15: with the course's 7 assignments that
is 105 nbgrader submissions, one per student and assignment, the issue's ~100; about 20
minutes for both graders on 2 cores).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder import sample, steps
from autograder.course import NOTEBOOKS, Course
from autograder.demo import zoo_bugs

BLAS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "MPLBACKEND": "Agg"}
STOCK_CONFIG = """c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "nnlab"
c.CourseDirectory.root = {root!r}
"""


def class_size() -> int:
    raw = os.environ.get("NNLAB_BENCH_CLASS", "15")
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"NNLAB_BENCH_CLASS={raw!r}; give a whole number of students >= 1")
    return int(raw)


def build(course: Course, students: int, notebooks: Path = NOTEBOOKS) -> int:
    """Release every notebook and hand in `students` honest submissions of each.

    Student i hands in, per notebook, the i-th scenario of [perfect, blank, bug-...]
    (cycled). Returns the number of submitted notebooks.
    """
    import nbformat

    failed = {k: v for k, v in steps.release(course, notebooks=notebooks).items() if v != "ok"}
    if failed:
        raise RuntimeError(f"release failed: {failed}")
    count = 0
    for name in course.assignments():
        release = nbformat.read(str(course.release / name / f"{name}.ipynb"), as_version=4)
        source = nbformat.read(str(course.source / name / f"{name}.ipynb"), as_version=4)
        answers = {sample.defined(c): c.metadata.nbgrader.grade_id
                   for c in sample.answer_cells(source) if sample.defined(c)}
        bugs = {k: {gid: code} for k, (gid, code, _) in zoo_bugs(answers).items()}
        made = sample.scenarios(release, source, bugs)
        pool = ["perfect", "blank", *sorted(bugs)]
        for i in range(students):
            sample.write(made[pool[i % len(pool)]], course.submission(f"s{i:03d}", name))
            count += 1
    return count


def scores(db: Path) -> dict[tuple[str, str, str], float | None]:
    """(student, notebook, grade cell) -> automatic score, read from a gradebook."""
    with sqlite3.connect(db) as con:
        rows = con.execute(
            "SELECT submitted_assignment.student_id, notebook.name, base_cell.name, "
            "grade.auto_score FROM grade "
            "JOIN base_cell ON grade.cell_id = base_cell.id "
            "JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
            "JOIN notebook ON submitted_notebook.notebook_id = notebook.id "
            "JOIN submitted_assignment ON submitted_notebook.assignment_id = "
            "submitted_assignment.id").fetchall()
    return {(s, n, c): score for s, n, c, score in rows}


def _timed(argv: list[str], cwd: Path) -> float:
    env = {**os.environ, **BLAS,
           "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} exited {done.returncode}: "
                           f"{(done.stdout + done.stderr)[-1500:]}")
    return seconds


def run(students: int | None = None) -> list[str]:
    """Grade one class both ways; lines with seconds, the speed-up and the comparison."""
    students = class_size() if students is None else students
    lines = []
    with tempfile.TemporaryDirectory(prefix="nnlab-bench-grading-") as tmp:
        ours = Course(Path(tmp) / "ours")
        notebooks = build(ours, students)
        stock = Course(Path(tmp) / "stock")
        for folder in ("source", "release", "submitted"):
            shutil.copytree(ours.root / folder, stock.root / folder)
        shutil.copyfile(ours.db, stock.db)
        (stock.root / "nbgrader_config.py").write_text(STOCK_CONFIG.format(root=str(stock.root)))
        assignments = ours.assignments()
        lines.append(f"class: {students} students x {len(assignments)} notebooks = "
                     f"{notebooks} submitted notebooks ({', '.join(assignments)})")
        t_ours = _timed([sys.executable, "-m", "autograder", "grade", "--course",
                         str(ours.root), "--jobs", "2"], cwd=ours.root)
        nbgrader = str(Path(sys.executable).parent / "nbgrader")
        t_stock = 0.0
        for name in assignments:  # stock nbgrader: one command per assignment, in turn
            t_stock += _timed([nbgrader, "autograde", name], cwd=stock.root)
        a, b = scores(ours.db), scores(stock.db)
        differ = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        lines += [
            f"ours  (python -m autograder grade --jobs 2, limited kernel): {t_ours:7.1f} s  "
            f"{t_ours / notebooks:5.2f} s per notebook",
            f"stock (nbgrader autograde, sequential, stock kernel):       {t_stock:7.1f} s  "
            f"{t_stock / notebooks:5.2f} s per notebook",
            f"speed-up: {t_stock / t_ours:.2f}x (goal >= 2x on 2 cores)",
            *([f"({notebooks} submitted notebooks, fewer than the issue's 100: set "
               "NNLAB_BENCH_CLASS=15 or more)"] if notebooks < 100 else []),
            f"grade cells compared: {len(a)} ours, {len(b)} stock; "
            + ("identical scores" if not differ else f"{len(differ)} DIFFER, e.g. {differ[:3]}"),
        ]
    if differ:
        raise AssertionError("\n".join(lines))
    return lines

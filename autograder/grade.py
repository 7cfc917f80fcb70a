"""Autograde every submission with N worker processes over disjoint students.

Workers take students from one shared queue, each claiming a student before grading all
of that student's notebooks (two workers never touch the same student, so they never race
on one submission, and a worker that drew heavy notebooks does not hold the others up);
each worker grades in-process. A submission
whose status record carries the same content hash is skipped, so re-running after a
kill finishes the class and re-running a finished class changes nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from autograder import kernel, worker
from autograder.course import Course, lock_down, write_course_config

BLAS_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"}


def settings_for(timeout_cell: int, timeout_submission: int, kernel_name: str | None) -> dict:
    """The nbgrader settings a grade run passes to every worker (part of the content hash)."""
    settings = {"Execute.timeout": timeout_cell,
                "JudgedExecute.timeout": timeout_cell,
                "JudgedExecute.submission_timeout": timeout_submission}
    if kernel_name:
        settings["Execute.kernel_name"] = kernel_name
        settings["JudgedExecute.kernel_name"] = kernel_name
    return settings


def plan(course: Course, settings: dict, students=None, assignments=None,
         force: bool = False) -> tuple[list[tuple[str, str]], int]:
    """(units still to grade, number skipped as already graded with the same content)."""
    todo, skipped = [], 0
    for student in students or course.students():
        for assignment in assignments or course.assignments():
            folder = course.submitted / student / assignment
            if not folder.is_dir():
                continue
            path = worker.status_path(course, student, assignment)
            if path.exists() and not force:
                try:
                    old = json.loads(path.read_text())
                except json.JSONDecodeError:
                    old = {}
                source = course.source / assignment / f"{assignment}.ipynb"
                if (old.get("hash") == worker.content_hash(folder, source, settings)
                        and old.get("status") != "error:grader-error"):
                    skipped += 1
                    continue
            todo.append((student, assignment))
    return todo, skipped


def queue(units: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The units grouped by student, students with the most submissions first."""
    by_student: dict[str, list] = {}
    for unit in units:
        by_student.setdefault(unit[0], []).append(unit)
    return [u for s in sorted(by_student, key=lambda s: (-len(by_student[s]), s))
            for u in by_student[s]]


def _lock_course(course: Course):
    """Hold grader/grade.lock for this run; a second `grade` on the same course refuses."""
    course.grader.mkdir(parents=True, exist_ok=True)
    handle = kernel.try_lock(course.grader / "grade.lock")
    if handle is None:
        raise RuntimeError(f"another `grade` is running on {course.root}; wait for it "
                           "to finish (two graders would race on the same students)")
    return handle


def run(course: Course, *, jobs: int = 2, timeout_cell: int = 30,
        timeout_submission: int = 300, memory_mb: int = 2048, nproc: int = 64,
        limits: bool = True, students=None, assignments=None, force: bool = False,
        echo=print) -> dict:
    """Grade the class. Returns {"graded": n, "skipped": n, "failed_workers": [...]}."""
    for name, value in (("jobs", jobs), ("timeout_cell", timeout_cell),
                        ("timeout_submission", timeout_submission), ("memory_mb", memory_mb)):
        if not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name}={value!r}; give a positive whole number")
    if not course.assignments():
        raise ValueError(f"no assignments under {course.source}; run `release` first")
    name = None
    if limits:
        info = kernel.install(memory_mb=memory_mb, cpu_seconds=timeout_submission, nproc=nproc,
                              slots=jobs)
        name = info["name"]
        write_course_config(course, kernel_name=name)
        course.grader.mkdir(parents=True, exist_ok=True)
        (course.grader / "kernel.json").write_text(json.dumps(info))
        if not info["user"]:
            echo("warning: the kernel runs as the grader's own user (not root, or no Python "
                 "the kernel user can run); the integrity report flags this run")
    settings = settings_for(timeout_cell, timeout_submission, name)
    lock_down(course)
    lock = _lock_course(course)
    units, skipped = plan(course, settings, students, assignments, force)
    units = queue(units)
    n_workers = min(jobs, len({s for s, _ in units}))
    echo(f"grading {len(units)} submissions with {n_workers} worker(s); "
         f"{skipped} unchanged since last graded, skipped")
    jobs_dir = course.grader / "jobs"
    jobs_dir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(course.grader / "claims", ignore_errors=True)  # left by a killed run
    (course.grader / "claims").mkdir()
    job = jobs_dir / "queue.json"
    job.write_text(json.dumps({"course": str(course.root), "settings": settings,
                               "units": units}))
    deadline = time.time() + len(units) * (timeout_submission * (worker.SALVAGE_ATTEMPTS + 1)
                                           + 60)
    procs = []
    for i in range(n_workers):
        out = open(jobs_dir / f"worker-{i}.out", "w")  # noqa: SIM115 (closed below)
        proc = subprocess.Popen([sys.executable, "-m", "autograder.worker", str(job)],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, **BLAS_ENV,
                                     "NNLAB_GRADER_PID": str(os.getpid())})
        procs.append((proc, out, deadline, units))
    failed = []
    try:
        for proc, out, deadline, group in procs:
            try:
                proc.wait(timeout=max(1.0, deadline - time.time()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            out.close()
            if proc.returncode != 0:
                failed.append({"returncode": proc.returncode, "units": len(group)})
    except KeyboardInterrupt:
        for proc, *_ in procs:
            _kill(proc.pid)
        raise
    finally:
        lock.close()
    return {"graded": len(units), "skipped": skipped, "failed_workers": failed,
            "logs": [str(Path(p[1].name)) for p in procs]}


def _kill(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass

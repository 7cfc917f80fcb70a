"""Grade every submission: plan on this machine, execute wherever the engine runs tasks,
commit every result here.

The coordinator (this module) skips each submission whose status record carries the same
content hash, queues the rest by student (students with the most submissions first) and
keeps a bounded window of tasks in flight on the engine (`cluster.connect`: local worker
processes by default, or a Dask cluster). Each task returns its outcome; the coordinator
alone writes (nbgrader's gradebook and autograded/, logs, the status record last), once
per content hash, then releases the task. A task run twice (Dask runs tasks at least
once) changes nothing, and re-running after a kill finishes the class.
"""

from __future__ import annotations

import functools
import json
import traceback
from concurrent.futures import CancelledError
from pathlib import Path

from distributed import as_completed

from autograder import cluster, door, engine, kernel, submission
from autograder.course import Course, lock_down, write_course_config
from autograder.gradebook import share_engines
from autograder.progress import Progress


def settings_for(timeout_cell: int, timeout_submission: int, kernel_name: str | None,
                 every_cell: bool = False) -> dict:
    """The nbgrader settings a grade run passes to every worker (part of the content hash).

    `every_cell`: run the demonstrations tagged skip-in-grading too (autograder.skipping).
    """
    settings = {"Execute.timeout": timeout_cell,
                "JudgedExecute.timeout": timeout_cell,
                "JudgedExecute.submission_timeout": timeout_submission,
                "JudgedExecute.skip_tagged": not every_cell}
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
            path = submission.status_path(course, student, assignment)
            if path.exists() and not force:
                try:
                    old = json.loads(path.read_text())
                except json.JSONDecodeError:
                    old = {}
                source = course.source / assignment / f"{assignment}.ipynb"
                if (old.get("hash") == submission.content_hash(folder, source, settings)
                        and "grader-error" not in old.get("reasons", [])):
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


SAY = functools.partial(print, flush=True)  # a log file sees each line as it happens


def _lock_course(course: Course):
    """Hold grader/grade.lock for this run; a second `grade` on the same course refuses."""
    course.grader.mkdir(parents=True, exist_ok=True)
    handle = kernel.try_lock(course.grader / "grade.lock")
    if handle is None:
        raise RuntimeError(f"another `grade` is running on {course.root}; wait for it "
                           "to finish (two coordinators would commit the same submissions)")
    return handle


def run(course: Course, *, jobs: int = 2, timeout_cell: int = 30,
        timeout_submission: int = 300, memory_mb: int = 2048, nproc: int = 64,
        limits: bool = True, students=None, assignments=None, force: bool = False,
        scheduler: str | None = None, certs: Path | None = None, progress: bool = False,
        every_cell: bool = False, echo=SAY) -> dict:
    """Grade the class. Returns {"graded": n, "skipped": n, "failed_workers": [...]}:
    the last lists the submissions whose task never came back (recorded as
    error:grader-error, graded again by the next run)."""
    for name, value in (("jobs", jobs), ("timeout_cell", timeout_cell),
                        ("timeout_submission", timeout_submission), ("memory_mb", memory_mb),
                        ("nproc", nproc)):
        if not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name}={value!r}; give a positive whole number")
    if not course.assignments():
        raise ValueError(f"no assignments under {course.source}; run `release` first")
    name = (kernel.spec_name(memory_mb, timeout_submission, nproc) if limits else None)
    write_course_config(course, kernel_name=name)
    settings = settings_for(timeout_cell, timeout_submission, name, every_cell)
    share_engines()  # the coordinator's throughput: see gradebook.share_engines
    lock_down(course)
    lock = _lock_course(course)
    try:
        units, skipped = plan(course, settings, students, assignments, force)
        units = door.screen(course, units, asked=(students, assignments))  # names nbgrader globs
        units = queue(units)
        where = scheduler or f"{min(jobs, max(len(units), 1))} local worker process(es)"
        echo(f"grading {len(units)} submissions on {where}; "
             f"{skipped} unchanged since last graded, skipped")
        failed: list[dict] = []
        if units:
            host_limits = ({"memory_mb": memory_mb, "cpu_seconds": timeout_submission,
                            "nproc": nproc} if limits else None)
            bar = Progress(len(units)) if progress else None
            with cluster.connect(scheduler, min(jobs, len(units)), certs, host_limits,
                                 course.grader / "logs" / "workers") as client:
                failed = _drive(course, client, units, settings, bar, echo)
            if bar:
                bar.close()
    finally:
        lock.close()
    return {"graded": len(units), "skipped": skipped, "failed_workers": failed,
            "logs": [str(course.grader / "logs")]}


def _drive(course: Course, client, units, settings: dict, bar, echo) -> list[dict]:
    """Keep a window of tasks in flight, commit each outcome as it arrives."""
    todo = list(reversed(units))
    pending: dict[str, tuple[dict, dict]] = {}  # task key -> (record so far, payload)
    failed: list[dict] = []
    done = as_completed()
    kernel_noted = False

    def finished(record):
        if bar:
            bar.done(record)

    def fill():
        window = 2 * max(cluster.threads(client), 1) + 2
        while todo and len(pending) < window:
            student, assignment = todo.pop()
            try:
                record, payload = submission.prepare(course, student, assignment, settings)
            except Exception as exc:  # one broken submission never stops the batch
                record = {"student": student, "assignment": assignment, "reasons": [],
                          "detail": "", "flags": [], "events": [], "diagnoses": [],
                          "score": None, "max_score": None, "hash": None}
                finished(submission.failed(course, record, f"{type(exc).__name__}: {exc}"))
                continue
            if payload is None:  # nothing to execute (missing, corrupt): final already
                finished(submission.finish(course, record))
                continue
            pending[payload["key"]] = (record, payload)
            done.add(client.submit(engine.execute, payload, key=payload["key"], pure=False,
                                   retries=0))

    fill()
    resubmitted: dict[str, int] = {}
    while pending:
        future = next(done)
        key = future.key
        if key not in pending:  # committed already: the key is the content hash
            future.release()
            continue
        if future.cancelled() and resubmitted.get(key, 0) < 2:
            # the scheduler dropped it (a coordinator killed earlier held the same key)
            resubmitted[key] = resubmitted.get(key, 0) + 1
            done.add(client.submit(engine.execute, pending[key][1], key=key, pure=False))
            continue
        record, payload = pending.pop(key)
        try:
            outcome = future.result()
        except (Exception, CancelledError) as exc:  # KilledWorker: its workers kept dying
            why = f"the grading task failed: {type(exc).__name__}: {exc}"
            failed.append({"unit": f"{record['student']}/{record['assignment']}",
                           "why": why})
            finished(submission.failed(course, record, why + "\n" + traceback.format_exc()))
        else:
            if not kernel_noted and outcome.get("kernel"):
                kernel_noted = _note_kernel(course, outcome["kernel"], echo)
            try:
                finished(submission.commit(course, record, payload, outcome, settings))
            except Exception as exc:
                finished(submission.failed(course, record, f"commit failed: "
                                           f"{type(exc).__name__}: {exc}"))
        future.release()
        fill()
    return failed


def _note_kernel(course: Course, info: dict, echo) -> bool:
    """grader/kernel.json: the kernel the workers run (the integrity report reads it)."""
    (course.grader / "kernel.json").write_text(json.dumps(info))
    if not info.get("user"):
        echo("warning: the kernel runs as the grader's own user (not root, or no Python "
             "the kernel user can run); the integrity report flags this run")
    if info.get("name") and not info.get("sandbox"):
        echo(f"warning: kernels run without the bubblewrap sandbox "
             f"({info.get('sandbox_reason')}); the integrity report flags this run")
    return True

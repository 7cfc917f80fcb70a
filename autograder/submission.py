"""One submission on the coordinator: prepare it for a grading task, then commit what
the task returned.

`prepare` checks the submission before any kernel runs (the door: names, links, notebook
format, test cells restored from the instructor's source; then the static cheat scan) and
sanitizes the notebook with nbgrader's own
sanitize preprocessors (test cells restored from the gradebook): the task gets only
that notebook, the other files and the settings. `commit` runs nbgrader's `Autograde`
on the executed notebook the task returned, with the executor left out of the pipeline,
so nbgrader itself scores it and writes the gradebook and autograded/; then it writes
the status record (`grader/status/<student>/<a>.json`, atomically, last) and the log.
Only the coordinator calls these, one submission at a time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
import warnings
from io import StringIO
from pathlib import Path

import nbformat

from autograder import door, engine, integrity, reference
from autograder.course import Course, load_config, write_json_atomic
from autograder.gradebook import read_scores

# nbgrader's Gradebook.add_submission builds a submission's rows before it adds them to
# its session; SQLAlchemy 2 warns that the back-references wait for that add (three
# "Object of type <SubmittedAssignment> not in session" lines in every grade run). The rows
# are committed all the same: the warning says nothing an instructor could act on.
warnings.filterwarnings("ignore", message=r"Object of type <Submitted\w+> not in session",
                        module=r"nbgrader\.api")

SCRATCH = "grader/scratch/submitted"  # nbgrader's submitted_directory when committing
BUG_LINE = re.compile(r"^(check_\w+) found bug (B\d+) \((.*)\)$")
# Errors raised in a student's cell that mean a limit did its job.
LIMIT_ERRORS = {"MemoryError": "memory-limit", "BlockingIOError": "process-limit",
                "StdinNotImplementedError": "input-call"}
# Events that concern integrity, not faults: they become flags in the integrity report.
INTEGRITY_EVENTS = {"judge-disagrees": "the kernel's own run of this test disagrees with "
                                       "the grader's verdict: ",
                    "files-withheld": "files that would shadow the course's modules were "
                                      "not given to the kernel: "}
SEVERITY = ["submission-timeout", "kernel-died", "kernel-unresponsive", "cell-timeout",
            "memory-limit", "process-limit", "input-call", "recursion-limit", "environment-broken",
            "output-flood", "cells-deleted", "cells-duplicated", "cells-changed", "wrong-files",
            "grader-error"]


def content_hash(folder: Path, source: Path, settings: dict) -> str:
    """sha256 of the submission's files, the instructor's notebook and the limits."""
    h = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    h.update(source.read_bytes())
    paths = []
    for where, dirs, files in os.walk(folder):  # links are not followed: a link to the
        paths += [Path(where, n) for n in dirs + files]  # gradebook would change every run
    for path in sorted(paths):
        h.update(str(path.relative_to(folder)).encode())
        if path.is_symlink():
            h.update(b"link:" + os.readlink(path).encode())
        elif path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()


def status_path(course: Course, student: str, assignment: str) -> Path:
    return course.status_dir / student / f"{assignment}.json"


def diagnoses(nb) -> list[dict]:
    """One entry per failing grade cell: grade_id, check, bug id, kind of error, message."""
    found = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("grade") or meta.get("solution"):
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") != "error":
                continue
            evalue = str(out.get("evalue", ""))
            first = evalue.split("\n", 1)[0]
            match = BUG_LINE.match(first)
            found.append({
                "grade_id": meta.get("grade_id"),
                "error": out.get("ename", ""),
                "check": match.group(1) if match else (first.split(" ")[0].rstrip(":")
                                                       if first.startswith("check_") else ""),
                "bug": match.group(2) if match else "",
                "message": evalue.strip()[:2000],
            })
    return found


def distrusted(found: list[dict]) -> list[dict]:
    """Integrity flags for the test cells whose check refused to trust the answer (it
    called the reference, returned an always-equal object, ran in a tampered kernel): the
    lost points alone would hide a cheat among honest mistakes."""
    flags = []
    for d in found:
        head, _, rest = d["message"].partition("\n")
        if head.endswith("cannot trust this answer"):
            flags.append({"grade_id": d["grade_id"],
                          "flag": f"{head}: {rest.strip().splitlines()[0] if rest else ''}"[:300]})
    return flags


def cell_reasons(nb, max_lines: int) -> list[str]:
    """Reasons visible in the executed notebook: limits that struck, floods cut short."""
    reasons = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            name = out.get("ename")
            if name in LIMIT_ERRORS:
                reasons.append(LIMIT_ERRORS[name])
            text = out.get("text", "") if out.get("output_type") == "stream" else ""
            if "Output truncated" in text or text.count("\n") >= max_lines:
                reasons.append("output-flood")
        if len(cell.get("outputs", [])) >= max_lines:
            reasons.append("output-flood")
    return reasons


def structure(nb) -> list[tuple]:
    """What the task may not change: every nbgrader cell's id and kind, and the source of
    the cells a student cannot edit (tests, read-only cells)."""
    found = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta:
            fixed = meta.get("locked") or (meta.get("grade") and not meta.get("solution"))
            found.append((meta.get("grade_id"), bool(meta.get("grade")),
                          bool(meta.get("solution")), cell.source if fixed else None))
    return found


def _files(folder: Path, notebook: str) -> tuple[dict[str, bytes], list[str]]:
    """(the submission's other files by relative path, links handed in, not followed)."""
    files, links = {}, []
    for where, dirs, names in os.walk(folder):
        here = Path(where)
        for name in list(dirs) + names:
            path = here / name
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                links.append(rel)
                if name in dirs:
                    dirs.remove(name)
            elif path.is_file() and rel != notebook:
                files[rel] = path.read_bytes()
    return files, sorted(links)


def _sanitize(course: Course, nb, student: str, assignment: str, folder: Path):
    """nbgrader's sanitize preprocessors, as its Autograde runs them before executing."""
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory
    from traitlets.utils.importstring import import_item

    config = load_config(course)
    app = Autograde(coursedir=CourseDirectory(config=config), config=config)
    resources = {"metadata": {"path": str(folder)},
                 "nbgrader": {"student": student, "assignment": assignment,
                              "notebook": assignment, "db_url": course.url}}
    for pp in app.sanitize_preprocessors:
        cls = import_item(pp) if isinstance(pp, str) else pp
        nb, resources = cls(config=config)(nb, resources)
    return nb


def prepare(course: Course, student: str, assignment: str, settings: dict,
            key: str | None = None) -> tuple[dict, dict | None]:
    """(the status record so far, the grading task's payload, or None when the
    submission cannot be graded at all and its record is already final)."""
    started, cpu = time.perf_counter(), time.process_time()
    source = course.source / assignment / f"{assignment}.ipynb"
    folder = course.submitted / student / assignment
    record = {"student": student, "assignment": assignment, "notebook": assignment,
              "hash": content_hash(folder, source, settings), "reasons": [], "events": [],
              "diagnoses": [], "score": None, "max_score": None, "cells": {}, "detail": "",
              "flags": []}
    scratch = course.root / SCRATCH / student / assignment
    check = door.admit(course, student, assignment, scratch)  # names, links, format, cells
    record["reasons"] += check.notes
    record["detail"] = check.detail
    if check.fatal:
        shutil.rmtree(scratch, ignore_errors=True)
        record["status"] = "missing" if check.fatal == "missing" else f"error:{check.fatal}"
        return record, None
    notebook = scratch / f"{assignment}.ipynb"
    record["flags"] = integrity.scan_notebook(notebook, source) + check.flags
    files, _ = _files(scratch, notebook.name)  # the door copied them without links
    nb = nbformat.read(str(notebook), as_version=4)
    shutil.rmtree(scratch, ignore_errors=True)
    nb = _sanitize(course, nb, student, assignment, folder)
    record["prepare_seconds"] = round(time.perf_counter() - started, 3)
    record["prepare_cpu"] = round(time.process_time() - cpu, 3)
    payload = {"key": key or f"{student}/{assignment}/{record['hash']}", "student": student,
               "assignment": assignment, "notebook": nbformat.writes(nb), "files": files,
               "settings": settings, "instructor": source.read_text(),
               "withheld": reference.withheld(course.source, assignment)}
    return record, payload


def autograde(course: Course, student: str, assignment: str, settings: dict) -> tuple[bool, str]:
    """nbgrader's Autograde on the executed notebook in the scratch folder, its executor
    left out: nbgrader scores it, writes autograded/ and the gradebook. (ok, its log)."""
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory

    config = load_config(course, **settings)
    steps = list(config.Autograde.autograde_preprocessors)
    config = load_config(course, **{**settings,
                                    "CourseDirectory.submitted_directory": SCRATCH,
                                    "CourseDirectory.student_id": student,
                                    "CourseDirectory.assignment_id": assignment,
                                    # the notebook arrives sanitized and executed
                                    "Autograde.sanitize_preprocessors": [],
                                    "Autograde.autograde_preprocessors": steps[1:]})
    app = Autograde(coursedir=CourseDirectory(config=config), config=config)
    app.force = True
    app.create_student = True
    buffer = StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    app.log.addHandler(handler)
    app.log.propagate = False
    try:
        app.start()
        ok = True
    except Exception as exc:  # nbgrader raises NbGraderException after logging the cause
        buffer.write(f"[ERROR] {type(exc).__name__}: {exc}\n")
        ok = False
    finally:
        app.log.removeHandler(handler)
    return ok, buffer.getvalue()


def commit(course: Course, record: dict, payload: dict, outcome: dict, settings: dict) -> dict:
    """Write what the task returned: gradebook, autograded notebook, log, status record."""
    started, cpu = time.perf_counter(), time.process_time()
    student, assignment = record["student"], record["assignment"]
    record["events"] += [{k: v for k, v in e.items() if k != "source"}
                         for e in outcome.get("events", [])]
    record["reasons"] += outcome.get("faults", [])
    for event in record["events"]:
        if event["kind"] in INTEGRITY_EVENTS:
            flag = {"grade_id": event.get("grade_id") or "",
                    "flag": INTEGRITY_EVENTS[event["kind"]] + event.get("detail", "")}
            if flag not in record["flags"]:
                record["flags"].append(flag)
    log = (f"[INFO] executed on {outcome.get('host', '?')} in {outcome.get('seconds')} s, "
           f"{outcome.get('attempts')} attempt(s)\n{outcome.get('error', '')}")
    executed = nbformat.reads(outcome["notebook"], as_version=4) if outcome.get("ok") else None
    ok = False
    if executed is not None and structure(executed) != structure(
            nbformat.reads(payload["notebook"], as_version=4)):
        log += "[ERROR] the executed notebook's grade cells differ from the ones sent\n"
    elif executed is not None:
        scratch = course.root / SCRATCH / student / assignment
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        engine.write_files(scratch, payload["files"])
        nbformat.write(executed, str(scratch / f"{assignment}.ipynb"))
        ok, more = autograde(course, student, assignment, settings)
        log += more
        shutil.rmtree(scratch, ignore_errors=True)
    if ok:
        graded = nbformat.read(str(course.autograded / student / assignment
                                   / f"{assignment}.ipynb"), as_version=4)
        record["diagnoses"] = diagnoses(graded)
        record["flags"] += distrusted(record["diagnoses"])
        record["reasons"] += cell_reasons(graded, settings.get("LimitOutput.max_lines", 500))
        record.update(read_scores(course, student, assignment))
    else:
        record["reasons"].append("grader-error")
        record["detail"] += log[-2000:]
    log_path = course.grader / "logs" / student / f"{assignment}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text(log)
    record["seconds"] = outcome.get("seconds")
    record["commit_seconds"] = round(time.perf_counter() - started, 3)
    record["commit_cpu"] = round(time.process_time() - cpu, 3)  # the coordinator's own work
    return finish(course, record)


def finish(course: Course, record: dict) -> dict:
    """Settle the status from the reasons and write the record (the commit's last act)."""
    if "status" not in record:
        reasons = sorted(set(record["reasons"]), key=SEVERITY.index)
        record["reasons"] = reasons
        record["status"] = f"error:{reasons[0]}" if reasons else "graded"
    write_json_atomic(status_path(course, record["student"], record["assignment"]), record)
    return record


def failed(course: Course, record: dict, why: str) -> dict:
    """The record of a submission whose task never returned (its workers kept dying)."""
    record["reasons"].append("grader-error")
    record["detail"] += why[-2000:]
    return finish(course, record)


def grade_here(course: Course, student: str, assignment: str, settings: dict) -> dict:
    """Prepare, execute and commit one submission in this process, with no cluster (the
    kernelspec and kernel user must already be set up, as a worker's GradingHost does)."""
    record, payload = prepare(course, student, assignment, settings)
    if payload is None:
        return finish(course, record)
    return commit(course, record, payload, engine.execute(payload), settings)

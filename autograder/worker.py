"""Grade a list of (student, assignment) submissions in this process, one after another.

A worker pays nbgrader's imports once and runs nbgrader's `Autograde` converter per
submission on a scratch copy of it. A submission that kills or hangs its kernel is
graded again with the offending cell replaced by a `raise`, so the rest still counts;
every outcome is written as an atomic status record (`grader/status/<student>/<a>.json`).
Run by `grade` as ``python -m autograder.worker UNITS.json``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import signal
import sys
import time
from io import StringIO
from pathlib import Path

import nbformat

from autograder import integrity, kernel, preprocessors
from autograder.course import Course, load_config, write_json_atomic
from autograder.preflight import preflight

SCRATCH = "grader/scratch/submitted"  # nbgrader's submitted_directory for the scratch copies
SALVAGE_ATTEMPTS = 2
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
            "memory-limit", "process-limit", "input-call", "output-flood", "cells-deleted",
            "cells-duplicated", "wrong-files", "grader-error"]


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


def neutralise(path: Path, event: dict) -> bool:
    """Replace the cell that hung or killed the kernel by a `raise`; False if not found."""
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and cell.source == event.get("source") and not (
                gid and cell.metadata.nbgrader.get("grade")):
            cell.source = (f"raise RuntimeError('The grader removed this cell: it caused "
                           f"{event['kind']} when the notebook was graded.')")
            nbformat.write(nb, str(path))
            return True
    return False


def repair_duplicates(path: Path) -> None:
    """Keep the first cell of each grade_id; later copies become plain cells.

    nbgrader 0.9.6's DeduplicateIds leaves the copies with grade_id-less metadata, on which
    OverwriteCells(add_missing_cells=True) crashes.
    """
    nb = nbformat.read(str(path), as_version=4)
    seen, changed = set(), False
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in seen:
            del cell.metadata["nbgrader"]
            changed = True
        elif gid:
            seen.add(gid)
    if changed:
        nbformat.write(nb, str(path))


def autograde(course: Course, student: str, assignment: str, settings: dict) -> tuple[bool, str]:
    """Run nbgrader's Autograde on the scratch copy. (succeeded, captured log)."""
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory

    config = load_config(course, **{"CourseDirectory.submitted_directory": SCRATCH,
                                    "CourseDirectory.student_id": student,
                                    "CourseDirectory.assignment_id": assignment,
                                    **settings})
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


def read_scores(course: Course, student: str, assignment: str) -> dict:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{course.db}", course_id="nnlab") as gb:
        try:
            sub = gb.find_submission(assignment, student)
        except MissingEntry:
            return {}
        cells = {g.name: {"score": g.score, "max": g.max_score, "auto": g.auto_score}
                 for nb in sub.notebooks for g in nb.grades}
        return {"score": sub.score, "max_score": sub.max_score, "cells": cells,
                "needs_manual_grade": sub.needs_manual_grade}


def grade_one(course: Course, student: str, assignment: str, settings: dict) -> dict:
    """Grade one submission and write its status record; return the record."""
    started = time.time()
    source = course.source / assignment / f"{assignment}.ipynb"
    folder = course.submitted / student / assignment
    record = {"student": student, "assignment": assignment, "notebook": assignment,
              "hash": content_hash(folder, source, settings), "reasons": [], "events": [],
              "diagnoses": [], "score": None, "max_score": None, "cells": {}, "detail": ""}
    check = preflight(course.submission(student, assignment), source)
    record["reasons"] += check.notes
    record["detail"] = check.detail
    if check.fatal:
        record["status"] = "missing" if check.fatal == "missing" else f"error:{check.fatal}"
        record["seconds"] = round(time.time() - started, 2)
        write_json_atomic(status_path(course, student, assignment), record)
        return record
    record["flags"] = integrity.scan_notebook(course.submission(student, assignment))
    scratch = course.root / SCRATCH / student / assignment
    shutil.rmtree(scratch, ignore_errors=True)
    links: list[str] = []

    def drop_links(where, names):
        # nbgrader copies a submission's files as root, following links: a link to the
        # gradebook would reach the kernel as a copy of it. Links never leave submitted/.
        found = [n for n in names if os.path.islink(os.path.join(where, n))]
        links.extend(os.path.relpath(os.path.join(where, n), folder) for n in found)
        return found

    shutil.copytree(folder, scratch, ignore=drop_links)
    if links:
        record["flags"].append({"grade_id": "", "flag": "links handed in were not followed: "
                                + ", ".join(sorted(links))[:300]})
    if "cells-duplicated" in check.notes:
        repair_duplicates(scratch / f"{assignment}.ipynb")
    log = ""
    for _attempt in range(SALVAGE_ATTEMPTS + 1):
        preprocessors.EVENTS.clear()
        ok, log = autograde(course, student, assignment, settings)
        record["events"] += [{k: v for k, v in e.items() if k != "source"}
                             for e in preprocessors.EVENTS]
        faults = [e for e in preprocessors.EVENTS if e["kind"] not in INTEGRITY_EVENTS]
        fatal = [e for e in faults if e["kind"] != "cell-timeout"]
        if not ok and fatal and fatal[-1]["cell"] is None and _attempt < SALVAGE_ATTEMPTS:
            time.sleep(1.0)  # the kernel died before any cell ran: not this student's doing
            continue
        record["reasons"] += [e["kind"] for e in faults]
        if ok or not fatal or not neutralise(scratch / f"{assignment}.ipynb", fatal[-1]):
            break
    shutil.rmtree(scratch, ignore_errors=True)
    for event in record["events"]:
        if event["kind"] in INTEGRITY_EVENTS:
            flag = {"grade_id": event.get("grade_id") or "",
                    "flag": INTEGRITY_EVENTS[event["kind"]] + event.get("detail", "")}
            if flag not in record["flags"]:
                record["flags"].append(flag)
    log_path = course.grader / "logs" / student / f"{assignment}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text(log)
    if ok:
        executed = nbformat.read(str(course.autograded / student / assignment
                                     / f"{assignment}.ipynb"), as_version=4)
        record["diagnoses"] = diagnoses(executed)
        record["flags"] += distrusted(record["diagnoses"])
        record["reasons"] += cell_reasons(executed, settings.get("LimitOutput.max_lines", 500))
        record.update(read_scores(course, student, assignment))
    else:
        record["reasons"].append("grader-error")
        record["detail"] += log[-2000:]
    reasons = sorted(set(record["reasons"]), key=SEVERITY.index)
    record["reasons"] = reasons
    record["status"] = f"error:{reasons[0]}" if reasons else "graded"
    record["seconds"] = round(time.time() - started, 2)
    write_json_atomic(status_path(course, student, assignment), record)
    return record


def die_with_parent() -> None:
    """On Linux, ask to be SIGKILLed when the grader that started us dies (kill -9 of
    `python -m autograder grade` then leaves no worker grading on behind a re-run)."""
    parent = os.environ.get("NNLAB_GRADER_PID")
    if not sys.platform.startswith("linux") or not parent:
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != int(parent):  # the grader died before prctl took effect
        os._exit(1)


def claim(course: Course, student: str) -> bool:
    """Take `student` for this worker; False when another worker already has them."""
    try:
        os.close(os.open(course.grader / "claims" / student, os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return False
    return True


def main(argv: list[str]) -> int:
    """``python -m autograder.worker QUEUE.json``: {"course", "settings", "units": [[s, a]]}.

    Every worker reads the same queue and grades the students it manages to claim.
    """
    die_with_parent()
    job = json.loads(Path(argv[0]).read_text())
    if job["settings"].get("Execute.kernel_name") == kernel.KERNEL_NAME:
        slot, _lock = kernel.claim_slot()  # held until this process exits
        os.environ["NNLAB_KERNEL_SLOT"] = str(slot)
        kernel.kernel_user(slot)
    course = Course(job["course"])
    mine: set[str] = set()
    for student, assignment in job["units"]:
        if student not in mine:
            if not claim(course, student):
                continue
            mine.add(student)
        try:
            rec = grade_one(course, student, assignment, job["settings"])
        except Exception as exc:  # one broken submission never stops the batch
            rec = {"student": student, "assignment": assignment, "status": "error:grader-error",
                   "reasons": ["grader-error"], "detail": f"{type(exc).__name__}: {exc}",
                   "score": None, "max_score": None, "hash": None, "diagnoses": []}
            write_json_atomic(status_path(course, student, assignment), rec)
        print(f"{student}/{assignment}: {rec['status']} {rec.get('score')}/{rec.get('max_score')}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The grading task: execute one sanitized notebook with its files and settings, and
return what happened. It runs wherever the engine puts it (a local worker process or a
cluster worker on another machine) and writes nothing shared: only its own temporary
folder, removed before it returns.

The executor is the first entry of `c.Autograde.autograde_preprocessors` in
nbgrader_config.py, used as a standalone nbconvert preprocessor. A submission that kills
or hangs its kernel is executed again with the offending cell replaced by a `raise`, so
the rest still counts. Dask runs a task at least once, so running one twice is harmless.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
import traceback
from pathlib import Path, PurePosixPath

import nbformat

SALVAGE_ATTEMPTS = 2
# Events that concern integrity, not faults: they become flags in the integrity report.
INTEGRITY_EVENTS = {"judge-disagrees", "files-withheld"}
#: What the grading host's set-up recorded (the kernel's user and Python), set by
#: cluster.GradingHost on the worker and returned with every outcome.
HOST: dict = {}


def executor_config(settings: dict):
    """nbgrader_config.py of this package plus the run's `settings` ("Section.trait")."""
    from traitlets.config import PyFileConfigLoader

    from autograder.course import CONFIG_FILE

    config = PyFileConfigLoader(CONFIG_FILE.name, path=str(CONFIG_FILE.parent)).load_config()
    for dotted, value in settings.items():
        section, _, trait = dotted.partition(".")
        setattr(config[section], trait, value)
    return config


def executor_class(config):
    """The executing preprocessor: by contract the first autograde preprocessor."""
    from traitlets.utils.importstring import import_item

    first = config.Autograde.autograde_preprocessors[0]
    return import_item(first) if isinstance(first, str) else first


def neutralise(nb, event: dict) -> bool:
    """Replace the cell that hung or killed the kernel by a `raise`; False if not found."""
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and cell.source == event.get("source") \
                and not (meta.get("grade_id") and meta.get("grade")):
            cell.source = (f"raise RuntimeError('The grader removed this cell: it caused "
                           f"{event['kind']} when the notebook was graded.')")
            return True
    return False


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    """Write a submission's files (relative path -> bytes) under `folder`."""
    for name, data in files.items():
        rel = PurePosixPath(name)
        if rel.is_absolute() or ".." in rel.parts:
            raise ValueError(f"file {name!r} would land outside the submission's folder")
        path = folder.joinpath(*rel.parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _run_once(cls, config, nb, folder: Path, payload: dict) -> tuple[object, list, str]:
    """(executed notebook or None, events, error text) for one execution."""
    from autograder import preprocessors

    preprocessors.EVENTS.clear()
    resources = {"metadata": {"path": str(folder)}, "unique_key": payload["assignment"],
                 "nbgrader": {"student": payload["student"],
                              "assignment": payload["assignment"],
                              "notebook": payload["assignment"]}}
    resources["nnlab"] = {}
    if payload.get("instructor"):  # the judge's test code: the instructor's notebook itself
        instructor = folder.with_name(folder.name + "-instructor.ipynb")
        instructor.write_text(payload["instructor"])
        resources["nnlab"]["instructor_notebook"] = str(instructor)
    if payload.get("withheld") is not None:  # the references the sandbox leaves out
        resources["nnlab"]["withheld"] = payload["withheld"]
    try:
        executed, _ = cls(config=config).preprocess(nb, resources)
        return executed, list(preprocessors.EVENTS), ""
    except Exception as exc:  # the executor raises after recording why (kernel died, ...)
        return None, list(preprocessors.EVENTS), \
            f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"[-3000:]


def execute(payload: dict) -> dict:
    """Execute `payload` = {"student", "assignment", "notebook" (sanitized JSON text),
    "files" {relative path: bytes}, "settings" {"Section.trait": value}, "key", and
    "instructor", the instructor's notebook (JSON text) the judge takes the test code and
    the instructor's imports from, "withheld", {name: assignment} of nnlab's references the
    sandboxed kernel must not have (reference.withheld, worked out where source/ is)}.

    Returns {"key", "ok", "notebook" (executed JSON text, None when it could not run),
    "events", "faults" (the kinds that count against it), "error", "attempts", "seconds",
    "host", "kernel"}.
    """
    started = time.perf_counter()
    config = executor_config(payload["settings"])
    cls = executor_class(config)
    nb = nbformat.reads(payload["notebook"], as_version=4)
    folder = Path(tempfile.mkdtemp(prefix="nnlab-task-"))
    events: list[dict] = []  # everything the executor met, every attempt
    faults: list[str] = []   # the faults that count against the submission
    executed, error, attempt = None, "", 0
    try:
        write_files(folder, payload.get("files", {}))
        for attempt in range(1, SALVAGE_ATTEMPTS + 2):
            executed, found, error = _run_once(cls, config, nb, folder, payload)
            events += found
            counted = [e for e in found if e["kind"] not in INTEGRITY_EVENTS]
            fatal = [e for e in counted if e["kind"] != "cell-timeout"]
            if executed is None and fatal and fatal[-1]["cell"] is None \
                    and attempt <= SALVAGE_ATTEMPTS:
                time.sleep(1.0)  # the kernel died before any cell ran: not the student's doing
                continue
            faults += [e["kind"] for e in counted]
            if executed is not None or not fatal or not neutralise(nb, fatal[-1]):
                break
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        folder.with_name(folder.name + "-instructor.ipynb").unlink(missing_ok=True)
    return {"key": payload["key"], "ok": executed is not None,
            "notebook": nbformat.writes(executed) if executed is not None else None,
            "events": events, "faults": faults, "error": error, "attempts": attempt,
            "seconds": round(time.perf_counter() - started, 3),
            "host": f"{socket.gethostname()}:{os.getpid()}", "kernel": dict(HOST)}


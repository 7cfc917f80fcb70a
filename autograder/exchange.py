"""nbgrader's exchange, driven from the course folder: publish, collect, return feedback.

A course with an exchange has `exchange.json` in its root (`release --exchange DIR` writes
it). Students fetch and submit through nbgrader's own Assignments tab or `nbgrader fetch /
submit`; here the instructor's side runs nbgrader's exchange classes in-process. Folder
names in the exchange are written by students, so every student id is checked
(`autograder.ids`) and a submission owned by another system user than it claims is refused.
"""

from __future__ import annotations

import json
import logging
import os
import pwd
import stat
from io import StringIO
from pathlib import Path

from autograder import ids
from autograder.course import Course, load_config

CONFIG_NAME = "exchange.json"
COURSE_ID = "nnlab"


def root(course: Course) -> Path | None:
    """The exchange root configured for `course`, or None."""
    path = course.root / CONFIG_NAME
    if not path.is_file():
        return None
    return Path(json.loads(path.read_text())["root"])


def configure(course: Course, exchange_root: Path) -> Path:
    """Record `exchange_root` for the course and create it world-writable and sticky (1777),
    as nbgrader requires. Returns the root."""
    exchange_root = Path(exchange_root).resolve()
    exchange_root.mkdir(parents=True, exist_ok=True)
    mode = stat.S_IMODE(exchange_root.stat().st_mode)
    if mode != 0o1777:
        exchange_root.chmod(0o1777)
    course.root.mkdir(parents=True, exist_ok=True)
    (course.root / CONFIG_NAME).write_text(json.dumps({"root": str(exchange_root)}) + "\n")
    return exchange_root


def _require(course: Course) -> Path:
    found = root(course)
    if found is None:
        raise ValueError(f"course {course.root} has no exchange: run `python -m autograder "
                         "release --exchange DIR` once (DIR e.g. /srv/nbgrader/exchange)")
    return found


def _run(exchange_class, course: Course, prepare=None, **settings) -> tuple[bool, str]:
    """Run one of nbgrader's exchange actions in-process; (ok, its log). `prepare(action)`
    may adjust the action before it starts."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory

    config = load_config(course, **{"Exchange.root": str(_require(course)),
                                    "CourseDirectory.course_id": COURSE_ID, **settings})
    buffer = StringIO()
    log = logging.getLogger(f"autograder.exchange.{id(buffer)}")
    log.handlers[:] = [logging.StreamHandler(buffer)]
    log.setLevel(logging.INFO)
    log.propagate = False
    action = exchange_class(coursedir=CourseDirectory(config=config),
                            authenticator=Authenticator(config=config), config=config, log=log)
    if prepare is not None:
        prepare(action)
    try:
        action.start()
        return True, buffer.getvalue()
    except Exception as exc:  # nbgrader's ExchangeError after logging why
        return False, buffer.getvalue() + f"\n{type(exc).__name__}: {exc}"


def publish(course: Course, names: list[str] | None = None) -> dict[str, str]:
    """Copy release/<name>/ to the exchange's outbound folder; name -> "ok" or the error."""
    from nbgrader.exchange.default import ExchangeReleaseAssignment

    results = {}
    for name in names or sorted(p.name for p in course.release.iterdir() if p.is_dir()):
        ok, log = _run(ExchangeReleaseAssignment, course,
                       **{"CourseDirectory.assignment_id": name,
                          "ExchangeReleaseAssignment.force": True})
        results[name] = "ok" if ok else log.strip()[-1500:]
    return results


def _owner(path: Path) -> str:
    uid = path.lstat().st_uid
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def inbound(course: Course) -> list[dict]:
    """Every submission folder in the exchange: student, assignment, owner, refusal."""
    folder = _require(course) / COURSE_ID / "inbound"
    found = []
    me = pwd.getpwuid(os.getuid()).pw_name
    for entry in sorted(folder.iterdir()) if folder.is_dir() else []:
        parts = entry.name.rsplit("+", 3)
        if len(parts) < 3 or not entry.is_dir() or entry.is_symlink():
            found.append({"name": entry.name, "student": None, "assignment": None,
                          "refused": f"refused {entry.name!r} in the exchange: not a "
                                     "'<student>+<assignment>+<timestamp>' folder"})
            continue
        student, assignment = parts[0], parts[1]
        owner = _owner(entry)
        why = ids.refusal(student, f"exchange folder {entry.name!r}")
        if why is None and owner not in (student, me):
            why = (f"refused exchange folder {entry.name!r}: it claims student {student!r} "
                   f"but belongs to system user {owner!r}")
        found.append({"name": entry.name, "student": student, "assignment": assignment,
                      "owner": owner, "refused": why})
    return found


def collect(course: Course, names: list[str] | None = None) -> dict:
    """Copy the newest submission of every student into submitted/<student>/<assignment>/.

    Returns {"collected": [(student, assignment)], "refused": [reason], "failed": [error]}.
    """
    wanted = set(names or course.assignments())
    entries = [e for e in inbound(course) if e["assignment"] in wanted or e["student"] is None]
    refused = sorted({e["refused"] for e in entries if e["refused"]})
    accepted: dict[tuple[str, str], list[str]] = {}
    for e in entries:
        if not e["refused"]:
            accepted.setdefault((e["student"], e["assignment"]), []).append(e["name"])
    collected, failed = [], []
    for (student, assignment), folders in sorted(accepted.items()):
        ok, log = _run(_only_accepted(), course, prepare=lambda a, f=folders: a.accept(f),
                       **{"CourseDirectory.assignment_id": assignment,
                          "CourseDirectory.student_id": student,
                          "ExchangeCollect.update": True, "ExchangeCollect.check_owner": False})
        if ok and course.submission(student, assignment).is_file():
            collected.append((student, assignment))
        else:
            failed.append(f"collect {student}/{assignment}: {log.strip()[-500:]}")
    return {"collected": collected, "refused": refused, "failed": failed}


def _only_accepted():
    from nbgrader.exchange.default import ExchangeCollect

    class OnlyAccepted(ExchangeCollect):
        """nbgrader's collect, choosing among the accepted folders only: nbgrader globs
        `<student>+<assignment>+*` and would take a newer folder forged in that name."""

        folders: list[str] = []

        def accept(self, folders):
            self.folders = list(folders)

        def init_src(self):
            super().init_src()
            records = [self._path_to_record(os.path.join(self.inbound_path, name))
                       for name in self.folders]
            self.src_records = self._sort_by_timestamp(records)[:1]

    return OnlyAccepted


def return_feedback(course: Course, names: list[str] | None = None) -> dict:
    """Put each student's feedback HTML where only that student's `fetch_feedback` finds it.

    Feedback for a submission that did not come through the exchange (no submission secret,
    e.g. from an LMS zip) is left out and listed under "skipped".
    """
    from nbgrader.exchange.default import ExchangeReleaseFeedback

    _require(course)
    results: dict = {"returned": [], "skipped": [], "failed": []}
    for name in names or course.assignments():
        folders = sorted(p for p in course.feedback.glob(f"*/{name}") if any(p.glob("*.html")))
        without = [p.parent.name for p in folders if not (p / "submission_secret.txt").is_file()]
        results["skipped"] += [f"{s}/{name}: not submitted through the exchange" for s in without]
        if len(without) == len(folders):
            continue
        settings = {"CourseDirectory.assignment_id": name}
        if without:
            settings["CourseDirectory.student_id_exclude"] = ",".join(without)
        ok, log = _run(ExchangeReleaseFeedback, course, **settings)
        if ok:
            results["returned"] += [(p.parent.name, name) for p in folders
                                    if p.parent.name not in without]
        else:
            results["failed"].append(f"return {name}: {log.strip()[-800:]}")
    return results

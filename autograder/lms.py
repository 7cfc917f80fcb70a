"""Courses that live in an LMS: its zip of submissions in, a grade file it imports out.

`collect_zip` follows nbgrader's zip_collect conventions (the zip goes to
`downloaded/<assignment>/archive/`, nbgrader's ZipCollectApp extracts it to `extracted/`
and copies each notebook to `submitted/<student>/<assignment>/`), with a collector that
reads the LMS's file names and refuses unsafe student ids. `export` writes the LMS's
grade import file beside `reports/grades.csv`. Supported layouts:

- Canvas: zip entries `<namesortable>[_LATE]_<userid>_<submissionid>_<file>`; student id
  `<namesortable>_<userid>`; grade file `reports/canvas_grades.csv` with Canvas's gradebook
  columns `Student, ID, SIS User ID, SIS Login ID, Section`, then one column per notebook,
  a `Points Possible` row first.
- Moodle: zip folders `<Full Name>_<participantid>_assignsubmission_file_/<file>`; student
  id `<fullname lower-cased, letters and digits>_<participantid>`; grade files
  `reports/moodle_grades_<assignment>.csv`, Moodle's grading worksheet columns
  `Identifier, Full name, Grade, Maximum Grade, Feedback comments`.
"""

from __future__ import annotations

import csv
import logging
import re
import shutil
import zipfile
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

from traitlets import Unicode

from autograder import ids
from autograder.course import Course, load_config

MAX_UNPACKED = 500 * 2**20  # bytes a zip may unpack to


@dataclass(frozen=True)
class Layout:
    pattern: re.Pattern   # matched against `on` of each extracted file
    on: str               # "name" (the file's name) or "folder" (its folder's name)


LAYOUTS = {
    "canvas": Layout(re.compile(r"^(?P<name>[^_]+)_(?:LATE_)?(?P<lms_id>[^_]+)_"
                                r"(?P<submission>[^_]+)_(?P<file>.+)$"), "name"),
    "moodle": Layout(re.compile(r"^(?P<name>.+)_(?P<lms_id>[^_]+)_assignsubmission_file_$"),
                     "folder"),
}


def student_id(lms: str, name: str, lms_id: str) -> str:
    """The course's id for an LMS student (checked by autograder.ids afterwards)."""
    if lms == "moodle":  # a Moodle full name is free text: keep letters and digits
        name = "".join(ch for ch in name.lower() if ch.isalnum() and ch.isascii())
    return f"{name}_{lms_id}"


def _plugin_class():
    from nbgrader.plugins import FileNameCollectorPlugin

    class LmsCollector(FileNameCollectorPlugin):
        """nbgrader's file-name collector for an LMS layout; every notebook a student
        handed in becomes `<assignment>.ipynb` (one notebook per assignment here)."""

        lms = Unicode("canvas").tag(config=True)
        assignment = Unicode("").tag(config=True)

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.refused: list[str] = []
            self.roster: dict[str, dict] = {}

        def collect(self, submitted_file: str):
            path = Path(submitted_file)
            if path.suffix != ".ipynb":
                self.log.info("not a notebook, left out: %s", path.name)
                return None
            layout = LAYOUTS[self.lms]
            subject = path.name if layout.on == "name" else path.parent.name
            match = layout.pattern.match(subject)
            if match is None:
                self.refused.append(f"refused {subject!r}: not a {self.lms} submission name "
                                    f"({layout.pattern.pattern})")
                return None
            sid = student_id(self.lms, match["name"], match["lms_id"])
            why = ids.refusal(sid, f"{self.lms} zip entry {subject!r}")
            if why:
                self.refused.append(why)
                return None
            self.roster[sid] = {"student": sid, "lms": self.lms, "name": match["name"],
                                "lms_id": match["lms_id"]}
            return {"student_id": sid, "file_id": f"{self.assignment}.ipynb"}

    return LmsCollector


def _unsafe_entries(zip_path: Path) -> list[str]:
    """Refusals for entries that would land outside the extraction folder, and a size cap."""
    refused, total = [], 0
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            name = info.filename
            total += info.file_size
            if name.startswith(("/", "\\")) or ".." in re.split(r"[/\\]", name):
                refused.append(f"refused zip entry {name!r}: its path leaves the folder")
    if total > MAX_UNPACKED:
        raise ValueError(f"{zip_path} unpacks to {total / 2**20:.0f} MB, over the "
                         f"{MAX_UNPACKED / 2**20:.0f} MB limit; is it the submissions zip?")
    return refused


def collect_zip(course: Course, zip_path: Path, assignment: str, lms: str) -> dict:
    """Put every notebook of an LMS download into submitted/<student>/<assignment>/.

    Returns {"collected": [(student, assignment)], "refused": [reason], "failed": [error]}
    and merges the students into `<course>/lms/roster.csv` (needed by `export`).
    """
    from nbgrader.apps import ZipCollectApp
    from nbgrader.coursedir import CourseDirectory

    if lms not in LAYOUTS:
        raise ValueError(f"unknown LMS {lms!r}; supported: {sorted(LAYOUTS)}")
    zip_path = Path(zip_path)
    if not zipfile.is_zipfile(zip_path):
        raise ValueError(f"{zip_path} is not a zip file; download the submissions as a zip")
    if not (course.release / assignment).is_dir():
        raise ValueError(f"no released assignment {assignment!r} in {course.release}; "
                         f"released: {sorted(p.name for p in course.release.glob('*'))}")
    refused = _unsafe_entries(zip_path)
    archive = course.root / "downloaded" / assignment / "archive"
    shutil.rmtree(archive, ignore_errors=True)
    archive.mkdir(parents=True)
    shutil.copyfile(zip_path, archive / zip_path.name)
    config = load_config(course, **{
        "CourseDirectory.assignment_id": assignment,
        "ZipCollectApp.collector_plugin": _plugin_class(),
        "ZipCollectApp.force": True, "ExtractorPlugin.force": True,
        "LmsCollector.lms": lms, "LmsCollector.assignment": assignment})
    app = ZipCollectApp(coursedir=CourseDirectory(config=config), config=config)
    buffer = StringIO()
    app.log.addHandler(logging.StreamHandler(buffer))
    app.log.propagate = False
    failed = []
    try:
        app.start()
    except Exception as exc:  # nbgrader logs, then raises
        failed.append(f"zip_collect {assignment}: {buffer.getvalue()[-800:]} "
                      f"{type(exc).__name__}: {exc}")
    plugin = app.collector_plugin_inst
    refused += plugin.refused
    collected = sorted((s, assignment) for s in plugin.roster
                       if course.submission(s, assignment).is_file())
    _merge_roster(course, plugin.roster.values())
    return {"collected": collected, "refused": refused, "failed": failed}


ROSTER_FIELDS = ["student", "lms", "name", "lms_id"]


def roster(course: Course) -> dict[str, dict]:
    path = course.root / "lms" / "roster.csv"
    if not path.is_file():
        return {}
    with open(path, newline="") as fh:
        return {row["student"]: row for row in csv.DictReader(fh)}


def _merge_roster(course: Course, rows) -> None:
    merged = roster(course)
    merged.update({r["student"]: r for r in rows})
    path = course.root / "lms" / "roster.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=ROSTER_FIELDS)
        writer.writeheader()
        writer.writerows(sorted(merged.values(), key=lambda r: r["student"]))


def _score(row: dict) -> str:
    """The points an LMS should record: blank unless the submission graded."""
    if row["status"] == "graded" and row["score"] is not None:
        return f"{row['score']:g}"
    return ""


def export(course: Course, lms: str) -> list[Path]:
    """Write the grade file(s) `lms` imports; returns their paths. Students not in the LMS
    roster (e.g. from the hub) are left out; ungraded cells stay blank, never 0."""
    from autograder import report

    if lms not in LAYOUTS:
        raise ValueError(f"unknown LMS {lms!r}; supported: {sorted(LAYOUTS)}")
    people = {s: r for s, r in roster(course).items() if r["lms"] == lms}
    if not people:
        raise ValueError(f"no {lms} students in {course.root / 'lms' / 'roster.csv'}: run "
                         f"`collect --zip FILE --lms {lms} ASSIGNMENT` first")
    report.write(course, echo=lambda *_: None)  # grades.csv and the rest, beside it
    grades = report.grade_rows(course)
    assignments = course.assignments()
    by = {(r["student"], r["assignment"]): r for r in grades}
    out = course.reports
    out.mkdir(parents=True, exist_ok=True)
    if lms == "canvas":
        path = out / "canvas_grades.csv"
        maxima = {a: max((r["max_score"] or 0 for r in grades if r["assignment"] == a),
                         default=0) for a in assignments}
        with open(path, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                             *assignments])
            writer.writerow(["Points Possible", "", "", "", "",
                             *(f"{maxima[a]:g}" for a in assignments)])
            for sid, person in sorted(people.items()):
                writer.writerow([person["name"], person["lms_id"], "", "", "",
                                 *(_score(by.get((sid, a), {"status": "missing", "score": None}))
                                   for a in assignments)])
        return [path]
    paths = []
    diagnoses = report.diagnosis_rows(course)
    for a in assignments:
        path = out / f"moodle_grades_{a}.csv"
        with open(path, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["Identifier", "Full name", "Grade", "Maximum Grade",
                             "Feedback comments"])
            for sid, person in sorted(people.items()):
                row = by.get((sid, a), {"status": "missing", "score": None, "max_score": None})
                found = sorted({f"{d['bug']} in {d['grade_id']}" for d in diagnoses
                                if d["student"] == sid and d["assignment"] == a and d["bug"]})
                comment = ("catalogued bugs: " + ", ".join(found)) if found else ""
                if row["status"] not in ("graded", "missing"):
                    comment = (comment + "; " if comment else "") + row["status"]
                writer.writerow([f"Participant {person['lms_id']}", person["name"],
                                 _score(row), _max(row), comment])
        paths.append(path)
    return paths


def _max(row: dict) -> str:
    return f"{row['max_score']:g}" if row.get("max_score") is not None else ""

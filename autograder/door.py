"""The door every submission passes before nbgrader sees it.

`screen()` validates the student ids and assignment names of a grade run once: a name
nbgrader would read as a glob or a path (`*`, `a/b`, `..`, a leading dot, a control
character, nothing at all) is refused, with its reason written as an `error:bad-name`
record so grades.csv shows it. `admit()` then looks at one submission (is it there, is
it JSON, is it a notebook), copies it to the grader's scratch folder without following
a single link, upgrades old nbformat versions, and puts back every test cell a student
turned into markdown, renamed, duplicated or re-pointed, from the instructor's source.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

GLOB = set("*?[]{}")
SEPARATORS = {"/", "\\"}


def name_problem(kind: str, name) -> str | None:
    """Why `name` (a student id or an assignment name) cannot be graded, or None."""
    if not isinstance(name, str) or not name:
        return f"the {kind} is empty"
    if name in (".", "..") or ".." in name.split("/"):
        return f"the {kind} {name!r} is a path to a parent folder"
    if GLOB & set(name):
        return (f"the {kind} {name!r} contains a glob character "
                f"({''.join(sorted(GLOB & set(name)))}), which nbgrader would expand to "
                "other students' folders")
    if SEPARATORS & set(name):
        return f"the {kind} {name!r} contains a path separator"
    if name.startswith("."):
        return f"the {kind} {name!r} starts with a dot (a hidden folder)"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return f"the {kind} {name!r} contains a control character"
    if name != name.strip():
        return f"the {kind} {name!r} starts or ends with white space"
    return None


def refused_path(course, student: str, assignment: str) -> Path:
    """Where the record of a refused name goes: a hashed file name, so the bad name itself
    never becomes part of a path."""
    digest = hashlib.sha256(json.dumps([student, assignment]).encode()).hexdigest()[:16]
    return course.status_dir / "_refused" / f"{digest}.json"


def screen(course, units: list[tuple[str, str]], asked=(None, None)) -> list[tuple[str, str]]:
    """The (student, assignment) units of a grade run whose names are safe; each refused
    unit gets an `error:bad-name` status record naming the value and the fix. `asked` is
    the (students, assignments) given on the command line: a bad one raises ValueError
    before anything is graded."""
    from autograder.course import write_json_atomic

    for kind, names in zip(("student id", "assignment name"), asked, strict=True):
        for name in names or ():
            problem = name_problem(kind, name)
            if problem:
                raise ValueError(f"not grading: {problem}")
    good = []
    for student, assignment in units:
        problem = name_problem("student id", student) or name_problem("assignment name",
                                                                      assignment)
        if not problem:
            good.append((student, assignment))
            continue
        write_json_atomic(refused_path(course, student, assignment), {
            "student": student, "assignment": assignment, "notebook": assignment,
            "status": "error:bad-name", "reasons": ["bad-name"], "flags": [],
            "diagnoses": [], "events": [], "score": None, "max_score": None, "cells": {},
            "hash": None, "seconds": 0.0,
            "detail": f"not graded: {problem}. Rename the folder under submitted/ (letters, "
                      "digits, '-', '_', '@'; no dot first) and grade again."})
    return good


@dataclass
class Admission:
    fatal: str | None = None          # "bad-name", "missing", "corrupt-json", "not-a-notebook"
    notes: list[str] = field(default_factory=list)   # reasons recorded, grading goes on
    detail: str = ""
    flags: list[dict] = field(default_factory=list)  # integrity flags
    upgraded: str = ""                # "3.0 -> 4.5" when the notebook format was upgraded


def _copy_without_links(folder: Path, scratch: Path) -> list[str]:
    """Copy `folder` to `scratch`, leaving out every symbolic link; the links left out."""
    links: list[str] = []

    def drop_links(where, names):
        found = [n for n in names if os.path.islink(os.path.join(where, n))]
        links.extend(os.path.relpath(os.path.join(where, n), folder) for n in found)
        return found

    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(folder, scratch, ignore=drop_links, symlinks=True)
    return sorted(links)


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _is_test(meta: dict) -> bool:
    return bool(meta.get("grade")) and not meta.get("solution")


KEYS = ("grade", "solution", "locked", "points", "grade_id", "task")


def _visible(text: str) -> str:
    """A test cell's text as released: hidden-test regions removed, ends stripped."""
    kept, inside = [], False
    for line in text.splitlines():
        if "BEGIN HIDDEN TESTS" in line:
            inside = True
        elif "END HIDDEN TESTS" in line:
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept).strip()


def _same(cell, given) -> bool:
    """True when `cell` is still the cell the student was given (an answer cell's text is
    the student's to change; nothing else is)."""
    a, b = _meta(cell), _meta(given)
    if cell.cell_type != given.cell_type or any(a.get(k) != b.get(k) for k in KEYS):
        return False
    return bool(a.get("solution")) or _visible(cell.source) == _visible(given.source)


def _fresh(cell):
    out = copy.deepcopy(cell)
    out.pop("id", None)
    if out.cell_type == "code":
        out.outputs, out.execution_count = [], None
    return out


def restore_cells(nb, source, released=None) -> dict[str, list[str]]:
    """Make `nb`'s nbgrader cells agree with the instructor's `source` notebook, in place.

    A test or read-only cell that is no longer the one in `released` (the student version;
    default `source`) becomes the source's cell (code, source with hidden tests, metadata,
    points); an answer cell keeps the student's text under the source's metadata and cell
    type; a second cell with a grade_id already seen, or a grade_id the source does not
    have (a renamed test cell), loses its nbgrader metadata; a source test cell left with
    no cell at all is put back after the cell that precedes it in the source. Returns what
    was done: {"changed": [...], "renamed": [...], "duplicated": [...], "deleted": [...]}.
    """
    by_id = {_meta(c).get("grade_id"): c for c in source.cells if _meta(c).get("grade_id")}
    given = {_meta(c).get("grade_id"): c for c in (released or source).cells
             if _meta(c).get("grade_id")}
    order = [_meta(c).get("grade_id") for c in source.cells if _meta(c).get("grade_id")]
    found: dict[str, list[str]] = {"changed": [], "renamed": [], "duplicated": [],
                                   "deleted": []}
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        meta = _meta(cell)
        gid = meta.get("grade_id")
        if not meta:
            continue
        if gid in seen or gid not in by_id:
            found["duplicated" if gid in seen else "renamed"].append(str(gid))
            cell.metadata.pop("nbgrader", None)
            continue
        seen.add(gid)
        original, wanted = by_id[gid], _meta(by_id[gid])
        if gid in given and _same(cell, given[gid]):
            continue
        found["changed"].append(gid)
        if _is_test(wanted) or (wanted.get("locked") and not wanted.get("solution")):
            restored = _fresh(original)
            if "id" in cell:
                restored["id"] = cell["id"]
            nb.cells[index] = restored
        else:  # an answer: the student's text, the instructor's cell type and metadata
            restored = _fresh(original)
            restored.source = cell.source
            if "id" in cell:
                restored["id"] = cell["id"]
            if given.get(gid) is not None and "checksum" in _meta(given[gid]):
                restored.metadata["nbgrader"]["checksum"] = _meta(given[gid])["checksum"]
            nb.cells[index] = restored
    for position, gid in enumerate(order):
        if gid in seen or not _is_test(_meta(by_id[gid])):
            continue  # a deleted answer cell is nbgrader's business (add_missing_cells)
        found["deleted"].append(gid)
        before = [g for g in order[:position] if g in seen]
        at = 0
        if before:
            at = next(i for i, c in enumerate(nb.cells)
                      if _meta(c).get("grade_id") == before[-1]) + 1
        nb.cells.insert(at, _fresh(by_id[gid]))
        seen.add(gid)
    return found


def admit(course, student: str, assignment: str, scratch: Path) -> Admission:
    """Check one submission and prepare its scratch copy for nbgrader (see module doc)."""
    result = Admission()
    problem = name_problem("student id", student) or name_problem("assignment name", assignment)
    if problem:
        result.fatal, result.detail = "bad-name", f"not graded: {problem}"
        return result
    folder = course.submitted / student / assignment
    submission = folder / f"{assignment}.ipynb"
    if folder.is_symlink() or submission.is_symlink():
        result.fatal = "missing"
        result.detail = f"{submission} is a link; links handed in are never followed"
        result.notes.append("wrong-files")
        return result
    if not submission.is_file():
        others = sorted(p.name for p in folder.glob("*")) if folder.is_dir() else []
        result.fatal = "missing"
        result.detail = (f"no {submission.name} in {folder}"
                         + (f" (found {others})" if others else ""))
        if others:  # handed something in, just not the notebook: not the same as nothing
            result.notes.append("wrong-files")
        return result
    try:
        raw = json.loads(submission.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        result.fatal = "corrupt-json"
        result.detail = f"{submission.name} is not valid JSON: {exc}"
        return result
    try:
        before = f"{raw.get('nbformat')}.{raw.get('nbformat_minor', 0)}"
        nb = nbformat.reads(json.dumps(raw), as_version=nbformat.NO_CONVERT)
        nbformat.validate(nb)
        nb = nbformat.convert(nb, 4)
        if nb.nbformat_minor < nbformat.v4.nbformat_minor:  # 4.0-4.4: cell ids and friends
            nb = nbformat.v4.convert.upgrade(nb, from_version=4, from_minor=nb.nbformat_minor)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several types for a malformed notebook
        result.fatal = "not-a-notebook"
        result.detail = f"{submission.name} is JSON but not a notebook: {str(exc)[:200]}"
        return result
    after = f"{nb.nbformat}.{nb.nbformat_minor}"
    if after != before:
        result.upgraded = f"{before} -> {after}"
        result.detail += f"notebook format upgraded from {before} to {after}. "
    links = _copy_without_links(folder, scratch)
    if links:
        result.flags.append({"grade_id": "", "flag": "links handed in were not followed: "
                             + ", ".join(links)[:300]})
    source = nbformat.read(str(course.source / assignment / f"{assignment}.ipynb"),
                           as_version=4)
    release = course.release / assignment / f"{assignment}.ipynb"
    found = restore_cells(nb, source, nbformat.read(str(release), as_version=4)
                          if release.is_file() else None)
    seen_ids: set[str] = set()
    if found["deleted"]:
        result.notes.append("cells-deleted")
        result.detail += (f"grade cells deleted (restored from the instructor's source): "
                          f"{found['deleted']}. ")
    if found["duplicated"]:
        result.notes.append("cells-duplicated")
        result.detail += (f"grade cells duplicated (only the first counts, graded from the "
                          f"source): {sorted(set(found['duplicated']))}. ")
    if found["renamed"] or found["changed"]:
        result.notes.append("cells-changed")
        result.detail += ("test or read-only cells changed (graded from the instructor's "
                          f"source): {sorted(set(found['changed']))}"
                          + (f"; unknown grade ids dropped: {found['renamed']}"
                             if found["renamed"] else "") + ". ")
    for cell in nb.cells:  # cells put back, or copied by the student, need their own id
        if not cell.get("id") or cell["id"] in seen_ids:
            cell["id"] = uuid.uuid4().hex[:8]
        seen_ids.add(cell["id"])
    # Written with a fresh mtime: nbgrader's late-submission logic reads timestamp.txt, not it.
    nbformat.write(nb, str(scratch / submission.name))
    os.utime(scratch / submission.name, (time.time(), time.time()))
    return result


def counts(nb) -> Counter:
    """grade_ids of a notebook's nbgrader cells, with repeats (for tests and reports)."""
    return Counter(_meta(c).get("grade_id") for c in nb.cells if _meta(c).get("grade_id"))

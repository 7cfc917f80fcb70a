"""Look at a submission before any kernel runs: is it there, is it JSON, are its grade
cells the instructor's?

`preflight()` returns the fatal problem (the submission cannot be graded at all) and the
notes (it can be graded, but something was wrong and is recorded). Reasons are short
slugs that end up in grades.csv as `error:<reason>`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nbformat


@dataclass
class Preflight:
    fatal: str | None = None          # "missing", "corrupt-json", "not-a-notebook"
    notes: list[str] = field(default_factory=list)
    detail: str = ""


def grade_ids(nb) -> list[str]:
    """grade_ids of the nbgrader grade or solution cells, in order, with repeats."""
    ids = []
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") or meta.get("solution"):
            ids.append(meta.get("grade_id"))
    return ids


def preflight(submission: Path, source: Path) -> Preflight:
    """Check `submission` (a .ipynb) against the instructor's `source` notebook."""
    result = Preflight()
    if not submission.is_file():
        folder = submission.parent
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
        nb = nbformat.from_dict(raw)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several types for a malformed notebook
        result.fatal = "not-a-notebook"
        result.detail = f"{submission.name} is JSON but not a notebook: {str(exc)[:200]}"
        return result
    expected = grade_ids(nbformat.read(str(source), as_version=4))
    found = Counter(grade_ids(nb))
    missing = [g for g in expected if g not in found]
    repeated = sorted(g for g, n in found.items() if n > 1)
    if missing:
        result.notes.append("cells-deleted")
        result.detail += f"grade cells deleted (restored from the gradebook): {missing}. "
    if repeated:
        result.notes.append("cells-duplicated")
        result.detail += f"grade cells duplicated (only the first counts): {repeated}. "
    return result

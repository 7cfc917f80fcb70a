"""The class at a glance: who scored what, which tests the class fails, which bugs it makes.

Three tables and their figures, from the status records `grade` writes: a students x
notebooks heatmap of automatic points, the pass rate of every graded test cell, and each
catalogued bug by notebook with the share of the students who handed that notebook in.
"""

from __future__ import annotations

import math
import textwrap
from collections import defaultdict
from pathlib import Path

from autograder import manifest
from autograder.course import Course


def test_cells(course: Course) -> dict[str, list[str]]:
    """assignment -> grade ids of its automatically graded test cells, in notebook order."""
    found = {}
    for a in course.assignments():
        cells = manifest.scan_notebook(course.source / a / f"{a}.ipynb")
        found[a] = [c["grade_id"] for c in cells if c["kind"] == "test"]
    return found


def _graded(rec: dict | None) -> bool:
    return bool(rec) and rec.get("score") is not None and bool(rec.get("cells"))


def score_table(course: Course, records: dict) -> list[dict]:
    """One row per student and notebook: automatic points, their maximum, and the status."""
    tests = test_cells(course)
    students = sorted({s for s, _ in records} | set(course.students()))
    rows = []
    for s in students:
        for a, ids in tests.items():
            rec = records.get((s, a))
            row = {"student": s, "assignment": a, "points": None, "max": None,
                   "status": rec["status"] if rec else "missing"}
            if _graded(rec):
                cells = rec["cells"]
                row["points"] = sum(cells[g]["score"] or 0 for g in ids if g in cells)
                row["max"] = sum(cells[g]["max"] or 0 for g in ids if g in cells)
            rows.append(row)
    return rows


def pass_rates(course: Course, records: dict) -> list[dict]:
    """Every test cell: how many graded submissions passed it (full points) of how many."""
    rows = []
    for a, ids in test_cells(course).items():
        graded = [r for (_, a2), r in records.items() if a2 == a and _graded(r)]
        for g in ids:
            cells = [r["cells"][g] for r in graded if g in r["cells"]]
            passed = sum(1 for c in cells if c["max"] and c["score"] == c["max"])
            rows.append({"assignment": a, "grade_id": g, "passed": passed,
                         "graded": len(cells),
                         "rate": f"{passed / len(cells):.0%}" if cells else ""})
    return rows


def bugs_by_notebook(course: Course, records: dict, diagnoses: list[dict]) -> list[dict]:
    """Each catalogued bug per notebook, with the share of the notebook's graded students."""
    try:
        from nnlab.checks._core import CATALOGUE
    except Exception:  # the checks package is broken: the table still counts the ids
        CATALOGUE = {}
    handed = defaultdict(set)
    for (s, a), rec in records.items():
        if _graded(rec):
            handed[a].add(s)
    who = defaultdict(set)
    for d in diagnoses:
        if d["bug"]:
            who[(d["assignment"], d["bug"])].add(d["student"])
    rows = []
    for (a, bug), students in who.items():
        n = len(handed[a]) or 1
        rows.append({"assignment": a, "bug": bug, "name": CATALOGUE.get(bug, ("",))[0],
                     "students": len(students), "graded": len(handed[a]),
                     "share": f"{len(students) / n:.0%}"})
    order = {a: i for i, a in enumerate(course.assignments())}
    return sorted(rows, key=lambda r: (order.get(r["assignment"], 99), -r["students"],
                                       int(r["bug"][1:]) if r["bug"][1:].isdigit() else 0))


# --------------------------------------------------------------------------- figures


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def heatmap(scores: list[dict], path: Path) -> Path:
    """Students (rows, most notebooks handed in first) x notebooks, coloured by the share
    of automatic points, each cell labelled `points/max`, `missing` or the error."""
    import numpy as np

    plt = _plt()
    assignments = list(dict.fromkeys(r["assignment"] for r in scores))
    by = {(r["student"], r["assignment"]): r for r in scores}
    count = defaultdict(int)
    for r in scores:
        count[r["student"]] += r["status"] != "missing"
    students = sorted(count, key=lambda s: (-count[s], s))
    values = np.full((len(students), len(assignments)), np.nan)
    fig, ax = plt.subplots(figsize=(1.25 * len(assignments) + 3, 0.32 * len(students) + 2))
    for i, s in enumerate(students):
        for j, a in enumerate(assignments):
            r = by[(s, a)]
            if r["points"] is not None and r["max"]:
                values[i, j] = r["points"] / r["max"]
                text = f"{r['points']:g}/{r['max']:g}"
            elif r["status"] == "missing":
                text = "missing"
            else:
                text = r["status"].removeprefix("error:")[:14]
            if r["status"] not in ("graded", "missing") and r["points"] is not None:
                text += " *"
            dark = not np.isnan(values[i, j]) and not 0.2 < values[i, j] < 0.8
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="white" if dark else "black")
    cmap = plt.get_cmap("RdYlGn").with_extremes(bad="#dddddd")
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(assignments)), assignments, rotation=30, ha="right")
    ax.set_yticks(range(len(students)), students)
    ax.set_title("Automatic points by student and notebook (grey: nothing graded; "
                 "* a problem was recorded)", fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.02, label="share of points")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def pass_rate_plot(rates: list[dict], path: Path) -> Path:
    """A bar per test cell, in notebook order, the share of graded submissions passing."""
    plt = _plt()
    rows = [r for r in rates if r["graded"]]
    fig, ax = plt.subplots(figsize=(8, 0.28 * max(len(rows), 3) + 1.2))
    labels = [f"{r['assignment'].split('_', 1)[0]} {r['grade_id']}" for r in rows][::-1]
    shares = [r["passed"] / r["graded"] for r in rows][::-1]
    colours = ["#c0392b" if s < 0.5 else "#e67e22" if s < 0.8 else "#27ae60" for s in shares]
    ax.barh(labels, shares, color=colours)
    for y, r in enumerate(rows[::-1]):
        ax.text(min(r["passed"] / r["graded"], 1) + 0.01, y, f"{r['passed']}/{r['graded']}",
                va="center", fontsize=7)
    ax.set_xlim(0, 1.12)
    ax.set_xlabel("share of graded submissions with full points")
    ax.set_title("Pass rate per graded test cell (the class fails the red ones most)",
                 fontsize=9)
    ax.tick_params(axis="y", labelsize=8)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def bug_labels(bugs: list[dict]) -> list[str]:
    """`<notebook number> <bug> <its full name>`, wrapped, never cut."""
    return [textwrap.fill(f"{r['assignment'].split('_', 1)[0]} {r['bug']} {r['name']}", 60)
            for r in bugs]


def bugs_plot(bugs: list[dict], path: Path) -> Path:
    """A bar per (notebook, bug): the share of that notebook's graded students with it."""
    plt = _plt()
    lines = sum(len(textwrap.wrap(f"00 B00 {r['name']}", 60)) for r in bugs)
    fig, ax = plt.subplots(figsize=(9, 0.22 * max(lines, 3) + 0.12 * len(bugs) + 1.2))
    labels = bug_labels(bugs)[::-1]
    shares = [r["students"] / max(r["graded"], 1) for r in bugs][::-1]
    ax.barh(labels, shares, color="#c0392b")
    for y, r in enumerate(bugs[::-1]):
        ax.text(r["students"] / max(r["graded"], 1) + 0.01, y,
                f"{r['students']}/{r['graded']}", va="center", fontsize=7)
    ax.set_xlim(0, max([*shares, 0.1]) * 1.2 + 0.05)
    ax.set_xlabel("share of the students graded on that notebook")
    ax.set_title("Catalogued bugs by notebook", fontsize=9)
    ax.tick_params(axis="y", labelsize=8)
    if not bugs:
        ax.text(0.5, 0.5, "no catalogued bug found", ha="center", transform=ax.transAxes)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def summary_lines(scores: list[dict], rates: list[dict], bugs: list[dict]) -> list[str]:
    """The few sentences an instructor reads first."""
    graded = [r for r in scores if r["points"] is not None and r["max"]]
    mean = sum(r["points"] / r["max"] for r in graded) / len(graded) if graded else math.nan
    hardest = sorted((r for r in rates if r["graded"]), key=lambda r: r["passed"] / r["graded"])
    handed = defaultdict(int)
    for r in scores:
        handed[r["student"]] += r["status"] != "missing"
    missing = [r for r in scores if r["status"] == "missing"]
    single = {s for s, n in handed.items() if n == 1}
    of_single = sum(r["student"] in single for r in missing)
    lines = [f"{len(graded)} notebooks graded, mean {mean:.0%} of the automatic points; "
             f"{len(missing)} not handed in"
             + (f" ({of_single} of them by the {len(single)} students who handed in one "
                "notebook only)." if of_single else ".")]
    if hardest:
        worst = hardest[:3]
        lines.append("Hardest tests: " + ", ".join(
            f"{r['assignment'].split('_', 1)[0]} {r['grade_id']} ({r['rate']})" for r in worst))
    if bugs:
        top = sorted(bugs, key=lambda r: -r["students"] / max(r["graded"], 1))[:3]
        lines.append("Most common bugs: " + ", ".join(
            f"{r['bug']} in {r['assignment'].split('_', 1)[0]} ({r['share']})" for r in top))
    return lines

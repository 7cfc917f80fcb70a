"""What the instructor reads: grades, diagnoses, integrity flags and the class's bugs.

Everything comes from the status records `grade` writes (one per student and notebook)
plus the list of students and assignments, so a student who submitted nothing appears
as `missing` rather than vanishing. Files go to `<course>/reports/`.
"""

from __future__ import annotations

import csv
import json
import textwrap
from collections import defaultdict
from pathlib import Path

from autograder.course import Course


def records(course: Course) -> dict[tuple[str, str], dict]:
    found = {}
    for path in sorted(course.status_dir.glob("*/*.json")):
        rec = json.loads(path.read_text())
        found[(rec["student"], rec["assignment"])] = rec
    return found


def grade_rows(course: Course) -> list[dict]:
    """One row per student and assignment: score, max, status (graded | error:... | missing)."""
    recs = records(course)
    students = sorted(set(course.students()) | {s for s, _ in recs})
    rows = []
    for student in students:
        for assignment in course.assignments():
            rec = recs.get((student, assignment))
            if rec is None:
                graded = (course.submitted / student / assignment).is_dir()
                rec = {"status": "error:not-graded-yet" if graded else "missing"}
            rows.append({"student": student, "assignment": assignment, "notebook": assignment,
                         "score": rec.get("score"), "max_score": rec.get("max_score"),
                         "status": rec["status"], "reasons": " ".join(rec.get("reasons", [])),
                         "flags": len(rec.get("flags", []))})
    return rows


def diagnosis_rows(course: Course) -> list[dict]:
    rows = []
    for (student, assignment), rec in records(course).items():
        for d in rec.get("diagnoses", []):
            rows.append({"student": student, "assignment": assignment, "notebook": assignment,
                         "grade_id": d["grade_id"], "bug": d["bug"], "check": d["check"],
                         "error": d["error"], "message": d["message"]})
    return rows


def integrity_rows(course: Course) -> list[dict]:
    rows = []
    kernel_file = course.grader / "kernel.json"
    kernel = json.loads(kernel_file.read_text()) if kernel_file.exists() else {}
    if not kernel.get("user"):
        rows.append({"student": "*", "assignment": "*", "grade_id": "",
                     "flag": "kernels ran as the grader's own user: a submission could read "
                             "source/ and write gradebook.db"})
    if kernel and not kernel.get("sandbox"):
        rows.append({"student": "*", "assignment": "*", "grade_id": "",
                     "flag": "kernels ran without the bubblewrap sandbox ("
                             f"{kernel.get('sandbox_reason') or 'an older grader'}): a "
                             "submission could see other processes, ports and the grader's "
                             "environment"})
    for (student, assignment), rec in records(course).items():
        for f in rec.get("flags", []):
            rows.append({"student": student, "assignment": assignment, **f})
    return rows


def bug_summary(diagnoses: list[dict], handed_in: dict[str, set[str]]) -> list[dict]:
    """Per catalogued bug: how many students made it, in which notebooks, and their share
    of the students who handed in one of those notebooks (`handed_in`: assignment -> the
    students graded on it; a student who handed in only another notebook could not have
    made it there)."""
    students, notebooks, assignments = defaultdict(set), defaultdict(set), defaultdict(set)
    for d in diagnoses:
        if d["bug"]:
            students[d["bug"]].add(d["student"])
            notebooks[d["bug"]].add(d["notebook"])
            assignments[d["bug"]].add(d.get("assignment", d["notebook"]))
    try:
        from nnlab.checks._core import CATALOGUE
    except Exception:  # the checks package is broken: the summary still counts the ids
        CATALOGUE = {}
    order = sorted(students, key=lambda b: (-len(students[b]), int(b[1:])))
    graded = {b: max(len(_graded_on(assignments[b], handed_in)), 1) for b in students}
    return [{"bug": b, "name": CATALOGUE.get(b, ("",))[0], "students": len(students[b]),
             "share": f"{len(students[b]) / graded[b]:.0%}",
             "notebooks": " ".join(sorted(notebooks[b]))} for b in order]


def _graded_on(assignments: set[str], handed_in: dict[str, set[str]]) -> set[str]:
    return set().union(*(handed_in.get(a, set()) for a in assignments))


def _csv(path: Path, rows: list[dict], fields: list[str]) -> Path:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


def markdown_table(rows: list[dict], fields: list[str]) -> str:
    lines = ["| " + " | ".join(fields) + " |", "|" + "---|" * len(fields)]
    lines += ["| " + " | ".join(str(r[f]) for f in fields) + " |" for r in rows]
    return "\n".join(lines)


def plot(summary: list[dict], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 0.4 * max(len(summary), 3) + 1))
    labels = [textwrap.fill(f"{r['bug']} {r['name']}", 55) for r in summary][::-1]
    ax.barh(labels, [r["students"] for r in summary][::-1], color="#c0392b")
    ax.set_xlabel("students")
    ax.set_title("Catalogued bugs found in the class")
    ax.xaxis.get_major_locator().set_params(integer=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def _points(value) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else "?"


def grade_table(grades: list[dict]) -> str:
    """One row per student, one column per notebook ("score/max", "missing" or "error"),
    and the problems the grader recorded; `*` marks a score with a problem beside it.
    Students who handed in the most notebooks come first (the class before the one-off
    submissions), by name within."""
    assignments = list(dict.fromkeys(r["assignment"] for r in grades))
    short = {a: a.split("_", 1)[0] for a in assignments}
    by_student: dict[str, dict] = defaultdict(dict)
    for r in grades:
        by_student[r["student"]][r["assignment"]] = r
    lines = [["student", *short.values(), "problems"]]
    handed = {s: sum(r["status"] != "missing" for r in row.values())
              for s, row in by_student.items()}
    for student, row in sorted(by_student.items(), key=lambda kv: (-handed[kv[0]], kv[0])):
        cells, problems = [], []
        for a in assignments:
            r = row.get(a, {"status": "missing"})
            if r["status"] == "missing":
                cells.append("missing")
                if r.get("reasons"):  # handed in, but not the notebook
                    problems.append(f"{short[a]} {r['reasons']}")
                continue
            mark = "" if r["status"] == "graded" else "*"
            cells.append(f"{_points(r['score'])}/{_points(r['max_score'])}{mark}"
                         if r.get("score") is not None else "error")
            if r["status"] != "graded":
                problems.append(f"{short[a]} {r['status'].removeprefix('error:')}")
            if r.get("flags"):
                problems.append(f"{short[a]} {r['flags']} integrity flag(s)")
        lines.append([student, *cells, "; ".join(problems)])
    return markdown_table([dict(zip(lines[0], line, strict=True)) for line in lines[1:]],
                          lines[0])


def write(course: Course, echo=print) -> dict[str, Path]:
    """Write every report; print the grade table and the bug summary. Returns the paths."""
    out = course.reports
    out.mkdir(parents=True, exist_ok=True)
    grades, diags, flags = grade_rows(course), diagnosis_rows(course), integrity_rows(course)
    students = sorted({r["student"] for r in grades})
    handed_in = defaultdict(set)
    for r in grades:
        if r["status"] != "missing":
            handed_in[r["assignment"]].add(r["student"])
    summary = bug_summary(diags, handed_in)
    paths = {
        "grades": _csv(out / "grades.csv", grades, list(grades[0]) if grades else ["student"]),
        "diagnoses": _csv(out / "diagnoses.csv", diags,
                          ["student", "assignment", "notebook", "grade_id", "bug", "check",
                           "error", "message"]),
        "integrity": _csv(out / "integrity.csv", flags,
                          ["student", "assignment", "grade_id", "flag"]),
        "summary_csv": _csv(out / "bug_summary.csv", summary,
                            ["bug", "name", "students", "share", "notebooks"]),
    }
    table = markdown_table(summary, ["bug", "name", "students", "share", "notebooks"])
    statuses = defaultdict(int)
    for r in grades:
        statuses[r["status"]] += 1
    md = [f"# Class summary: {len(students)} students", "",
          "Status counts: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())), "",
          "## Grades", "", grade_table(grades), "",
          "## Catalogued bugs", "", table or "(none found)", "",
          f"## Integrity: {len(flags)} flags (see integrity.csv)"]
    from autograder import classview

    recs = records(course)
    scores = classview.score_table(course, recs)
    rates = classview.pass_rates(course, recs)
    by_notebook = classview.bugs_by_notebook(course, recs, diags)
    glance = classview.summary_lines(scores, rates, by_notebook)
    paths["pass_rates"] = _csv(out / "pass_rates.csv", rates,
                               ["assignment", "grade_id", "passed", "graded", "rate"])
    paths["bugs_by_notebook"] = _csv(out / "bugs_by_notebook.csv", by_notebook,
                                     ["assignment", "bug", "name", "students", "graded",
                                      "share"])
    md[1:1] = ["", *glance]
    md += ["", "## Pass rate per test cell", "",
           markdown_table(rates, ["assignment", "grade_id", "passed", "graded", "rate"]),
           "", "## Catalogued bugs by notebook", "",
           markdown_table(by_notebook, ["assignment", "bug", "name", "students", "graded",
                                        "share"]) if by_notebook else "(none found)"]
    paths["summary_md"] = out / "summary.md"
    paths["summary_md"].write_text("\n".join(md) + "\n")
    paths["plot"] = plot(summary, out / "bug_summary.png")
    paths["heatmap"] = classview.heatmap(scores, out / "class_scores.png")
    paths["pass_rate_plot"] = classview.pass_rate_plot(rates, out / "pass_rates.png")
    paths["bugs_plot"] = classview.bugs_plot(by_notebook, out / "bugs_by_notebook.png")
    echo(grade_table(grades))
    echo("(scores are nbgrader's automatic points; answers graded by hand count once you "
         "grade them in the formgrader)")
    echo("")
    echo(table if summary else "no catalogued bug found")
    echo("")
    for line in glance:
        echo(line)
    echo("")
    for name, path in paths.items():
        echo(f"{name:16s} {path}")
    return paths

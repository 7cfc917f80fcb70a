"""The class view from status records: heatmap values, pass rates, bugs by notebook.

A course folder with two real source notebooks and the status records `grade` writes
(written here by hand, as the grader's JSON), so each figure's numbers can be checked
against a class small enough to count by eye. No kernel runs; about 3 s (matplotlib).
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from autograder import classview, demo, report
from autograder.course import Course, write_json_atomic
from autograder.injections import BUGS

ROOT = Path(__file__).resolve().parents[1]
A, B = "00_welcome", "01_single_neuron"


def _record(student, assignment, cells, status="graded", diagnoses=()):
    score = sum(c[0] for c in cells.values()) if cells else None
    return {"student": student, "assignment": assignment, "status": status,
            "score": score, "max_score": sum(c[1] for c in cells.values()) if cells else None,
            "cells": {g: {"score": s, "max": m, "auto": s} for g, (s, m) in cells.items()},
            "diagnoses": [{"grade_id": g, "bug": b, "check": "", "error": "", "message": ""}
                          for g, b in diagnoses], "reasons": [], "flags": []}


@pytest.fixture
def course(tmp_path):
    c = Course(tmp_path / "course")
    for name in (A, B):
        (c.source / name).mkdir(parents=True)
        shutil.copy(ROOT / "notebooks" / f"{name}.ipynb", c.source / name)
    full_a = {"test_sigmoid": (3, 3), "test_sigmoid_derivative": (3, 3), "why_overflow": (0, 2)}
    full_b = {"test_neuron_forward": (2, 2), "test_hand_forward": (1, 1),
              "test_bce_loss": (2, 2), "test_neuron_gradients": (3, 3),
              "test_train_neuron": (3, 3), "why_xor": (0, 2)}
    records = [
        _record("ann", A, full_a), _record("ann", B, full_b),
        _record("bo", A, {**full_a, "test_sigmoid_derivative": (0, 3)},
                diagnoses=[("test_sigmoid_derivative", "B18")]),
        _record("bo", B, {**full_b, "test_neuron_forward": (0, 2), "test_train_neuron": (0, 3)},
                diagnoses=[("test_neuron_forward", "B7"), ("test_train_neuron", "B7")]),
        _record("cy", A, {**full_a, "test_sigmoid_derivative": (0, 3)},
                diagnoses=[("test_sigmoid_derivative", "B18")]),
        _record("cy", B, {}, status="error:corrupt-json"),
    ]
    for rec in records:
        write_json_atomic(c.status_dir / rec["student"] / f"{rec['assignment']}.json", rec)
        (c.submitted / rec["student"] / rec["assignment"]).mkdir(parents=True, exist_ok=True)
    (c.submitted / "dee" / A).mkdir(parents=True)
    write_json_atomic(c.status_dir / "dee" / f"{A}.json", _record("dee", A, full_a))
    return c


def test_scores_count_automatic_points_only(course):
    rows = {(r["student"], r["assignment"]): r
            for r in classview.score_table(course, report.records(course))}
    assert (rows[("ann", A)]["points"], rows[("ann", A)]["max"]) == (6, 6)  # not 6/8
    assert (rows[("bo", B)]["points"], rows[("bo", B)]["max"]) == (6, 11)
    assert rows[("cy", B)]["points"] is None and rows[("cy", B)]["status"] == "error:corrupt-json"
    assert rows[("dee", B)]["status"] == "missing"


def test_pass_rates_per_test_cell(course):
    rates = {(r["assignment"], r["grade_id"]): r
             for r in classview.pass_rates(course, report.records(course))}
    assert (rates[(A, "test_sigmoid_derivative")]["passed"],
            rates[(A, "test_sigmoid_derivative")]["graded"]) == (2, 4)
    # cy's corrupt notebook has no graded cells: it is not in 01's denominator
    assert (rates[(B, "test_neuron_forward")]["passed"],
            rates[(B, "test_neuron_forward")]["graded"]) == (1, 2)
    assert "why_xor" not in {g for _, g in rates}, "manual answers are not test cells"


def test_bugs_by_notebook_share_of_graded_students(course):
    rows = classview.bugs_by_notebook(course, report.records(course),
                                      report.diagnosis_rows(course))
    got = {(r["assignment"], r["bug"]): (r["students"], r["graded"], r["share"]) for r in rows}
    assert got == {(A, "B18"): (2, 4, "50%"), (B, "B7"): (1, 2, "50%")}  # bo counted once


def test_report_writes_the_figures_and_labels_keep_full_names(course):
    paths = report.write(course, echo=lambda *a: None)
    for key in ("heatmap", "pass_rate_plot", "bugs_plot"):
        assert paths[key].stat().st_size > 10_000, key
    rows = list(csv.DictReader(open(paths["bugs_by_notebook"], newline="")))
    labels = classview.bug_labels(rows)
    for row, label in zip(rows, labels, strict=True):
        assert " ".join(label.split()).endswith(" ".join(row["name"].split())), label
    text = paths["summary_md"].read_text()
    # ties keep notebook order: 00's derivative (2 of 4) before 01's forward (1 of 2)
    assert "Hardest tests: 00 test_sigmoid_derivative (50%), 01 test_neuron_forward (50%)" \
        in text, text[:600]


def test_demo_plan_has_a_common_bug_multi_bug_students_and_clean_ones():
    pool = len(demo.STUDENTS) - 2
    for name, injections in BUGS.items():
        injections = [i for i in injections  # as the demo plans them
                      if i.bug is not None and (name, i.bug) not in demo.DEMO_SKIPS]
        plan = demo.bug_plan(injections, pool, demo.COMMON_BUG.get(name))
        common = plan[0][0].bug
        assert sum(any(i.bug == common for i in p) for p in plan) >= demo.COMMON, name
        assert any(not p for p in plan), f"{name}: nobody in the pool got it right"
        for p in plan:  # two bugs never fight over one answer cell
            assert len({i.answer for i in p}) == len(p), (name, [i.bug for i in p])
    planned = {name: [i for i in inj if i.bug and (name, i.bug) not in demo.DEMO_SKIPS]
               for name, inj in BUGS.items()}
    two_or_more = {k for inj in planned.values()
                   for k, p in enumerate(demo.bug_plan(inj, pool)) if len(p) >= 2}
    assert len(two_or_more) >= 2


def test_demo_plan_turns_round_the_class():
    """Every student of the buggy pool carries some bug and gets some notebook right, and
    the common bug does not fall to the same students in every notebook."""
    from collections import Counter

    plans = {name: demo.planned_bugs(name) for name in BUGS}
    pool = demo.STUDENTS[2:]
    for student in pool:
        with_bugs = [n for n, plan in plans.items() if plan[student]]
        assert with_bugs and len(with_bugs) < len(plans), (student, with_bugs)
    holders = set()
    for plan in plans.values():
        common = Counter(b.bug for bugs in plan.values() for b in bugs).most_common(1)[0][0]
        holders.add(frozenset(s for s, bugs in plan.items() if common in {b.bug for b in bugs}))
    assert len(holders) > 1, holders
    assert demo.PERFECT not in pool and demo.BLANK not in pool

"""Reading nbgrader's gradebook wherever it lives: the course's own file by default,
or any SQLAlchemy URL (a shared PostgreSQL database). Only the coordinator opens it;
the grading tasks never see it.
"""

from __future__ import annotations

from autograder.course import Course


def read_scores(course: Course, student: str, assignment: str) -> dict:
    """One submission's score, maximum and automatic score per grade cell ({} if absent)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(course.url, course_id="nnlab") as gb:
        try:
            sub = gb.find_submission(assignment, student)
        except MissingEntry:
            return {}
        cells = {g.name: {"score": g.score, "max": g.max_score, "auto": g.auto_score}
                 for nb in sub.notebooks for g in nb.grades}
        return {"score": sub.score, "max_score": sub.max_score, "cells": cells,
                "needs_manual_grade": sub.needs_manual_grade}


def all_grades(url: str) -> list[tuple[str, str, str, float | None]]:
    """Every grade row as (student, notebook, grade cell, automatic score), sorted; a
    submission graded twice would show its cells twice."""
    from nbgrader.api import Gradebook

    with Gradebook(url, course_id="nnlab") as gb:
        return sorted((sub.student_id, nb.name, g.name, g.auto_score)
                      for assignment in gb.assignments for sub in assignment.submissions
                      for nb in sub.notebooks for g in nb.grades)

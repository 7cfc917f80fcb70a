"""Reading nbgrader's gradebook wherever it lives: the course's own file by default,
or any SQLAlchemy URL (a shared PostgreSQL database). Only the coordinator opens it;
the grading tasks never see it.
"""

from __future__ import annotations

import functools

from autograder.course import Course


def share_engines() -> None:
    """Make every nbgrader `Gradebook` of this process reuse one SQLAlchemy engine per URL.

    nbgrader opens a new Gradebook, hence a new engine, half a dozen times per autograded
    submission, and a new engine compiles every query again: measured, a third of the
    coordinator's time per submission. Gradebook.close() disposes the engine's
    connections, which a shared engine survives. Called once by the coordinator.
    """
    import nbgrader.api

    if not hasattr(nbgrader.api.create_engine, "cache_info"):
        nbgrader.api.create_engine = functools.lru_cache(maxsize=8)(nbgrader.api.create_engine)


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

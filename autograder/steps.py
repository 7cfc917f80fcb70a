"""Release and feedback: nbgrader's own converters, run in-process with our settings.

`release` copies notebooks into source/ and generates the student versions (and the
gradebook entries); `feedback` writes one HTML per graded notebook through the
`HideHiddenTests` filter declared in nbgrader_config.py.
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from io import StringIO

from autograder.course import Course, load_config, setup


def _run(app_class, course: Course, **settings) -> tuple[bool, str]:
    from nbgrader.coursedir import CourseDirectory

    config = load_config(course, **settings)
    app = app_class(coursedir=CourseDirectory(config=config), config=config)
    buffer = StringIO()
    handler = logging.StreamHandler(buffer)
    app.log.addHandler(handler)
    app.log.propagate = False
    try:
        app.start()
        return True, buffer.getvalue()
    except Exception as exc:  # nbgrader raises after logging what went wrong
        return False, buffer.getvalue() + f"\n{type(exc).__name__}: {exc}"
    finally:
        app.log.removeHandler(handler)


def release(course: Course, names: list[str] | None = None, notebooks=None) -> dict[str, str]:
    """Generate the student version of each assignment. Returns name -> "ok" or the error."""
    from nbgrader.converters import GenerateAssignment

    kwargs = {"notebooks": notebooks} if notebooks is not None else {}
    results = {}
    for name in setup(course, names, **kwargs):
        ok, log = _run(GenerateAssignment, course,
                       **{"CourseDirectory.assignment_id": name,
                          "GenerateAssignment.force": True,
                          "GenerateAssignment.create_assignment": True})
        results[name] = "ok" if ok else log.strip()[-1500:]
    return results


def feedback(course: Course, assignments: list[str] | None = None,
             jobs: int = 1) -> dict[str, str]:
    """HTML feedback for every autograded notebook. Returns assignment -> "ok" or the error.

    With `jobs` > 1, assignments are converted in that many processes at once (nbgrader's
    converter is one process's CPU; it only reads the gradebook)."""
    names = [name for name in assignments or course.assignments()
             if any(course.autograded.glob(f"*/{name}/{name}.ipynb"))]
    if jobs <= 1 or len(names) <= 1:
        return {name: _feedback(course, name) for name in names}
    # spawned, not forked: the caller may hold threads (a Dask client, zmq)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(jobs, len(names)), mp_context=context) as pool:
        return dict(zip(names, pool.map(_feedback, [course] * len(names), names),
                        strict=True))


def _feedback(course: Course, name: str) -> str:
    from nbgrader.converters import GenerateFeedback

    ok, log = _run(GenerateFeedback, course,
                   **{"CourseDirectory.assignment_id": name, "GenerateFeedback.force": True})
    return "ok" if ok else log.strip()[-1500:]

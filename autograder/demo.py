"""`python -m autograder demo`: a sample class graded end to end.

The class: a perfect student, a blank one, students carrying catalogued bugs (taken
from the mutation zoo, kept only when the check names them), and one student per fault
and per cheat (in the first assignment only). Then release,
grade, feedback and report, printing the grade table, the bug summary and the paths.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from pathlib import Path

import nbformat

from autograder import grade, report, sample, steps
from autograder.course import NOTEBOOKS, REPO, Course

TOY = REPO / "tests" / "fixtures" / "submissions" / "instructor"


def zoo_bugs(answer_names: dict[str, str], limit: int = 8) -> dict[str, tuple[str, str, str]]:
    """scenario -> (grade_id, code, bug): mutants from the zoo that their check names."""
    try:
        import nnlab.checks as checks
        from nnlab.checks.zoo import load
        specimens = load()
    except Exception:  # the zoo is not importable here: the demo runs without bug students
        return {}
    found: dict[str, tuple[str, str, str]] = {}
    for spec in specimens:
        name = spec.check.removeprefix("check_")
        if spec.correct or not spec.bug or spec.kwargs or name not in answer_names:
            continue
        if any(v[2] == spec.bug for v in found.values()) or len(found) >= limit:
            continue
        try:
            code = textwrap.dedent(inspect.getsource(spec.obj))
            code = "\n".join(l for l in code.split("\n") if not l.startswith("@"))
            code = re.sub(rf"^(def|class) {spec.obj.__name__}\b", rf"\1 {name}", code, flags=re.M)
            space = {"np": __import__("numpy")}
            exec(compile(code, "<zoo>", "exec"), space)  # noqa: S102 (our own zoo)
            getattr(checks, spec.check)(space[name])
        except checks.CheckFailed as exc:
            if exc.bug == spec.bug:
                found[f"bug-{spec.bug}"] = (answer_names[name], "import numpy as np\n" + code,
                                            spec.bug)
        except Exception:
            continue
    return found


def build_class(course: Course) -> list[str]:
    """Write the sample submissions under submitted/; returns the student ids.

    The perfect and the blank student hand in every notebook; a student carrying a bug
    hands in the notebooks where the zoo gave them that bug; each fault and cheat student
    hands in the first notebook only (the others show as `missing`, which is the truth).
    """
    students: set[str] = set()
    for i, name in enumerate(course.assignments()):
        release = nbformat.read(str(course.release / name / f"{name}.ipynb"), as_version=4)
        source = nbformat.read(str(course.source / name / f"{name}.ipynb"), as_version=4)
        answers = {sample.defined(c): c.metadata.nbgrader.grade_id
                   for c in sample.answer_cells(source) if sample.defined(c)}
        bugs = {k: {gid: code} for k, (gid, code, _) in zoo_bugs(answers).items()}
        for scenario, nb in sample.scenarios(release, source, bugs).items():
            every = scenario in ("perfect", "blank") or scenario.startswith("bug-")
            if every or i == 0:
                sample.write(nb, course.submission(scenario, name))
                students.add(scenario)
    return sorted(students)


def run(course: Course, jobs: int = 2, notebooks: Path | None = None, echo=print) -> list[str]:
    """The whole demo; returns the failures (empty when everything worked)."""
    notebooks = notebooks or (NOTEBOOKS if any(NOTEBOOKS.glob("*.ipynb")) else TOY)
    failures = []
    for name, result in steps.release(course, notebooks=notebooks).items():
        echo(f"release {name}: {'ok' if result == 'ok' else 'FAILED'}")
        if result != "ok":
            failures.append(f"release {name}: {result[-300:]}")
    students = build_class(course)
    echo(f"sample class: {len(students)} students in {course.submitted}")
    # 30 s per cell lets notebooks 04 and 06 train on a busy machine; the faults still end
    # within a minute each.
    done = grade.run(course, jobs=jobs, timeout_cell=30, timeout_submission=120, echo=echo)
    failures += [f"grading task lost: {w['unit']}" for w in done["failed_workers"]]
    for name, result in steps.feedback(course).items():
        echo(f"feedback {name}: {'ok' if result == 'ok' else 'FAILED'} ({course.feedback})")
        if result != "ok":
            failures.append(f"feedback {name}")
    report.write(course, echo=echo)
    return failures

"""`python -m autograder demo`: a sample class graded end to end.

The class an instructor would recognise: twelve students who each hand in every notebook,
one perfect, one who hands in the blank release, and ten carrying the catalogued bugs of
autograder/injections.py: each notebook's common bug in four students, every other bug in
one, three students with two or three bugs in one notebook. Then one student per fault
and per cheat, in the first notebook only. Release, grade, feedback, report.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from autograder import grade, report, sample, steps
from autograder.course import NOTEBOOKS, REPO, Course
from autograder.injections import BUGS, Injection

TOY = REPO / "tests" / "fixtures" / "submissions" / "instructor"
# Twelve, each handing in all eight notebooks: `make demo` stays under five minutes on two
# cores because grading leaves out the demonstrations tagged skip-in-grading (twelve took
# about 8.5 CPU-minutes when every cell ran).
STUDENTS = ("ada", "ben", "chen", "dana", "eli", "fatima", "gus", "hana", "ivan", "june",
            "kofi", "lena")
PERFECT, BLANK = STUDENTS[0], STUDENTS[1]
#: Students of the buggy pool (STUDENTS[2:]) who carry extra bugs: pool index -> how many.
EXTRA_BUGS = {1: 1, 6: 1, 3: 2}
COMMON = 4           # the common bug of each notebook goes to this many students
ROTATE = 3           # how far the plan turns round the pool from one notebook to the next
#: The common bug, where it is not the notebook's first injection.
COMMON_BUG = {"04_xor": "B4"}
#: Injections the demo leaves out: 04's symmetric init trains 2000 epochs into the cell
#: timeout (a minute of grading for one student; B6 still appears in 03).
DEMO_SKIPS = {("04_xor", "B6"),
              # three clinic cases are enough for the class view, and leave students who
              # got notebook 07 right (each clinic run costs seconds)
              *(("07_debugging_clinic", bug) for bug in ("B19", "B6", "B7"))}


def bug_plan(injections: list[Injection], pool: int, common: str | None = None
             ) -> list[list[Injection]]:
    """For each student of a pool of `pool`, the injections they carry in one notebook.

    The common injection (the first, or the first of bug `common`) goes to the first
    COMMON students; each other one to one student after them; students in EXTRA_BUGS take
    that many more, each in another answer cell.
    """
    plan: list[list[Injection]] = [[] for _ in range(pool)]
    if not injections:
        return plan
    first = next((i for i in injections if i.bug == common), injections[0])
    injections = [first, *(i for i in injections if i is not first)]
    for k in range(min(COMMON, pool)):
        plan[k].append(injections[0])
    for k, inj in enumerate(injections[1:], start=COMMON):
        if k < pool:
            plan[k].append(inj)
    for k, extra in EXTRA_BUGS.items():
        if k >= pool:
            continue
        for inj in injections:
            if extra == 0:
                break
            if all(inj.answer != held.answer for held in plan[k]):
                plan[k].append(inj)
                extra -= 1
    return plan


def planned_bugs(name: str) -> dict[str, list[Injection]]:
    """Student of the pool -> the injections they carry in notebook `name` (the plan is
    fixed, so a test can ask who should have been diagnosed with what)."""
    # a wrong written answer (bug None: 03's layer index, 07's ids) is no catalogued bug
    injections = [i for i in BUGS.get(name, [])
                  if i.bug is not None and (name, i.bug) not in DEMO_SKIPS]
    pool = STUDENTS[2:]
    plan = bug_plan(injections, len(pool), COMMON_BUG.get(name))
    # the plan turns by ROTATE students per notebook, so the common bug, the extra bugs and
    # the clean notebooks fall to other students each time, as in a real class
    turn = (ROTATE * _number(name)) % len(pool)
    return {pool[(k + turn) % len(pool)]: bugs for k, bugs in enumerate(plan)}


def _number(name: str) -> int:
    """A notebook's place in the course ("04_xor" -> 4; 0 for a name without one)."""
    head = name.split("_", 1)[0]
    return int(head) if head.isdigit() else 0


def with_bugs(good, bugs: list[Injection]):
    nb = nbformat.from_dict(nbformat.reads(nbformat.writes(good), as_version=4))
    replace = {b.answer: b.code for b in bugs}
    for cell in sample.answer_cells(nb):
        if cell.metadata.nbgrader.grade_id in replace:
            cell.source = replace[cell.metadata.nbgrader.grade_id]
    return nb


def build_class(course: Course) -> dict[str, dict[str, list[str]]]:
    """Write the sample submissions under submitted/.

    Returns student -> notebook -> the catalogued bugs put in (empty for a correct
    notebook); fault and cheat students map their first notebook to [scenario name].
    """
    handed: dict[str, dict[str, list[str]]] = {}
    names = course.assignments()
    for i, name in enumerate(names):
        release = nbformat.read(str(course.release / name / f"{name}.ipynb"), as_version=4)
        source = nbformat.read(str(course.source / name / f"{name}.ipynb"), as_version=4)
        scenarios = sample.scenarios(release, source)
        good = scenarios["perfect"]
        sample.write(good, course.submission(PERFECT, name))
        sample.write(scenarios["blank"], course.submission(BLANK, name))
        handed.setdefault(PERFECT, {})[name] = []
        handed.setdefault(BLANK, {})[name] = ["blank"]
        for student, bugs in planned_bugs(name).items():
            sample.write(with_bugs(good, bugs), course.submission(student, name))
            handed.setdefault(student, {})[name] = [b.bug for b in bugs]
        if i == 0:
            for scenario, nb in scenarios.items():
                if scenario not in ("perfect", "blank"):
                    sample.write(nb, course.submission(scenario, name))
                    handed.setdefault(scenario, {})[name] = [scenario]
    return handed


def run(course: Course, jobs: int = 2, notebooks: Path | None = None, echo=print) -> list[str]:
    """The whole demo; returns the failures (empty when everything worked)."""
    notebooks = notebooks or (NOTEBOOKS if any(NOTEBOOKS.glob("*.ipynb")) else TOY)
    failures = []
    for name, result in steps.release(course, notebooks=notebooks).items():
        echo(f"release {name}: {'ok' if result == 'ok' else 'FAILED'}")
        if result != "ok":
            failures.append(f"release {name}: {result[-300:]}")
    handed = build_class(course)
    regular = [s for s in STUDENTS if s in handed]
    bugs = sum(len(b) for s in regular for b in handed[s].values() if b != ["blank"])
    echo(f"sample class: {len(regular)} students x {len(course.assignments())} notebooks "
         f"({bugs} catalogued bugs put in), plus {len(handed) - len(regular)} fault and "
         f"cheat students in {course.assignments()[:1]}, under {course.submitted}")
    # 30 s per cell lets notebooks 04 and 06 train on a busy machine. The fault students
    # hand in only the first notebook, whose cells take well under a second: they are
    # graded in a run of their own with 10 s per cell, so the two endless loops spend 10 s
    # of CPU each instead of 30 (the limits are part of the content hash: a later `grade`
    # with other limits grades them again).
    faults = sorted(s for s in handed if s not in STUDENTS and not s.startswith("cheat-"))
    others = [s for s in handed if s not in faults]
    for students, cell, whole in ((others, 30, 120), (faults, 10, 60)):
        if students:
            done = grade.run(course, jobs=jobs, timeout_cell=cell, timeout_submission=whole,
                             students=students, echo=echo)
            failures += [f"grading task lost: {w['unit']}" for w in done["failed_workers"]]
    for name, result in steps.feedback(course, jobs=jobs).items():
        echo(f"feedback {name}: {'ok' if result == 'ok' else 'FAILED'} ({course.feedback})")
        if result != "ok":
            failures.append(f"feedback {name}")
    report.write(course, echo=echo)
    return failures

"""The course notebooks, run the way students and instructors run them.

Every `notebooks/*.ipynb` (so 04-06 are covered when they land) is checked as a source
notebook (stored without outputs, unique cell ids, set-up cell first, no reusable code
defined), executed with solutions and validated, then pushed through real nbgrader in a
tmp course: released, submitted blank, submitted with the solutions filled back in, and
submitted with each seed bug put back, then autograded. Bug injections are data:
`BUGS` below, plus `BUGS` from any `tests/notebook_bugs_*.py` module beside this file.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import shutil
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest

from autograder import manifest as mf
from autograder.injections import BUGS_00_03, Injection

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(p.stem for p in NOTEBOOK_DIR.glob("*.ipynb"))
SECONDS_BUDGET = 20  # per notebook with solutions, one BLAS thread (COURSE.md)


# The injections live in autograder/injections.py (the demo class is built from them too);
# a copy here, so _more_bugs can extend it without touching the shared table.
Bug = Injection
BUGS: dict[str, list[Bug]] = {name: list(bugs) for name, bugs in BUGS_00_03.items()}


def _more_bugs() -> None:
    """Add the injections other helpers keep in tests/notebook_bugs_*.py (a `BUGS` dict)."""
    for path in sorted(Path(__file__).parent.glob("notebook_bugs_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name, bugs in module.BUGS.items():
            BUGS.setdefault(name, []).extend(
                b if isinstance(b, Bug) else Bug(*b) for b in bugs)


_more_bugs()


def _group(name: str):
    """Spread kernel-heavy notebooks over two xdist workers; one notebook stays on one."""
    index = NOTEBOOKS.index(name) if name in NOTEBOOKS else 0
    return pytest.mark.xdist_group(f"notebooks-{index % 2}")


def _params(names):
    return [pytest.param(n, marks=_group(n), id=n) for n in names]


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(str(NOTEBOOK_DIR / f"{name}.ipynb"), as_version=4)


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


# --------------------------------------------------------------------------- static

@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_without_outputs(name):
    dirty = [cell.get("id") for cell in _read(name).cells
             if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, f"{name}: cells {dirty} carry outputs; clear them before committing"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_cell_ids_and_grade_ids_are_unique(name):
    nb = _read(name)
    ids = [cell.get("id") for cell in nb.cells]
    grade_ids = [g for g in map(_grade_id, nb.cells) if g]
    assert None not in ids and len(set(ids)) == len(ids), f"{name}: cell ids {ids}"
    assert len(set(grade_ids)) == len(grade_ids), f"{name}: grade ids {grade_ids}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_first_code_cell_sets_up(name):
    first = next(c for c in _read(name).cells if c.cell_type == "code").source
    assert "%load_ext autoreload" in first and "%autoreload 2" in first, first
    assert "default_rng(" in first or "seed(" in first, f"{name}: the first cell seeds nothing"
    assert not re.search(r"^\s*from\s+\S+\s+import\s+\*", first, re.M), "no star imports"


def _nnlab_exports() -> dict[str, str]:
    """Public functions and classes of nnlab's reusable modules -> the file defining them.

    Read from the source with `ast`, so a module another helper is still writing cannot
    break this test; the checks are left out (notebooks call them, never define them).
    """
    package = ROOT / "nnlab"
    found = {}
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        if rel.parts[0] == "checks" or (path.name.startswith("_") and path.name != "__init__.py"):
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                found.setdefault(node.name, f"nnlab/{rel}")
    return found


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebooks_define_no_reusable_code(name):
    """Only answer cells may define a name nnlab exports (the graded names); anything
    else a later notebook, a test or the autograder needs belongs in nnlab."""
    exports = _nnlab_exports()
    clashes = []
    for cell in _read(name).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or (meta.get("solution") and not meta.get("grade")):
            continue
        clashes += [f"{n} (nnlab: {exports[n]})" for n in mf.defined_names(cell.source)
                    if n in exports]
    assert not clashes, f"{name} defines outside answer cells: {clashes}"


# --------------------------------------------------------------------------- sources

@pytest.mark.slow
@pytest.mark.parametrize("name", _params(NOTEBOOKS))
def test_source_runs_with_solutions(name, record_property):
    from nbclient import NotebookClient

    nb = _read(name)
    if name in LABELLED_AXES:
        _record_unlabelled_axes(nb)
    start = time.perf_counter()
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK_DIR)}}).execute()
    seconds = time.perf_counter() - start
    record_property("seconds", round(seconds, 2))
    # the time is reported, never asserted (two shared cores): `make bench` holds each
    # notebook to its budget
    print(f"{name}: {seconds:.1f} s with solutions; {_where_the_time_went(nb)}")
    # every number the text states (a claim marker) is what a cell printed: tests/claims.py
    wrong = _claims().problems(nb)
    assert not wrong, f"{name}: the text states numbers the run does not print:\n" + \
        "\n".join(wrong)
    if name in LABELLED_AXES:
        unlabelled = _unlabelled_axes(nb)
        assert not unlabelled, f"{name}: plotted axes without a label: {unlabelled}"


# Notebooks whose every drawn axes carries an x and a y label (issue 11): checked on the
# solution run by a hook the test puts after the set-up cell, no second execution.
LABELLED_AXES = {"01_single_neuron", "04_xor", "05_bias_and_scaling", "06_mnist_and_synthetic"}
_AXES_HOOK = """\
import matplotlib.backend_bases as _mpl_bases
_nnlab_unlabelled, _nnlab_cell = [], [""]
_nnlab_print_figure = _mpl_bases.FigureCanvasBase.print_figure
get_ipython().events.register("pre_run_cell",
                              lambda info: _nnlab_cell.__setitem__(0, info.raw_cell))

def _nnlab_recording_print_figure(self, *args, **kwargs):
    # every figure the inline backend shows: its axes with a visible frame and no label
    # (a colorbar, an image grid with its axis off, the x axis a twin shares are exempt)
    for ax in self.figure.axes:
        if not ax.axison or hasattr(ax, "_colorbar"):
            continue
        missing = [k for k, shared, label in (("x", ax.get_shared_x_axes(), "get_xlabel"),
                                               ("y", ax.get_shared_y_axes(), "get_ylabel"))
                   if not any(getattr(a, label)() for a in shared.get_siblings(ax) if a.axison)]
        if missing:
            _nnlab_unlabelled.append([_nnlab_cell[0], ax.get_title(), missing])
    return _nnlab_print_figure(self, *args, **kwargs)

_mpl_bases.FigureCanvasBase.print_figure = _nnlab_recording_print_figure
"""


def _record_unlabelled_axes(nb) -> None:
    """Put the hook after the set-up cell (so after `%matplotlib inline`) and a last cell
    that prints what it found."""
    from nbformat.v4 import new_code_cell

    first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    nb.cells.insert(first + 1, new_code_cell(_AXES_HOOK, id="test-axes-hook"))
    nb.cells.append(new_code_cell("import json as _json\n"
                                  "print('UNLABELLED', _json.dumps(_nnlab_unlabelled))",
                                  id="test-axes-report"))


def _unlabelled_axes(nb) -> list[str]:
    """[cell id, axes title, missing labels] of every unlabelled axes the run drew."""
    report = nb.cells.pop()
    nb.cells = [c for c in nb.cells if c.get("id") != "test-axes-hook"]
    text = "".join(o.get("text", "") for o in report.outputs if o.output_type == "stream")
    assert text.startswith("UNLABELLED "), f"the axes hook reported nothing: {report.outputs}"
    cell_of = {c.source: c.get("id") for c in nb.cells if c.cell_type == "code"}
    return [f"{cell_of.get(source, source[:60])}: {title!r} lacks {'/'.join(missing)}"
            for source, title, missing in json.loads(text.split(" ", 1)[1])]


def _claims():
    spec = importlib.util.spec_from_file_location("claims", Path(__file__).parent / "claims.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _where_the_time_went(nb) -> str:
    """The slowest cells (nbclient's own timing metadata) and the rest outside any cell
    (kernel start and shutdown): what a slow run needs to be diagnosed."""
    from datetime import datetime

    cells = []
    for index, cell in enumerate(nb.cells):
        stamps = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in stamps and "shell.execute_reply" in stamps:
            began, ended = (datetime.fromisoformat(stamps[k].replace("Z", "+00:00"))
                            for k in ("iopub.execute_input", "shell.execute_reply"))
            cells.append(((ended - began).total_seconds(), index))
    slowest = ", ".join(f"cell {i} {t:.1f} s" for t, i in sorted(cells, reverse=True)[:3])
    return f"in cells {sum(t for t, _ in cells):.1f} s (slowest: {slowest})"


@pytest.mark.slow
@pytest.mark.parametrize("name", _params(NOTEBOOKS))
def test_source_validates(name):
    from nbgrader.validator import Validator

    result = Validator().validate(str(NOTEBOOK_DIR / f"{name}.ipynb"))
    assert result == {}, f"{name}: nbgrader validation failed: {json.dumps(result)[:2000]}"


# --------------------------------------------------------------------------- nbgrader

class Course:
    """A tmp nbgrader course: releases, submissions and autograde results on demand."""

    def __init__(self, root: Path):
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config import Config, PyFileConfigLoader

        self.root = root
        self._releases: dict[str, nbformat.NotebookNode] = {}
        self._grades: dict[str, dict] = {}
        (root / "nbgrader_config.py").write_text(textwrap.dedent(f"""
            c = get_config()  # noqa: F821
            c.CourseDirectory.root = {str(root)!r}
            c.Execute.timeout = 60
            c.Execute.kernel_name = "python3"
            c.Exchange.root = {str(root / "exchange")!r}
            """))
        config = Config()
        config.merge(PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config())
        self.api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)

    def source(self, name: str) -> nbformat.NotebookNode:
        return _read(name)

    def release(self, name: str) -> nbformat.NotebookNode:
        """`nbgrader generate_assignment`: the student version of notebook `name`."""
        if name not in self._releases:
            self._releases[name] = self._generate(name)
        return self._releases[name]

    def _generate(self, name: str) -> nbformat.NotebookNode:
        folder = self.root / "source" / name
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(NOTEBOOK_DIR / f"{name}.ipynb", folder / f"{name}.ipynb")
        result = self.api.generate_assignment(name)
        assert result["success"], result.get("error", "") + result.get("log", "")
        return nbformat.read(str(self.root / "release" / name / f"{name}.ipynb"), as_version=4)

    def submit(self, student: str, name: str, nb: nbformat.NotebookNode) -> None:
        folder = self.root / "submitted" / student / name
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(folder / f"{name}.ipynb"))

    def filled(self, name: str, replace: dict[str, str] | None = None,
               graded_only: bool = False) -> nbformat.NotebookNode:
        """The release with the source's answers copied back by grade_id, some replaced.

        `graded_only` drops the demonstration code cells: the test cells must not need
        them, and an injected bug then costs only its own cells' time.
        """
        answers = {_grade_id(c): c.source for c in self.source(name).cells
                   if c.metadata.get("nbgrader", {}).get("solution")}
        answers.update(replace or {})
        nb = nbformat.from_dict(json.loads(json.dumps(self.release(name))))
        for cell in nb.cells:
            if _grade_id(cell) in answers:
                cell.source = answers[_grade_id(cell)]
        if graded_only:
            nb.cells = [c for c in nb.cells if c.cell_type == "markdown" or _grade_id(c)]
        return nb

    def autograde(self, name: str) -> dict:
        """Autograde every submission of `name` (one nbgrader run); per student:
        {"success", "grades": {grade_id: (score, max_score)}, "errors": {grade_id: text}}."""
        if name not in self._grades:
            self._grades[name] = self._autograde(name)
        return self._grades[name]

    def _autograde(self, name: str) -> dict:
        from nbgrader.api import Gradebook

        result = self.api.autograde(name, "*")
        results = {}
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gb:
            for folder in sorted((self.root / "submitted").iterdir()):
                student = folder.name
                if not (folder / name).exists():
                    continue
                try:
                    sub = gb.find_submission_notebook(name, name, student)
                except Exception:  # noqa: BLE001 - not graded at all: report it below
                    results[student] = {"success": False, "log": result.get("log", "")}
                    continue
                grades = {g.name: (g.score, g.max_score) for g in sub.grades
                          if g.cell_type == "code"}
                graded = self.root / "autograded" / student / name / f"{name}.ipynb"
                errors, demo_errors = {}, {}
                for cell in nbformat.read(str(graded), as_version=4).cells:
                    failed = [o for o in cell.get("outputs", []) if o.output_type == "error"]
                    texts = [o.get("ename", "") + ": " + o.get("evalue", "") + "\n"
                             + "\n".join(o.get("traceback", [])) for o in failed]
                    if texts and _grade_id(cell):
                        errors[_grade_id(cell)] = "\n".join(texts)
                    elif failed:  # a demonstration cell (no grade id)
                        demo_errors[cell.get("id")] = [(o.get("ename", ""), o.get("evalue", ""))
                                                       for o in failed]
                results[student] = {"success": True, "grades": grades, "errors": errors,
                                    "demo_errors": demo_errors}
        return results


def _bug_student(name: str, index: int) -> str:
    return f"bug{index:02d}"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """One tmp course per worker; each notebook's submissions are made when first needed."""
    with pytest.MonkeyPatch.context() as mp:
        # nbgrader runs the `alembic` command of its own environment
        mp.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        yield from _course(tmp_path_factory)


def _course(tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("course"))
    submitted = set()

    def ensure(name: str) -> Course:
        if name not in submitted:
            course.submit("blank", name, course.release(name))
            course.submit("solved", name, course.filled(name))
            for i, bug in enumerate(BUGS.get(name, [])):
                source = textwrap.dedent(bug.source).strip("\n")
                course.submit(_bug_student(name, i), name,
                              course.filled(name, {bug.answer: source}, graded_only=True))
            submitted.add(name)
        return course

    course.ensure = ensure
    yield course


def _test_cells(name: str) -> dict[str, float]:
    cells = mf.scan_notebook(NOTEBOOK_DIR / f"{name}.ipynb")
    return {c["grade_id"]: c["points"] for c in cells if c["kind"] == "test"}


@pytest.mark.slow
@pytest.mark.parametrize("name", _params(NOTEBOOKS))
def test_release_hides_solutions_and_hidden_tests(course, name):
    release = course.ensure(name).release(name)
    text = "\n".join(c.source for c in release.cells)
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    for cell in release.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            assert "hidden=True" not in cell.source, f"{name}/{meta['grade_id']}: hidden call"
        if cell.cell_type == "code" and meta.get("solution"):
            assert "raise NotImplementedError()" in cell.source, (
                f"{name}/{meta['grade_id']}: the stub does not raise NotImplementedError")
        if cell.cell_type == "markdown" and meta.get("solution"):
            assert "YOUR ANSWER HERE" in cell.source, f"{name}/{meta['grade_id']}"


@pytest.mark.slow
@pytest.mark.parametrize("name", _params(NOTEBOOKS))
def test_blank_release_fails_every_test_without_crashing(course, name):
    graded = course.ensure(name).autograde(name)["blank"]
    assert graded["success"], f"{name}: the blank release did not grade: {graded}"
    tests = _test_cells(name)
    assert set(graded["grades"]) >= set(tests)
    passed = [g for g in tests if graded["grades"][g][0] != 0]
    assert not passed, f"{name}: test cells {passed} give points to an empty answer"
    assert set(graded["errors"]) >= set(tests), f"{name}: silent test cells"
    # a demonstration cell may stop only on an unwritten exercise it calls itself (its stub's
    # NotImplementedError, bare or inside a check's report), never on a name another cell
    # failed to set: fall back to nnlab's reference (nnlab.fallback.yours_or_reference)
    crashed = {cell: errors for cell, errors in graded["demo_errors"].items()
               if not all(_an_unwritten_exercise(*error) for error in errors)}
    assert not crashed, f"{name}: demonstration cells crash on the blank release: {crashed}"


def _an_unwritten_exercise(ename: str, evalue: str) -> bool:
    """The error a stub raises, directly or reported by a check that called it."""
    return ename == "NotImplementedError" or (
        ename == "CheckFailed" and "raised NotImplementedError" in evalue)


@pytest.mark.slow
@pytest.mark.parametrize("name", _params(NOTEBOOKS))
def test_solutions_filled_into_the_release_get_full_marks(course, name):
    graded = course.ensure(name).autograde(name)["solved"]
    assert graded["success"], f"{name}: the solved release did not grade: {graded}"
    tests = _test_cells(name)
    lost = {g: graded["grades"][g] for g in tests if graded["grades"][g][0] != tests[g]}
    assert not lost, f"{name}: points lost with the solutions: {lost}\n{graded['errors']}"
    assert sum(graded["grades"][g][1] for g in tests) == sum(tests.values())


_INJECTIONS = [pytest.param(name, i, marks=_group(name), id=f"{name}-{bug.answer}-{bug.bug}-{i}")
               for name in NOTEBOOKS for i, bug in enumerate(BUGS.get(name, []))]


@pytest.mark.slow
@pytest.mark.parametrize("name, index", _INJECTIONS)
def test_seed_bug_fails_its_test_and_is_named(course, name, index):
    bug = BUGS[name][index]
    graded = course.ensure(name).autograde(name)[_bug_student(name, index)]
    assert graded["success"], f"{name} with {bug.note}: did not grade: {graded}"
    score, _ = graded["grades"][bug.test]
    assert score == 0, f"{name}/{bug.test} gave {score} points to {bug.note}"
    error = graded["errors"].get(bug.test, "")
    if bug.bug is None:
        assert "found a problem" in error, f"{name}/{bug.test} ({bug.note}):\n{error[-1500:]}"
        return
    assert f"bug {bug.bug}" in error, (
        f"{name}/{bug.test} failed without naming {bug.bug} ({bug.note}):\n{error[-1500:]}")


def test_every_bug_injection_targets_real_cells():
    """A renamed cell must not silently turn an injection into a no-op."""
    for name, bugs in BUGS.items():
        if name not in NOTEBOOKS:
            continue
        cells = {c["grade_id"]: c["kind"] for c in mf.scan_notebook(NOTEBOOK_DIR / f"{name}.ipynb")}
        for bug in bugs:
            assert cells.get(bug.answer) == "answer", f"{name}: no answer cell {bug.answer}"
            assert cells.get(bug.test) == "test", f"{name}: no test cell {bug.test}"
            assert bug.bug is None or re.fullmatch(r"B([1-9]|1[0-9])", bug.bug), bug.bug

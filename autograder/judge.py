"""The judge: each graded test cell's verdict, computed in the grader against the oracle.

A test cell's source comes from the instructor's notebook (hidden tests included) and is
executed HERE, in a namespace that resolves names lazily: `check_*` to the real checks of
`nnlab.checks`, names the instructor's own import cells bring in (numpy, `and_gate`, the
`sigmoid` of notebook 01) to the grader's own objects, and every other name to the
student's kernel through the oracle (plain data by value, anything else as a proxy).
The verdict (pass, or CheckFailed with its bug id, or an error, or a timeout) becomes
the cell's outputs, which nbgrader scores.

Nothing the student's code does in its kernel can reach this process: it can change the
values the oracle returns (which the checks judge like any other answer), make a request
fail or time out (which fails the test), or lie about the kernel's own run of the test
cell (which only decides an integrity flag, never a point).
"""

from __future__ import annotations

import ast
import builtins
import importlib
from dataclasses import dataclass, field

import nbformat

from autograder.skipping import tagged_cells
from nnlab.checks import REGISTRY, CheckFailed
from nnlab.checks._student import RemoteTimeout


def is_test_cell(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) \
        and not meta.get("solution")


def _parse(source: str):
    lines = [ln for ln in source.split("\n") if not ln.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse("\n".join(lines))
    except (SyntaxError, RecursionError, MemoryError, ValueError):  # a crafted cell too
        return ast.Module(body=[], type_ignores=[])


@dataclass
class Instructor:
    """What the judge takes from the instructor's notebook: the test cells' sources by
    grade_id, the names its import cells bring in, the names its solution cells define,
    and its demonstrations tagged `skip-in-grading` (cell id -> source, see skipping.py)."""

    tests: dict[str, str] = field(default_factory=dict)
    imports: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    solutions: set[str] = field(default_factory=set)
    skippable: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_notebook(cls, nb, trusted=lambda cell: True) -> Instructor:
        """Read `nb`; only cells for which `trusted(cell)` holds give tests and imports."""
        found = cls()
        tagged = tagged_cells(nb)
        for cell in nb.cells:
            if cell.get("cell_type") != "code":
                continue
            meta = cell.get("metadata", {}).get("nbgrader", {})
            tree = _parse(cell.source)
            if meta.get("solution"):
                for node in tree.body:
                    found.solutions |= _defined(node)
            elif not trusted(cell):
                continue
            elif is_test_cell(cell):
                found.tests[meta.get("grade_id", "")] = cell.source
            else:
                for node in tree.body:
                    found.imports.update(_imported(node))
                if cell.get("id") in tagged:
                    found.skippable[cell["id"]] = tagged[cell["id"]]
        return found

    @classmethod
    def read(cls, path) -> Instructor:
        return cls.from_notebook(nbformat.read(str(path), as_version=4))


def _defined(node) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return set(_imported(node))
    return set()


def _imported(node) -> dict[str, tuple[str, str | None]]:
    if isinstance(node, ast.Import):
        return {(a.asname or a.name.split(".")[0]): (a.name if a.asname else
                                                     a.name.split(".")[0], None)
                for a in node.names}
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return {(a.asname or a.name): (node.module, a.name) for a in node.names
                if a.name != "*"}
    return {}


def _grader_object(module: str, attr: str | None):
    mod = importlib.import_module(module)
    if attr is None:
        return mod
    try:
        return getattr(mod, attr)
    except AttributeError:
        return importlib.import_module(f"{module}.{attr}")


class Namespace(dict):
    """The globals a test cell runs in: filled on first use of each name (see the module
    docstring for where a name comes from). Builtins are always the grader's."""

    def __init__(self, oracle, instructor: Instructor, calls: list):
        super().__init__(__builtins__=builtins, __name__="__nnlab_judge__")
        self._oracle = oracle
        self._instructor = instructor
        self._calls = calls

    def __missing__(self, name):
        if name in vars(builtins):
            raise KeyError(name)
        if name in REGISTRY:
            value = _recorded(REGISTRY[name], self._calls)
        elif name in self._instructor.imports and name not in self._instructor.solutions:
            value = _grader_object(*self._instructor.imports[name])
        else:
            try:
                value = self._oracle.lookup(name)
            except NameError:
                raise KeyError(name) from None
        self[name] = value
        return value


def _recorded(check, calls: list):
    def recording(obj=None, *args, **kwargs):
        calls.append(call_key(check.__name__, type(obj).__name__, kwargs))
        return check(obj, *args, **kwargs)

    return recording


def call_key(name: str, type_name: str, kwargs: dict) -> list:
    """How one call of a check is compared between the judge and the kernel's stub."""
    return [str(name), str(type_name), sorted([str(k), repr(v)] for k, v in kwargs.items())]


@dataclass
class Verdict:
    grade_id: str
    outcome: str                  # "pass", "fail", "error" or "timeout"
    ename: str = ""
    evalue: str = ""
    bug: str | None = None
    calls: list = field(default_factory=list)  # call_key of every check the cell called

    def outputs(self) -> list[dict]:
        """The cell's outputs as nbgrader scores them: an error output unless it passed."""
        if self.outcome == "pass":
            return [nbformat.v4.new_output("stream", name="stdout",
                                           text="passed (judged by the grader)\n")]
        return [nbformat.v4.new_output("error", ename=self.ename, evalue=self.evalue,
                                       traceback=[f"{self.ename}: {self.evalue}"])]


def judge(grade_id: str, source: str, oracle, instructor: Instructor) -> Verdict:
    """Run one test cell's source here against the student's kernel; its verdict."""
    calls: list = []
    space = Namespace(oracle, instructor, calls)
    try:
        code = compile(_strip_magics(source), f"<test {grade_id}>", "exec")
        exec(code, space)  # noqa: S102 (the instructor's own test code)
    except CheckFailed as exc:
        outcome = "timeout" if exc.kind == "timeout" else "fail"
        return Verdict(grade_id, outcome, "CheckFailed", str(exc), exc.bug, calls)
    except RemoteTimeout as exc:
        error = CheckFailed(f"The grader gave up waiting for your notebook's kernel: {exc}. "
                            "Something your code runs does not return (a loop that never "
                            "ends, or one that ignores interruptions).", kind="timeout")
        return Verdict(grade_id, "timeout", "CheckFailed", str(error), None, calls)
    except Exception as exc:  # an assertion of the cell, or the student's error through it
        return Verdict(grade_id, "error", type(exc).__name__, str(exc), None, calls)
    return Verdict(grade_id, "pass", calls=calls)


def _strip_magics(source: str) -> str:
    return "\n".join("pass" if ln.lstrip().startswith(("%", "!")) else ln
                     for ln in source.split("\n"))


def disagreement(verdict: Verdict, kernel_calls: list, kernel_failed: bool,
                 stubs: dict) -> str | None:
    """Why the kernel's own run of a test cell does not match the judge's, or None.

    The stub checks never fail, so the kernel must have reached every check the judge
    reached, with the same arguments, in order (all of them when the judge passed); a cell
    without checks must fail in the kernel when the judge fails it; each check the cell
    names must be the stub in the notebook's namespace.
    """
    judged = verdict.calls
    if not stubs.get("stub", False):
        return "the kernel's nnlab.checks is not the grader's stub module"
    replaced = sorted(name for name, ok in stubs.get("bound", {}).items() if not ok)
    if replaced:
        return f"the notebook's {', '.join(replaced)} is not the grader's stub"
    if kernel_calls[:len(judged)] != judged or (verdict.outcome == "pass"
                                                 and kernel_calls != judged):
        want = ", ".join(c[0] for c in judged) or "no check"
        got = ", ".join(c[0] for c in kernel_calls) or "no check"
        return (f"the test cell did not run as written in the kernel (the grader's run "
                f"called {want}; the kernel's called {got})")
    if not judged and verdict.outcome != "pass" and not kernel_failed:
        return "the test cell passed in the kernel but fails when the grader runs it"
    return None

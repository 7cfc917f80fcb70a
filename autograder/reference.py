"""The reference out of reach: the copy of nnlab a kernel grading notebook N imports.

In that copy every top-level function or class of nnlab named like a graded answer of N,
or of a later notebook that N does not itself import as a tool, is replaced by a stub
that raises a clear error, so imports keep working while the reference's code exists
neither on disk nor in memory; earlier notebooks' references work as in the course.
With the verdict outside the kernel, `nnlab/checks/` keeps only `_core.py`, `_student.py`
(the access layer `_core` imports), `triage.py` and `autograder/kernel_checks.py` as its
`__init__.py`.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from autograder import manifest

KERNEL_CHECKS = Path(__file__).with_name("kernel_checks.py")
CHECKS_KEPT = ("_core.py", "_student.py", "triage.py")


@functools.lru_cache(maxsize=64)
def _code_cells(path: str, mtime_ns: int) -> tuple[tuple[bool, str], ...]:
    """(is an answer cell, source) of each code cell of a notebook; read as plain JSON (an
    instructor notebook with outputs takes seconds to validate with nbformat)."""
    cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells", [])
    out = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        text = cell.get("source", "")
        out.append((bool(meta.get("solution")) and not meta.get("grade"),
                    "".join(text) if isinstance(text, list) else text))
    return tuple(out)


def _cells(notebook: Path):
    return _code_cells(str(notebook), notebook.stat().st_mtime_ns)


def graded_names(notebook: Path) -> list[str]:
    """The names the answer cells of an instructor notebook define."""
    names: list[str] = []
    for answer, text in _cells(notebook):
        if answer:
            try:
                names += [n for n in manifest.defined_names(text) if n not in names]
            except SyntaxError:
                continue
    return names


def tools(notebook: Path) -> set[str]:
    """Names the notebook's code imports from nnlab (what it hands students as tools)."""
    found: set[str] = set()
    for _answer, text in _cells(notebook):
        try:
            tree = manifest._code(text)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nnlab"):
                found.update(alias.name for alias in node.names)
    return found


#: COURSE.md's graded interface: the names nnlab's reference implements as an exercise.
#: Only these are ever withheld; a notebook's other answer cells may define helpers that
#: share a name with the library (notebook 07's `Layer`, `step`), which must stay usable.
GRADED_INTERFACE = frozenset({
    "sigmoid", "sigmoid_derivative", "neuron_forward", "bce_loss", "neuron_gradients",
    "train_neuron", "numerical_gradient", "relative_error", "gradient_check", "Dense",
    "Sigmoid", "Tanh", "ReLU", "train_xor", "Standardizer", "sgd_step", "softmax",
    "softmax_cross_entropy", "iterate_minibatches",
})


def withheld(source: Path, assignment: str) -> dict[str, str]:
    """{name: the assignment that grades it} for what the kernel grading `assignment` must
    not have. `source` is the course's source/ folder; its assignments in name order are
    the rungs."""
    rungs = sorted(p.name for p in source.iterdir()
                   if (p / f"{p.name}.ipynb").is_file()) if source.is_dir() else []
    if assignment not in rungs:
        raise ValueError(f"no source notebook for assignment {assignment!r} in {source}")
    own = source / assignment / f"{assignment}.ipynb"
    given = tools(own)
    names = {n: assignment for n in graded_names(own) if n in GRADED_INTERFACE}
    for later in rungs[rungs.index(assignment) + 1:]:
        for name in graded_names(source / later / f"{later}.ipynb"):
            if name not in given and name in GRADED_INTERFACE:
                names.setdefault(name, later)
    return names


def _stub(node: ast.AST, owner: str, graded: str) -> str:
    why = ("it is what this notebook asks you to write" if owner == graded
           else f"it is graded in the later notebook {owner}")
    message = (f"nnlab's reference `{node.name}` is not available while notebook {graded} "
               f"is graded: {why}. Use your own `{node.name}`.")
    if isinstance(node, ast.ClassDef):
        return (f"class {node.name}:\n    \"\"\"Withheld while {graded} is graded.\"\"\"\n\n"
                f"    def __init__(self, *args, **kwargs):\n"
                f"        raise RuntimeError({message!r})\n")
    return (f"def {node.name}(*args, **kwargs):\n"
            f"    \"\"\"Withheld while {graded} is graded.\"\"\"\n"
            f"    raise RuntimeError({message!r})\n")


def stub_module(text: str, names: dict[str, str], graded: str) -> tuple[str, list[str]]:
    """(`text` with each top-level def/class in `names` replaced by a stub, replaced names)."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    hits = [node for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and node.name in names]
    for node in sorted(hits, key=lambda n: n.lineno, reverse=True):
        first = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
        lines[first:node.end_lineno] = [_stub(node, names[node.name], graded)]
    out = "".join(lines)
    ast.parse(out)  # a stub that broke the module must fail here, not in a student's kernel
    return out, [n.name for n in hits]


def key(names: dict[str, str], verdict_outside: bool) -> str:
    """Names the shaped copy: what it withholds and how its checks package looks."""
    text = json.dumps([sorted(names.items()), verdict_outside,
                       KERNEL_CHECKS.read_text() if verdict_outside else ""])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def build(package: Path, into: Path, assignment: str, names: dict[str, str],
          verdict_outside: bool) -> Path:
    """The shaped copy of `package` (nnlab's source folder) as `into`/nnlab, built once and
    atomically (a grader running at the same time keeps the copy it uses). Returns `into`."""
    if (into / "complete").exists():
        return into
    into.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    build_dir = Path(tempfile.mkdtemp(prefix=".building-", dir=into.parent))
    try:
        target = build_dir / "nnlab"
        shutil.copytree(package, target, symlinks=False,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))
        replaced = {}
        for path in sorted(target.rglob("*.py")):
            if "checks" in path.relative_to(target).parts:
                continue
            text, hits = stub_module(path.read_text(), names, assignment)
            if hits:
                path.write_text(text)
                replaced[str(path.relative_to(build_dir))] = hits
        if verdict_outside:
            checks = target / "checks"
            for entry in checks.iterdir():
                if entry.name not in CHECKS_KEPT:
                    shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            shutil.copyfile(KERNEL_CHECKS, checks / "__init__.py")
        for folder, _dirs, files in os.walk(build_dir):
            os.chmod(folder, 0o755)
            for name in files:
                os.chmod(Path(folder, name), 0o644)
        (build_dir / "complete").write_text(json.dumps(
            {"assignment": assignment, "withheld": names, "replaced": replaced,
             "verdict_outside": verdict_outside}, indent=1))
        try:
            os.rename(build_dir, into)
        except OSError:  # another grader built the same copy first
            shutil.rmtree(build_dir, ignore_errors=True)
    except BaseException:
        shutil.rmtree(build_dir, ignore_errors=True)
        raise
    return into


_built: dict[tuple, Path] = {}


def for_assignment(mirror: Path, source: Path | None, assignment: str, verdict_outside: bool,
                   names: dict[str, str] | None = None) -> Path:
    """The folder to put on the kernel's sys.path when grading `assignment`: holds the
    shaped `nnlab/`, built beside the grader's library `mirror` (see kernel.mirror).
    `names` ({name: assignment}, from `withheld`) is what a grading task brings from the
    coordinator, where the course's source/ is; without it they are read from `source`.
    Remembered per state of the source notebooks (or the names), so a worker reads them
    once."""
    if names is None:
        state = tuple(sorted((str(p), p.stat().st_mtime_ns) for p in source.glob("*/*.ipynb")))
    else:
        state = tuple(sorted(names.items()))
    key_ = (str(mirror), str(source), assignment, verdict_outside, state)
    if key_ in _built and (_built[key_] / "complete").exists():
        return _built[key_]
    if names is None:
        names = withheld(source, assignment)
    into = mirror / "withheld" / f"{assignment}-{key(names, verdict_outside)}"
    _built[key_] = build(mirror / "src" / "nnlab", into, assignment, names, verdict_outside)
    return _built[key_]

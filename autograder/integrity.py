"""Static scan of a submission's answer cells for the cheats stock nbgrader misses.

Flags assignments to attributes of numpy / nnlab / the checks, redefined `check_*` names,
IPython input transformers, `__eq__` overrides, file access to the instructor's files,
`os._exit` and process tricks. A flag is a question for the instructor, not a verdict.
"""

from __future__ import annotations

import ast

import nbformat

GUARDED_ROOTS = {"np", "numpy", "nnlab", "checks"}
FILE_WORDS = ("gradebook", "source/", "/source", "nbgrader", "autograded", ".kernel")
SUSPECT_CALLS = {"_exit": "os._exit (kills the kernel)", "fork": "os.fork",
                 "setrlimit": "resource limits", "system": "os.system", "Popen": "subprocess",
                 "input": "input() (no one can type during grading)"}


def _root(node) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def scan_source(source: str) -> list[str]:
    """Flags (plain sentences) for one answer cell's code."""
    lines = [ln for ln in source.split("\n") if not ln.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return []
    flags = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if isinstance(target, ast.Attribute) and _root(target) in GUARDED_ROOTS:
                flags.append(f"assigns to `{ast.unparse(target)}`")
            if isinstance(target, ast.Name) and target.id.startswith("check_"):
                flags.append(f"redefines the check `{target.id}`")
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name.startswith("check_"):
            flags.append(f"redefines the check `{node.name}`")
        if isinstance(node, ast.FunctionDef) and node.name in ("__eq__", "__ne__", "__array__"):
            flags.append(f"defines `{node.name}` (an object that can fake comparisons)")
        if isinstance(node, ast.Attribute) and ("transformer" in node.attr
                                               or node.attr in ("events", "register_magics")):
            flags.append(f"touches IPython's `{node.attr}`")
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(
                node.func, "id", "")
            if name in SUSPECT_CALLS:
                flags.append(f"calls {SUSPECT_CALLS[name]}")
            if name in ("setattr", "globals", "exec", "eval"):
                flags.append(f"calls `{name}` (can rebind names a test relies on)")
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if any(word in node.value for word in FILE_WORDS):
                flags.append(f"names the grader's files ({node.value[:40]!r})")
    return sorted(set(flags))


def scan_notebook(path, instructor=None) -> list[dict]:
    """[{"grade_id", "flag"}] for every answer cell of the notebook at `path`; a cell the
    student left exactly as the `instructor`'s notebook (a path) has it is not theirs."""
    nb = nbformat.read(str(path), as_version=4)
    theirs = set()
    if instructor is not None:
        theirs = {c.source.strip() for c in nbformat.read(str(instructor), as_version=4).cells
                  if c.cell_type == "code"
                  and not c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    found = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or (meta.get("grade") and not meta.get("solution")):
            continue
        if meta.get("locked") or cell.source.strip() in theirs:
            continue
        for flag in scan_source(cell.source):
            found.append({"grade_id": meta.get("grade_id", ""), "flag": flag})
    return found

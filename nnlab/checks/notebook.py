"""`python -m nnlab.checks notebook FILE.ipynb`: a whole notebook checked from the shell.

For a self-learner without a grader. The notebook runs top to bottom in a fresh kernel
(its own folder as working directory); right after each graded test cell, the checks it
calls run once more with ``hidden=True``, as the grader runs them. Per graded cell it
prints the verdict and the diagnosis, then the points the visible and hidden tests give.
The notebook file itself is never changed.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

_MAGIC = re.compile(r"^\s*[%!]")
_HIDDEN_MARK = "# nnlab.checks notebook: the grader's hidden run of the cell above"


@dataclass
class Verdict:
    grade_id: str
    points: float
    visible: str | None   # None: passed; else the error the cell raised
    hidden: str | None    # None: passed (or the cell calls no check)

    @property
    def passed(self) -> bool:
        return self.visible is None and self.hidden is None


def hidden_variant(source: str) -> str | None:
    """The test cell's code with every ``check_*(...)`` call given ``hidden=True``; None
    when the cell calls no check (a cell that compares values itself has no hidden run)."""
    lines = ["" if _MAGIC.match(line) else line for line in source.splitlines()]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return None
    changed = False

    class Hide(ast.NodeTransformer):
        def visit_Call(self, node):
            self.generic_visit(node)
            fn = node.func
            name = fn.id if isinstance(fn, ast.Name) else getattr(fn, "attr", "")
            if name.startswith("check_") and not any(k.arg == "hidden" for k in node.keywords):
                nonlocal changed
                node.keywords.append(ast.keyword("hidden", ast.Constant(True)))
                changed = True
            return node

    tree = Hide().visit(tree)
    return f"{_HIDDEN_MARK}\n{ast.unparse(tree)}" if changed else None


def _error(cell) -> str | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename', '')}: {out.get('evalue', '')}".strip()
    return None


def check_notebook(path: str | Path, *, timeout: int = 120) -> list[Verdict]:
    """Run the notebook at `path` with the hidden runs added; one Verdict per test cell."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(str(path), as_version=4)
    cells, graded = [], []
    for cell in nb.cells:
        cells.append(cell)
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            extra = hidden_variant(cell.source)
            hidden = nbformat.v4.new_code_cell(extra) if extra else None
            if hidden is not None:
                cells.append(hidden)
            graded.append((cell, hidden, meta))
    nb.cells = cells
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    client.execute()
    return [Verdict(meta.get("grade_id", "?"), float(meta.get("points", 0)), _error(cell),
                    _error(hidden) if hidden is not None else None)
            for cell, hidden, meta in graded]


def _indent(text: str) -> str:
    return "\n".join(f"      {line}" for line in text.splitlines())


def report(verdicts: list[Verdict]) -> str:
    lines = []
    for v in verdicts:
        head = f"{'PASS' if v.passed else 'FAIL'}  {v.grade_id} ({v.points:g} points)"
        lines.append(head)
        if v.visible is not None:
            lines.append("    visible test:\n" + _indent(v.visible))
        elif v.hidden is not None:
            lines.append("    visible test passed; the hidden run, as the grader makes it:\n"
                         + _indent(v.hidden))
    got = sum(v.points for v in verdicts if v.passed)
    total = sum(v.points for v in verdicts)
    lines.append(f"\n{got:g} of {total:g} points from the tests "
                 f"({sum(v.passed for v in verdicts)} of {len(verdicts)} test cells pass; "
                 "written answers are graded by an instructor)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nnlab.checks notebook",
        description="Run a notebook headlessly and print each graded cell's diagnosis, "
                    "visible and hidden, as the grader would.")
    parser.add_argument("notebook", type=Path, help="e.g. student/03_hidden_layer.ipynb")
    parser.add_argument("--timeout", type=int, default=120, help="seconds per cell (120)")
    args = parser.parse_args(argv)
    if args.notebook.suffix != ".ipynb" or not args.notebook.is_file():
        parser.error(f"{args.notebook}: no such notebook; give the path of an .ipynb file, "
                     "e.g. student/03_hidden_layer.ipynb")
    verdicts = check_notebook(args.notebook, timeout=args.timeout)
    if not verdicts:
        print(f"{args.notebook} has no graded test cells (nbgrader metadata); nothing to "
              "check", file=sys.stderr)
        return 1
    print(report(verdicts))
    return 0 if all(v.passed for v in verdicts) else 1

"""The course manifest: which graded cells each notebook has, and what they are worth.

`notebooks/manifest.json` lists, per notebook, each nbgrader cell by `grade_id` with its
kind (answer, test or manual), the names an answer cell defines, the checks a test cell
calls and its points. This module loads it, compares it with the source notebooks
themselves, and renders the rubric table.
CLI: ``python -m autograder.manifest check|rubric [--write README.md]``.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
MANIFEST = NOTEBOOKS / "manifest.json"

KINDS = ("answer", "test", "manual")
_CELL_KEYS = {
    "answer": {"grade_id", "kind", "defines"},
    "test": {"grade_id", "kind", "points", "checks", "hidden"},
    "manual": {"grade_id", "kind", "points"},
}
_MAGIC = re.compile(r"^\s*[%!]")


class ManifestError(ValueError):
    """The manifest file is unreadable or not in the documented format."""


def load(path: str | Path = MANIFEST) -> dict:
    """Read the manifest and check its format; raise `ManifestError` naming the problem."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"no manifest at {path}; create notebooks/manifest.json") from None
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{path} is not valid JSON: {exc}") from None
    problems = format_problems(data)
    if problems:
        raise ManifestError(f"{path} is not a valid manifest:\n  " + "\n  ".join(problems))
    return data


def format_problems(data) -> list[str]:
    """Everything wrong with the manifest's structure (not its agreement with notebooks)."""
    if not isinstance(data, dict) or data.get("version") != 1:
        return ['the manifest must be an object with "version": 1']
    books = data.get("notebooks")
    if not isinstance(books, dict):
        return ['"notebooks" must map notebook names to their entries']
    problems = []
    for name, entry in books.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("title"), str):
            problems.append(f"{name}: needs a string \"title\"")
            continue
        cells = entry.get("cells")
        if not isinstance(cells, list):
            problems.append(f"{name}: \"cells\" must be a list")
            continue
        seen = set()
        for i, cell in enumerate(cells):
            where = f"{name} cell {i}"
            kind = cell.get("kind") if isinstance(cell, dict) else None
            if kind not in KINDS:
                problems.append(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
                continue
            where = f"{name}/{cell.get('grade_id')}"
            keys = set(cell)
            if keys != _CELL_KEYS[kind]:
                missing = sorted(_CELL_KEYS[kind] - keys)
                extra = sorted(keys - _CELL_KEYS[kind])
                problems.append(f"{where}: a {kind} cell has keys {sorted(_CELL_KEYS[kind])}"
                                f" (missing {missing}, unexpected {extra})")
                continue
            if cell["grade_id"] in seen:
                problems.append(f"{where}: grade_id listed twice")
            seen.add(cell["grade_id"])
            if "points" in cell and not (isinstance(cell["points"], (int, float))
                                         and cell["points"] > 0):
                problems.append(f"{where}: points must be a positive number, "
                                f"not {cell['points']!r}")
            # a test cell may call no check (a hand computation compared in the cell)
            for key, may_be_empty in (("defines", False), ("checks", True)):
                if key in cell and not (isinstance(cell[key], list)
                                        and (cell[key] or may_be_empty)
                                        and all(isinstance(s, str) for s in cell[key])):
                    problems.append(f"{where}: {key} must be a list of names"
                                    + ("" if may_be_empty else ", not empty"))
            if "hidden" in cell and not isinstance(cell["hidden"], bool):
                problems.append(f"{where}: hidden must be true or false")
    return problems


# --------------------------------------------------------------------------- notebooks

def _code(source: str) -> ast.Module:
    """Parse a code cell, treating IPython magics and shell lines as blank."""
    lines = ["" if _MAGIC.match(line) else line for line in source.splitlines()]
    return ast.parse("\n".join(lines))


def defined_names(source: str) -> list[str]:
    """Top-level names a code cell defines (functions, classes, assignments), in order."""
    names: list[str] = []
    for node in _code(source).body:
        targets = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            targets = [node.name]
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in getattr(node, "targets", [getattr(node, "target", None)]):
                targets += [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
        names += [t for t in targets if t not in names]
    return names


def called_checks(source: str) -> list[str]:
    """Names of `check_*` functions a code cell calls, in order of first call."""
    found: list[str] = []
    for node in ast.walk(_code(source)):
        if isinstance(node, ast.Call):
            fn = node.func
            name = fn.id if isinstance(fn, ast.Name) else getattr(fn, "attr", None)
            if name and name.startswith("check_") and name not in found:
                found.append(name)
    return found


def scan_notebook(path: str | Path) -> list[dict]:
    """The graded cells of a source notebook, described the way the manifest lists them."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    cells = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        solution, grade = meta.get("solution", False), meta.get("grade", False)
        if not (solution or grade):
            continue
        entry = {"grade_id": meta.get("grade_id")}
        if cell.cell_type == "code" and solution and not grade:
            entry.update(kind="answer", defines=defined_names(cell.source))
        elif cell.cell_type == "code" and grade and not solution:
            entry.update(kind="test", points=meta.get("points"),
                         checks=called_checks(cell.source),
                         hidden="### BEGIN HIDDEN TESTS" in cell.source)
        elif cell.cell_type == "markdown" and solution and grade:
            entry.update(kind="manual", points=meta.get("points"))
        else:
            entry.update(kind=f"unsupported ({cell.cell_type}, solution={solution}, "
                              f"grade={grade})")
        cells.append(entry)
    return cells


def agreement_problems(manifest: dict, notebooks_dir: str | Path = NOTEBOOKS,
                       known_checks: set[str] | None = None) -> list[str]:
    """Every disagreement between the manifest and the notebooks in `notebooks_dir`.

    `known_checks`, when given, is the set of check names that exist (the registry of
    `nnlab.checks`); a test cell calling anything else is reported.
    """
    notebooks_dir = Path(notebooks_dir)
    listed = manifest["notebooks"]
    present = {p.stem: p for p in sorted(notebooks_dir.glob("*.ipynb"))}
    problems = [f"{name}: notebooks/{name}.ipynb does not exist"
                for name in listed if name not in present]
    problems += [f"{name}: notebook has no entry in the manifest"
                 for name in present if name not in listed]
    for name in listed:
        if name not in present:
            continue
        want = listed[name]["cells"]
        have = scan_notebook(present[name])
        want_ids = [c["grade_id"] for c in want]
        have_ids = [c["grade_id"] for c in have]
        if want_ids != have_ids:
            problems.append(f"{name}: graded cells in the notebook {have_ids} differ from "
                            f"the manifest {want_ids} (same ids, same order)")
        by_id = {c["grade_id"]: c for c in have}
        for cell in want:
            got = by_id.get(cell["grade_id"])
            if got is None:
                continue
            for key in ("kind", "defines", "points", "checks", "hidden"):
                if key in cell and cell[key] != got.get(key):
                    problems.append(f"{name}/{cell['grade_id']}: manifest says {key}="
                                    f"{cell[key]!r}, the notebook has {got.get(key)!r}")
            if known_checks is not None:
                unknown = [c for c in cell.get("checks", []) if c not in known_checks]
                if unknown:
                    problems.append(f"{name}/{cell['grade_id']}: calls {unknown}, which "
                                    "nnlab.checks does not define")
    return problems


def registered_checks() -> set[str]:
    """The check names `nnlab.checks` defines."""
    from nnlab.checks import REGISTRY

    return set(REGISTRY)


# --------------------------------------------------------------------------- rubric

def rubric(manifest: dict) -> str:
    """The README rubric: one markdown row per graded cell, subtotals and a course total."""
    rows = ["| notebook | graded cell | kind | points | checked by |",
            "|---|---|---|---:|---|"]
    total = 0
    for name, entry in manifest["notebooks"].items():
        subtotal = 0
        for cell in entry["cells"]:
            if cell["kind"] == "answer":
                continue
            points = cell["points"]
            subtotal += points
            if cell["kind"] == "test":
                by = ", ".join(f"`{c}`" for c in cell["checks"]) or "the cell itself"
                by += " + hidden tests" if cell["hidden"] else ""
            else:
                by = "instructor (written answer)"
            rows.append(f"| {name} | `{cell['grade_id']}` | {cell['kind']} | {points:g} "
                        f"| {by} |")
        rows.append(f"| **{name}** | {entry['title']} | | **{subtotal:g}** | |")
        total += subtotal
    rows.append(f"| **course** | | | **{total:g}** | |")
    return "\n".join(rows) + "\n"


RUBRIC_START, RUBRIC_END = "<!-- rubric:start -->", "<!-- rubric:end -->"


def with_rubric(text: str, table: str) -> str:
    """`text` (a README) with the part between the rubric markers replaced by `table`."""
    start, end = text.find(RUBRIC_START), text.find(RUBRIC_END)
    if start < 0 or end < start:
        raise ManifestError(f"the README has no {RUBRIC_START} ... {RUBRIC_END} block; add "
                            "the two marker lines where the rubric table belongs")
    head = text[:start + len(RUBRIC_START)]
    return f"{head}\n{table}{text[end:]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.manifest",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("check", "rubric"),
                        help="check: compare the manifest with the notebooks; "
                             "rubric: print the markdown rubric table")
    parser.add_argument("--manifest", type=Path, default=MANIFEST)
    parser.add_argument("--notebooks", type=Path, default=None,
                        help="folder of source notebooks (default: the manifest's folder)")
    parser.add_argument("--write", type=Path, default=None, metavar="README",
                        help="rubric: rewrite the table between the rubric markers of README")
    args = parser.parse_args(argv)
    try:
        manifest = load(args.manifest)
    except ManifestError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.command == "rubric":
        table = rubric(manifest)
        if args.write is None:
            print(table, end="")
            return 0
        try:
            args.write.write_text(with_rubric(args.write.read_text(), table))
        except (OSError, ManifestError) as exc:
            print(f"cannot write the rubric into {args.write}: {exc}", file=sys.stderr)
            return 1
        print(f"rubric written into {args.write} ({table.count(chr(10))} lines)")
        return 0
    notebooks = args.notebooks or args.manifest.parent
    problems = agreement_problems(manifest, notebooks, known_checks=registered_checks())
    count = sum(len(e["cells"]) for e in manifest["notebooks"].values())
    if problems:
        print(f"manifest check FAILED: {len(problems)} problem(s)", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"manifest OK: {len(manifest['notebooks'])} notebooks, {count} graded cells agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Sample submissions: a perfect one, a blank one, catalogued bugs, faults and cheats.

Each scenario turns the released notebook (plus the instructor's source, for the answers)
into what a student might hand in. The demo builds a class from them, and the fixture
notebooks in tests/fixtures/submissions/ were written by `write_fixtures`.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat

# Code put at the top of the last answer cell, by scenario (so the tests before it still
# earn their points). Each stands for a fault a grader must survive; the fork bomb is
# bounded so that a grader without limits survives it too (its children sleep and die
# with the kernel's process group).
FAULTS = {
    "infinite-loop": "while True:\n    pass",
    "interrupt-swallowing-loop": (
        "import time\nwhile True:\n    try:\n        time.sleep(0.01)\n"
        "    except KeyboardInterrupt:\n        pass"),
    "dead-kernel": "import os\nos._exit(1)",
    "memory-bomb": "import numpy as _np\n_bomb = _np.ones(6 << 30, dtype=_np.uint8)",
    "fork-bomb": (
        "import os, time\nfor _ in range(300):\n    if os.fork() == 0:\n"
        "        time.sleep(300)\n        os._exit(0)"),
    "output-flood": "for _i in range(20_000):\n    print('flood', _i)",
    "input-call": "answer = input('your name? ')",
}

# Cheats that earned full marks from stock nbgrader (FACTS.md); each comes with junk answers.
CHEATS = {
    "cheat-monkeypatch": (
        "import numpy.testing\nnumpy.testing.assert_allclose = lambda *a, **k: None\n"
        "import nnlab.checks\nfor _name in list(vars(nnlab.checks)):\n"
        "    if _name.startswith('check_'):\n"
        "        setattr(nnlab.checks, _name, lambda *a, **k: None)\n"
        "        globals()[_name] = lambda *a, **k: None"),
    "cheat-always-equal": (
        "class _Always(float):\n    def __eq__(self, other):\n        return True\n"
        "    def __ne__(self, other):\n        return False\n"
        "    def __array__(self, *a, **k):\n        raise TypeError('no')"),
    "cheat-input-transformer": (
        "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])"),
    "cheat-read-source": (
        "import json, pathlib\n_found = None\n"
        "for _up in [pathlib.Path.cwd(), *pathlib.Path.cwd().parents]:\n"
        "    for _p in _up.glob('source/*/*.ipynb'):\n"
        "        _found = json.loads(_p.read_text())\n"
        "    for _db in _up.glob('gradebook.db'):\n"
        "        open(_db, 'ab').close()\n"
        "if _found:\n    for _c in _found['cells']:\n"
        "        if _c['metadata'].get('nbgrader', {}).get('solution'):\n"
        "            exec(''.join(_c['source']).replace('### BEGIN SOLUTION', '')"
        ".replace('### END SOLUTION', ''))"),
}
JUNK = "def {name}(*args, **kwargs):\n    return {value}"
# The last cheat: an answer that only calls nnlab's own implementation of the same name.
REFERENCE_CALL = ("import {module} as _reference\n\n"
                  "def {name}(*args, **kwargs):\n    return _reference.{name}(*args, **kwargs)")
REFERENCE_MODULES = ("nnlab.activations", "nnlab.neuron", "nnlab.losses", "nnlab.gradcheck",
                     "nnlab.layers", "nnlab.network", "nnlab.optim", "nnlab.train",
                     "nnlab.preprocessing")


def reference_module(name: str) -> str | None:
    """The nnlab module that defines `name` (the reference a student could call), or None."""
    import importlib

    for module in REFERENCE_MODULES:
        try:
            if hasattr(importlib.import_module(module), name):
                return module
        except ImportError:
            continue
    return None


def answer_cells(nb) -> list:
    return [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")
            and c.cell_type == "code"]


def test_cells(nb) -> list:
    return [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")
            and not c.metadata.nbgrader.get("solution")]


def solved(release, source) -> nbformat.NotebookNode:
    """The release with every answer cell holding the instructor's solution."""
    nb = copy.deepcopy(release)
    answers = {c.metadata.nbgrader.grade_id: c.source for c in answer_cells(source)}
    for cell in answer_cells(nb):
        lines = answers[cell.metadata.nbgrader.grade_id].split("\n")
        cell.source = "\n".join(l for l in lines if "### BEGIN SOLUTION" not in l
                                and "### END SOLUTION" not in l)
    return nb


def defined(cell) -> str | None:
    for line in cell.source.split("\n"):
        for word in ("def ", "class "):
            if line.startswith(word):
                return line[len(word):].split("(")[0].split(":")[0].strip()
    return None


def junk(release, value: str = "0.5") -> nbformat.NotebookNode:
    """The release with every answer replaced by a function that returns `value`."""
    nb = copy.deepcopy(release)
    for cell in answer_cells(nb):
        name = defined(cell)
        if name:
            cell.source = JUNK.format(name=name, value=value)
    return nb


def with_code(nb, code: str, *, first: bool = True) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    cells = answer_cells(nb)
    cell = cells[0] if first else cells[-1]
    cell.source = code + "\n\n" + cell.source
    return nb


def scenarios(release, source, bugs: dict[str, dict[str, str]] | None = None) -> dict:
    """scenario name -> notebook (NotebookNode), raw text (str) or None (no notebook).

    `bugs` maps a scenario name ("bug-B18") to {answer grade_id: buggy code}.
    """
    good = solved(release, source)
    out = {"perfect": good, "blank": copy.deepcopy(release)}
    for name, replacements in (bugs or {}).items():
        nb = copy.deepcopy(good)
        for cell in answer_cells(nb):
            if cell.metadata.nbgrader.grade_id in replacements:
                cell.source = replacements[cell.metadata.nbgrader.grade_id]
        out[name] = nb
    for name, code in FAULTS.items():
        out[name] = with_code(good, code, first=False)
    out["corrupt-json"] = nbformat.writes(good)[:200]
    deleted = copy.deepcopy(good)
    deleted.cells.remove(test_cells(deleted)[0])
    out["test-cell-deleted"] = deleted
    duplicated = copy.deepcopy(good)
    first = test_cells(duplicated)[0]
    twin = copy.deepcopy(first)
    twin["id"] = (str(first.get("id", "cell")) + "-copy")[-64:]  # as a paste in Jupyter does
    duplicated.cells.insert(duplicated.cells.index(first) + 1, twin)
    out["test-cell-duplicated"] = duplicated
    out["missing-notebook"] = None
    for name, code in CHEATS.items():
        value = "_Always(0.5)" if name == "cheat-always-equal" else "0.5"
        out[name] = with_code(junk(release, value), code)
    calls = copy.deepcopy(good)
    for cell in answer_cells(calls)[:1]:
        module = reference_module(defined(cell) or "")
        if module:
            cell.source = REFERENCE_CALL.format(module=module, name=defined(cell))
            out["cheat-calls-reference"] = calls
    return out


def write(scenario, path: Path) -> None:
    """Write one scenario's notebook to `path`; for a missing notebook, what such a student
    hands in instead (answers typed into a text file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if scenario is None:
        (path.parent / "my answers.txt").write_text("def sigmoid(z): return 1 / (1 + exp(-z))\n")
        return
    if isinstance(scenario, str):
        path.write_text(scenario)
    else:
        nbformat.write(scenario, str(path))


def write_fixtures(release_path: Path, source_path: Path, folder: Path, bugs=None) -> list[Path]:
    """Write `submitted-<scenario>.ipynb` for every scenario into `folder`."""
    release = nbformat.read(str(release_path), as_version=4)
    source = nbformat.read(str(source_path), as_version=4)
    written = []
    for name, scenario in scenarios(release, source, bugs).items():
        path = Path(folder) / f"submitted-{name}.ipynb"
        if scenario is not None:
            write(scenario, path)
            written.append(path)
    return written

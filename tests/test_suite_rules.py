"""Rules for the test suite itself, read from its source with `ast`.

- No `pytest.importorskip` of the project's own modules: a broken `nnlab.train` must fail
  the suite, not skip the tests that need it.
- No wall clock capped in an assertion (`time.time`, `perf_counter`, `monotonic`, or a
  name computed from one, below a limit): two shared cores make wall time noise. Bound
  CPU time (`time.process_time`) with a margin, count work, or report the time in
  `make bench`. A floor (`elapsed > 0.25`: it gave up no sooner) cannot flake and is
  allowed, as are deadlines and printing.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
OWN = ("nnlab", "autograder", "bench")
WALL_CLOCKS = {"time", "perf_counter", "monotonic", "time_ns", "perf_counter_ns",
               "monotonic_ns"}


def _sources():
    for path in sorted(TESTS.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(TESTS.parent)}:{node.lineno}"


def test_the_projects_own_modules_are_imported_never_importorskipped():
    found = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "importorskip" and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and str(node.args[0].value).split(".")[0] in OWN):
                found.append(f"{_where(path, node)} importorskip({node.args[0].value!r})")
    assert not found, ("a broken import of the project must fail, not skip; import it "
                       "instead:\n" + "\n".join(found))


def _is_wall_clock_call(node: ast.AST) -> bool:
    """time.time(), time.perf_counter(), perf_counter(), monotonic(), ..."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Attribute):
        return (func.attr in WALL_CLOCKS and isinstance(func.value, ast.Name)
                and func.value.id == "time")
    return isinstance(func, ast.Name) and func.id in WALL_CLOCKS - {"time"}


def _wall_clock_names(scope: ast.AST) -> set[str]:
    """Names assigned, in `scope`, from a wall clock or from such a name (to a fixpoint)."""
    tainted: set[str] = set()

    def reads_clock(expr: ast.AST) -> bool:
        return any(_is_wall_clock_call(n) or (isinstance(n, ast.Name) and n.id in tainted)
                   for n in ast.walk(expr))

    while True:
        before = len(tainted)
        for node in ast.walk(scope):
            if not isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) or not node.value:
                continue
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                pairs = [(target, node.value)]
                if (isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple)
                        and len(target.elts) == len(node.value.elts)):
                    pairs = list(zip(target.elts, node.value.elts, strict=True))  # a, b = x, y
                for name, value in pairs:
                    if reads_clock(value):
                        tainted |= {n.id for n in ast.walk(name) if isinstance(n, ast.Name)}
        if len(tainted) == before:
            return tainted


def _bounds_from_above(test: ast.AST, reads_clock) -> bool:
    """True when the assertion caps a wall-clock value (`seconds < 60`, `60 >= t`), or
    uses one other than in a comparison. A floor (`elapsed > 0.25`) is allowed: a busy
    machine only makes wall time longer, so a floor cannot flake."""
    compares = [n for n in ast.walk(test) if isinstance(n, ast.Compare)]
    for node in compares:
        operands = [node.left, *node.comparators]
        pairs = zip(operands[:-1], operands[1:], strict=True)
        for (left, right), op in zip(pairs, node.ops, strict=True):
            if isinstance(op, (ast.Lt, ast.LtE)) and reads_clock(left):
                return True
            if isinstance(op, (ast.Gt, ast.GtE)) and reads_clock(right):
                return True
            if not isinstance(op, (ast.Lt, ast.LtE, ast.Gt, ast.GtE)) and (
                    reads_clock(left) or reads_clock(right)):
                return True
    inside = {id(n) for c in compares for n in ast.walk(c)}
    return any(reads_clock(n) for n in ast.walk(test) if id(n) not in inside
               and isinstance(n, (ast.Name, ast.Call)))


def wall_clock_assertions(tree: ast.AST) -> list[ast.Assert]:
    found = []
    for scope in ast.walk(tree):
        if not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        tainted = _wall_clock_names(scope)

        def reads_clock(expr: ast.AST, tainted=tainted) -> bool:
            return any(_is_wall_clock_call(n) or (isinstance(n, ast.Name) and n.id in tainted)
                       for n in ast.walk(expr))

        for node in ast.walk(scope):
            if isinstance(node, ast.Assert) and _bounds_from_above(node.test, reads_clock):
                found.append(node)
    return found


def test_no_assertion_reads_a_wall_clock():
    found = [f"{_where(path, node)}: assert {ast.unparse(node.test)[:80]}"
             for path, tree in _sources() for node in wall_clock_assertions(tree)]
    assert not found, ("wall time on two shared cores is noise; bound time.process_time() "
                       "with a margin, count work, or move it to `make bench`:\n"
                       + "\n".join(sorted(set(found))))


def test_the_wall_clock_rule_catches_what_it_must_and_only_that():
    caught = ast.parse(
        "def t():\n"
        "    start = time.perf_counter()\n"
        "    run()\n"
        "    seconds = time.perf_counter() - start\n"
        "    assert seconds < 60\n"
        "def u():\n"
        "    assert time.monotonic() - t0 < 1\n"
        "def w():\n"
        "    t = time.time()\n"
        "    assert 0.25 < t - t0 < 3.0\n"
        "    assert 5 >= t\n"
        "    assert within(t)\n")
    allowed = ast.parse(
        "def v():\n"
        "    started = time.process_time()\n"
        "    deadline = time.time() + 300\n"
        "    while time.time() < deadline:\n"
        "        pass\n"
        "    deadline, location = time.monotonic() + 60, None\n"
        "    assert location is not None\n"
        "    assert time.process_time() - started < 1.0\n"
        "    elapsed = time.perf_counter() - started\n"
        "    assert elapsed > 0.25\n"
        "    print(f'{time.perf_counter():.1f}')\n")
    assert [n.lineno for n in wall_clock_assertions(caught)] == [5, 7, 10, 11, 12]
    assert wall_clock_assertions(allowed) == []

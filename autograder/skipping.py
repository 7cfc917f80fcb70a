"""Which demonstration cells a grading run may leave out, and why that cannot change a grade.

The course's notebooks teach with demonstrations: sweeps over seeds and learning rates,
trainings on MNIST, plots. They are most of a notebook's run time (28 of 40 s for the whole
course) and no test reads what they compute. The instructor tags such a cell
`skip-in-grading` in the source notebook (as otter-grader's `otter_ignore`); a grading run
then leaves it out, and its output in the graded notebook and the feedback says so. Only
the instructor's word counts: the tag is read from the source notebook, never from the
submission, and a cell is left out only when

* the submission still holds it unchanged (same cell id, same source, no nbgrader metadata):
  a demonstration the student edited is their code and runs;
* no cell that still runs after it reads a name it may set: the names it assigns, defines
  or imports, and the objects it changes through an attribute, an item or a method call,
  or hands to a call. Later cells are read with `symtable` (what they read as globals, a
  function's own locals aside); a cell that reaches names dynamically (`globals()`,
  `eval`, `get_ipython`, ...) or does not parse counts every word in it as read.

So a student whose `train_xor` reads the global `X, y` a demonstration made keeps that
demonstration running. What the rule cannot see is a demonstration that changes state no
name shows (numpy's global random state, a module's attribute through a function): the
instructor tags only cells that do not. `tests/test_skipping.py` checks the rule and that
every tag of the course takes effect; `tests/test_course_e2e.py` grades the real course
both ways and compares every verdict and diagnosis.
"""

from __future__ import annotations

import ast
import re
import symtable

SKIP_TAG = "skip-in-grading"
NOTE = ("[not run in grading: a demonstration no test depends on (tagged skip-in-grading "
        "by the instructor). Run it in your own notebook to see its output.]\n")
# Ways a cell reaches names that no symbol table shows.
DYNAMIC = {"globals", "locals", "vars", "eval", "exec", "get_ipython", "__import__",
           "__main__", "__builtins__", "sys", "inspect", "setattr", "getattr", "delattr"}
# Builtins that never change their arguments (a call to anything else may).
PURE = {"len", "print", "float", "int", "str", "bool", "repr", "format", "range", "enumerate",
        "zip", "min", "max", "sum", "abs", "round", "sorted", "list", "tuple", "set", "dict",
        "isinstance", "type", "any", "all", "id", "hash"}
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A cell longer than this is read by its words alone: IPython's transformer and Python's
# parser run in the grader, and a crafted cell of 400 kB kept them busy for 12 s.
LONGEST = 20_000


def _parsed(source: str) -> tuple[str, ast.Module] | None:
    """The cell as plain Python (IPython's magics and shell escapes turned into calls) and
    its tree, or None when it is too long to read cheaply or does not parse."""
    if len(source) > LONGEST:
        return None
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        code = TransformerManager().transform_cell(source)
        return code, ast.parse(code)
    except Exception:  # SyntaxError, RecursionError on a crafted cell
        return None


def reads(source: str) -> set[str]:
    """Every global name the cell may read before it binds it itself (a superset)."""
    words = set(WORD.findall(source))
    parsed = _parsed(source)
    if parsed is None or words & DYNAMIC:
        return words
    try:
        table = symtable.symtable(parsed[0], "<cell>", "exec")
        found: set[str] = set()
        _statements(parsed[1].body, set(), found)
    except Exception:  # RecursionError on a crafted cell: every word counts
        return words
    for scope in _nested(table):  # functions, classes, lambdas, comprehensions
        found |= {s.get_name() for s in scope.get_symbols()
                  if s.is_referenced() and s.is_global()}
    return found


def _nested(table):
    stack = list(table.get_children())
    while stack:
        scope = stack.pop()
        stack.extend(scope.get_children())
        yield scope


def _binds(target, bound: set[str], found: set[str]) -> set[str]:
    """The names an assignment target binds; what it reads (`x` of `x.a`, `c` and `i` of
    `c[i]`, also inside a tuple) goes to `found`."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(_binds(t, bound, found) for t in target.elts))
    if isinstance(target, ast.Starred):
        return _binds(target.value, bound, found)
    _loads(target, bound, found)
    return set()


def _statements(body, bound: set[str], found: set[str]) -> None:
    """The module-level reads of `body` in order: a name counts once it is loaded before
    this cell has certainly bound it (a loop's target is bound inside the loop only)."""
    bound = set(bound)
    for st in body:
        if isinstance(st, (ast.Assign, ast.AnnAssign)):
            _loads(st.value, bound, found)
            names = set().union(*(_binds(t, bound, found) for t in (
                st.targets if isinstance(st, ast.Assign) else [st.target])))
            if st.value is not None:  # `x: int` alone binds nothing
                bound |= names
        elif isinstance(st, ast.AugAssign):
            _loads(st.value, bound, found)
            if isinstance(st.target, ast.Name):  # x += 1 reads x, then x is bound
                found |= {st.target.id} - bound
                bound.add(st.target.id)
            else:
                _loads(st.target, bound, found)
        elif isinstance(st, (ast.For, ast.AsyncFor)):
            _loads(st.iter, bound, found)
            _statements(st.body, bound | _binds(st.target, bound, found), found)
            _statements(st.orelse, bound, found)
        elif isinstance(st, (ast.With, ast.AsyncWith)):
            inner = set(bound)
            for item in st.items:
                _loads(item.context_expr, inner, found)
                if item.optional_vars is not None:
                    inner |= _binds(item.optional_vars, inner, found)
            _statements(st.body, inner, found)
        elif isinstance(st, (ast.If, ast.While)):
            _loads(st.test, bound, found)
            _statements(st.body, bound, found)
            _statements(st.orelse, bound, found)
        elif isinstance(st, ast.Try):
            _statements(st.body, bound, found)
            for handler in st.handlers:
                _loads(handler.type, bound, found)
                _statements(handler.body, bound | {handler.name} - {None}, found)
            _statements(st.orelse, bound, found)
            _statements(st.finalbody, bound, found)
        elif isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            outer = [*st.decorator_list, *getattr(st, "bases", []),
                     *(k.value for k in getattr(st, "keywords", []))]
            if not isinstance(st, ast.ClassDef):
                outer += [*st.args.defaults, *(d for d in st.args.kw_defaults if d)]
            for node in outer:
                _loads(node, bound, found)
            bound.add(st.name)
        elif isinstance(st, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in st.names}
        else:
            _loads(st, bound, found)


def _loads(node, bound: set[str], found: set[str]) -> None:
    """Names `node` loads in the module's own scope (nested scopes are symtable's)."""
    if node is None:
        return
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Name):
            if not isinstance(n.ctx, ast.Store) and n.id not in bound:
                found.add(n.id)
            continue
        if isinstance(n, ast.Lambda):
            stack += [*n.args.defaults, *(d for d in n.args.kw_defaults if d)]
            continue
        if isinstance(n, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            stack.append(n.generators[0].iter)  # evaluated here; the rest is its scope
            continue
        if isinstance(n, ast.NamedExpr):
            stack.append(n.value)
            bound.add(n.target.id)
            continue
        stack.extend(ast.iter_child_nodes(n))


def _base(node) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def may_set(source: str, modules: set[str]) -> set[str] | None:
    """The global names whose value or object the cell may change; None when it does not
    parse.

    `modules`: the names the instructor's notebook imports; calling a function through
    one (`np.linspace`, `plot.curves`) is not counted as changing it. A function's own
    locals are not globals, and are left out.
    """
    parsed = _parsed(source)
    if parsed is None:
        return None
    code, tree = parsed
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            found.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            found |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            found |= set(node.names)
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(
                node.ctx, (ast.Store, ast.Del)):
            found.add(_base(node))
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute):  # x.fit(...), rng.normal(...)
                found.add(_base(node.func))
            if not (isinstance(node.func, ast.Name) and node.func.id in PURE):
                for arg in (*node.args, *(k.value for k in node.keywords)):
                    found.add(_base(arg))  # train(net, X) may change net
    table = symtable.symtable(code, "<cell>", "exec")
    globals_ = {s.get_name() for s in table.get_symbols()}
    for scope in _nested(table):
        globals_ |= {s.get_name() for s in scope.get_symbols()
                     if s.is_global() or s.is_declared_global()}
    return (found & globals_) - modules


def cells_to_skip(nb, tagged: dict[str, str], tests: dict[str, str],
                  modules: set[str]) -> set[int]:
    """Indices of the submission's code cells a grading run leaves out.

    `tagged`: cell id -> source of the instructor's `skip-in-grading` cells; `tests`:
    grade_id -> the instructor's source of each test cell (what runs in its place);
    `modules`: the names the instructor's notebook imports.
    """
    skip: set[int] = set()
    needed: set[str] = set()
    for index in range(len(nb.cells) - 1, -1, -1):
        cell = nb.cells[index]
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if (cell.get("id") in tagged and not cell.get("metadata", {}).get("nbgrader")
                and source.strip() == tagged[cell["id"]].strip()):
            changed = may_set(source, modules)
            if changed is not None and not changed & needed:
                skip.add(index)
                continue
        needed |= reads(source)
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in tests:
            needed |= reads(tests[grade_id])
    return skip


def tagged_cells(nb) -> dict[str, str]:
    """cell id -> source of the notebook's code cells tagged `skip-in-grading` (cells with
    nbgrader metadata never are: answers and tests always run)."""
    return {cell["id"]: cell.get("source", "") for cell in nb.cells
            if cell.get("cell_type") == "code" and cell.get("id")
            and SKIP_TAG in cell.get("metadata", {}).get("tags", [])
            and not cell.get("metadata", {}).get("nbgrader")}

"""Kernel-side guard: undo a submission's tampering before every test cell runs.

`GuardedExecute` sends this file's source to the grading kernel as a user expression
(evaluated without IPython's input transformers) before the first cell, where it takes a
snapshot of numpy, numpy.testing, nnlab and its checks, builtins and IPython's input
machinery, and again before each test cell, where it puts back whatever an answer cell
replaced and reports what that was. It runs inside the kernel and is never imported by
the grader; the per-run NONCE proves to the grader that the guard itself ran.
"""

# ruff: noqa: F821 (NONCE is given by the grader in the namespace this source runs in)
import sys

_KEY = "_nnlab_guard_" + NONCE
_IGNORED_BUILTINS = {"_", "__", "___", "get_ipython", "exit", "quit", "display", "__IPYTHON__",
                     "copyright", "credits", "license", "help", "dreload", "__builtins__"}
_METHODS = ("run_cell", "run_cell_async", "transform_cell", "run_ast_nodes", "run_code",
            "should_run_async", "_run_cell", "showtraceback")


def _guarded_modules():
    prefixes = ("numpy.testing", "numpy.linalg", "nnlab")
    return {name: mod for name, mod in list(sys.modules.items())
            if mod is not None and (name == "numpy" or name.startswith(prefixes))}


def _user_made(fn) -> bool:
    """True for a callable defined in a notebook cell (not in an installed file)."""
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    module = getattr(fn, "__module__", None)
    return module == "__main__" or (code is not None and not code.co_filename.endswith(".py"))


def _snapshot():
    import builtins
    import types

    import numpy.testing  # noqa: F401
    from IPython import get_ipython

    import nnlab.checks  # noqa: F401

    ip = get_ipython()
    mods = {name: (mod, dict(vars(mod))) for name, mod in _guarded_modules().items()}
    classes = []
    for name, (_mod, space) in mods.items():
        if name.startswith("nnlab"):
            classes += [(cls, dict(vars(cls))) for cls in space.values()
                        if isinstance(cls, type) and cls.__module__ == name]
    manager = ip.input_transformer_manager
    state = types.ModuleType(_KEY)
    state.ip = ip
    state.mods = mods
    state.classes = classes
    state.builtins = (builtins, dict(vars(builtins)))
    state.manager = manager
    state.lists = {"input_transformers_cleanup": list(manager.cleanup_transforms),
                   "line_transforms": list(manager.line_transforms),
                   "token_transformers": list(manager.token_transformers),
                   "input_transformers_post": list(ip.input_transformers_post),
                   "ast_transformers": list(ip.ast_transformers)}
    state.checks = {k: v for k, v in vars(sys.modules["nnlab.checks"]).items()
                    if k.startswith("check_") or k == "CheckFailed"}
    state.settrace, state.setprofile = sys.settrace, sys.setprofile
    sys.modules[_KEY] = state
    return "snapshot"


def _restore(state):
    """Put back every replaced object; return the names of what had been replaced."""
    changed = []
    for name, (mod, space) in state.mods.items():
        current = vars(mod)
        for key, value in space.items():
            if current.get(key, value) is not value or key not in current:
                current[key] = value
                if not key.startswith("__"):
                    changed.append(f"{name}.{key}")
    for cls, space in state.classes:
        for key in [k for k in vars(cls) if k not in space and not k.startswith("_abc")]:
            delattr(cls, key)
            changed.append(f"{cls.__module__}.{cls.__name__}.{key}")
        for key, value in space.items():
            if vars(cls).get(key) is not value and not key.startswith("__dict"):
                try:
                    setattr(cls, key, value)
                except (AttributeError, TypeError):
                    continue
                changed.append(f"{cls.__module__}.{cls.__name__}.{key}")
    module, space = state.builtins
    for key, value in space.items():
        if key not in _IGNORED_BUILTINS and vars(module).get(key) is not value:
            setattr(module, key, value)
            changed.append(f"builtins.{key}")
    ip = state.ip
    for name in _METHODS:
        if name in vars(ip):
            delattr(ip, name)
            changed.append(f"IPython shell.{name}")
    if ip.input_transformer_manager is not state.manager:
        ip.input_transformer_manager = state.manager
        changed.append("IPython input_transformer_manager")
    manager = state.manager
    targets = {"input_transformers_cleanup": manager.cleanup_transforms,
               "line_transforms": manager.line_transforms,
               "token_transformers": manager.token_transformers,
               "input_transformers_post": ip.input_transformers_post}
    for key, target in targets.items():
        if list(target) != state.lists[key]:
            target[:] = state.lists[key]
            changed.append(f"IPython {key}")
    if list(ip.ast_transformers) != state.lists["ast_transformers"]:
        ip.ast_transformers = list(state.lists["ast_transformers"])
        changed.append("IPython ast_transformers")
    for event, callbacks in ip.events.callbacks.items():
        mine = [cb for cb in callbacks if _user_made(cb)]
        for cb in mine:
            callbacks.remove(cb)
            changed.append(f"IPython event {event}")
    for key, value in state.checks.items():
        if key in ip.user_ns and ip.user_ns[key] is not value:
            ip.user_ns[key] = value
            changed.append(f"notebook.{key}")
    if sys.gettrace() is not None:
        state.settrace(None)
        changed.append("sys.settrace")
    if sys.getprofile() is not None:
        state.setprofile(None)
        changed.append("sys.setprofile")
    return "restored:" + ",".join(sorted(set(changed)))


_state = sys.modules.get(_KEY)
RESULT = NONCE + ":" + (_snapshot() if _state is None else _restore(_state))

"""How a check reaches the student's code, wherever that code lives.

A check runs in two places: in the student's own kernel (the visible checks a student or
self-learner runs), and in the grader, where the student's objects stay in a sandboxed
kernel and are reached through an oracle (`autograder.oracle`) as opaque proxies. So a
check touches a student's object only in ways both places support:

- call it (through `_core.call`), construct it, call its methods;
- read a whole attribute (arrays come back by value) and set a whole attribute
  (``layer.W = W``, never ``layer.W[0, 0] = 1``: an in-place write to a copy is lost);
- hand it plain values: numpy arrays, numbers, strings, and tuples, lists and dicts of
  them. An array handed in is the same array on both sides: what the student's code
  writes into it in place (``sgd_step``, a perturbation put back) is seen after the call;
- anything the check passes INTO student code that must run there (the loss function a
  `numerical_gradient` differentiates, a reference component swapped in to find out
  which cell is to blame) is a `KernelFunction`: source text plus the values it reads,
  made into a function wherever the student's code runs;
- look up a name in the student's namespace with `student_global`, swap names in it for
  the length of a block with `swapped_globals`, read defaults with `signature_defaults`.

A remote proxy says so with a class attribute ``__nnlab_remote__ = True`` and implements
``_nnlab_global(name)``, ``_nnlab_swap_globals(mapping)`` (a context manager) and
``_nnlab_defaults()``; everything else here is the local path.
"""

from __future__ import annotations

import contextlib
import inspect

import numpy as np


class RemoteTimeout(BaseException):
    """The oracle gave up on a request to the student's kernel: past its time limit, or
    the kernel stopped answering. A BaseException, like the local time limit's, so a
    check's own `except Exception` never swallows it; `_core.call` turns it into the
    same timeout diagnosis as a local call."""


class ReferenceCalled(Exception):  # noqa: N818 (named for what happened)
    """The kernel saw the student's code call the nnlab reference it is meant to replace
    (best effort, like `_core.forbid_reference`; the sandbox removes the reference)."""


def is_remote(obj) -> bool:
    """True when `obj` is the grader's proxy for an object in a sandboxed kernel."""
    return bool(getattr(type(obj), "__nnlab_remote__", False))


class KernelFunction:
    """A function the check hands to student code, defined where that code runs.

    `source` is either one lambda expression (``"lambda: float((c * x**3).sum())"``) or a
    block of ``def`` statements of which `name` is the one handed over. It may use ``np``
    and the names given in `bound` (arrays, numbers, dicts of arrays, other
    KernelFunctions); it must not rely on anything else of the checks. Bound arrays are
    shared, not copied: the lambda above reads the very `x` the student's
    `numerical_gradient` perturbs, here and through the oracle alike.
    """

    def __init__(self, source: str, *, name: str | None = None, **bound):
        if not isinstance(source, str) or not source.strip():
            raise ValueError(f"source={source!r}; give a lambda expression or def block")
        self.source = source
        self.name = name
        self.bound = bound
        self._fn = None

    def local(self):
        """The function, made in this interpreter (once)."""
        if self._fn is None:
            namespace = {"np": np}
            namespace.update({k: (v.local() if isinstance(v, KernelFunction) else v)
                              for k, v in self.bound.items()})
            if self.name is None:
                self._fn = eval(self.source, namespace)  # noqa: S307 (the check's own source)
            else:
                exec(self.source, namespace)  # noqa: S102 (the check's own source)
                self._fn = namespace[self.name]
        return self._fn

    def __call__(self, *args, **kwargs):
        return self.local()(*args, **kwargs)

    def __repr__(self) -> str:
        return f"KernelFunction({self.name or 'lambda'})"


def _namespace(obj) -> dict:
    """The global namespace a student's function or class reads its names from."""
    fn = getattr(obj, "__func__", obj)
    if hasattr(fn, "__globals__"):
        return fn.__globals__
    if isinstance(obj, type):
        import sys

        module = sys.modules.get(obj.__module__)
        for value in vars(obj).values():  # a method's globals: the notebook's namespace
            inner = getattr(value, "__func__", value)
            if hasattr(inner, "__globals__"):
                return inner.__globals__
        return vars(module) if module is not None else {}
    return {}


def student_global(obj, name: str):
    """The object `name` in the namespace of the student's `obj` (the notebook's globals
    for a function written in a cell), or None when there is none."""
    if is_remote(obj):
        return obj._nnlab_global(name)
    return _namespace(obj).get(name)


@contextlib.contextmanager
def swapped_globals(obj, **replacements):
    """For the length of the block, names in the student's namespace stand for other
    objects (KernelFunctions, or plain values), then are put back as they were.

    Used to run a student's loop with reference components, so that a bug in an earlier
    cell is not blamed on this one.
    """
    if is_remote(obj):
        with obj._nnlab_swap_globals(replacements):
            yield
        return
    space = _namespace(obj)
    missing = object()
    saved = {k: space.get(k, missing) for k in replacements}
    try:
        for key, value in replacements.items():
            space[key] = value.local() if isinstance(value, KernelFunction) else value
        yield
    finally:
        for key, value in saved.items():
            if value is missing:
                space.pop(key, None)
            else:
                space[key] = value


def signature_defaults(obj) -> dict | None:
    """{parameter: default} of the student's callable, None when it cannot be read.

    Only defaults that are plain values (numbers, strings, None, booleans) are given.
    """
    if is_remote(obj):
        return obj._nnlab_defaults()
    try:
        params = inspect.signature(obj).parameters
    except (TypeError, ValueError):
        return None
    plain = (int, float, str, bool, type(None))
    return {k: p.default for k, p in params.items()
            if p.default is not inspect.Parameter.empty and isinstance(p.default, plain)}

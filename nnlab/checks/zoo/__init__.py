"""The mutation zoo: buggy and correct-but-different implementations of every graded name.

Each specimen says which check it is fed to and what that check must answer: the bug id
for a mutant (None when the symptom matches no catalogued bug), a pass for a correct
variant. The test suite and `python -m nnlab.checks --selftest` run all of them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Specimen:
    check: str              # "check_dense"
    obj: object             # the function or class handed to the check
    correct: bool           # True: the check must pass
    bug: str | None = None  # for a mutant: the id the check must name (None: unknown bug)
    style: str = ""         # how it is written, or where it comes from ("seed 004's code")
    kwargs: dict = field(default_factory=dict)  # extra arguments for the check (part=...)
    note: str | None = None  # a correct loop on a wrong component: words its note must hold


ZOO: list[Specimen] = []


def mutant(check: str, bug: str | None, style: str, **kwargs):
    """Register the decorated function or class as a mutant that `check` must name `bug`."""

    def register(obj):
        ZOO.append(Specimen(check, obj, False, bug, style, kwargs))
        return obj

    return register


def correct(check: str, style: str, *, note: str | None = None, **kwargs):
    """Register the decorated function or class as a correct variant that `check` must pass
    (printing a note that contains `note`, when given: the other cell it blames)."""

    def register(obj):
        ZOO.append(Specimen(check, obj, True, None, style, kwargs, note))
        return obj

    return register


def load() -> list[Specimen]:
    """Import every rung's specimens (once) and return the whole zoo."""
    for rung in ("00", "01", "02", "03", "04", "05", "06", "07"):
        importlib.import_module(f"nnlab.checks.zoo.rung{rung}")
    importlib.import_module("nnlab.checks.zoo.corpus")
    return ZOO

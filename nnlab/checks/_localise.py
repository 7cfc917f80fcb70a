"""Blame the right cell: a loop's check reruns the student's loop on reference components.

A loop (`train_neuron`, `gradient_check`) calls the student's earlier functions by their
notebook names. When it fails as it stands, it is run again with those names bound to
self-contained reference sources (`KernelFunction`s, so this works through the grader's
oracle too). Failing again, the diagnosis of that second run is the loop's own bug. Passing,
the loop is right: the check passes and notes which earlier cell has which bug.
"""

from __future__ import annotations

from nnlab.checks._core import NOTES, REGISTRY, CheckFailed, note
from nnlab.checks._student import KernelFunction, student_global, swapped_globals


def run_localised(obj, body, components: dict[str, str], *, hidden: bool) -> None:
    """Run `body(quick)` (the check's probes of `obj`); on failure, judge the loop alone.

    `components` maps a notebook name (``"neuron_gradients"``) to the source of a
    ``def`` of that name that uses only ``np``. `body(quick=True)` may skip the costly
    retries that only sharpen a diagnosis: its failure is never shown when the loop is
    rerun on reference components, whose run gives the diagnosis.
    """
    present = [k for k in components if callable(student_global(obj, k))]
    if not present:
        body(False)
        return
    try:
        body(True)
        return
    except CheckFailed as first:
        if first.kind in ("timeout", "integrity"):
            raise
    swaps = {k: KernelFunction(components[k], name=k) for k in present}
    with swapped_globals(obj, **swaps):
        body(False)  # a failure here is the loop's own bug: it propagates as it is
    culprits = _culprits(present, obj, hidden)
    if culprits:
        shown = "; ".join(culprits)
        note(f"this cell is right; {shown}: fix it first (this cell keeps its points). "
             "With correct versions of those functions your loop passes every probe.")
    else:
        note("this cell is right: with reference versions of "
             f"{', '.join(f'`{k}`' for k in present)} your loop passes every probe, but with "
             "yours it does not, although each passes its own check. Compare what yours "
             "return (shapes, dtypes) with what this loop expects.")


def _culprits(names, obj, hidden) -> list[str]:
    """`name` has bug Bx, for each component whose own check fails."""
    saved = list(NOTES)
    found = []
    try:
        for name in names:
            check = REGISTRY.get(f"check_{name}")
            if check is None:
                continue
            try:
                check(student_global(obj, name), hidden=hidden)
            except CheckFailed as exc:
                if exc.kind == "integrity":  # nnlab's own function, imported: not a culprit
                    continue
                if exc.bug:
                    found.append(f"`{name}` has bug {exc.bug}")
                elif exc.kind == "error" and "NotImplementedError" in exc.message:
                    found.append(f"`{name}` is not written yet")
                else:
                    found.append(f"`{name}` is wrong ({check.__name__} says why)")
    finally:
        NOTES[:] = saved
    return found

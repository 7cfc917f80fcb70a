"""Demonstration cells that run before the exercise they use is written.

A notebook run top to bottom with blank answers should not stop in a demonstration with
an unrelated error, nor plot a network that never trained. `yours_or_reference` hands
such a cell the student's function when it works, and otherwise nnlab's reference with a
one-line note saying which exercise to finish. `layer_probe` is the probe for a layer
class (notebook 03's network of your layers).
"""

from __future__ import annotations

import numpy as np


def yours_or_reference(yours, reference, probe, *, name: str, exercise: str):
    """`yours` when ``probe(yours)`` runs without NotImplementedError, else `reference`.

    `yours`: the student's function or class (None when the answer cell never ran);
    `probe(fn)`: a cheap call that exercises it (consume a generator: ``next(iter(...))``);
    `name`, `exercise`: what the note calls them. Any other error from `yours` is the
    student's bug and is raised as it is.
    """
    if yours is not None:
        try:
            probe(yours)
        except NotImplementedError:
            pass
        else:
            return yours
    where = f"{reference.__module__}.{reference.__qualname__}"
    print(f"`{name}` is not written yet ({exercise}): this cell runs nnlab's reference "
          f"`{where}` instead; finish the exercise and rerun the cell to see yours.")
    return reference


def layer_probe(X, *args, **kwargs):
    """A probe for `yours_or_reference` that tries a layer class: build it with `args` and
    `kwargs`, run ``forward(X)`` and ``backward`` of ones shaped like the output.

    `X`: (n, d) inputs the layer accepts. So a class whose constructor, forward or
    backward is still a stub falls back as a whole.
    """
    def probe(cls):
        layer = cls(*args, **kwargs)
        layer.backward(np.ones_like(layer.forward(X)))

    return probe

"""Shared helpers of the figures: a fresh (or the caller's) axes, and label checking."""

from __future__ import annotations

import numpy as np


def new_axes(ax, figsize):
    """(fig, ax): the given axes' figure, or a new one closed to pyplot's registry so
    Jupyter shows it once (as the returned value), never twice."""
    if ax is not None:
        if not hasattr(ax, "figure") or not hasattr(ax, "plot"):
            raise TypeError(f"ax={ax!r} is not a matplotlib Axes; pass ax=None or an Axes")
        return ax.figure, ax
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize)
    plt.close(fig)
    return fig, ax


def labels(y, n: int, name: str = "y") -> np.ndarray:
    """Integer labels `(n,)` from `(n,)` or `(n, 1)` labels or `(n, k)` one-hot rows."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    elif y.ndim == 2 and y.shape[1] > 1:
        y = y.argmax(axis=1)
    if y.ndim != 1 or len(y) != n:
        raise ValueError(f"{name} has shape {y.shape}; expected ({n},) labels (or ({n}, 1), "
                         f"or ({n}, k) one-hot rows), one per sample")
    if not np.all(np.isfinite(y.astype(float))) or np.any(y.astype(float) % 1 != 0):
        raise ValueError(f"{name} holds non-integer values such as {y[:3]}; expected class "
                         "labels 0, 1, ...")
    return y.astype(np.int64)

"""Figures of results: a grid of digits, a confusion matrix, the XOR success grid.

Used in notebooks 04 and 06; each returns the matplotlib Figure it drew.
"""

from __future__ import annotations

import math

import numpy as np

from nnlab.plot._base import labels as _labels
from nnlab.plot._base import new_axes as _axes


def digit_grid(X, y=None, y_pred=None, *, n: int = 25, ncols: int | None = None):
    """The first `n` images of `X` in a grid, titled with their labels (notebook 06).

    `X (n, d)` with d a square (784 for MNIST, 64 for the 8x8 digits) or `(n, s, s)`.
    `y (n,)` true labels; `y_pred (n,)` predictions, when given, make the title
    "pred/true" and turn it red where they differ. Returns the Figure.
    """
    import matplotlib.pyplot as plt

    X = np.asarray(X, dtype=float)
    if X.ndim == 2:
        side = math.isqrt(X.shape[1])
        if side * side != X.shape[1]:
            raise ValueError(f"X has shape {X.shape}: {X.shape[1]} pixels is not a square "
                             "image; expected (n, 784) or (n, 64) or (n, side, side)")
        X = X.reshape(len(X), side, side)
    elif X.ndim != 3 or X.shape[1] != X.shape[2]:
        raise ValueError(f"X has shape {X.shape}; expected (n, d) flattened square images "
                         "or (n, side, side)")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n={n!r}: the number of images to show must be an integer >= 1")
    n = min(n, len(X))
    if n == 0:
        raise ValueError("X holds no images")
    y = None if y is None else _labels(y, len(X), "y")
    y_pred = None if y_pred is None else _labels(y_pred, len(X), "y_pred")
    ncols = ncols or min(n, 10)
    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols={ncols!r}: use a positive integer")
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.1 * ncols, 1.3 * nrows), squeeze=False)
    plt.close(fig)
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i >= n:
            continue
        ax.imshow(X[i], cmap="gray_r", vmin=0, vmax=max(1.0, float(X.max())))
        if y_pred is not None:
            wrong = y is not None and y_pred[i] != y[i]
            text = f"{y_pred[i]}/{y[i]}" if y is not None else f"{y_pred[i]}"
            ax.set_title(text, fontsize=9, color="tab:red" if wrong else "k")
        elif y is not None:
            ax.set_title(str(y[i]), fontsize=9)
    if y_pred is not None and y is not None:
        fig.suptitle("predicted/true (red: wrong)", fontsize=10)
    return fig


def confusion_counts(y_true, y_pred, k: int) -> np.ndarray:
    """`C (k, k)` int64: `C[i, j]` counts samples of true class i predicted as j."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 2:
        raise ValueError(f"k={k!r}: the number of classes must be an integer >= 2")
    y_true = _labels(y_true, len(np.asarray(y_true)), "y_true")
    y_pred = _labels(y_pred, len(y_true), "y_pred")
    for name, v in (("y_true", y_true), ("y_pred", y_pred)):
        if len(v) and (v.min() < 0 or v.max() >= k):
            raise ValueError(f"{name} holds label {v.min() if v.min() < 0 else v.max()}, "
                             f"outside 0..{k - 1} for k={k} classes")
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def confusion_matrix(y_true, y_pred, k: int, *, ax=None, title: str | None = None):
    """Counts of (true class, predicted class) as an annotated heat map (notebook 06).

    `y_true (n,)`, `y_pred (n,)` labels in 0..k-1 (one-hot `(n, k)` rows are accepted).
    Rows are true classes, columns predictions; the diagonal holds the right answers.
    Returns the Figure.
    """
    counts = confusion_counts(y_true, y_pred, k)
    fig, ax = _axes(ax, (0.45 * k + 2.5, 0.45 * k + 2))
    image = ax.imshow(counts, cmap="Blues")
    fig.colorbar(image, ax=ax, label="samples")
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if k <= 20:
        half = counts.max() / 2
        for (i, j), c in np.ndenumerate(counts):
            ax.text(j, i, str(c), ha="center", va="center", fontsize=8,
                    color="white" if c > half else "black")
    total = counts.sum()
    accuracy = np.trace(counts) / total if total else float("nan")
    ax.set_title(title or f"confusion matrix (accuracy {accuracy:.1%})")
    return fig


def xor_success_grid(success, hidden_sizes, *, columns=None, column_label: str = "seed",
                     ax=None, title: str | None = None):
    """Which runs learned XOR: hidden sizes down, seeds (or learning rates) across (04).

    `success (len(hidden_sizes), m)`: booleans (one run each) or success rates in [0, 1].
    `columns` labels the m columns (default 0..m-1), named by `column_label`. For booleans
    each row's share of successes is written at its right; for rates, each cell's rate is
    written in the cell and nothing is averaged across columns. Returns the Figure.
    """
    success = np.asarray(success)
    hidden_sizes = list(hidden_sizes)
    if success.ndim != 2 or success.shape[0] != len(hidden_sizes):
        raise ValueError(f"success has shape {success.shape}; expected "
                         f"({len(hidden_sizes)}, m): one row per hidden size in "
                         f"{hidden_sizes}, one column per {column_label}")
    if success.size == 0:
        raise ValueError("success is empty: run at least one seed per hidden size")
    rates = success.astype(float)
    if not np.all((rates >= 0) & (rates <= 1)):
        raise ValueError(f"success holds values outside [0, 1] such as "
                         f"{rates[(rates < 0) | (rates > 1)][:3]}; give booleans or rates")
    columns = list(range(success.shape[1])) if columns is None else list(columns)
    if len(columns) != success.shape[1]:
        raise ValueError(f"{len(columns)} column labels for {success.shape[1]} columns")
    fig, ax = _axes(ax, (0.4 * len(columns) + 3, 0.4 * len(hidden_sizes) + 1.5))
    image = ax.imshow(rates, cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
    # pad leaves room for the per-row rates written right of the grid
    fig.colorbar(image, ax=ax, pad=0.14,
                 label="success" if success.dtype == bool else "success rate")
    ax.set_xticks(range(len(columns)), [str(c) for c in columns])
    ax.set_yticks(range(len(hidden_sizes)), [str(h) for h in hidden_sizes])
    ax.set_xlabel(column_label)
    ax.set_ylabel("hidden units")
    if success.dtype == bool:
        # one run per cell: each row's share of successes, at its right
        for i, rate in enumerate(rates.mean(axis=1)):
            ax.text(len(columns) - 0.4, i, f" {rate:.0%}", va="center", ha="left")
        ax.set_title(title or f"XOR learned (overall {rates.mean():.0%})")
        return fig
    # each cell is already a rate (over seeds): its number in the cell, and no average
    # across the columns, which would mix different settings (learning rates)
    for (i, j), rate in np.ndenumerate(rates):
        ax.text(j, i, f"{rate:.0%}", va="center", ha="center", fontsize=9)
    ax.set_title(title or "XOR success rate")
    return fig

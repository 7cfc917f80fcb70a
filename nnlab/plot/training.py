"""Figures of training: loss curves, decision boundaries and gradient-check bars.

Used from notebook 01 on; each returns the matplotlib Figure it drew.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from nnlab.plot._base import labels as _labels
from nnlab.plot._base import new_axes as _axes

#: The gradient-check threshold the course uses (notebook 02).
GRADCHECK_TOL = 1e-7


def loss_curves(history, *, ax=None, logy: bool = False, title: str | None = None):
    """Loss (and accuracy) per epoch (notebooks 01, 04, 06).

    `history` is a sequence of losses, or a mapping name -> sequence such as
    `nnlab.train.History` ("loss", "val_loss", "acc", "val_acc"; empty lists skipped).
    Accuracies go on a second y axis at the right. `logy=True` puts the loss on a log
    scale. Returns the Figure.
    """
    if isinstance(history, Mapping):
        series = {str(k): v for k, v in history.items() if v is not None and len(v)}
    elif isinstance(history, str) or not hasattr(history, "__len__"):
        raise TypeError(f"history={history!r}: pass a list of losses or a mapping "
                        "name -> list, such as the History that fit() returns")
    else:
        series = {"loss": history} if len(history) else {}
    if not series:
        raise ValueError("history holds no values to plot: train for at least one epoch")
    curves = {}
    for name, values in series.items():
        arr = np.asarray(values, dtype=float)
        if arr.ndim != 1:
            raise ValueError(f"history[{name!r}] has shape {arr.shape}; expected a flat "
                             "sequence of one number per epoch")
        curves[name] = arr
    fig, ax = _axes(ax, (6, 3.5))
    acc_ax = None
    for name, arr in curves.items():
        epochs = np.arange(1, len(arr) + 1)
        if "acc" in name:
            acc_ax = acc_ax or ax.twinx()
            acc_ax.plot(epochs, arr, linestyle="--", label=name)
        else:
            ax.plot(epochs, arr, label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    if logy:
        ax.set_yscale("log")
    handles, names = ax.get_legend_handles_labels()
    if acc_ax is not None:
        acc_ax.set_ylabel("accuracy")
        more = acc_ax.get_legend_handles_labels()
        handles, names = handles + more[0], names + more[1]
    if acc_ax is not None:
        # two y axes share the plot: a legend inside would sit over one of the curves
        ax.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, -0.2),
                  ncol=min(len(names), 4), fontsize=8, frameon=False)
        fig.subplots_adjust(bottom=0.3)
    elif len(curves) > 1:
        ax.legend(handles, names, loc="best")
    ax.set_title(title or "loss per epoch")
    return fig


def decision_boundary(predict_fn: Callable, X, y, *, ax=None, resolution: int = 200,
                      margin: float = 0.5, title: str | None = None):
    """The regions a model assigns to each class, with the data on top (notebooks 01, 04).

    `X (n, 2)` inputs; `y` labels `(n,)` / `(n, 1)`. `predict_fn` maps `(m, 2)` points to
    `(m, 1)` or `(m,)` probabilities of class 1 (drawn as shades, with the 0.5 contour) or
    to `(m, k)` class scores (drawn as argmax regions). Returns the Figure.
    """
    if not callable(predict_fn):
        raise TypeError(f"predict_fn={predict_fn!r} is not callable; pass e.g. net.predict")
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X has shape {X.shape}; a decision boundary is drawn for 2-D "
                         "inputs, shape (n, 2)")
    y = _labels(y, len(X))
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution={resolution!r}: use an integer >= 2, e.g. 200")
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    out = np.asarray(predict_fn(grid), dtype=float)
    m = len(grid)
    if out.shape in ((m,), (m, 1)):
        zz, binary = out.reshape(xx.shape), True
    elif out.ndim == 2 and out.shape[0] == m:
        zz, binary = out.argmax(axis=1).reshape(xx.shape), False
    else:
        raise ValueError(f"predict_fn returned shape {out.shape} for {m} points; expected "
                         f"({m}, 1) probabilities or ({m}, k) class scores")
    fig, ax = _axes(ax, (4.5, 4))
    if binary:
        mesh = ax.contourf(xx, yy, zz, levels=np.linspace(0, 1, 11), cmap="RdBu_r",
                           alpha=0.6, extend="both")
        if zz.min() < 0.5 < zz.max():
            ax.contour(xx, yy, zz, levels=[0.5], colors="k", linewidths=1.5)
        fig.colorbar(mesh, ax=ax, label="P(class 1)")
    else:
        k = int(max(zz.max(), y.max())) + 1
        ax.contourf(xx, yy, zz, levels=np.arange(k + 1) - 0.5, cmap="tab10", alpha=0.35)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r" if binary else "tab10",
               edgecolors="k", s=60 if len(X) <= 50 else 12, zorder=3,
               vmin=0, vmax=1 if binary else 9)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_title(title or "decision boundary")
    return fig


def _report_items(report) -> dict[str, float]:
    """name -> relative error from a mapping, or from an object with `.rows`, `.errors`
    (attribute, or method as on `nnlab.gradcheck.GradReport`)."""
    if not isinstance(report, Mapping) and callable(getattr(report, "errors", None)):
        report = report.errors()
    for attr in ("rows", "errors", "relative_errors"):
        inner = getattr(report, attr, None)
        if inner is not None and not callable(inner):
            report = inner
            break
    if isinstance(report, Mapping):
        items = list(report.items())
    elif isinstance(report, list | tuple):
        items = []
        for row in report:
            if isinstance(row, Mapping) and "name" in row:
                key = next((k for k in ("rel_error", "relative_error", "error") if k in row),
                           None)
                if key is None:
                    raise ValueError(f"row {row!r} has no 'rel_error' entry")
                items.append((row["name"], row[key]))
            elif isinstance(row, list | tuple) and len(row) >= 2:
                items.append((row[0], row[1]))
            else:
                raise TypeError(f"cannot read a (name, relative error) pair from row {row!r}")
    else:
        raise TypeError(f"report={report!r}: pass a dict name -> relative error, such as "
                        "gradient_check() returns")
    if not items:
        raise ValueError("the gradient-check report is empty: no parameter to plot")
    out = {}
    for name, value in items:
        try:
            out[str(name)] = float(value)
        except (TypeError, ValueError) as err:
            raise TypeError(f"relative error of {name!r} is {value!r}, not a number") from err
        if out[str(name)] < 0:
            raise ValueError(f"relative error of {name!r} is {value}; relative errors are >= 0")
    return out


def gradcheck_report(report, *, tol: float | None = None, ax=None, title: str | None = None):
    """One bar per parameter: its relative error on a log scale, with the `tol` line (02).

    `report` is a dict name -> relative error (what `gradient_check` returns), a
    `nnlab.gradcheck.GradReport`, or any object whose `.rows` is such a dict or a list of
    (name, error) pairs. `tol` defaults to the report's `threshold`, else 1e-7. Bars that
    fail (above `tol`, or marked not passed by the report) are red; an error of 0 is
    drawn at 1e-16; nan or inf is drawn red at the top and labelled. Returns the Figure.
    """
    errors = _report_items(report)
    if tol is None:
        tol = getattr(report, "threshold", None) or GRADCHECK_TOL
    if isinstance(tol, bool) or not (isinstance(tol, int | float) and tol > 0):
        raise ValueError(f"tol={tol!r}: use a positive threshold such as 1e-7")
    names, values = list(errors), np.array(list(errors.values()))
    finite = np.isfinite(values)
    top = max(1.0, values[finite].max() * 10) if finite.any() else 1.0
    shown = np.where(finite, np.maximum(values, 1e-16), top)
    verdicts = {getattr(e, "name", None): getattr(e, "passed", None)
                for e in getattr(report, "entries", None) or ()}
    failed = np.array([not verdicts[name] if verdicts.get(name) is not None else v > tol
                       for name, v in zip(names, values, strict=True)]) | ~finite
    fig, ax = _axes(ax, (max(4.0, 0.6 * len(names) + 2), 3.5))
    ax.bar(names, shown, color=np.where(failed, "tab:red", "tab:green"))
    ax.set_yscale("log")
    ax.axhline(tol, color="k", linestyle="--", linewidth=1, label=f"tolerance {tol:g}")
    for i in np.flatnonzero(~finite):
        ax.annotate(str(values[i]), (i, top), ha="center", va="bottom", color="tab:red")
    ax.set_xlabel("parameter")
    ax.set_ylabel("relative error")
    ax.legend(loc="best")
    ax.tick_params(axis="x", labelrotation=45 if len(names) > 6 else 0)
    n_bad = int(failed.sum())
    ax.set_title(title or (f"gradient check: {n_bad} of {len(names)} above {tol:g}"
                           if n_bad else f"gradient check: all {len(names)} below {tol:g}"))
    return fig

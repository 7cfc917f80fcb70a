"""The sanity checks a practitioner runs before training a network for long.

Introduced in notebook 07. `loss_at_init` compares the first loss with the loss of a
model that knows nothing (ln k for k classes); `overfit_tiny` asks a training function to
memorise 8 samples; `activation_stats` says which hidden units are dead, saturated or
copies of each other; `update_ratios` compares the step each parameter took with its size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nnlab import _validate


def _table(rows: list[tuple]) -> str:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)


@dataclass(frozen=True)
class InitLoss:
    """The loss before any training step, and what a know-nothing model scores."""

    loss: float
    expected: float
    words: str

    @property
    def ok(self) -> bool:
        """Within 30% of the know-nothing loss: the outputs start near "no idea"."""
        return abs(self.loss - self.expected) <= 0.3 * self.expected

    def __str__(self) -> str:
        verdict = ("ok: the network starts knowing nothing, as it should" if self.ok else
                   "far from it: the initial outputs are already confident (weights or inputs "
                   "far too large), or the loss is computed wrongly")
        return f"loss at init {self.loss:.4f}, {self.words}: {verdict}"


def loss_at_init(losses, k: int = 2, loss: str = "cross_entropy") -> InitLoss:
    """Read the first value of a loss history against the loss of a know-nothing model.

    `losses`: one loss per epoch, the first recorded before any update; `k`: the number of
    classes (2 for a sigmoid output). A model that knows nothing outputs 1/k for every
    class: cross-entropy ln k (``loss="cross_entropy"``), or, for 0/1 targets and a
    sigmoid output, squared error 0.25 (``loss="mse"``).
    """
    k = _validate.positive_int(k, "k")
    if k < 2:
        raise ValueError(f"k={k}; a classifier has at least 2 classes")
    if loss not in ("cross_entropy", "mse"):
        raise ValueError(f"loss={loss!r}; use 'cross_entropy' or 'mse'")
    history = np.asarray(losses, dtype=float).reshape(-1)
    if history.size == 0:
        raise ValueError("losses is empty; record the loss before the first update")
    if loss == "mse":
        if k != 2:
            raise ValueError("loss='mse' is read for a single sigmoid output, k=2")
        return InitLoss(float(history[0]), 0.25, "a know-nothing squared error = 0.25")
    return InitLoss(float(history[0]), math.log(k), f"ln {k} = {math.log(k):.4f}")


@dataclass(frozen=True)
class TinyFit:
    """What training on a handful of samples gave."""

    n: int
    first: float
    last: float
    accuracy: float

    @property
    def ok(self) -> bool:
        """Memorised: every sample right and the loss below a tenth of where it started."""
        return self.accuracy == 1.0 and self.last < 0.1 * self.first

    def __str__(self) -> str:
        verdict = ("ok: the network can memorise them, so the code can learn" if self.ok else
                   "FAILED: a correct network memorises 8 samples easily; look at the update "
                   "and the gradients before anything else")
        return (f"overfit {self.n} samples: loss {self.first:.4g} -> {self.last:.4g}, training "
                f"accuracy {self.accuracy:.0%}: {verdict}")


def overfit_tiny(train, X, y, n: int = 8, **kwargs) -> TinyFit:
    """Train with `train(X[:n], y[:n], **kwargs) -> (net, losses)` and read the result.

    `X` (n_samples, d), `y` (n_samples, 1) of 0/1 targets for a sigmoid output.
    """
    n = _validate.positive_int(n, "n")
    X = _validate.array(X, "X", ndim=2, float_only=True)[:n]
    y = np.asarray(y, dtype=float)[:n]
    with np.errstate(all="ignore"):
        net, losses = train(X, y, **kwargs)
        out = np.asarray(net.predict(X), dtype=float)
    history = np.asarray(losses, dtype=float).reshape(-1)
    accuracy = float(((out > 0.5) == (y > 0.5)).mean())
    return TinyFit(len(X), float(history[0]), float(history[-1]), accuracy)


def activation_stats(net, X) -> str:
    """A table, one row per layer of `net` (a `Sequential`) on the batch `X` (n, d).

    Columns: output shape, mean and spread of the outputs, the share of exact zeros (dead
    ReLU units), of saturated values (|out| > 0.99 for tanh, < 0.01 or > 0.99 for a
    sigmoid), and how many output columns are exact copies of another (twin units, B6).
    """
    X = _validate.array(X, "X", ndim=2, float_only=True)
    rows = [("layer", "output", "mean", "std", "zeros", "saturated", "twin units")]
    out = X
    for i, layer in enumerate(net.layers):
        out = np.asarray(layer.forward(out), dtype=float)
        name = type(layer).__name__
        if "sigmoid" in name.lower():
            sat = float(((out < 0.01) | (out > 0.99)).mean())
        else:
            sat = float((np.abs(out) > 0.99).mean()) if "tanh" in name.lower() else float("nan")
        cols = np.round(out.T, 12)
        twins = len(cols) - len({c.tobytes() for c in cols}) if out.shape[1] > 1 else 0
        rows.append((f"{i} {name}", str(out.shape), f"{out.mean():.3g}", f"{out.std():.3g}",
                     f"{(out == 0).mean():.0%}", "-" if math.isnan(sat) else f"{sat:.0%}",
                     f"{twins} of {out.shape[1]}"))
    return _table(rows)


def update_ratios(before: dict, after: dict, grads: dict) -> str:
    """A table comparing one step's change of each parameter with the parameter itself.

    `before`, `after`: {name: array} copies of ``net.params()`` around one update;
    `grads`: ``net.grads()`` of that step. Columns: |change| / |parameter| (well below 1,
    1e-3 to 1e-1, is healthy; near 1 or above, the step is far too large) and the cosine
    between the change and -gradient (1: the step went downhill; -1: uphill, B15; a step
    along the weights themselves shows as |change| / |W| = lr for every parameter, B12).
    """
    if set(before) != set(after) or set(before) != set(grads):
        raise ValueError(f"before, after and grads must have the same keys; got "
                         f"{sorted(before)}, {sorted(after)}, {sorted(grads)}")
    rows = [("param", "|W|", "|change|/|W|", "cos(change, -grad)")]
    for name in before:
        w0 = np.asarray(before[name], dtype=float)
        step = np.asarray(after[name], dtype=float) - w0
        g = np.asarray(grads[name], dtype=float)
        size = float(np.linalg.norm(w0))
        ratio = f"{float(np.linalg.norm(step)) / size:.3g}" if size else "- (starts at 0)"
        denom = float(np.linalg.norm(step) * np.linalg.norm(g))
        cos = f"{float(-(step * g).sum()) / denom:+.3f}" if denom else "-"
        rows.append((name, f"{size:.3g}", ratio, cos))
    return _table(rows)

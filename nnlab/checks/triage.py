"""Reading a loss history the way an experienced person reads a training curve.

`triage(losses)` looks at the numbers a training loop recorded and says what their shape
means: nan, negative, rising, diverging after a fall, flat, stuck at chance level, a
plateau, noisy, or ok; with the catalogue bug it points to and a message quoting the
history's numbers. Trends are read from a moving average, so minibatch noise is not taken
for a trend.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nnlab.checks._core import _array, _float64, _isfinite

__all__ = ["Diagnosis", "triage", "LABELS"]

LABELS = ("ok", "diverging", "nan", "negative", "flat", "chance", "plateau", "noisy", "rising")

#: Loss values a model sits at when it outputs the same thing for every sample.
CHANCE_LEVELS = (
    (math.log(2), "ln 2 = 0.693, the binary cross-entropy of a model that outputs 0.5 "
                  "for every sample"),
    (0.25, "0.25, the squared error of a model that outputs 0.5 for 0/1 targets"),
    (0.125, "0.125, half the squared error of a model that outputs 0.5"),
    (math.log(4), "ln 4 = 1.386, the cross-entropy of uniform guesses over 4 classes"),
    (math.log(10), "ln 10 = 2.303, the cross-entropy of uniform guesses over 10 classes"),
)


@dataclass(frozen=True)
class Diagnosis:
    """What a loss history says.

    label : one of `LABELS`.
    bug : the catalogue id it points to ("B15", ...) or None when the shape fits no single
        bug (or nothing is wrong).
    message : the diagnosis in plain words, with numbers from the history.
    candidates : every catalogue id worth suspecting, most likely first.
    """

    label: str
    bug: str | None
    message: str
    candidates: tuple[str, ...] = ()

    def __str__(self) -> str:
        tail = f" [bug {self.bug}]" if self.bug else ""
        return f"{self.label}{tail}: {self.message}"


def _history(losses) -> np.ndarray:
    if isinstance(losses, (str, bytes, dict)) or not hasattr(losses, "__len__"):
        raise TypeError(f"losses must be a list or 1-D array of numbers, one per epoch; got "
                        f"{type(losses).__name__}")
    try:
        arr = _array(losses, dtype=_float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"losses must hold plain numbers, one per epoch ({exc}); append "
                        "float(loss), not the loss array") from None
    if arr.ndim != 1:
        raise ValueError(f"losses has shape {arr.shape}; expected one number per epoch, a 1-D "
                         "history such as [0.69, 0.61, 0.55, ...]")
    if arr.size < 3:
        raise ValueError(f"losses holds {arr.size} value(s); triage needs a history of at "
                         "least 3 epochs to read a trend. Train for more epochs.")
    return arr


def _chance(value: float) -> str | None:
    for level, words in CHANCE_LEVELS:
        if abs(value - level) <= 0.02 * level:
            return words
    return None


def triage(losses) -> Diagnosis:
    """Read a loss history (notebooks 01, 04, 05): a list or 1-D array, one loss per
    epoch (or per step), length >= 3. Returns a `Diagnosis`."""
    arr = _history(losses)
    n = arr.size
    ok = _isfinite(arr)
    if not ok.all():
        i = int((~ok).argmax())
        before = f"; the last finite value was {arr[i - 1]:.4g} at epoch {i - 1}" if i else ""
        return Diagnosis("nan", "B17", (
            f"the loss became {arr[i]} at epoch {i} of {n}{before}. Something computed "
            "exp of a large number or log(0): subtract the row max before exp in a softmax, "
            "clip probabilities before log. If the loss grew first, the learning rate or "
            "the gradient is too large."), ("B17", "B16"))

    if float(arr.min()) < 0:
        return Diagnosis("negative", "B3", (
            f"the loss goes negative (lowest {float(arr.min()):.4g} at epoch "
            f"{int(arr.argmin())}; first {arr[0]:.4g}, last {arr[-1]:.4g}, {n} values). A "
            "cross-entropy or a squared error is never below 0: this is a signed error "
            "summed as the loss, `sum(Y - Yhat)`, whose positive and negative errors cancel. "
            "Use the mean squared error or the cross-entropy."), ("B3",))
    return _shape(arr)


def _smooth(arr: np.ndarray) -> np.ndarray:
    """Trailing moving average over ~5% of the history, so minibatch noise is not read as
    a trend (the raw history when it is shorter than 20 values)."""
    w = max(1, arr.size // 20)
    if w == 1:
        return arr
    c = np.cumsum(np.concatenate(([0.0], arr)))
    return (c[w:] - c[:-w]) / w


def _shape(arr: np.ndarray) -> Diagnosis:
    """The label of a finite, non-negative history, read from its smoothed curve."""
    n = arr.size
    sm = _smooth(arr)
    m = sm.size
    first, last = float(sm[0]), float(sm[-1])
    i_best = int(sm.argmin())
    best = float(sm[i_best])
    scale = max(abs(first), abs(last), 1e-12)
    lag = n - m  # epochs the smoothing window spans
    nums = (f"(first {arr[0]:.4g}, lowest {float(arr.min()):.4g} at epoch "
            f"{int(arr.argmin())}, last {arr[-1]:.4g}, {n} values)")
    tail = sm[m // 2:]
    tail_change = float(tail.max() - tail.min()) / max(abs(float(tail.mean())), 1e-12)
    span = float(sm.max() - sm.min())
    diffs = arr[1:] - arr[:-1]
    ups = float((diffs > 1e-12 * scale).mean())
    noise = float((arr[lag:] - sm).std()) if lag else float(diffs.std()) / math.sqrt(2)
    fall = max(float(arr[0]), first) - last  # the window hides the first quick drop
    # A change smaller than 3 standard errors of the moving average is noise, not trend.
    sure = 3 * noise / math.sqrt(lag + 1)
    level = float(tail.mean())

    if last > first * 1.02 + 1e-12 and last - first > sure and i_best <= max(1, m // 10) \
            and best > 0.8 * first:
        return Diagnosis("rising", "B15", (
            f"the loss rises from the start {nums}. Gradient descent goes downhill: an "
            "update `w += lr * dw`, or a gradient with its sign flipped, climbs instead. "
            "Check the sign of the update and of `y_hat - y`."), ("B15", "B13"))
    if last > 2 * best and last - best > 0.25 * max(first - best, 0.0) \
            and last - best > max(0.01 * first, sure) and i_best < m - 1:
        return Diagnosis("diverging", "B16", (
            f"the loss fell, then blew up {nums}. Gradient buffers that are never reset "
            "add up step after step (reset dW, db to zero before each backward pass); a "
            "learning rate that is too large (B19) does the same: try one ten times smaller."),
            ("B16", "B19"))
    if ups > 0.3 and noise > 0.4 * max(fall, 0.0) and noise > 0.02 * abs(last):
        return Diagnosis("noisy", None, (
            f"the loss goes up on {ups:.0%} of the steps, with swings of about {noise:.2g} "
            f"around its trend {nums}. Some noise is normal with minibatches; this much "
            "suggests a learning rate that is too large (B19), or a gradient that is partly "
            "wrong (a ReLU derivative `output >= 0`, B8)."), ("B8", "B19"))
    if span <= 0.01 * scale or (tail_change <= 0.05 and _chance(level)):
        words = _chance(level)
        if words:
            return Diagnosis("chance", None, (
                f"the loss sits at {words} {nums}: the model outputs the same value for "
                "every input. One neuron asked to learn XOR does this (B4); so do weights "
                "updated with themselves, `W -= lr * W`, which shrink to 0 (B12), and a "
                "gradient added into the parameter, `b += delta` (B13)."),
                ("B4", "B13", "B12"))
        return Diagnosis("flat", None, (
            f"the loss does not move {nums}: the parameters are not being updated, or "
            "the learning rate is far too small (B19). Check that the update line changes "
            "the same arrays the forward pass uses and that it uses the gradient, not the "
            "weights themselves (B12)."), ("B12", "B10", "B19"))
    if last > 0.5 * first and tail_change <= 0.01:
        return Diagnosis("plateau", None, (
            f"the loss fell a little, then stalled well above 0 {nums}. A model without "
            "biases (B7) or with unscaled inputs (B10) stalls like this; so does a network "
            "too small for the problem."), ("B7", "B10"))
    if fall <= 0.05 * scale:
        return Diagnosis("flat", None, (
            f"the loss ends where it started {nums}: it wanders but does not fall. Check "
            "that the update uses the gradient (not the weights, B12) with a learning rate "
            "large enough to move, and that the inputs are on a sensible scale (B10)."),
            ("B12", "B10"))
    return Diagnosis("ok", None, f"the loss falls as it should {nums}.")

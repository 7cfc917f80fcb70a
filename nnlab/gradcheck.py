"""Gradient checking: compare an analytic gradient with centred differences.

The reference answers of notebook 02 (`numerical_gradient`, `relative_error`,
`gradient_check`), plus tools the later notebooks use: the numerical gradient of one
layer, and a per-parameter report on a whole network that reads the pattern of the
errors (a constant factor, a flipped sign, a transposed matrix, a ReLU kink) into words.
Work in float64: smooth float64 nets agree to a relative error below 1e-7.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nnlab import _validate

#: Relative error below which a float64 gradient counts as right.
THRESHOLD = 1e-7


def _loss_value(value, what: str = "f()") -> float:
    """The scalar a loss function returned; a (loss, grad) tuple gives its loss."""
    if isinstance(value, tuple) and value:
        value = value[0]
    arr = np.asarray(value)
    if arr.size != 1 or arr.dtype.kind not in "biuf":
        raise ValueError(f"{what} must return a single number (the loss), got "
                         f"{type(value).__name__} of shape {arr.shape}")
    return float(arr.reshape(()))


def _target(x, name: str) -> np.ndarray:
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"{name} must be a float numpy array that the loss reads, so it can "
                        f"be perturbed in place; got {type(x).__name__}"
                        f"{' of dtype ' + str(x.dtype) if isinstance(x, np.ndarray) else ''}")
    return x


def numerical_gradient(f, x, h=1e-5):
    """Centred-difference gradient of the scalar ``f()`` with respect to the array `x`.

    Introduced in notebook 02. ``f`` takes no arguments and reads `x`; each element of
    `x` is set to ``x + h`` and ``x - h`` in place and restored afterwards (even when
    ``f`` raises). Returns an array of x's shape and dtype:
    ``(f(x + h e_i) - f(x - h e_i)) / (2 h)``. Costs 2 calls of ``f`` per element.
    """
    x = _target(x, "x")
    h = _validate.positive_float(h, "h")
    grad = np.zeros(x.shape, dtype=np.float64)
    for i in np.ndindex(x.shape):
        old = x[i]
        try:
            x[i] = old + h
            fp = _loss_value(f())
            x[i] = old - h
            fm = _loss_value(f())
        finally:
            x[i] = old
        grad[i] = (fp - fm) / (2 * h)
    return grad.astype(x.dtype, copy=False)


def relative_error(a, b) -> float:
    """``max |a - b| / max(|a| + |b|, 1e-8)`` as a float.

    Introduced in notebook 02. The numerator is the largest elementwise difference; the
    denominator is the largest ``|a| + |b|`` over the elements, floored at 1e-8 so two
    all-zero arrays give 0 rather than 0/0. `a` and `b` must have the same shape.
    """
    a = np.asarray(_validate.array(a, "a"), dtype=np.float64)
    b = np.asarray(_validate.array(b, "b"), dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a has shape {a.shape} but b has shape {b.shape}; compare a "
                         "gradient with the numerical gradient of the same parameter")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(a) + np.abs(b))), 1e-8))


rel_error = relative_error


def gradient_check(loss_fn, params, grads, h=1e-5) -> dict[str, float]:
    """Relative error between each analytic gradient and its numerical gradient.

    Introduced in notebook 02. ``loss_fn()`` takes no arguments and computes the loss
    from the arrays in `params` (a dict name -> array, e.g. ``net.params()``); `grads`
    has the same keys and shapes. Returns ``{name: relative_error}``; below 1e-7 in
    float64 means right.
    """
    if not isinstance(params, dict) or not isinstance(grads, dict):
        raise TypeError("params and grads must be dicts name -> array")
    if set(params) != set(grads):
        raise ValueError(f"params and grads must have the same keys; params has "
                         f"{sorted(params)}, grads has {sorted(grads)}")
    out = {}
    for name, p in params.items():
        num = numerical_gradient(loss_fn, _target(p, f"params[{name!r}]"), h)
        g = np.asarray(grads[name])
        if g.shape != p.shape:
            raise ValueError(f"grads[{name!r}] has shape {g.shape} but params[{name!r}] has "
                             f"shape {p.shape}; a gradient has its parameter's shape")
        out[name] = relative_error(g, num)
    return out


def layer_numerical_gradient(layer, X, dY, param=None, h=1e-5):
    """Numerical gradient of ``sum(layer.forward(X) * dY)`` w.r.t. `X` or a parameter.

    Introduced in notebook 03. `X` (n, d) float64, `dY` (n, k) shaped like the output.
    With ``param=None`` the result is shaped like X (compare with ``layer.backward(dY)``);
    with ``param="W"`` it is shaped like ``layer.W`` (compare with ``layer.dW``).
    """
    X = _target(X, "X")
    dY = _validate.array(dY, "dY", float_only=True)
    if param is None:
        x = X
    elif param in getattr(layer, "params", ()):
        x = _target(getattr(layer, param), f"layer.{param}")
    else:
        raise ValueError(f"param={param!r}: this {type(layer).__name__} has parameters "
                         f"{tuple(getattr(layer, 'params', ()))}; use one of them or None for X")
    grad = numerical_gradient(lambda: np.sum(layer.forward(X) * dY, dtype=np.float64), x, h)
    layer.forward(X)                    # leave the layer holding the unperturbed pass
    return grad


# --------------------------------------------------------------------------- network report

@dataclass
class ParamCheck:
    """One parameter's line of a `GradReport`."""

    name: str
    shape: tuple
    error: float
    worst_index: tuple
    analytic: float
    numeric: float
    passed: bool
    diagnosis: str
    kink: bool = False


@dataclass
class GradReport:
    """Per-parameter gradient check of a network; ``str(report)`` is a readable table.

    `entries` holds one `ParamCheck` per parameter, `notes` what the pattern across
    parameters says, `passed` whether every error is below `threshold`.
    """

    entries: list[ParamCheck]
    threshold: float = THRESHOLD
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(e.passed for e in self.entries)

    @property
    def diagnosis(self) -> str:
        bad = [f"{e.name}: {e.diagnosis}" for e in self.entries if not e.passed]
        return "\n".join(self.notes + bad) or "every gradient matches its numerical gradient"

    def worst(self) -> ParamCheck:
        return max(self.entries, key=lambda e: e.error)

    def errors(self) -> dict[str, float]:
        return {e.name: e.error for e in self.entries}

    def __getitem__(self, name: str) -> ParamCheck:
        return next(e for e in self.entries if e.name == name)

    def __iter__(self):
        return iter(self.entries)

    def __str__(self) -> str:
        rows = [("param", "shape", "rel.error", "worst at", "analytic", "numeric", "verdict")]
        rows += [(e.name, str(e.shape), f"{e.error:.2e}", str(e.worst_index),
                  f"{e.analytic:.6g}", f"{e.numeric:.6g}", "ok" if e.passed else "WRONG")
                 for e in self.entries]
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                 for r in rows]
        verdict = "PASSED" if self.passed else "FAILED"
        lines.append(f"{verdict} (threshold {self.threshold:g})")
        lines += [f"- {line}" for line in self.diagnosis.splitlines()]
        return "\n".join(lines)


#: Above THRESHOLD but below this, an error whose entries all agree to 4 significant digits
#: is rounding in the centred difference (which errs by ~eps/h), not a wrong gradient: a
#: real bug (a factor, a sign, a transpose, a missing term) moves some entry by far more.
ROUNDING_LIMIT = 1e-5


def _same_up_to_rounding(a: np.ndarray, num: np.ndarray) -> bool:
    """Every entry of `a` within 1e-4 (relative to the largest) of `num`."""
    scale = max(float(np.max(np.abs(num))), float(np.max(np.abs(a))), 1e-300)
    return bool(np.all(np.abs(a - num) <= 1e-4 * np.maximum(np.abs(num), 1e-3 * scale)))


def _kinked(layer) -> bool:
    return "relu" in type(layer).__name__.lower()


def _explain(name: str, a: np.ndarray, num: np.ndarray, n: int, threshold: float) -> str:
    """Words for how the analytic gradient `a` differs from the numerical one `num`."""
    if not np.any(a) and np.any(num):
        return ("the analytic gradient is all zeros: backward never fills this gradient, or "
                "it is reset after backward")
    big = np.abs(num) > 1e-6 * np.max(np.abs(num)) if np.any(num) else np.zeros(num.shape, bool)
    if big.any():
        r = a[big] / num[big]
        c = float(np.median(r))
        if np.all(np.abs(r - c) <= 1e-4 * abs(c)) and c != 0:
            for target, words in (
                    (-1.0, "the sign is flipped (bug B15): this step would climb the loss; "
                           "check the sign of (y_hat - y) and of the update"),
                    (float(n), f"analytic = {n} x numeric, n = the batch size: loss and "
                               "gradient disagree on 1/n (bug B5). Either the gradient sums "
                               "over the batch where the loss averages, or the loss divides "
                               "by n twice; a mean loss has a gradient with one 1/n"),
                    (1.0 / n, f"analytic = numeric / {n}, n = the batch size: loss and "
                              "gradient disagree on 1/n (bug B5). Either the loss SUMS over "
                              "the batch while the gradient averages (use a mean loss), or "
                              "the gradient divides by n twice"),
                    (2.0, "analytic = 2 x numeric: a factor 2 too many (bug B5)"),
                    (0.5, "analytic = numeric / 2: a factor 2 missing, e.g. in the MSE "
                          "derivative 2 (y_hat - y) / n (bug B5)")):
                if abs(c - target) <= 1e-4 * abs(target):
                    return words
            return (f"analytic = {c:.4g} x numeric everywhere: loss and gradient disagree on "
                    "a constant factor (bug B5)")
    if a.ndim == 2 and a.shape[0] == a.shape[1] and relative_error(a.T, num) < threshold:
        return "the analytic gradient is the transpose of the right one (bug B14): dW = X.T @ dY"
    return "analytic and numerical gradients disagree with no simple pattern"


def network_gradient_report(net, loss_fn, X, y, h=1e-5, *, threshold=THRESHOLD) -> GradReport:
    """Check every parameter gradient of `net` and explain the failures.

    Introduced in notebook 03. `net` is a `Sequential`; `loss_fn(Z, y) -> (loss, dZ)`
    (or a name: "cross_entropy", "mse", "bce"); `X` (n, d) float64. The net runs in
    evaluation mode (no dropout) and gets its modes back. Each parameter gets its
    relative error, the index of the largest difference, both values there, and a
    diagnosis; an input of a ReLU crossing 0 under the +-h nudge is flagged as a kink
    (a numerical artefact, not a bug) rather than reported as wrong.
    """
    from nnlab.train import _loss_fn

    loss_fn = _loss_fn(loss_fn)
    X = _target(X, "X")
    h = _validate.positive_float(h, "h")
    layers = list(net.layers)
    modes = [getattr(layer, "training", True) for layer in layers]
    net.eval()

    def run():
        out, signs = X, []
        for layer in layers:
            if _kinked(layer):
                signs.append(out > 0)
            out = layer.forward(out)
        return _loss_value(loss_fn(out, y), "loss_fn(Z, y)"), out, signs

    try:
        _, Z, base = run()
        net.backward(loss_fn(Z, y)[1])
        analytic = {k: np.array(g, dtype=np.float64) for k, g in net.grads().items()}
        entries = []
        for name, p in net.params().items():
            p = _target(p, name)
            num = np.zeros(p.shape)
            kinks = np.zeros(p.shape, dtype=bool)
            for i in np.ndindex(p.shape):
                old = p[i]
                try:
                    p[i] = old + h
                    fp, _, s1 = run()
                    p[i] = old - h
                    fm, _, s2 = run()
                finally:
                    p[i] = old
                num[i] = (fp - fm) / (2 * h)
                kinks[i] = any((a != b).any() for a, b in zip(s1 + s2, base + base, strict=True))
            entries.append(_entry(name, analytic[name], num, kinks, len(X), threshold))
        run()
    finally:
        for layer, mode in zip(layers, modes, strict=True):
            layer.training = mode
    report = GradReport(entries, threshold)
    _read_pattern(report, layers)
    return report


def _entry(name, a, num, kinks, n, threshold) -> ParamCheck:
    if a.shape != num.shape:
        why = ("it is transposed (bug B14): dW = X.T @ dY" if a.shape == num.shape[::-1] else
               "one value per sample? A parameter's gradient is summed over the batch (B1)"
               if a.shape[:1] == (n,) else "it must have the parameter's shape")
        return ParamCheck(name, num.shape, np.inf, (), np.nan, np.nan, False,
                          f"gradient has shape {a.shape}, parameter {num.shape}: {why}")
    diff = np.abs(a - num)
    worst = np.unravel_index(int(np.argmax(diff)), a.shape) if a.size else ()
    err = relative_error(a, num)
    kink = bool(kinks.any())
    if err < threshold:
        text = "ok"
    elif err < ROUNDING_LIMIT and _same_up_to_rounding(a, num):
        text = (f"ok: relative error {err:.2e} is just above {threshold:g}, but analytic and "
                "numeric agree to 4 digits in every entry (analytic = 1 x numeric): that is "
                "rounding in the numerical gradient, not a bug. A smaller threshold needs "
                "a better-conditioned probe (float64, h near 1e-5 to 1e-6)")
        return ParamCheck(name, a.shape, err, tuple(int(i) for i in worst), float(a[worst]),
                          float(num[worst]), True, text, kink)
    elif kink and relative_error(a[~kinks], num[~kinks]) < threshold:
        text = ("ok apart from a ReLU kink: at the flagged entries an input of a ReLU lies "
                "within h of 0, so the numerical gradient there is meaningless. Not a bug; "
                "use a smaller h or other inputs")
        return ParamCheck(name, a.shape, err, worst, float(a[worst]), float(num[worst]),
                          True, text, kink)
    else:
        text = _explain(name, a, num, n, threshold)
    return ParamCheck(name, a.shape, err, tuple(int(i) for i in worst),
                      float(a[worst]) if a.size else 0.0, float(num[worst]) if a.size else 0.0,
                      err < threshold, text, kink)


def _read_pattern(report: GradReport, layers: list) -> None:
    """Add notes on the pattern across parameters: only biases, or below one layer."""
    bad = [e for e in report.entries if not e.passed]
    if not bad:
        return
    if all(e.name.endswith(".b") for e in bad) and any(
            not e.name.endswith(".b") for e in report.entries):
        report.notes.append("only the bias gradients are wrong: db = dY.sum(axis=0), one "
                            "value per neuron, summed (not averaged again) over the batch")
    layer_of = [int(e.name.split(".")[0]) for e in report.entries]
    good_above = [i for e, i in zip(report.entries, layer_of, strict=True) if e.passed]
    worst_bad = max(int(e.name.split(".")[0]) for e in bad)
    if good_above and all(not e.passed for e, i in zip(report.entries, layer_of, strict=True)
                          if i <= worst_bad) and min(good_above) > worst_bad:
        between = [f"{j} ({type(layers[j]).__name__})"
                   for j in range(worst_bad + 1, min(good_above) + 1)]
        report.notes.append(
            f"every gradient from layer {min(good_above)} up is right and every one below it "
            f"is wrong: the dX passed down through layer(s) {', '.join(between)} is wrong. "
            "Look at an activation's derivative (bug B18) or at dX = dY @ W.T (bug B14)")

"""Checks for notebook 04: `train_xor`, a 2-h-1 network trained on XOR.

The check trains with the student's own defaults for a few seeds and wants most runs to
get the truth table right (outputs thresholded at 0.5). When they do not, it reads the
trained network and the loss history: no hidden layer (B4), identical hidden units (B6),
biases that never moved (B7), weights shrunk to zero (B12), a rising loss (B15). Two runs
of 3 epochs with two learning rates check the arguments: `epochs` losses, and a step that
scales with `lr` (one that does not, and climbs, is the gradient added in: B13).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy

from nnlab.checks._core import as_array, call, check, describe, fail, finite, reference
from nnlab.checks._student import signature_defaults

# numpy as it was at import: a student who replaces np.abs later changes no verdict.
np = SimpleNamespace(**vars(numpy))

__all__ = ["check_train_xor"]

_X = numpy.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
_Y = numpy.array([0.0, 1.0, 1.0, 0.0])


def _layers(net):
    """The layers of a Sequential, a list of layers, or anything with `.layers`."""
    layers = getattr(net, "layers", None)
    if layers is None and isinstance(net, (list, tuple)):
        layers = net
    return list(layers) if layers is not None else None


def _dense(net):
    """[(W, b or None)] of the layers that hold a 2-D weight matrix, in order."""
    found = []
    for layer in _layers(net) or []:
        W = getattr(layer, "W", None)
        if W is not None and numpy.ndim(W) == 2:
            b = getattr(layer, "b", None)
            found.append((as_array(W, "a layer's W"),
                          None if b is None else as_array(b, "a layer's b")))
    return found


def _predict(net, what):
    if callable(getattr(net, "predict", None)):
        fn = net.predict
    elif callable(getattr(net, "forward", None)):
        fn = net.forward
    elif _layers(net):
        def fn(X):
            for layer in _layers(net):
                X = layer.forward(X)
            return X
    else:
        fail(f"{what} returned a net of type {type(net).__name__} with no predict(X) or "
             "forward(X). Return the Sequential you trained.")
    out = as_array(call(fn, _X.copy(), what=f"net.predict(XOR inputs) after {what}",
                        seconds=2)[0], "net.predict(X)")
    if out.size != 4:
        fail(f"net.predict on the 4 XOR inputs returned shape {out.shape}; expected (4, 1).")
    return out.reshape(-1)


def _run(train_xor, hidden, seed, forbid, **kwargs):
    shown = "".join(f", {k}={v:g}" for k, v in kwargs.items())
    what = f"train_xor(hidden={hidden}, seed={seed}{shown})"
    res, _ = call(train_xor, hidden, seed, what=what, seconds=5, forbid=forbid, **kwargs)
    if not isinstance(res, (tuple, list)) or len(res) != 2:
        fail(f"{what} returned {type(res).__name__}; it must return (net, losses).")
    net, losses = res
    losses = as_array(losses, f"the losses of {what}").reshape(-1)
    if losses.size < 2:
        fail(f"{what} returned {losses.size} loss value(s); notebook 04 asks for one per "
             "epoch, `epochs` of them: append the loss before each step, inside the epoch "
             "loop.")
    out = _predict(net, what)
    return what, net, losses, out


def _structure(what, net, losses, hidden):
    """Verdicts that hold whatever the seed: the layers the student built."""
    dense = _dense(net)
    if not dense:
        fail(f"{what}: no layer of the returned net has a 2-D weight matrix W. Build it from "
             "Dense layers: Sequential(Dense(2, hidden), Tanh(), Dense(hidden, 1), Sigmoid()).")
    W0 = dense[0][0]
    if len(dense) == 1 or W0.shape[1] == 1:
        fail(f"{what}: the net has a single layer of weights ({W0.shape}): one neuron. A "
             "single neuron draws one straight line and XOR needs two, so its outputs sit "
             "near 0.5. Add the hidden layer: Dense(2, hidden), an activation, "
             "Dense(hidden, 1), Sigmoid().", "B4")
    if W0.shape != (2, hidden):
        fail(f"{what}: the first layer's W has shape {W0.shape}; with hidden={hidden} it must "
             f"be (2, {hidden}). Use the `hidden` argument for the hidden layer's size.")
    if all(np.abs(W).max() < 1e-3 for W, _ in dense) and np.ptp(losses) < 1e-9:
        fail(f"{what}: every weight is 0 and the loss never changed ({losses[0]:.4g} from the "
             "first epoch). The weights started at 0: every hidden unit computes the same "
             "thing and, with tanh, no gradient ever reaches them. Initialise the weights at "
             "random from the seed: rng.normal(0, 1, (n_in, n_out)).", "B6")
    if all(np.abs(W).max() < 1e-3 for W, _ in dense):
        fail(f"{what}: after training every weight is near 0 (first layer {describe(W0)}). "
             "The update shrinks the weights by themselves (W -= lr * W) instead of moving "
             "them along the gradient: W -= lr * dW.", "B12")
    if (np.ptp(W0, axis=1) < 1e-8).all():
        fail(f"{what}: all {hidden} hidden units have identical weights after training "
             f"({describe(W0)}). They started equal, so they got equal gradients and never "
             "split. Initialise the weights at random from the seed.", "B6")
    if all(b is None or not np.abs(b).any() for _, b in dense):
        fail(f"{what}: no layer has a bias that moved (all are missing or exactly 0 after "
             "training). Without biases every boundary passes through the origin. Give "
             "each Dense a bias b (h,) and update it with db.", "B7")


#: Self-contained reference versions of the functions notebook 04's loop calls by name
#: (the notebook imports them from nnlab; a student may have written their own).
REFERENCE_SOURCES = {
    "sgd_step": """
def sgd_step(params, grads, lr):
    for name, p in params.items():
        p -= lr * np.asarray(grads[name], dtype=p.dtype)
""",
    "binary_cross_entropy": """
def binary_cross_entropy(y_hat, y):
    y = np.asarray(y, dtype=float).reshape(y_hat.shape)
    p = np.clip(y_hat, 1e-12, 1 - 1e-12)
    loss = float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    grad = (p - y) / (p * (1 - p)) / y_hat.size
    return loss, grad.astype(y_hat.dtype, copy=False)
""",
}


@check("train_xor", rung="04", covers=("B4", "B6", "B7", "B12", "B13", "B15", "B19"))
def check_train_xor(train_xor, *, hidden=False):
    """Check `train_xor(hidden, seed, lr=..., epochs=...) -> (net, losses)` (notebook 04).

    XOR inputs X (4, 2), targets (4, 1); the net maps X (n, 2) -> (n, 1) through h hidden
    units. With the student's defaults, most seeds must give the right truth table; with
    `epochs=3` it must return 3 losses, and two learning rates must give two runs. A
    failing loop is rerun with reference `sgd_step` and `binary_cross_entropy`, so a bug
    in a helper the student wrote is blamed on that helper.
    """
    from nnlab.checks._localise import run_localised

    run_localised(train_xor, lambda quick: _train_xor_probes(train_xor, hidden, quick),
                  REFERENCE_SOURCES, hidden=hidden)


def _train_xor_probes(train_xor, hidden, quick=False):
    forbid = reference("nnlab.train", "train_xor")
    h, seeds, need = (5, (10, 11, 12, 13), 3) if hidden else (4, (0, 1, 2), 2)
    runs = [_run(train_xor, h, seed, forbid) for seed in seeds]
    for what, net, losses, _ in runs:
        _structure(what, net, losses, h)
    _arguments(train_xor, h, seeds[0], runs[0][2].size, forbid, hidden)
    failed = [r for r in runs if not ((r[3] > 0.5) == (_Y > 0.5)).all()]
    if len(runs) - len(failed) >= need:
        return
    what, net, losses, out = failed[0]
    first, last = float(losses[0]), float(losses[-1])
    if quick:
        fail(f"{what}: XOR not learned (loss {first:.3g} to {last:.3g}).")
    seed = int(what.split("seed=")[1].rstrip(")"))
    rate = _default_lr(train_xor)
    climbed = not finite(losses) or (last > first + 0.05
                                     and float(losses[len(losses) // 2]) > first)
    tried = []
    if climbed:
        # Divergence is not ascent: a step 10 or 100 times smaller tells them apart (the
        # update scales with lr: _arguments made sure).
        for smaller in (rate / 10, rate / 100) if rate is not None else (0.2, 0.02):
            _, _, small, _ = _run(train_xor, h, seed, forbid, lr=smaller)
            tried.append(smaller)
            if finite(small) and float(small[-1]) < float(small[0]) - 0.01:
                default = "" if rate is None else f" lr={rate:g}"
                fail(f"{what}: the loss went from {first:.3g} to {last:.3g} with your default"
                     f"{default}, but with lr={smaller:g} it falls ({float(small[0]):.3g} "
                     f"to {float(small[-1]):.3g}). The code is right; the learning rate is "
                     "too large, so every step overshoots the minimum. Lower the default "
                     "(notebook 04's table: lr=2.0 works for this net).", "B19")
    if not finite(losses):
        fail(f"{what}: the loss became nan or inf (first {first:.3g}). The learning rate is "
             "too large, or the loss takes log(0): clip the predictions away from 0 and 1.")
    if climbed and len(tried) == 2:
        smaller = ("a step 10 and 100 times smaller" if rate is not None
                   else "smaller steps")
        fail(f"{what}: the loss rose from {first:.3g} to {last:.3g}, and it rises with "
             f"{smaller} too (lr={tried[0]:g} and lr={tried[1]:g}), so it is not the step "
             "size: the update moves uphill. The gradient's sign is flipped somewhere "
             "(W += lr * dW, or dZ = y - y_hat). Use W -= lr * dW with dZ = y_hat - y.",
             "B15")
    if rate is not None and last > first - 0.25 * abs(first) and rate < 2.0:
        _, _, big, big_out = _run(train_xor, h, seed, forbid, lr=2.0)
        if ((big_out > 0.5) == (_Y > 0.5)).all():
            fail(f"{what}: with your default lr={rate:g} the loss barely fell ({first:.3g} "
                 f"to {last:.3g}) and XOR is not learned, but the same code with lr=2 learns "
                 "it. The code is right; the learning rate is far too small for the number "
                 "of epochs. Raise the default (notebook 04's table: lr=2.0).", "B19")
    solved = len(runs) - len(failed)
    fail(f"train_xor solved XOR for {solved} of {len(runs)} seeds with your defaults (need "
         f"{need}). For {what.split(': ')[0]} the loss went from {first:.3g} to {last:.3g} and "
         f"the outputs are {describe(out)}. If the loss barely fell, train longer or raise "
         "lr; if outputs sit near 0.5, check the backward pass with a gradient check.")


def _arguments(train_xor, h, seed, default_epochs, forbid, hidden):
    """Notebook 04's contract for the arguments: `losses` holds `epochs` floats, and the
    step scales with `lr` (its table of learning rates calls train_xor(h, s, lr=lr)). Two
    runs of 3 epochs, with two rates, tell: the same losses for both rates mean the update
    ignores lr; rising as well, it is the gradient added into the parameters (B13)."""
    a, b = (0.4, 1.2) if hidden else (0.5, 1.5)
    what_a, _, la, out_a = _run(train_xor, h, seed, forbid, lr=a, epochs=3)
    what_b, _, lb, out_b = _run(train_xor, h, seed, forbid, lr=b, epochs=3)
    if la.size != 3:
        if la.size == default_epochs:
            fail(f"{what_a} returned {la.size} losses, as many as a run with your default "
                 "epochs: the loop ignores the `epochs` argument (a hard-coded range(...)?), "
                 "so the caller cannot choose how long to train. Loop over the argument: "
                 "for epoch in range(epochs).")
        fail(f"{what_a} returned {la.size} losses; notebook 04 asks for one per epoch, "
             "`epochs` of them: append the loss before each step, inside the epoch loop.")
    moved = float(np.ptp(la)) > 0.0
    same = la.shape == lb.shape and bool((la == lb).all()) and bool((out_a == out_b).all())
    if not (moved and same):
        return
    if float(la[-1]) > float(la[0]):
        fail(f"{what_a} and the same run with lr={b:g} give the very same losses "
             f"({float(la[0]):.3g}, {float(la[1]):.3g}, {float(la[2]):.3g}), rising: the "
             "update does not use lr, and it climbs. The gradient is added into the "
             "parameters (`p += grad`): a step of learning rate 1 with the wrong sign, which "
             "pushes the outputs to one end. Subtract lr times the gradient: "
             "p -= lr * grad, or sgd_step(net.params(), net.grads(), lr).", "B13")
    fail(f"{what_a} and the same run with lr={b:g} give the very same losses "
         f"({float(la[0]):.3g}, {float(la[1]):.3g}, {float(la[2]):.3g}): the update ignores "
         "the `lr` argument (`p -= grad`, or a learning rate fixed inside the function), so "
         "notebook 04's table of learning rates would show one run in every column. Pass "
         "the lr you were given: sgd_step(net.params(), net.grads(), lr).")


def _default_lr(train_xor):
    """The student's default learning rate, or None when it cannot be read."""
    value = (signature_defaults(train_xor) or {}).get("lr")
    return float(value) if isinstance(value, (int, float)) and value > 0 else None

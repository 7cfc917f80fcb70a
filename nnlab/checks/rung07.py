"""Checks for notebook 07, the debugging clinic: the bug named, and the network fixed.

`check_diagnosis_<case>` compares the catalogue id a student names with what the case's
code really does. `check_train_<case>` trains the student's fixed `train_<case>` on the
case's data (hidden: other seeds and other data) and wants 95% accuracy on validation
data; before that it probes the returned network for the catalogued bugs a fix can leave
behind, and after a failed run it retrains at a tenth or ten times the learning rate to
tell a bug from a bad learning rate (B19). Case f has two faults at once: its diagnosis
names both ids, and its fix check says which one remains when only one is fixed.
`check_faulty_layer` grades the same kind of exercise in notebook 03: which layer of
`nnlab.clinic.faulty_network()` is wrong.
"""

from __future__ import annotations

import math
import re
from types import SimpleNamespace

import numpy

from nnlab.checks._core import CATALOGUE, as_array, call, check, fail, max_rel_error
from nnlab.checks._student import signature_defaults

np = SimpleNamespace(**vars(numpy))

TARGET = 0.95

#: case -> (the bug its code has, the tool that shows it: a hint that does not name it);
#: a combined case has a tuple of ids, in the order its fix check names them
CASES = {
    "a": ("B8", "the gradient-check report: which layers are wrong, and where do they start?"),
    "b": ("B12", "the update/weight ratios: how does each step relate to the weights?"),
    "c": ("B19", "the gradient-check report (is the code wrong at all?) and a rerun with "
                 "another learning rate"),
    "d": ("B6", "the activation statistics: how many hidden units differ?"),
    "e": ("B15", "the loss curve and the gradient-check report's ratio analytic / numeric"),
    "f": (("B7", "B8"), "the gradient-check report, on the code as given and again on it with "
                        "one fault fixed"),
}

#: for each fault of a combined case, the tool that shows it (a hint that does not name it)
_TOOLS = {
    "B7": "the parameters the gradient-check report lists for each layer, and the loss "
          "curve's plateau once the other fault is fixed",
    "B8": "the gradient-check report's wrong rows, and the layer just above them",
}


def bugs(case: str) -> tuple[str, ...]:
    """The catalogue ids of clinic case `case`'s faults: one, or two for case f, in the
    order `check_train_<case>` names them (the first is what the unfixed code is named)."""
    truth = CASES[case][0]
    return (truth,) if isinstance(truth, str) else tuple(truth)


__all__ = [f"check_{kind}_{c}" for c in CASES for kind in ("diagnosis", "train")]
__all__ += ["check_faulty_layer"]

#: notebook 03's "find the bug": the index of the layer of nnlab.clinic.faulty_network()
#: whose backward is wrong
FAULTY_LAYER = 5

_ID = re.compile(r"B(1[0-9]|[1-9])")


# --------------------------------------------------------------------------- diagnosis

def _diagnosis(case: str, answer, hidden: bool) -> None:
    if len(bugs(case)) > 1:
        _diagnosis_combined(case, answer, hidden)
        return
    truth, tool = CASES[case]
    if not isinstance(answer, str):
        fail(f"diagnosis_{case} is a {type(answer).__name__}; write the catalogue id as a "
             f"string, e.g. diagnosis_{case} = \"B5\".")
    text = answer.strip().upper()
    if not _ID.fullmatch(text):
        fail(f"diagnosis_{case} = {answer!r} is not a catalogue id. Write one id from the "
             "bug catalogue, \"B1\" to \"B19\" (B19 when the code is right and the "
             "learning rate is not).")
    if text == truth:
        return
    name = CATALOGUE[text][0]
    hint = f" The bug is {truth} ({CATALOGUE[truth][0]})." if hidden else ""
    fail(f"diagnosis_{case} = {text!r} ({name}) is not what case {case}'s code does. Look "
         f"again with {tool}{hint}")


def _named(case: str, answer) -> list[str]:
    """The ids a combined case's diagnosis names: a string ("B3 B5", "B3, B5", "B3 and
    B5") or a list, tuple or set of strings."""
    if isinstance(answer, str):
        parts = re.split(r"[\s,;+&/]+", answer.strip().upper())
    elif isinstance(answer, (list, tuple, set, frozenset)) and answer \
            and all(isinstance(a, str) for a in answer):
        parts = [a.strip().upper() for a in answer]
    else:
        fail(f"diagnosis_{case} is a {type(answer).__name__}; write the catalogue ids of "
             f"both faults in one string, e.g. diagnosis_{case} = \"B3 B5\".")
    parts = [p for p in parts if p and p != "AND"]
    bad = [p for p in parts if not _ID.fullmatch(p)]
    if bad or not parts:
        what = f"{bad[0]!r} is not a catalogue id" if bad else "it names no id"
        fail(f"diagnosis_{case} = {answer!r}: {what}. Case {case} has two faults: write both "
             f"ids from the bug catalogue in one string, e.g. diagnosis_{case} = \"B3 B5\".")
    return parts


def _diagnosis_combined(case: str, answer, hidden: bool) -> None:
    """Case `case` has two faults: the answer must name both, in any order, and no other."""
    truth = bugs(case)
    named = _named(case, answer)
    wrong = [b for b in dict.fromkeys(named) if b not in truth]
    missing = [b for b in truth if b not in named]
    if not wrong and not missing:
        return
    said = []
    if wrong:
        said.append(" and ".join(f"{b} ({CATALOGUE[b][0]})" for b in wrong)
                    + (" is" if len(wrong) == 1 else " are") + f" not in case {case}'s code.")
    right = [b for b in truth if b in named]
    if len(right) == 1:
        said.append(f"{right[0]} is right: it is one of the two faults.")
    elif right:
        said.append(f"{' and '.join(right)} are right; name only those two.")
    if missing:
        look = "; and ".join(_TOOLS[b] for b in missing)
        head = ("One fault is missing" if len(missing) == 1 else "Both faults are missing")
        said.append(f"{head}: case {case} has two, and fixing one alone leaves the network "
                    f"below {TARGET:.0%}. Look again with {look}.")
        if hidden:
            said.append("Missing: " + ", ".join(f"{b} ({CATALOGUE[b][0]})" for b in missing)
                        + ".")
    fail(f"diagnosis_{case} = {answer!r}: " + " ".join(said))


def _make_diagnosis(case: str):
    def check_diagnosis(diagnosis, *, hidden=False):
        _diagnosis(case, diagnosis, hidden)

    check_diagnosis.__name__ = check_diagnosis.__qualname__ = f"check_diagnosis_{case}"
    check_diagnosis.__doc__ = (
        f"Check `diagnosis_{case}`, the catalogue id of clinic case {case}'s bug (notebook 07)."
        if len(bugs(case)) == 1 else
        f"Check `diagnosis_{case}`, the catalogue ids of clinic case {case}'s two faults, "
        f"in one string such as \"B3 B5\" (any order) or a list (notebook 07).")
    return check(f"diagnosis_{case}", rung="07", covers=())(check_diagnosis)


# --------------------------------------------------------------------------- the fix

def _moons(n, seed):
    """The clinic's data (nnlab.clinic.moons), rebuilt here so no student code moves it."""
    rng = numpy.random.default_rng(seed)
    half = n // 2
    t = rng.uniform(0, numpy.pi, n)
    first = numpy.arange(n)[:, None] < half
    X = numpy.where(first, numpy.c_[numpy.cos(t), numpy.sin(t)],
                    numpy.c_[1 - numpy.cos(t), 0.5 - numpy.sin(t)])
    X = X + rng.normal(0, 0.15, X.shape) - [0.5, 0.25]
    y = (numpy.arange(n) >= half).astype(float)[:, None]
    order = rng.permutation(n)
    return X[order], y[order]


def _train(train, seed, what, **kwargs):
    X, y = _moons(200, 2 * seed)
    res, _ = call(train, X, y, seed=seed, what=what, seconds=10, **kwargs)
    if not isinstance(res, (tuple, list)) or len(res) != 2:
        fail(f"{what} returned {type(res).__name__}; it must return (net, losses), like the "
             "case's code.")
    net, losses = res
    losses = as_array(losses, f"the losses of {what}").reshape(-1)
    if losses.size < 3:
        fail(f"{what} returned {losses.size} losses; keep one loss per epoch, as the case's "
             "code does.")
    return net, losses


def _accuracy(net, seed, what) -> float:
    X, y = _moons(200, 2 * seed + 1)
    fn = getattr(net, "predict", None) or getattr(net, "forward", None)
    if not callable(fn):
        fail(f"{what} returned a net of type {type(net).__name__} with no predict(X). Return "
             "the Sequential you trained.")
    out = as_array(call(fn, X, what=f"net.predict(X_val) after {what}", seconds=5)[0],
                   "net.predict(X_val)")
    if out.shape != y.shape:
        fail(f"net.predict(X_val) returned shape {out.shape}; expected {y.shape}.")
    return float(((out > 0.5) == (y > 0.5)).mean())


def _layers(net, what):
    layers = getattr(net, "layers", None)
    if layers is None:
        fail(f"{what} returned a net of type {type(net).__name__} without .layers; build "
             "it with Sequential as the case's code does.")
    return list(layers)


def _probe_activation(layer, index, what):
    """An activation's backward against centred differences of its own forward: None, or
    (message, bug, a short name of the fault) when they disagree."""
    grid = numpy.array([[-2.0, -0.7, -0.3], [0.4, 0.9, 1.8], [-1.3, 0.6, -0.5]])
    h = 1e-6
    up = as_array(call(layer.forward, grid + h, what=f"layer {index}.forward", seconds=2)[0],
                  f"layer {index}.forward")
    down = as_array(call(layer.forward, grid - h, what=f"layer {index}.forward", seconds=2)[0],
                    f"layer {index}.forward")
    out = as_array(call(layer.forward, grid.copy(), what=f"layer {index}.forward",
                        seconds=2)[0], f"layer {index}.forward")
    dX = as_array(call(layer.backward, numpy.ones_like(grid), what=f"layer {index}.backward",
                       seconds=2)[0], f"layer {index}.backward")
    if dX.shape != grid.shape or up.shape != grid.shape:
        return None
    slope = (up - down) / (2 * h)
    if max_rel_error(dX, slope) < 1e-4:
        return None
    name = type(layer).__name__
    negative = grid < 0
    if np.abs(out[negative]).max() == 0 and np.abs(dX[negative]).max() > 0:
        return (f"{what}: layer {index} ({name}) outputs 0 for negative inputs but its "
                "backward still passes the gradient there (at input -0.3 it returns "
                f"{dX[0, 2]:.3g}, not 0). The ReLU's slope is 1 where the INPUT was > 0: "
                "a test on the output that is true at 0 (`out >= 0`, a step that is 1 at 0) "
                "is always true. Use `self.out > 0`.", "B8",
                f"layer {index} ({name})'s backward passes the gradient where it outputs 0")
    return (f"{what}: layer {index} ({name})'s backward disagrees with the slope of its own "
            f"forward (at input -0.3: {dX[0, 2]:.3g}, the slope is {slope[0, 2]:.3g}). Fix "
            "its derivative.", "B18", f"layer {index} ({name})'s derivative is wrong")


def _probe_bias(weighted, what):
    """B7: a hidden layer that trains no bias (its boundaries pass through the origin).
    `weighted` is [(index, layer)] of the layers with weights; the output layer may lack
    a bias, a hidden one may not. None, or (message, bug, short name)."""
    for i, layer in (weighted[:-1] or weighted):
        b = getattr(layer, "b", None)
        if b is not None and np.abs(as_array(b, f"layer {i}.b")).max() > 0:
            continue
        name = type(layer).__name__
        trains = getattr(layer, "params", None)
        how = ("it has no b" if b is None else
               "its b is still 0 after training" + (
                   f": its params {tuple(trains)!r} leave b out" if isinstance(trains, tuple)
                   and "b" not in trains else ""))
        return (f"{what}: layer {i} ({name}) trains no bias: {how}. Without biases every "
                "hidden unit's kink, and so every boundary the network draws, passes "
                "through the origin, and the loss stalls on a plateau. Give each layer a "
                "bias and train it (params = (\"W\", \"b\"), as Dense does).", "B7",
                f"layer {i} ({name}) trains no bias")
    return None


def _probe(net, losses, what, case):
    """The catalogued bugs a returned network shows whatever it scores."""
    weights, weighted, faults = [], [], []
    for i, layer in enumerate(_layers(net, what)):
        W = getattr(layer, "W", None)
        if W is None:
            faults.append(_probe_activation(layer, i, what))
        else:
            weights.append(as_array(W, f"layer {i}.W"))
            weighted.append((i, layer))
    if weights and all(np.abs(W).max() < 1e-3 for W in weights):
        fail(f"{what}: every weight is near 0 after training (largest "
             f"{max(np.abs(W).max() for W in weights):.2g}) and the loss ended at "
             f"{losses[-1]:.3f}. The update shrinks each parameter by itself "
             "(p -= lr * p) instead of moving it along its gradient: p -= lr * grad.", "B12")
    if weights and weights[0].ndim == 2 and weights[0].shape[1] > 1 \
            and (np.ptp(weights[0], axis=1) < 1e-8).all():
        fail(f"{what}: all {weights[0].shape[1]} hidden units have the same weights after "
             "training: they started equal, got equal gradients and never split. Draw "
             "every weight at random: rng.normal(0, 1, (n_in, n_out)), not one number "
             "times a matrix of ones.", "B6")
    faults = [f for f in (_probe_bias(weighted, what), *faults) if f is not None]
    if faults:
        _fail_faults(case, faults)


def _fail_faults(case, faults):
    """Name the first fault found; for a combined case, say which of its faults remain."""
    message, bug, _ = faults[0]
    pair = bugs(case)
    if len(pair) > 1:
        left = [f for f in faults if f[1] in pair]
        fixed = [b for b in pair if b not in {f[1] for f in left}]
        if fixed and left:
            message = (f"One of case {case}'s two faults is fixed ({fixed[0]}, "
                       f"{CATALOGUE[fixed[0]][0]}); the other remains. {message}")
        elif len(left) > 1:
            message += (f" That is one of case {case}'s two faults; the other remains too: "
                        f"{left[1][2]} ({left[1][1]}).")
    fail(message, bug)


def _rerun(train, what, factor):
    defaults = signature_defaults(train) or {}
    lr = defaults.get("lr")
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or lr <= 0:
        return None, None
    _, losses = _train(train, 0, f"{what} with lr={lr * factor:g}", lr=lr * factor)
    return lr, losses


def _falls(losses) -> bool:
    return bool(np.isfinite(losses).all() and losses[-1] < 0.5 * losses[0])


def _why(train, what, losses, acc):
    """A failed run: a bug, or the learning rate?"""
    first, last = float(losses[0]), float(losses[-1])
    numbers = (f"the loss went from {first:.3g} to {last:.3g} and validation accuracy is "
               f"{acc:.0%} (target {TARGET:.0%})")
    if not np.isfinite(losses).all() or last > first or last > math.log(2):
        lr, tenth = _rerun(train, what, 0.1)
        if lr is not None and _falls(tenth):
            fail(f"{what}: {numbers}. With lr = {lr * 0.1:g} instead of {lr:g} the same code "
                 f"learns (loss {tenth[0]:.3g} -> {tenth[-1]:.3g}): the code is right and the "
                 "learning rate too large. Lower the default lr.", "B19")
        if last > first:
            fail(f"{what}: {numbers}: the loss rises, and a ten times smaller learning rate "
                 "does not help. Each step climbs: a gradient with its sign flipped "
                 "(y - y_hat instead of y_hat - y) or an update p += lr * grad.", "B15")
    lr, tenfold = _rerun(train, what, 10.0)
    if lr is not None and np.isfinite(tenfold).all() and tenfold[-1] < 0.5 * last:
        fail(f"{what}: {numbers}. With lr = {lr * 10:g} the same code gets to "
             f"{tenfold[-1]:.3g}: the learning rate is far too small.", "B19")
    fail(f"{what}: {numbers}. Run the clinic's tools on your fixed network: the "
         "gradient-check report, the overfit-8-samples test, the loss at init.")


def _fix(case: str, train, hidden: bool) -> None:
    for seed in ((1, 2) if hidden else (0,)):
        what = f"train_{case}(X, y, seed={seed})"
        net, losses = _train(train, seed, what)
        _probe(net, losses, what, case)
        acc = _accuracy(net, seed, what)
        if acc < TARGET:
            _why(train, what, losses, acc)


def _make_fix(case: str):
    def check_train(train, *, hidden=False):
        _fix(case, train, hidden)

    check_train.__name__ = check_train.__qualname__ = f"check_train_{case}"
    check_train.__doc__ = (
        f"Check the fixed `train_{case}(X, y, seed=0, lr=..., epochs=...) -> (net, losses)` "
        f"of clinic case {case} (notebook 07): X (200, 2) moons, y (200, 1); the trained net "
        f"must classify validation data with {TARGET:.0%} accuracy.")
    return check(f"train_{case}", rung="07", covers=bugs(case))(check_train)


# --------------------------------------------------------------------------- notebook 03

@check("faulty_layer", rung="03", covers=())
def check_faulty_layer(faulty_layer, *, hidden=False):
    """Check `faulty_layer`, the index in ``net.layers`` of the layer of
    `nnlab.clinic.faulty_network()` whose backward pass is wrong (notebook 03)."""
    if isinstance(faulty_layer, bool) or not isinstance(faulty_layer, (int, float, numpy.integer)) \
            or faulty_layer != int(faulty_layer):
        fail(f"faulty_layer = {faulty_layer!r}; write the layer's index in net.layers, a whole "
             "number such as faulty_layer = 2.")
    index = int(faulty_layer)
    if index == FAULTY_LAYER:
        return
    if not 0 <= index < 8:
        fail(f"faulty_layer = {index}: the network has layers 0 to 7 (print(net) lists them).")
    if index in (FAULTY_LAYER + 1,):
        fail(f"faulty_layer = {index}: that Dense layer's own dW and db pass the report, and "
             "its dX = dY @ W.T is right too: check it with layer_numerical_gradient(layer, "
             "X_in, dY), feeding it the input it sees in the network. The report names two "
             "suspects; only one of them fails on its own.")
    fail(f"faulty_layer = {index}: the report says every gradient from one layer up is "
         "right and every one below it wrong. The wrong backward sits just below the lowest "
         "layer whose gradients pass: read the report's note, then check its suspects one at "
         "a time with layer_numerical_gradient.")


for _case in CASES:
    globals()[f"check_diagnosis_{_case}"] = _make_diagnosis(_case)
    globals()[f"check_train_{_case}"] = _make_fix(_case)
del _case

"""Specimens for the checks of notebook 07, the debugging clinic.

For each case: the case's own broken code and a second way of writing the same bug (each
must be named), two fixes (each must pass), two right diagnoses and two wrong ones. The
fixes and bugs are made from the case text in `nnlab.clinic` by replacing one line, as a
student does. Case f has two faults: each fixed alone leaves the other to be named, and
its diagnosis must name both.
"""

import re

from nnlab import clinic
from nnlab.checks.zoo import ZOO, Specimen


class Answer(str):
    """A diagnosis string with a name, so the zoo can list it like a function."""

    @property
    def __name__(self):
        return f"answer_{self.strip() or 'blank'}"


_MADE: list = []


class IntAnswer(int):
    """A layer index with a name, so the zoo can list it like a function."""

    @property
    def __name__(self):
        return f"layer_{int(self)}"


class FloatAnswer(float):
    @property
    def __name__(self):
        return f"layer_{self!r}"


def _variant(case: str, style: str, *edits: tuple[str, str]):
    text = clinic.source(case)
    head = re.search(rf"def train_{case}\(.*\):\n", text).group(0)
    text = text.replace(head, f'{head}    """{style}"""\n')
    for old, new in edits:
        if old not in text:
            raise ValueError(f"clinic case {case}: {old!r} is not in its code")
        text = text.replace(old, new)
    fn = clinic.define(text, f"<zoo clinic {case} {len(_MADE)}>")[f"train_{case}"]
    _MADE.append(fn)
    fn.__name__ = f"train_{case}_" + "_".join(
        "".join(ch for ch in new if ch.isalnum())[:12] for _, new in edits)
    return fn


#: case -> (the fixes, (style, edits) of the second mutant)
_FIXES = {
    "a": ([("self.out >= 0", "self.out > 0")],
          [("self.out = np.maximum(X, 0.0)", "self.out = X * (X > 0)"),
           ("self.out >= 0", "self.out > 0.0")]),
    "b": ([("lr * params[name]", "lr * grads[name]")],
          [("for name, p in params.items():\n        p -= lr * params[name]",
            "for name in params:\n        params[name] -= lr * grads[name]")]),
    "c": ([("lr=50.0", "lr=2.0")], [("lr=50.0", "lr=1.0")]),
    "d": ([("rng.normal(0, 1) * np.ones((n_in, n_out))", "rng.normal(0, 1, (n_in, n_out))")],
          [("self.W = rng.normal(0, 1) * np.ones((n_in, n_out)) / np.sqrt(n_in)",
            "pass"), ("super().__init__(n_in, n_out)", "super().__init__(n_in, n_out, seed)")]),
    "e": ([("2 * (y - y_hat)", "2 * (y_hat - y)")],
          [("grad = 2 * (y - y_hat) / y.size", "grad = -2 * (y - y_hat) / y.size")]),
}

_BUGS = {
    "a": ("np.where, still >= 0", [("return dY * (self.out >= 0)",
                                     "return np.where(self.out >= 0, dY, 0.0)")]),
    "b": ("p *= 1 - lr: the weights decay, no gradient",
          [("p -= lr * params[name]", "p *= 1 - lr")]),
    "c": ("lr far too small", [("lr=50.0", "lr=0.05")]),
    "d": ("every weight the same constant", [("rng.normal(0, 1) * np.ones((n_in, n_out))",
                                               "np.full((n_in, n_out), 0.5)")]),
    "e": ("an update that climbs", [("2 * (y - y_hat)", "2 * (y_hat - y)"),
                                    ("sgd_step(net.params(), net.grads(), lr)",
                                     "sgd_step(net.params(), net.grads(), -lr)")]),
}

_WRONG = {"a": ("B18", "b8 bias"), "b": ("B16", ""), "c": ("B15", "lr"), "d": ("B4", "6"),
          "e": ("B19", "B20")}

for _case, (_truth, _tool) in __import__("nnlab.checks.rung07", fromlist=["CASES"]).CASES.items():
    if not isinstance(_truth, str):
        continue  # the combined case, below
    _train, _diag = f"check_train_{_case}", f"check_diagnosis_{_case}"
    ZOO.append(Specimen(_train, clinic.broken(_case), False, _truth, f"clinic case {_case}'s code"))
    _style, _edits = _BUGS[_case]
    if _case == "e":
        # the climbing update in the fixed code: the loss gradient right, the step reversed;
        # sgd_step refuses a negative lr, so the second mutant adds the gradient itself
        _edits = [("2 * (y - y_hat)", "2 * (y_hat - y)"),
                  ("sgd_step(net.params(), net.grads(), lr)",
                   "[p.__iadd__(lr * g) for p, g in zip(net.params().values(), "
                   "net.grads().values())]")]
    ZOO.append(Specimen(_train, _variant(_case, _style, *_edits), False, _truth, _style))
    _fix, _other = _FIXES[_case]
    ZOO.append(Specimen(_train, _variant(_case, "the one-line fix", *_fix), True, None,
                        "the one-line fix"))
    ZOO.append(Specimen(_train, _variant(_case, "another fix", *_other), True, None,
                        "another fix"))
    for _answer, _how in ((_truth, "the right id"), (f" {_truth.lower()} ", "lower case, spaces")):
        ZOO.append(Specimen(_diag, Answer(_answer), True, None, _how))
    for _answer, _how in zip(_WRONG[_case], ("another catalogue id", "not an id"), strict=True):
        ZOO.append(Specimen(_diag, Answer(_answer), False, None, _how))

# case f: no bias (B7) and a ramp whose slope is 1 at 0 (B8), both needed for 95%
_RAMP = ("np.heaviside(self.out, 1.0)", "np.heaviside(self.out, 0.0)")
_BIAS = ('params = ("W",)', 'params = ("W", "b")')
for _code, _bug, _style in (
        (clinic.broken("f"), "B7", "clinic case f's code"),
        (_variant("f", "only the ramp fixed", _RAMP), "B7", "only the ramp fixed"),
        (_variant("f", "only the bias fixed", _BIAS), "B8", "only the bias fixed"),
        (_variant("f", "Dense layers, a ramp still 1 at 0",
                  ("np.heaviside(self.out, 1.0)", "(self.out >= 0)"),
                  ("Sequential(Linear(2, 16, seed=seed), Ramp(), Linear(16, 1, seed=seed + 1)",
                   "Sequential(Dense(2, 16, seed=seed), Ramp(), Dense(16, 1, seed=seed + 1)")),
         "B8", "Dense layers, a ramp still 1 at 0")):
    ZOO.append(Specimen("check_train_f", _code, False, _bug, _style))
ZOO.append(Specimen("check_train_f", _variant("f", "the two-line fix", _RAMP, _BIAS), True, None,
                    "the two-line fix"))
ZOO.append(Specimen("check_train_f", _variant(
    "f", "another fix", ("np.heaviside(self.out, 1.0)", "(self.out > 0)"),
    ('    params = ("W",)\n', "")), True, None, "another fix: Linear trains what Dense does"))
# (a list of ids is right too: tests/test_checks_rung07.py, since the zoo's answers are strings)
for _answer, _how in ((Answer("B7 B8"), "both ids"), (Answer(" b8, b7 "), "other order, commas"),
                      (Answer("B8 and B7"), "in words")):
    ZOO.append(Specimen("check_diagnosis_f", _answer, True, None, _how))
for _answer, _how in ((Answer("B8"), "one of the two"), (Answer("B7"), "the other one alone"),
                      (Answer("B8 B10"), "one right, one wrong"),
                      (Answer("B7 B8 B12"), "both and one more"), (Answer("B7B8"), "not an id")):
    ZOO.append(Specimen("check_diagnosis_f", _answer, False, None, _how))

ZOO.append(Specimen("check_faulty_layer", IntAnswer(5), True, None, "the index"))
ZOO.append(Specimen("check_faulty_layer", FloatAnswer(5.0), True, None, "the index as a float"))
ZOO.append(Specimen("check_faulty_layer", IntAnswer(6), False, None, "the Dense above it"))
ZOO.append(Specimen("check_faulty_layer", IntAnswer(0), False, None, "the first layer"))
ZOO.append(Specimen("check_faulty_layer", Answer("5"), False, None, "a string"))

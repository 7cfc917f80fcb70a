"""triage(losses): synthetic histories for every label, real histories recorded by buggy
training loops (the zoo's, the reference's, and small loops written here), and the errors a
wrong history gets."""

import math
import warnings

import numpy as np
import pytest

from nnlab.checks import triage
from nnlab.checks.triage import LABELS, Diagnosis
from nnlab.checks.zoo import rung01 as zoo01
from nnlab.data import and_gate, line_data, xor_gate

T = np.arange(200)
NOISE = np.random.default_rng(0).standard_normal(200)

# label, bug, first candidate, history
SYNTHETIC = {
    "exponential fall": ("ok", None, None, 0.69 * np.exp(-T / 30) + 0.01),
    "minibatch noise on a fall": ("ok", None, None,
                                  0.69 * np.exp(-T / 60) + 0.05 + 0.02 * NOISE),
    "rise, then a long fall": ("ok", None, None,
                               np.r_[np.linspace(0.7, 1.0, 50), np.linspace(1.0, 0.1, 150)]),
    "nan after a few epochs": ("nan", "B17", "B17", [0.7, 0.6, 0.5, np.nan, np.nan]),
    "inf": ("nan", "B17", "B17", [0.7, np.inf, np.inf]),
    "goes negative": ("negative", "B3", "B3", np.linspace(0.4, -2.0, 20)),
    "signed error around 0": ("negative", "B3", "B3", 0.01 * NOISE[:50]),
    "slow steady rise": ("rising", "B15", "B15", np.linspace(0.69, 0.71, 200)),
    "exponential rise": ("rising", "B15", "B15", 0.69 * np.exp(T / 50)),
    "fall, then blow-up": ("diverging", "B16", "B16",
                           np.r_[np.linspace(0.7, 0.2, 100), 0.2 * np.exp(np.arange(100) / 10)]),
    "short blow-up": ("diverging", "B16", "B16", [0.7, 0.3, 0.2, 0.5, 2.0]),
    "constant, not a chance level": ("flat", None, "B12", np.full(50, 1.7)),
    "wanders, ends where it began": ("flat", None, "B12",
                                     1.0 + 0.1 * np.sin(np.linspace(0, 2 * np.pi, 100))),
    "at ln 2": ("chance", None, "B4", np.full(50, math.log(2))),
    "at ln 2 with minibatch noise": ("chance", None, "B4", math.log(2) + 0.01 * NOISE),
    "at 0.25 (MSE of 0.5)": ("chance", None, "B4", 0.25 + 0.5 * np.exp(-T / 10)),
    "at ln 10": ("chance", None, "B4", math.log(10) + 1e-4 * NOISE[:100]),
    "fall, then stall": ("plateau", None, "B7",
                         np.r_[np.linspace(0.69, 0.35, 50), np.full(150, 0.35)]),
    "swings of +-0.3": ("noisy", None, "B8", 0.5 + 0.3 * (-1.0) ** T),
    "noise, no trend": ("noisy", None, "B8", 0.5 + 0.2 * NOISE.clip(-2, 2)),
}


@pytest.mark.parametrize("name", list(SYNTHETIC))
def test_synthetic_history(name):
    label, bug, first_candidate, losses = SYNTHETIC[name]
    d = triage(losses)
    assert isinstance(d, Diagnosis) and d.label in LABELS
    assert (d.label, d.bug) == (label, bug), str(d)
    if first_candidate is None:
        assert d.candidates == ()
    else:
        assert d.candidates[0] == first_candidate, d.candidates
    assert d.bug is None or d.bug in d.candidates
    arr = np.asarray(losses, float)
    # The message quotes the history: its first value (or where it broke) and its length.
    if label == "nan":
        i = int((~np.isfinite(arr)).argmax())
        assert f"at epoch {i} of {arr.size}" in d.message
    else:
        assert f"first {arr[0]:.4g}" in d.message and f"{arr.size} values" in d.message
    assert str(d).startswith(label)


def test_every_label_is_reached():
    assert {label for label, *_ in SYNTHETIC.values()} == set(LABELS)


def test_the_noisy_message_quotes_the_swings():
    d = triage(0.5 + 0.3 * (-1.0) ** T)
    assert "goes up on 50% of the steps" in d.message and "swings of about 0.3" in d.message


def test_chance_message_names_the_level():
    assert "ln 2 = 0.693" in triage(np.full(10, math.log(2))).message
    assert "10 classes" in triage(np.full(10, math.log(10))).message


@pytest.mark.parametrize("bad,error,words", [
    ([0.5, 0.4], ValueError, "holds 2 value(s)"),
    ([], ValueError, "holds 0 value(s)"),
    ("0.5 0.4 0.3", TypeError, "got str"),
    ({"loss": [1, 2, 3]}, TypeError, "got dict"),
    (0.5, TypeError, "got float"),
    (None, TypeError, "got NoneType"),
    ([0.5, "x", 0.3], TypeError, "plain numbers"),
    (np.ones((3, 2)), ValueError, "shape (3, 2)"),
    ([np.array([0.7]), np.array([0.6]), np.array([0.5])], ValueError, "shape (3, 1)"),
])
def test_bad_histories_are_named(bad, error, words):
    with pytest.raises(error) as info:
        triage(bad)
    assert words in str(info.value)


def test_accepts_lists_tuples_float32_and_ints():
    assert triage((3, 2, 1)).label == "ok"
    assert triage(np.float32([0.7, 0.5, 0.3, 0.2])).label == "ok"


# --------------------------------------------------------------------------- real histories

AND_X, AND_Y = and_gate()
XOR_X, XOR_Y = xor_gate()


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def test_reference_neuron_on_and_is_ok():
    import nnlab.neuron as neuron
    _, _, losses = neuron.train_neuron(AND_X, AND_Y)
    assert triage(losses).label == "ok"


def test_reference_neuron_on_xor_sits_at_ln2_and_suspects_b4():
    import nnlab.neuron as neuron
    _, _, losses = neuron.train_neuron(XOR_X, XOR_Y)
    d = triage(losses)
    assert d.label == "chance" and d.candidates[0] == "B4" and "ln 2" in d.message


@pytest.mark.parametrize("trainer,label,bug,suspect", [
    (zoo01.train_self_update, "chance", None, "B12"),      # seed 003: W -= lr * W
    (zoo01.train_ascent, "rising", "B15", "B15"),         # w += lr * dw
    (zoo01.train_bias_added, "rising", "B15", "B13"),     # seed 004: b += delta
    (zoo01.train_unclipped, "nan", "B17", "B17"),         # huge lr, unclipped log
    (zoo01.train_no_bias, "chance", None, "B4"),          # no bias: AND stuck at 0.5
    (zoo01.train_vec, "ok", None, None),                  # a correct loop
])
def test_zoo_training_loops_on_and(trainer, label, bug, suspect):
    _, _, losses = _quiet(trainer, AND_X, AND_Y)
    d = triage(losses)
    assert (d.label, d.bug) == (label, bug), str(d)
    if suspect:
        assert suspect in d.candidates


def _line_fit(*, bias=True, lr=0.1, epochs=200, accumulate=False, signed=False,
              assign=True, b_true=3.0, w0=0.0):
    """Gradient descent on y = 2x + b_true with MSE, with the catalogued mistakes as flags."""
    x = np.linspace(-1, 1, 20).reshape(-1, 1)
    y = 2 * x + b_true
    w, b = np.full((1, 1), w0), np.zeros(1)
    dw_buf, db_buf = np.zeros_like(w), np.zeros_like(b)
    losses = []
    for _ in range(epochs):
        y_hat = x @ w + (b if bias else 0.0)
        err = y_hat - y
        losses.append(float(np.sum(y - y_hat)) if signed else float((err**2).mean()))
        dw, db = 2 * x.T @ err / len(x), 2 * err.mean(axis=0)
        if accumulate:  # B16: buffers never reset
            dw_buf += dw
            db_buf += db
            dw, db = dw_buf, db_buf
        if assign:
            w -= lr * dw
            b -= lr * db if bias else 0.0
        else:  # the update lands in a new array the forward pass never reads
            w_new = w - lr * dw  # noqa: F841
    return losses


def test_real_loop_without_bias_plateaus_and_suspects_b7():
    d = triage(_line_fit(bias=False))
    assert d.label == "plateau" and d.candidates[0] == "B7", str(d)


def test_real_loop_whose_update_never_lands_is_flat():
    d = triage(_line_fit(assign=False))
    assert d.label == "flat" and "B12" in d.candidates, str(d)


def test_real_loop_with_accumulating_buffers_blows_up():
    # B16 with a learning rate the fresh gradient would survive: the slope fits first, then
    # the accumulated bias gradient overshoots further every step.
    d = triage(_line_fit(accumulate=True, lr=2.2, epochs=30, b_true=0.01))
    assert (d.label, d.bug) == ("diverging", "B16"), str(d)
    assert triage(_line_fit(lr=0.9, epochs=30, b_true=0.01)).label == "ok"


def test_seed000_signed_loss_goes_negative():
    # Seed 000's loss.append(sum(Y - YHat)) on its line y = 2x, from a steep start.
    X, Y, _, _ = line_data()
    w = np.array([[3.0]])
    losses = []
    for _ in range(50):
        y_hat = X @ w
        losses.append(float(np.sum(Y - y_hat)))
        w -= 0.01 * X.T @ (y_hat - Y)
    d = triage(losses)
    assert (d.label, d.bug) == ("negative", "B3"), str(d)


def test_minibatch_sgd_per_step_losses():
    rng = np.random.default_rng(1)  # two overlapping Gaussian classes in 5-D
    y = (rng.random(400) < 0.5).astype(float)
    X = rng.normal(size=(400, 5)) + 1.2 * (2 * y[:, None] - 1) * np.array([1, 0.5, 0, 0, 0])

    def run(lr):
        w, b, losses = np.zeros(5), 0.0, []
        rng = np.random.default_rng(0)
        for _ in range(5):
            idx = rng.permutation(400)
            for i in range(0, 400, 8):
                j = idx[i:i + 8]
                p = np.clip(1 / (1 + np.exp(-(X[j] @ w + b))), 1e-12, 1 - 1e-12)
                losses.append(float(-(y[j] * np.log(p) + (1 - y[j]) * np.log(1 - p)).mean()))
                w -= lr * X[j].T @ (p - y[j]) / 8
                b -= lr * (p - y[j]).mean()
        return losses

    assert triage(run(0.1)).label == "ok"  # the usual minibatch noise is not an alarm
    d = triage(_quiet(run, 5.0))
    # lr=5 is the cause here: the step size (B19) is a suspect beside a partly wrong gradient
    assert d.label == "noisy" and d.candidates == ("B8", "B19"), str(d)

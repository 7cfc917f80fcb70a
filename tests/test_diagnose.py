"""nnlab.diagnose: each sanity check tells a healthy network from the broken one it is for."""

import math

import numpy as np
import pytest

from nnlab import clinic, diagnose
from nnlab.layers import Dense, ReLU, Sigmoid, Tanh
from nnlab.network import Sequential


def test_loss_at_init_reads_cross_entropy_against_ln_k():
    ok = diagnose.loss_at_init([0.70, 0.5, 0.3])
    assert ok.ok and ok.expected == pytest.approx(math.log(2))
    assert "ln 2 = 0.6931" in str(ok) and "ok" in str(ok)
    bad = diagnose.loss_at_init([5.3, 4.0], k=10)
    assert not bad.ok and bad.expected == pytest.approx(math.log(10))
    assert "far from it" in str(bad)


def test_loss_at_init_reads_squared_error_against_a_quarter():
    assert diagnose.loss_at_init([0.24, 0.2], loss="mse").ok
    assert not diagnose.loss_at_init([0.9], loss="mse").ok


@pytest.mark.parametrize("kwargs, words", [({"k": 1}, "k=1"), ({"loss": "hinge"}, "hinge"),
                                           ({"k": 3, "loss": "mse"}, "k=2")])
def test_loss_at_init_rejects_bad_arguments(kwargs, words):
    with pytest.raises(ValueError, match=words):
        diagnose.loss_at_init([0.7], **kwargs)


def test_loss_at_init_needs_a_history():
    with pytest.raises(ValueError, match="empty"):
        diagnose.loss_at_init([])


def test_overfit_tiny_passes_a_correct_loop_and_fails_a_broken_update():
    X, y = clinic.moons(50, seed=3)
    fixed = clinic.define(clinic.source("b").replace("lr * params[name]", "lr * grads[name]"),
                          "<test fixed b>")["train_b"]
    healthy = diagnose.overfit_tiny(fixed, X, y, seed=0)
    assert healthy.ok and healthy.accuracy == 1.0 and healthy.n == 8, healthy
    broken = diagnose.overfit_tiny(clinic.broken("b"), X, y, seed=0)
    assert not broken.ok and "FAILED" in str(broken)


def test_activation_stats_counts_twins_and_dead_units():
    net = Sequential(Dense(2, 4), ReLU(), Dense(4, 1), Sigmoid())
    net[0].W = np.array([[1.0, 1.0, -5.0, 0.5], [1.0, 1.0, -5.0, -0.5]])
    X = np.array([[1.0, 2.0], [0.5, 0.1], [2.0, 1.0]])
    table = diagnose.activation_stats(net, X).splitlines()
    assert table[0].split() == ["layer", "output", "mean", "std", "zeros", "saturated",
                                "twin", "units"]
    relu = table[2].split()
    assert relu[:2] == ["1", "ReLU"]
    assert "1 of 4" in table[2]               # unit 1 copies unit 0
    # unit 2 is dead on all 3 samples, unit 3 on one: 4 of the 12 outputs are exact zeros
    assert relu[6] == "33%", relu


def test_update_ratios_show_a_step_along_the_weights():
    before = {"W": np.array([[1.0, -2.0]]), "b": np.zeros(2)}
    grads = {"W": np.array([[0.3, 0.1]]), "b": np.array([0.2, -0.1])}
    after = {"W": before["W"] * 0.5, "b": before["b"] - 0.5 * grads["b"]}  # B12 on W only
    rows = [line.split() for line in diagnose.update_ratios(before, after, grads).splitlines()]
    assert rows[1][0] == "W" and rows[1][2] == "0.5"
    assert rows[2][0] == "b" and "starts" in " ".join(rows[2]) and rows[2][-1] == "+1.000"
    down = {"W": before["W"] - 0.1 * grads["W"], "b": after["b"]}
    assert diagnose.update_ratios(before, down, grads).splitlines()[1].split()[-1] == "+1.000"


def test_update_ratios_need_matching_keys():
    with pytest.raises(ValueError, match="same keys"):
        diagnose.update_ratios({"W": np.ones(2)}, {"W": np.ones(2)}, {"b": np.ones(2)})


def test_tanh_net_stats_read_saturation():
    net = Sequential(Dense(1, 2), Tanh())
    net[0].W = np.array([[100.0, 0.01]])
    table = diagnose.activation_stats(net, np.array([[1.0], [-1.0]])).splitlines()
    assert "50%" in table[2]  # one of the two units is saturated on both samples

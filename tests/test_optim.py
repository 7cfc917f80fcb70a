"""nnlab.optim: in-place updates, key checks, and every optimiser minimising a quadratic."""

import numpy as np
import pytest

from nnlab.optim import SGD, Adam, Momentum, sgd_step

CENTRE = {"a": np.array([[1.0, -2.0], [3.0, 0.5]]), "b": np.array([-1.0, 4.0, 2.0])}
CURVE = {"a": np.array([[1.0, 3.0], [0.5, 2.0]]), "b": np.array([2.0, 1.0, 0.3])}


def _quadratic(params):
    """0.5 sum c (p - centre)**2 and its gradient: an ill-conditioned bowl."""
    loss = sum(0.5 * np.sum(CURVE[k] * (p - CENTRE[k]) ** 2) for k, p in params.items())
    return loss, {k: CURVE[k] * (p - CENTRE[k]) for k, p in params.items()}


def test_sgd_step_updates_in_place():
    params = {"w": np.array([1.0, 2.0]), "b": np.array([0.5])}
    w = params["w"]
    sgd_step(params, {"w": np.array([10.0, -10.0]), "b": np.array([1.0])}, lr=0.1)
    assert params["w"] is w
    np.testing.assert_allclose(w, [0.0, 3.0])
    np.testing.assert_allclose(params["b"], [0.4])


def test_sgd_step_names_missing_keys_and_bad_shapes():
    params = {"0.W": np.zeros((2, 2)), "0.b": np.zeros(2)}
    with pytest.raises(ValueError, match=r"grads lacks \['0.b'\]"):
        sgd_step(params, {"0.W": np.zeros((2, 2))}, 0.1)
    with pytest.raises(ValueError, match=r"grads\['0.b'\] has shape \(2, 1\)"):
        sgd_step(params, {"0.W": np.zeros((2, 2)), "0.b": np.zeros((2, 1))}, 0.1)
    with pytest.raises(ValueError, match="lr must"):
        sgd_step(params, {k: np.zeros_like(v) for k, v in params.items()}, -0.1)


@pytest.mark.parametrize("opt, steps", [(SGD(0.3), 200), (Momentum(0.05), 200),
                                        (Adam(0.1), 500)])
def test_optimisers_minimise_a_quadratic(opt, steps):
    params = {"a": np.zeros((2, 2)), "b": np.zeros(3)}
    start = _quadratic(params)[0]
    for _ in range(steps):
        opt.step(params, _quadratic(params)[1])
    assert _quadratic(params)[0] < 1e-3 * start
    for k in params:
        np.testing.assert_allclose(params[k], CENTRE[k], atol=0.05)


def test_adam_matches_the_paper_formula():
    p = np.array([0.5, -1.0, 2.0])
    params, mine = {"p": p.copy()}, p.copy()
    opt = Adam(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-6)
    m = v = np.zeros(3)
    for t in range(1, 6):
        g = np.sin(mine * t)
        opt.step(params, {"p": np.sin(params["p"] * t)})
        m = 0.8 * m + 0.2 * g
        v = 0.99 * v + 0.01 * g ** 2
        mine = mine - 0.01 * (m / (1 - 0.8 ** t)) / (np.sqrt(v / (1 - 0.99 ** t)) + 1e-6)
    np.testing.assert_allclose(params["p"], mine, rtol=1e-12)


def test_adam_keeps_float32_and_state_per_name():
    params = {"x": np.ones(4, dtype=np.float32), "y": np.ones(2, dtype=np.float32)}
    opt = Adam()
    opt.step(params, {"x": np.ones(4, np.float32), "y": -np.ones(2, np.float32)})
    assert params["x"].dtype == np.float32
    np.testing.assert_allclose(params["x"], 1 - 1e-3, rtol=1e-6)   # first step: lr * sign
    np.testing.assert_allclose(params["y"], 1 + 1e-3, rtol=1e-6)
    assert set(opt.state) == {"x", "y"}


@pytest.mark.parametrize("make", [lambda: SGD(lr=0.1, momentum=0.9),
                                  lambda: Adam(learning_rate=0.1),
                                  lambda: Momentum(0.1, beta=1.0),
                                  lambda: Adam(lr=0)])
def test_optimisers_reject_bad_arguments(make):
    with pytest.raises((TypeError, ValueError)):
        make()

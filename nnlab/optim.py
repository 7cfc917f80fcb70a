"""Optimisers: update a dict of named parameter arrays, in place, from a dict of gradients.

`sgd_step` is the graded function of notebook 05; `SGD`, `Momentum` and `Adam` come in
notebook 06. The dicts are those of `Sequential.params()` / `.grads()`: the same keys,
arrays of the same shapes. Optimiser state is kept per parameter name.
"""

from __future__ import annotations

import math

import numpy as np

from nnlab import _validate


def _pairs(params, grads):
    """Check that `params` and `grads` are dicts with the same keys and matching shapes."""
    for name, d in (("params", params), ("grads", grads)):
        if not isinstance(d, dict):
            raise TypeError(f"{name} must be a dict name -> array (net.params(), net.grads()), "
                            f"got {type(d).__name__}")
    missing = [k for k in params if k not in grads]
    extra = [k for k in grads if k not in params]
    if missing or extra:
        raise ValueError(f"params and grads must have the same keys; grads lacks {missing}, "
                         f"params lacks {extra}")
    for k, p in params.items():
        g = grads[k]
        if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
            raise TypeError(f"params[{k!r}] must be a float numpy array that can be updated in "
                            f"place, got {type(p).__name__}")
        if np.shape(g) != p.shape:
            raise ValueError(f"grads[{k!r}] has shape {np.shape(g)} but params[{k!r}] has shape "
                             f"{p.shape}; a gradient has its parameter's shape")
    return params.items()


def sgd_step(params, grads, lr):
    """One step of gradient descent, in place: ``params[k] -= lr * grads[k]`` for every k.

    Introduced in notebook 05. `params` and `grads` are dicts with the same keys, e.g.
    ``{"0.W": (d, h), "0.b": (h,), ...}``. Returns None: the arrays are changed in place,
    so the network that owns them sees the new values.
    """
    lr = _validate.positive_float(lr, "lr")
    for k, p in _pairs(params, grads):
        p -= lr * np.asarray(grads[k], dtype=p.dtype)


class Optimizer:
    """Base class: ``step(params, grads)`` updates the arrays in place."""

    def __init__(self, lr):
        self.lr = _validate.positive_float(lr, "lr")
        self.state: dict[str, dict[str, np.ndarray]] = {}

    def _slot(self, name: str, p: np.ndarray, *slots: str) -> dict[str, np.ndarray]:
        st = self.state.get(name)
        if st is None or st[slots[0]].shape != p.shape or st[slots[0]].dtype != p.dtype:
            st = self.state[name] = {s: np.zeros_like(p) for s in slots}
        return st

    def reset(self) -> None:
        """Forget the state (velocities, moments, step count)."""
        self.state.clear()

    def step(self, params, grads) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Plain gradient descent: p -= lr * g."""

    def __init__(self, lr=0.1):
        super().__init__(lr)

    def step(self, params, grads) -> None:
        sgd_step(params, grads, self.lr)

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr})"


class Momentum(Optimizer):
    """Gradient descent with momentum: v = beta v + g; p -= lr v (PyTorch's form)."""

    def __init__(self, lr=0.01, beta=0.9):
        super().__init__(lr)
        self.beta = _validate.fraction(beta, "beta", low=0.0, high=1.0)

    def step(self, params, grads) -> None:
        for k, p in _pairs(params, grads):
            v = self._slot(k, p, "v")["v"]
            v *= self.beta
            v += grads[k]
            p -= self.lr * v

    def __repr__(self) -> str:
        return f"Momentum(lr={self.lr}, beta={self.beta})"


class Adam(Optimizer):
    """Adam (Kingma & Ba): moments m, v with bias correction.

    ``m = b1 m + (1-b1) g``, ``v = b2 v + (1-b2) g**2``,
    ``p -= lr * m_hat / (sqrt(v_hat) + eps)`` with ``m_hat = m / (1 - b1**t)``,
    ``v_hat = v / (1 - b2**t)``. Updates run in place with one scratch array per
    parameter, so a step allocates nothing. For speed the state keeps the moments
    scaled, ``m / (1-b1)`` and ``v / (1-b2)`` (10 passes over each array instead of 13);
    the constants are folded into the step, which is the same update up to rounding.
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(lr)
        self.beta1 = _validate.fraction(beta1, "beta1", low=0.0, high=1.0)
        self.beta2 = _validate.fraction(beta2, "beta2", low=0.0, high=1.0)
        self.eps = _validate.positive_float(eps, "eps")
        self.t = 0

    def reset(self) -> None:
        super().reset()
        self.t = 0

    def step(self, params, grads) -> None:
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        # With m' = m / (1-b1) and v' = v / (1-b2) the moments update as m' = b1 m' + g,
        # v' = b2 v' + g**2, and sqrt(v_hat) = c sqrt(v') with c = sqrt((1-b2) / (1-b2**t)),
        # so  lr m_hat / (sqrt(v_hat) + eps) = scale * m' / (sqrt(v') + eps / c).
        c = math.sqrt((1 - b2) / (1 - b2 ** self.t))      # Python floats: weak scalars
        scale = self.lr * (1 - b1) / ((1 - b1 ** self.t) * c)
        eps = self.eps / c
        for k, p in _pairs(params, grads):
            st = self._slot(k, p, "m", "v", "tmp")
            m, v, tmp = st["m"], st["v"], st["tmp"]
            g = grads[k]
            m *= b1
            m += g
            np.multiply(g, g, out=tmp)
            v *= b2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp += eps
            np.divide(m, tmp, out=tmp)
            tmp *= scale
            p -= tmp

    def __repr__(self) -> str:
        return f"Adam(lr={self.lr}, beta1={self.beta1}, beta2={self.beta2}, eps={self.eps})"

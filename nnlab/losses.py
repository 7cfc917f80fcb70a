"""Loss functions: each is a mean over the batch, and each gradient carries the 1/n.

`bce_loss` is the graded float-returning loss of notebook 01. `mse`,
`binary_cross_entropy` and `softmax_cross_entropy` return ``(loss, gradient)`` with the
gradient taken with respect to their first argument, ready for `backward`.
"""

from __future__ import annotations

import numpy as np

from nnlab import _validate

#: Predictions are clipped to [EPS, 1 - EPS] before a log, so log(0) never happens.
EPS = 1e-12


def _pair(y_hat, y, names=("y_hat", "y")) -> tuple[np.ndarray, np.ndarray]:
    """Predictions and targets with equal shapes; (n,) against (n, 1) is accepted."""
    if type(y_hat) is np.ndarray and type(y) is np.ndarray and y_hat.shape == y.shape \
            and y_hat.dtype.kind == "f" and y.dtype.kind in "biuf" and y_hat.size:
        return y_hat, y                     # the usual case, checked in ~0.5 us
    y_hat = _validate.array(y_hat, names[0], float_only=True)
    y = _validate.array(y, names[1])
    if y.shape != y_hat.shape:
        m = y_hat.shape[0] if y_hat.ndim else 0
        if {y.shape, y_hat.shape} == {(m,), (m, 1)}:
            y = y.reshape(y_hat.shape)
        else:
            raise ValueError(
                f"{names[0]} has shape {y_hat.shape} but {names[1]} has shape {y.shape}; "
                "they must match, one prediction per target (shapes that broadcast, like "
                "(n, 1) and (1, n), would compare every prediction with every target)")
    if y_hat.size == 0:
        raise ValueError(f"{names[0]} is empty; a loss needs at least one sample")
    return y_hat, y


def bce_loss(y_hat, y) -> float:
    """Mean binary cross-entropy -mean(y log y_hat + (1 - y) log(1 - y_hat)), a float.

    Introduced in notebook 01. `y_hat` (n, 1) holds probabilities (a sigmoid's output),
    `y` (n, 1) the 0/1 targets. `y_hat` is clipped to [1e-12, 1 - 1e-12] (in float64)
    so predictions of exactly 0 or 1 give a large finite loss, never inf or nan.
    """
    return _bce(*_pair(y_hat, y))


def _bce(y_hat: np.ndarray, y: np.ndarray) -> float:
    p = y_hat.astype(np.float64)            # a copy, clipped in place (np.clip is slower)
    np.maximum(p, EPS, out=p)
    np.minimum(p, 1 - EPS, out=p)
    return float(-(y * np.log(p) + (1 - y) * np.log1p(-p)).sum() / p.size)


def binary_cross_entropy(y_hat, y):
    """Mean binary cross-entropy and its gradient with respect to `y_hat`.

    Introduced in notebook 04. `y_hat` (n, k) probabilities, `y` (n, k) 0/1 targets.
    Returns ``(loss, dy_hat)`` with ``dy_hat = (y_hat - y) / (y_hat (1 - y_hat)) / (n k)``,
    same shape and dtype as `y_hat`; the clipping of `bce_loss` keeps it finite.
    """
    y_hat, y = _pair(y_hat, y)
    loss = _bce(y_hat, y)
    p = np.maximum(y_hat, EPS)
    np.minimum(p, 1 - EPS, out=p)
    grad = (p - y) / (p * (1 - p)) / y_hat.size
    return loss, grad.astype(y_hat.dtype, copy=False)


def mse(y_hat, y):
    """Mean squared error mean((y_hat - y)**2) over every element, and its gradient.

    Introduced in notebook 05. `y_hat` and `y` have the same shape, (n, k) or (n,).
    Returns ``(loss, dy_hat)`` with ``dy_hat = 2 (y_hat - y) / (n k)``.
    """
    y_hat, y = _pair(y_hat, y)
    diff = y_hat - y
    loss = float(np.mean(np.square(diff, dtype=np.float64)))
    return loss, (diff * (2.0 / diff.size)).astype(y_hat.dtype, copy=False)


def softmax_cross_entropy(Z, y):
    """Mean cross-entropy of softmax(Z) against integer labels, and dLoss/dZ.

    Introduced in notebook 06. `Z` (n, k) raw scores (logits, no softmax applied), `y`
    (n,) integer labels in 0..k-1. Returns ``(loss, dZ)`` where ``loss`` is a float and
    ``dZ = (softmax(Z) - onehot(y)) / n`` has shape (n, k) and the dtype of `Z`.
    The log-softmax is computed as ``Z - max - log(sum(exp(Z - max)))``, so huge logits
    give neither overflow nor log(0) (bug B17).
    """
    Z = _validate.array(Z, "Z", ndim=2, float_only=True)
    n, k = Z.shape
    if n == 0:
        raise ValueError("Z is empty; a loss needs at least one sample")
    y = _validate.labels(y, k)
    if len(y) != n:
        raise ValueError(f"Z has {n} rows (samples) but y has {len(y)} labels")
    rows = np.arange(n)
    P = Z - Z.max(axis=1, keepdims=True)
    picked = P[rows, y]                       # shifted logit of the true class
    np.exp(P, out=P)
    total = P.sum(axis=1)
    loss = float((np.log(total, dtype=np.float64) - picked).sum()) / n
    P /= total[:, None]
    P[rows, y] -= 1
    P *= 1.0 / n
    return loss, P

"""Activation functions as plain numpy functions: sigmoid, its derivative, softmax.

These are the reference answers for notebook 00 (`sigmoid`, `sigmoid_derivative`) and
notebook 06 (`softmax`). Each keeps a float32 input in float32 and never overflows.
"""

from __future__ import annotations

import numpy as np

from nnlab import _validate


def _floating(z, name: str) -> np.ndarray:
    return _validate.array(z, name, float_only=True)


def sigmoid(z):
    """The logistic function 1 / (1 + exp(-z)), elementwise, without overflow.

    Introduced in notebook 00. `z` is any shape (a scalar, (n,), (n, h), ...); the result
    has the same shape and dtype (integers become float64). It is computed from
    ``exp(-|z|)``, which lies in (0, 1], so ``sigmoid(-1000)`` is 0.0 with no warning.
    """
    z = _floating(z, "z")
    e = np.exp(-np.abs(z))
    out = np.where(z >= 0, 1.0, e) / (1.0 + e)
    out = out.astype(z.dtype, copy=False)
    return out[()] if out.ndim == 0 else out


def sigmoid_derivative(z):
    """d sigmoid(z) / dz = sigmoid(z) * (1 - sigmoid(z)), elementwise.

    Introduced in notebook 00. Takes the *input* `z`, not the sigmoid's output (applying
    it to the output is bug B18). Same shape and dtype as `z`.
    """
    s = sigmoid(z)
    return s * (1 - s)


def softmax(Z):
    """Row-wise softmax: P[i, j] = exp(Z[i, j]) / sum_c exp(Z[i, c]).

    Introduced in notebook 06. `Z` holds scores (logits) of shape (n, k); `P` has the
    same shape and dtype and each row sums to 1. The row maximum is subtracted first,
    so logits of 1000 give no overflow (forgetting that is bug B17). A 1-D `Z` of
    shape (k,) is treated as one row.
    """
    Z = _floating(Z, "Z")
    if Z.ndim == 0:
        raise ValueError("Z is a single number; softmax needs scores of shape (n, k) or (k,)")
    P = Z - Z.max(axis=-1, keepdims=True)
    np.exp(P, out=P)
    P /= P.sum(axis=-1, keepdims=True)
    return P

"""One sigmoid neuron: its forward pass, its gradients and a training loop.

These are the reference answers of notebook 01. The neuron computes
``y_hat = sigmoid(X @ w + b)`` and is trained by gradient descent on the mean binary
cross-entropy; it learns AND and OR, and cannot learn XOR (bug B4).
"""

from __future__ import annotations

import numpy as np

from nnlab import _validate
from nnlab.activations import sigmoid
from nnlab.losses import bce_loss


def _check_params(X: np.ndarray, w, b) -> tuple[np.ndarray, np.ndarray]:
    n, d = X.shape
    w = _validate.array(w, "w", float_only=True)
    b = _validate.array(b, "b", float_only=True)
    if w.shape != (d, 1):
        raise ValueError(f"w has shape {w.shape}; with X of shape {X.shape} (d={d} inputs) "
                         f"the neuron needs one weight per input, shape ({d}, 1)")
    if b.size != 1:
        per_sample = " (one per training example: bug B1)" if b.size == n else ""
        raise ValueError(f"b has shape {b.shape}{per_sample}; a neuron has a single bias, "
                         "shape (1,), shared by every sample")
    return w, b.reshape(1)


def neuron_forward(X, w, b):
    """The neuron's output ``sigmoid(X @ w + b)``.

    Introduced in notebook 01. `X` (n, d) inputs, `w` (d, 1) weights, `b` (1,) bias;
    returns `y_hat` (n, 1), probabilities in (0, 1).
    """
    X = _validate.array(X, "X", ndim=2, float_only=True)
    w, b = _check_params(X, w, b)
    return sigmoid(X @ w + b)


def neuron_gradients(X, y, y_hat):
    """Gradients of the mean binary cross-entropy of a sigmoid neuron: ``(dw, db)``.

    Introduced in notebook 01. `X` (n, d), `y` (n, 1) 0/1 targets, `y_hat` (n, 1) the
    neuron's output. With ``dz = (y_hat - y) / n`` (sigmoid and cross-entropy cancel),
    ``dw = X.T @ dz`` has shape (d, 1) and ``db = dz.sum(axis=0)`` shape (1,).
    """
    X = _validate.array(X, "X", ndim=2, float_only=True)
    n = X.shape[0]
    y = _validate.array(y, "y")
    y_hat = _validate.array(y_hat, "y_hat", float_only=True)
    for name, arr in (("y", y), ("y_hat", y_hat)):
        if arr.size != n or arr.ndim > 2:
            raise ValueError(f"{name} has shape {arr.shape}; with X of shape {X.shape} it "
                             f"must hold one value per sample, shape ({n}, 1)")
    dz = (y_hat.reshape(n, 1) - y.reshape(n, 1)) / n
    return X.T @ dz, dz.sum(axis=0)


def train_neuron(X, y, lr=1.0, epochs=1000, seed=0):
    """Train one sigmoid neuron by full-batch gradient descent on the mean BCE.

    Introduced in notebook 01. `X` (n, d) inputs, `y` (n, 1) 0/1 targets. The weights
    start small and random (normal, std 0.1, from `seed`), the bias at 0. Returns
    ``(w, b, losses)``: `w` (d, 1), `b` (1,) and the list of `epochs` losses, the loss
    before each update. The defaults reach accuracy 1.0 on AND and OR in a few
    milliseconds; on XOR the loss stays near log 2 = 0.693.
    """
    X = _validate.array(X, "X", ndim=2, float_only=True)
    y = _validate.array(y, "y", float_only=True)
    if y.size != X.shape[0]:
        raise ValueError(f"y has shape {y.shape}; X has {X.shape[0]} samples, so y needs "
                         f"shape ({X.shape[0]}, 1)")
    y = y.reshape(-1, 1)
    lr = _validate.positive_float(lr, "lr")
    epochs = _validate.positive_int(epochs, "epochs")
    rng = np.random.default_rng(_validate.seed(seed))
    w = rng.normal(0.0, 0.1, size=(X.shape[1], 1))
    b = np.zeros(1)
    losses = []
    for _ in range(epochs):
        y_hat = neuron_forward(X, w, b)
        losses.append(bce_loss(y_hat, y))
        dw, db = neuron_gradients(X, y, y_hat)
        w -= lr * dw
        b -= lr * db
    return w, b, losses

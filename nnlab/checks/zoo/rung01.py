"""Specimens for the checks of notebook 01: a neuron's forward pass, loss, gradients, trainer.

Mutants follow the forum posts where they apply (seed 000's signed-sum loss and per-sample
bias, seed 003's `W -= lr * W`, seed 004's `b += delta`) and the usual slips (a missing 1/n,
a flipped sign, a transposed gradient, buffers never reset), each in two coding styles.
"""

from __future__ import annotations

import math

import numpy as np

from nnlab.checks.zoo import correct, mutant


def _sig(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1, e) / (1 + e)


# --------------------------------------------------------------------------- forward

@correct("check_neuron_forward", "vectorised sigmoid(X @ w + b)")
def forward_vec(X, w, b):
    return _sig(X @ w + b)


@correct("check_neuron_forward", "loop over samples with np.dot")
def forward_loop(X, w, b):
    out = np.zeros((X.shape[0], 1))
    for i in range(X.shape[0]):
        out[i, 0] = _sig(np.dot(X[i], w[:, 0]) + b[0])
    return out


@correct("check_neuron_forward", "einsum and the tanh identity")
def forward_einsum(X, w, b):
    return 0.5 * (1 + np.tanh(0.5 * (np.einsum("nd,dk->nk", X, w) + b)))


@correct("check_neuron_forward", "seed 001's style: a column of ones, the bias as weight 0")
def forward_ones_column(X, w, b):
    n = np.shape(X)[0]
    weights = np.concatenate((np.reshape(b, (1, 1)), w), 0)
    return _sig(np.dot(np.concatenate((np.ones((n, 1)), X), 1), weights))


@mutant("check_neuron_forward", "B7", "bias ignored, vectorised")
def forward_no_bias(X, w, b):
    return _sig(X @ w)


@mutant("check_neuron_forward", "B7", "bias ignored, loop")
def forward_no_bias_loop(inputs, weights, bias):
    return np.array([[_sig(sum(x * wt for x, wt in zip(row, weights[:, 0], strict=True)))]
                     for row in inputs])


@mutant("check_neuron_forward", "B1", "one bias per sample: z[i] += b[i]")
def forward_bias_per_sample(X, w, b):
    z = X @ w
    for i in range(len(z)):
        z[i] += b[i]
    return _sig(z)


@mutant("check_neuron_forward", "B1", "bias reshaped to (n, 1), seed 000's Biases: (4, 1)")
def forward_bias_reshaped(X, w, b):
    return _sig(X @ w + b.reshape(X.shape[0], 1))


@mutant("check_neuron_forward", "B14", "w transposed: X @ w.T")
def forward_w_transposed(X, w, b):
    return _sig(X @ w.T + b)


@mutant("check_neuron_forward", "B14", "output transposed: w.T @ X.T, as in seed 003")
def forward_transposed_output(X, w, b):
    return _sig(np.dot(w.T, X.T) + b)


@correct("check_neuron_forward", "z clipped to +-500, then exp(z) / (1 + exp(z))")
def forward_clipped_ratio(X, w, b):
    ez = np.exp(np.clip(X @ w + b, -500, 500))
    return ez / (1 + ez)


@correct("check_neuron_forward",
         "naive 1 / (1 + exp(-z)): numpy warns at z = -1000, but the values are right, and "
         "notebook 01 promises values in (0, 1), not silence")
def forward_naive(X, w, b):
    return 1 / (1 + np.exp(-(X @ w + b)))


@mutant("check_neuron_forward", "B17", "exp(z) / (1 + exp(z)): inf / inf = nan at z = 1000")
def forward_exp_ratio(X, w, b):
    ez = np.exp(X @ w + b)
    return ez / (1 + ez)


@mutant("check_neuron_forward", "B17", "a row loop with math.exp (OverflowError at z = -1000)")
def forward_math_loop(X, w, b):
    out = np.zeros((len(X), 1))
    for i, row in enumerate(X):
        out[i, 0] = 1.0 / (1.0 + math.exp(-(float(row @ w[:, 0]) + float(b[0]))))
    return out


@mutant("check_neuron_forward", None, "sigmoid missing")
def forward_linear(X, w, b):
    return X @ w + b


@mutant("check_neuron_forward", None, "flattened to (n,)")
def forward_flat(X, w, b):
    return _sig(X @ w.ravel() + b[0])


# --------------------------------------------------------------------------- loss

@correct("check_bce_loss", "clip then mean")
def bce_clip(y_hat, y):
    p = np.clip(y_hat, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


@correct("check_bce_loss", "np.where on the target, clipped, numpy scalar")
def bce_where(y_hat, y):
    p = np.clip(y_hat, 1e-15, 1 - 1e-15)
    return np.mean(np.where(y == 1, -np.log(p), -np.log(1 - p)))


@correct("check_bce_loss", "loop with math.log and an epsilon")
def bce_loop(y_hat, y):
    total = 0.0
    for p, t in zip(y_hat.ravel(), y.ravel(), strict=True):
        p = min(max(p, 1e-12), 1 - 1e-12)
        total += -(t * math.log(p) + (1 - t) * math.log(1 - p))
    return total / y.size


@mutant("check_bce_loss", "B17", "no clipping: log(0)")
def bce_unclipped(y_hat, y):
    return float(-np.mean(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)))


@mutant("check_bce_loss", "B17", "math.log loop, no epsilon")
def bce_unclipped_loop(y_hat, y):
    total = 0.0
    for p, t in zip(y_hat.ravel(), y.ravel(), strict=True):
        total -= math.log(p) if t == 1 else math.log(1 - p)
    return total / len(y)


@mutant("check_bce_loss", "B3", "seed 000's sum(Y - YHat)")
def bce_signed_sum(y_hat, y):
    return sum(y - y_hat)


@mutant("check_bce_loss", "B3", "mean signed error")
def bce_signed_mean(y_hat, y):
    return float(np.mean(y - y_hat))


@mutant("check_bce_loss", "B5", "sum over samples instead of mean")
def bce_sum(y_hat, y):
    p = np.clip(y_hat, 1e-12, 1 - 1e-12)
    return float(-np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))


@mutant("check_bce_loss", "B5", "seed 001's CostFunction: np.sum(np.sum(error)), clipped")
def bce_seed001(output, target):
    output = np.clip(output, 1e-12, 1 - 1e-12)
    error = np.multiply(-target, np.log(output)) - np.multiply((1-target), np.log(1-output))
    total_error = np.sum(np.sum(error))
    return total_error


@mutant("check_bce_loss", "B5", "loop total never divided by n")
def bce_loop_sum(y_hat, y):
    loss = 0.0
    for i in range(len(y)):
        p = float(np.clip(y_hat[i, 0], 1e-12, 1 - 1e-12))
        loss += -y[i, 0] * math.log(p) - (1 - y[i, 0]) * math.log(1 - p)
    return loss


@mutant("check_bce_loss", None, "mean squared error instead")
def bce_is_mse(y_hat, y):
    return float(np.mean((y_hat - y) ** 2))


@mutant("check_bce_loss", None, "minus sign missing")
def bce_no_minus(y_hat, y):
    p = np.clip(y_hat, 1e-12, 1 - 1e-12)
    return float(np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


@mutant("check_bce_loss", None, "only the y * log(y_hat) term")
def bce_half(y_hat, y):
    return float(-np.mean(y * np.log(np.clip(y_hat, 1e-12, 1))))


# --------------------------------------------------------------------------- gradients

@correct("check_neuron_gradients", "vectorised, dz = (y_hat - y) / n")
def grads_vec(X, y, y_hat):
    dz = (y_hat - y) / len(X)
    return X.T @ dz, dz.sum(axis=0)


@correct("check_neuron_gradients", "loop over samples accumulating")
def grads_loop(X, y, y_hat):
    n, d = X.shape
    dw, db = np.zeros((d, 1)), np.zeros(1)
    for i in range(n):
        err = y_hat[i, 0] - y[i, 0]
        dw[:, 0] += err * X[i]
        db[0] += err
    return dw / n, db / n


@correct("check_neuron_gradients", "np.mean over the batch, reshaped")
def grads_mean(X, y, y_hat):
    err = y_hat - y
    return np.mean(X * err, axis=0).reshape(-1, 1), np.array([err.mean()])


@mutant("check_neuron_gradients", "B1", "db left per sample (seed 000)")
def grads_db_per_sample(X, y, y_hat):
    dz = (y_hat - y) / len(X)
    return X.T @ dz, dz


@mutant("check_neuron_gradients", "B1", "db as a flat per-sample vector")
def grads_db_flat(X, y, y_hat):
    err = (y_hat - y).ravel()
    return X.T @ (y_hat - y) / len(X), err / len(X)


@mutant("check_neuron_gradients", "B5", "1/n missing, vectorised")
def grads_no_mean(X, y, y_hat):
    dz = y_hat - y
    return X.T @ dz, dz.sum(axis=0)


@mutant("check_neuron_gradients", "B5", "1/n missing, loop")
def grads_no_mean_loop(X, y, y_hat):
    dw, db = np.zeros((X.shape[1], 1)), np.zeros(1)
    for x_i, t, p in zip(X, y, y_hat, strict=True):
        dw += x_i.reshape(-1, 1) * (p - t)
        db += p - t
    return dw, db


@mutant("check_neuron_gradients", "B15", "y - y_hat: sign flipped")
def grads_flipped(X, y, y_hat):
    dz = (y - y_hat) / len(X)
    return X.T @ dz, dz.sum(axis=0)


@mutant("check_neuron_gradients", "B15", "negated in a loop")
def grads_flipped_loop(X, y, y_hat):
    n = len(X)
    dw = -sum(X[i].reshape(-1, 1) * (y_hat[i] - y[i]) for i in range(n)) / n
    db = -sum(y_hat[i] - y[i] for i in range(n)) / n
    return dw, db


@mutant("check_neuron_gradients", "B14", "dw transposed: dz.T @ X")
def grads_transposed(X, y, y_hat):
    dz = (y_hat - y) / len(X)
    return dz.T @ X, dz.sum(axis=0)


@mutant("check_neuron_gradients", "B14", "np.dot of the row vector")
def grads_transposed_dot(X, y, y_hat):
    delta = (y_hat - y).T / len(X)
    return np.dot(delta, X), delta.sum(axis=1)


@mutant("check_neuron_gradients", "B7", "db returned as zeros")
def grads_no_db(X, y, y_hat):
    return X.T @ (y_hat - y) / len(X), np.zeros(1)


@mutant("check_neuron_gradients", "B7", "db returned as None")
def grads_db_none(X, y, y_hat):
    return X.T @ (y_hat - y) / len(X), None


@mutant("check_neuron_gradients", "B18", "extra sigmoid' factor (the MSE gradient)")
def grads_mse_style(X, y, y_hat):
    dz = (y_hat - y) * y_hat * (1 - y_hat) / len(X)
    return X.T @ dz, dz.sum(axis=0)


@mutant("check_neuron_gradients", "B18", "seed 001's error_delta, a loop")
def grads_mse_style_loop(X, y, y_hat):
    n = X.shape[0]
    dw = np.zeros((X.shape[1], 1))
    db = np.zeros(1)
    for i in range(n):
        delta = -1 * (y[i, 0] - y_hat[i, 0]) * (y_hat[i, 0] * (1 - y_hat[i, 0]))
        dw[:, 0] += delta * X[i] / n
        db += delta / n
    return dw, db


@mutant("check_neuron_gradients", None, "dw flattened to (d,)")
def grads_flat_dw(X, y, y_hat):
    dz = (y_hat - y) / len(X)
    return (X * dz).sum(axis=0), dz.sum(axis=0)


@mutant("check_neuron_gradients", None, "db divided by n twice")
def grads_db_twice(X, y, y_hat):
    dz = (y_hat - y) / len(X)
    return X.T @ dz, dz.sum(axis=0) / len(X)


# --------------------------------------------------------------------------- training

def _bce(p, y):
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _init(X, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 0.1, size=(X.shape[1], 1)), np.zeros(1)


@correct("check_train_neuron", "full-batch gradient descent, vectorised")
def train_vec(X, y, lr=1.0, epochs=1000, seed=0):
    w, b = _init(X, seed)
    losses = []
    for _ in range(epochs):
        p = _sig(X @ w + b)
        losses.append(_bce(p, y))
        dz = (p - y) / len(X)
        w -= lr * (X.T @ dz)
        b -= lr * dz.sum(axis=0)
    return w, b, losses


@correct("check_train_neuron", "zero init, per-sample loop accumulating a fresh buffer")
def train_loop(X, y, lr=0.5, epochs=2000, seed=0):
    n, d = X.shape
    w, b = np.zeros((d, 1)), np.zeros(1)
    losses = []
    for _ in range(epochs):
        dw, db, total = np.zeros((d, 1)), np.zeros(1), 0.0
        for i in range(n):
            p = 1 / (1 + math.exp(-(X[i] @ w[:, 0] + b[0])))
            p = min(max(p, 1e-12), 1 - 1e-12)
            total -= y[i, 0] * math.log(p) + (1 - y[i, 0]) * math.log(1 - p)
            dw[:, 0] += (p - y[i, 0]) * X[i]
            db[0] += p - y[i, 0]
        losses.append(total / n)
        w -= lr * dw / n
        b -= lr * db / n
    return w, b, losses


@correct("check_train_neuron", "online SGD: one update per sample, larger init")
def train_online(X, y, lr=0.5, epochs=500, seed=0):
    rng = np.random.default_rng(seed)
    w, b = rng.normal(size=(X.shape[1], 1)), np.zeros(1)
    losses = []
    for _ in range(epochs):
        losses.append(_bce(_sig(X @ w + b), y))
        for i in rng.permutation(len(X)):
            p = _sig(X[i:i + 1] @ w + b)
            w -= lr * X[i:i + 1].T @ (p - y[i:i + 1])
            b -= lr * (p - y[i:i + 1]).ravel()
    return w, b, losses


@mutant("check_train_neuron", "B12", "seed 003: W -= lr * W")
def train_self_update(X, y, lr=1.0, epochs=1000, seed=0):
    w, b = _init(X, seed)
    losses = []
    for _ in range(epochs):
        p = _sig(X @ w + b)
        losses.append(_bce(p, y))
        w = w - lr * w
        b = b - lr * b
    return w, b, losses


@mutant("check_train_neuron", "B12", "weights with themselves, biases right, a loop")
def train_self_update_w(X, y, lr=1.0, epochs=1000, seed=0):
    rng = np.random.default_rng(seed)
    W, bias, hist = rng.normal(size=(2, 1)), np.zeros(1), []
    for _epoch in range(epochs):
        out = _sig(X @ W + bias)
        hist.append(_bce(out, y))
        bias -= lr * np.mean(out - y, axis=0)
        W_old = W.copy()
        W = W_old - lr * W_old
    return W, bias, hist


@mutant("check_train_neuron", "B13", "seed 004: bias += output_delta in the row loop")
def train_bias_added(X, y, lr=1.0, epochs=1000, seed=0):
    w, bias_output = _init(X, seed)
    losses = []
    for _ in range(epochs):
        preds = _sig(X @ w + bias_output)
        losses.append(_bce(preds, y))
        weights_gradient = np.zeros(w.shape)
        bias_gradient = 0
        for feature, target, prediction in zip(X, y, preds, strict=True):
            output_delta = prediction - target
            weights_gradient += feature.reshape(-1, 1) * output_delta
            bias_output += output_delta
        w = w - lr * weights_gradient / len(X)
        bias_output = bias_output - lr * bias_gradient
    return w, bias_output, losses


@mutant("check_train_neuron", "B13", "gradient added into every parameter, vectorised")
def train_grad_added(X, y, lr=1.0, epochs=1000, seed=0):
    w, b = _init(X, seed)
    losses = []
    for _ in range(epochs):
        p = _sig(X @ w + b)
        losses.append(_bce(p, y))
        dz = (p - y) / len(X)
        w += X.T @ dz
        b += dz.sum(axis=0)
    return w, b, losses


@mutant("check_train_neuron", "B15", "w += lr * dw")
def train_ascent(X, y, lr=1.0, epochs=1000, seed=0):
    w, b = _init(X, seed)
    losses = []
    for _ in range(epochs):
        p = _sig(X @ w + b)
        losses.append(_bce(p, y))
        dz = (p - y) / len(X)
        w += lr * X.T @ dz
        b += lr * dz.sum(axis=0)
    return w, b, losses


@mutant("check_train_neuron", "B15", "error y - y_hat with the minus update, a loop")
def train_ascent_loop(X, y, lr=0.5, epochs=2000, seed=0):
    n, d = X.shape
    w, b = np.zeros((d, 1)), np.zeros(1)
    losses = []
    for _ in range(epochs):
        p = _sig(X @ w + b)
        losses.append(_bce(p, y))
        for j in range(d):
            w[j, 0] -= lr * np.mean((y - p)[:, 0] * X[:, j])
        b[0] -= lr * np.mean(y - p)
    return w, b, losses


@mutant("check_train_neuron", "B16", "gradient buffers created once, before the loop")
def train_accumulating(X, y, lr=1.0, epochs=1000, seed=0):
    w, b = _init(X, seed)
    dw, db = np.zeros_like(w), np.zeros_like(b)
    losses = []
    for _ in range(epochs):
        p = _sig(X @ w + b)
        losses.append(_bce(p, y))
        dz = (p - y) / len(X)
        dw += X.T @ dz
        db += dz.sum(axis=0)
        w -= lr * dw
        b -= lr * db
    return w, b, losses


@mutant("check_train_neuron", "B16", "accumulating per-sample loop, buffers never zeroed")
def train_accumulating_loop(X, y, lr=0.5, epochs=2000, seed=0):
    n, d = X.shape
    w, b = np.zeros((d, 1)), np.zeros(1)
    grad_w, grad_b, losses = np.zeros((d, 1)), np.zeros(1), []
    for _ in range(epochs):
        p = _sig(X @ w + b)
        losses.append(_bce(p, y))
        for i in range(n):
            grad_w[:, 0] += (p[i, 0] - y[i, 0]) * X[i] / n
            grad_b += (p[i] - y[i]) / n
        w -= lr * grad_w
        b -= lr * grad_b
    return w, b, losses


@mutant("check_train_neuron", "B7", "no bias: b stays at zero")
def train_no_bias(X, y, lr=1.0, epochs=1000, seed=0):
    w, b = _init(X, seed)
    losses = []
    for _ in range(epochs):
        p = _sig(X @ w)
        losses.append(_bce(p, y))
        w -= lr * X.T @ (p - y) / len(X)
    return w, b, losses


@mutant("check_train_neuron", "B7", "bias computed but never updated, a loop")
def train_bias_frozen(X, y, lr=0.5, epochs=2000, seed=0):
    weights = np.zeros((X.shape[1], 1))
    bias = np.zeros(1)
    history = []
    for _ in range(epochs):
        out = _sig(X @ weights + bias)
        history.append(_bce(out, y))
        grad_b = np.sum(out - y) / len(X)  # noqa: F841 (computed, never applied)
        weights -= lr * X.T @ (out - y) / len(X)
    return weights, bias, history


@mutant("check_train_neuron", "B1", "seed 000: one bias per training example")
def train_bias_per_sample(X, y, lr=1.0, epochs=1000, seed=0):
    w, _ = _init(X, seed)
    b = np.zeros((len(X), 1))
    losses = []
    for _ in range(epochs):
        p = _sig(X @ w + b)
        losses.append(_bce(p, y))
        dz = (p - y) / len(X)
        w -= lr * X.T @ dz
        b -= lr * dz
    return w, b, losses


@mutant("check_train_neuron", "B1", "per-sample bias, flat")
def train_bias_per_sample_flat(X, y, lr=1.0, epochs=1000, seed=0):
    w, _ = _init(X, seed)
    b = np.zeros(len(X))
    losses = []
    for _ in range(epochs):
        p = _sig(X @ w + b[:, None])
        losses.append(_bce(p, y))
        w -= lr * X.T @ (p - y) / len(X)
        b -= lr * (p - y)[:, 0]
    return w, b, losses


@mutant("check_train_neuron", "B17", "huge default learning rate and an unclipped log")
def train_unclipped(X, y, lr=300.0, epochs=300, seed=0):
    w, b = _init(X, seed)
    losses = []
    for _ in range(epochs):
        p = _sig(X @ w + b)
        losses.append(float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))))
        dz = (p - y) / len(X)
        w -= lr * X.T @ dz
        b -= lr * dz.sum(axis=0)
    return w, b, losses


@mutant("check_train_neuron", "B17", "unclipped log per sample, huge steps")
def train_unclipped_loop(X, y, lr=1000.0, epochs=200, seed=0):
    w, b = np.zeros((2, 1)), np.zeros(1)
    losses = []
    for _ in range(epochs):
        p = _sig(X @ w + b)
        total = 0.0
        for pi, yi in zip(p[:, 0], y[:, 0], strict=True):
            total += -np.log(pi) if yi == 1 else -np.log(1 - pi)
        losses.append(total / len(X))
        w -= lr * X.T @ (p - y) / len(X)
        b -= lr * np.mean(p - y, axis=0)
    return w, b, losses


@mutant("check_train_neuron", "B19", "defaults far too small: 10 epochs at lr 0.01")
def train_too_short(X, y, lr=0.01, epochs=10, seed=0):
    return train_vec(X, y, lr=lr, epochs=epochs, seed=seed)


@mutant("check_train_neuron", None, "losses recorded once, at the end")
def train_one_loss(X, y, lr=1.0, epochs=1000, seed=0):
    w, b, losses = train_vec(X, y, lr=lr, epochs=epochs, seed=seed)
    return w, b, losses[-1:]


# The contract's arguments: `epochs` and `lr` are the caller's, not the function's.

@mutant("check_train_neuron", None, "epochs ignored: a hard-coded range(1000)")
def train_fixed_epochs(X, y, lr=1.0, epochs=1000, seed=0):
    w, b = _init(X, seed)
    losses = []
    for _ in range(1000):
        p = _sig(X @ w + b)
        losses.append(_bce(p, y))
        dz = (p - y) / len(X)
        w -= lr * (X.T @ dz)
        b -= lr * dz.sum(axis=0)
    return w, b, losses


@mutant("check_train_neuron", None, "epochs ignored: a while loop until the loss is small")
def train_until_small(X, y, lr=1.0, epochs=1000, seed=0):
    n, d = X.shape
    w, b = np.zeros((d, 1)), np.zeros(1)
    losses = [1.0]
    while losses[-1] > 0.05 and len(losses) < 5000:
        p = _sig(X @ w + b)
        losses.append(_bce(p, y))
        w = w - lr * X.T @ (p - y) / n
        b = b - lr * np.mean(p - y, axis=0)
    return w, b, losses[1:]


@mutant("check_train_neuron", None, "lr ignored: w = w - dw, b = b - db")
def train_no_lr(X, y, lr=0.5, epochs=2000, seed=0):
    w, b = _init(X, seed)
    losses = []
    for _ in range(epochs):
        p = _sig(X @ w + b)
        losses.append(_bce(p, y))
        dz = (p - y) / len(X)
        w = w - X.T @ dz
        b = b - dz.sum(axis=0)
    return w, b, losses


@mutant("check_train_neuron", None, "a learning rate fixed inside, for the bias only")
def train_bias_fixed_lr(X, y, lr=1.0, epochs=1000, seed=0):
    w, b = _init(X, seed)
    losses = []
    for _ in range(epochs):
        p = _sig(X @ w + b)
        losses.append(_bce(p, y))
        dz = (p - y) / len(X)
        w -= lr * X.T @ dz
        b -= 2.0 * dz.sum(axis=0)
    return w, b, losses


@correct("check_train_neuron", "a while loop counting the epochs down")
def train_countdown(X, y, lr=1.0, epochs=1000, seed=0):
    w, b = _init(X, seed)
    losses = []
    left = epochs
    while left > 0:
        p = _sig(X @ w + b)
        losses.append(_bce(p, y))
        w = w - lr * X.T @ (p - y) / len(X)
        b = b - lr * (p - y).mean(axis=0)
        left -= 1
    return w, b, losses


@correct("check_train_neuron", "a decaying step: lr / (1 + epoch / 500)")
def train_decaying_lr(X, y, lr=2.0, epochs=1000, seed=0):
    w, b = _init(X, seed)
    losses = []
    for epoch in range(epochs):
        step = lr / (1 + epoch / 500)
        p = _sig(X @ w + b)
        losses.append(_bce(p, y))
        dz = (p - y) / len(X)
        w -= step * X.T @ dz
        b -= step * dz.sum(axis=0)
    return w, b, losses

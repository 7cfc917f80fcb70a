"""Training loops: minibatches, `fit` for any `Sequential`, and the XOR experiment.

`iterate_minibatches` is graded in notebook 06 and `train_xor` in notebook 04. `fit`
trains with a progress bar, records a `History`, measures accuracy in evaluation mode
(never with dropout on, bug B11) and stops with `TrainingDiverged` at the first nan/inf.
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from nnlab import _validate
from nnlab.layers import Dense, Sigmoid, Tanh
from nnlab.losses import binary_cross_entropy, mse, softmax_cross_entropy
from nnlab.network import Sequential
from nnlab.optim import SGD, Adam

LOSSES = {"cross_entropy": softmax_cross_entropy, "mse": mse, "bce": binary_cross_entropy}


class TrainingDiverged(FloatingPointError):
    """The loss became nan or inf. Attributes: `epoch`, `step`, `loss`, `last_finite`."""

    def __init__(self, epoch: int, step: int, loss: float, last_finite: float | None):
        self.epoch, self.step, self.loss, self.last_finite = epoch, step, loss, last_finite
        last = "none yet" if last_finite is None else f"{last_finite:.4g}"
        super().__init__(
            f"training diverged: the loss became {loss} at epoch {epoch}, step {step} "
            f"(last finite loss: {last}). Usual causes: the learning rate is too high "
            "(try 10x smaller); a softmax without subtracting the row max, or log(0) in "
            "the loss (bug B17); gradient buffers that accumulate across steps instead of "
            "being overwritten (bug B16).")


class History(dict):
    """Per-epoch records of `fit`: lists under "loss", "acc", "val_loss", "val_acc".

    "loss" is the mean training loss of the epoch's minibatches; "acc" is accuracy on
    the whole training set in evaluation mode; "val_*" stay empty without validation
    data, "acc" stays empty when the targets are not class labels.
    """

    def __init__(self):
        super().__init__(loss=[], acc=[], val_loss=[], val_acc=[])

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.items() if v)
        return f"History({len(self['loss'])} epochs{': ' if last else ''}{last})"


def iterate_minibatches(X, y, batch_size, seed):
    """Yield ``(Xb, yb)`` minibatches covering every sample exactly once.

    Introduced in notebook 06. `X` (n, d), `y` (n,) or (n, k). The order is a random
    permutation drawn from `seed` (None: fresh randomness); batches hold `batch_size`
    samples, the last one the remainder (n % batch_size) when it is not 0.
    """
    X = _validate.array(X, "X")
    y = _validate.array(y, "y")
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError("X and y must hold one row per sample, not a single number")
    _validate.same_length(X, y)
    batch_size = _validate.positive_int(batch_size, "batch_size")
    order = np.random.default_rng(_validate.seed(seed)).permutation(len(X))
    for start in range(0, len(X), batch_size):
        idx = order[start:start + batch_size]
        yield X.take(idx, axis=0), y.take(idx, axis=0)


def _loss_fn(loss):
    if callable(loss):
        return loss
    if loss not in LOSSES:
        raise ValueError(f"loss={loss!r} is not known; use one of {sorted(LOSSES)} or a "
                         "function (Z, y) -> (loss, dZ)")
    return LOSSES[loss]


def _accuracy(out: np.ndarray, y: np.ndarray) -> float | None:
    """Fraction of correct predictions, or None when `y` holds no class labels."""
    if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1):
        labels = y.reshape(-1)
        if labels.dtype.kind == "f" and not np.all(labels == np.round(labels)):
            return None
        pred = out.argmax(axis=1) if out.shape[1] > 1 else (out[:, 0] > 0.5)
        return float(np.mean(pred == labels))
    if y.shape == out.shape:                     # one-hot targets
        return float(np.mean(out.argmax(axis=1) == y.argmax(axis=1)))
    return None


def train_epoch(net, X, y, loss_fn, optimizer, batch_size, seed, *, epoch=1, bar=None):
    """One pass over (X, y) in minibatches; returns the mean minibatch loss.

    This is `fit`'s inner loop (also timed by ``python -m bench``): forward, loss,
    backward (skipping the first layer's dX), optimiser step.
    """
    params = net.params()
    total, count, last = 0.0, 0, None
    for step, (Xb, yb) in enumerate(iterate_minibatches(X, y, batch_size, seed), 1):
        loss, dZ = loss_fn(net.forward(Xb), yb)
        if not np.isfinite(loss):
            raise TrainingDiverged(epoch, step, loss, last)
        net.backward(dZ, need_dX=False)
        optimizer.step(params, net.grads())
        total += loss * len(Xb)
        count += len(Xb)
        last = loss
        if bar is not None:
            bar.update(1)
            if step % 20 == 0:
                bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
    return total / count


def fit(net, X, y, *, loss="cross_entropy", optimizer=None, epochs=10, batch_size=128, seed=0,
        X_val=None, y_val=None, progress=True) -> History:
    """Train `net` on (X, y) by minibatch gradient descent; returns a `History`.

    Introduced in notebook 06. `X` (n, d); `y` integer labels (n,) for
    ``loss="cross_entropy"``, targets shaped like the output (n, k) for "mse" and "bce",
    or whatever a callable ``loss(Z, y) -> (loss, dZ)`` takes. `optimizer` defaults to
    ``Adam(1e-3)``. Epoch e shuffles with seed ``seed + e``. Raises `TrainingDiverged`
    the moment the loss is nan or inf. ``progress=False`` prints nothing.
    """
    for attr in ("forward", "backward", "params", "grads", "train", "eval", "predict"):
        if not callable(getattr(net, attr, None)):
            raise TypeError(f"net must be a network like Sequential; it has no {attr}()")
    X = _validate.array(X, "X", ndim=2, float_only=True)
    y = _validate.array(y, "y")
    _validate.same_length(X, y)
    loss_fn = _loss_fn(loss)
    optimizer = Adam(1e-3) if optimizer is None else optimizer
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"optimizer must have a step(params, grads) method, like Adam(1e-3); "
                        f"got {type(optimizer).__name__}")
    epochs = _validate.positive_int(epochs, "epochs")
    batch_size = _validate.positive_int(batch_size, "batch_size")
    seed = _validate.seed(seed)
    if (X_val is None) != (y_val is None):
        raise ValueError("pass X_val and y_val together (or neither)")
    if X_val is not None:
        X_val = _validate.array(X_val, "X_val", ndim=2, float_only=True)
        y_val = _validate.array(y_val, "y_val")
        _validate.same_length(X_val, y_val, "X_val", "y_val")
    history = History()
    steps = -(-len(X) // batch_size)
    with tqdm(total=epochs * steps, disable=not progress, unit="batch", leave=True) as bar, \
            np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(1, epochs + 1):
            bar.set_description(f"epoch {epoch}/{epochs}")
            net.train()
            ep_seed = None if seed is None else seed + epoch - 1
            history["loss"].append(train_epoch(net, X, y, loss_fn, optimizer, batch_size,
                                               ep_seed, epoch=epoch, bar=bar))
            acc = _accuracy(net.predict(X), y)
            if acc is not None:
                history["acc"].append(acc)
            if X_val is not None:
                out = net.predict(X_val)
                history["val_loss"].append(float(loss_fn(out, y_val)[0]))
                val_acc = _accuracy(out, y_val)
                if val_acc is not None:
                    history["val_acc"].append(val_acc)
            bar.set_postfix({k: f"{v[-1]:.4f}" for k, v in history.items() if v}, refresh=True)
    net.train()
    return history


XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([[0.0], [1.0], [1.0], [0.0]])


def train_xor(hidden, seed, lr=2.0, epochs=500):
    """Train a 2-`hidden`-1 network on XOR, full batch; returns ``(net, losses)``.

    Introduced in notebook 04. The net is ``Dense(2, hidden), Tanh, Dense(hidden, 1),
    Sigmoid`` (Xavier initialisation, seeded from `seed`) trained by plain gradient
    descent on the mean binary cross-entropy; `losses` lists the `epochs` losses.
    ``net.predict(XOR_X) > 0.5`` then gives the learned truth table.
    """
    hidden = _validate.positive_int(hidden, "hidden")
    seed = _validate.seed(seed)
    epochs = _validate.positive_int(epochs, "epochs")
    s1, s2 = np.random.SeedSequence(seed).generate_state(2)
    net = Sequential(Dense(2, hidden, int(s1), init="xavier"), Tanh(),
                     Dense(hidden, 1, int(s2), init="xavier"), Sigmoid())
    opt = SGD(lr)
    params = net.params()
    losses = []
    for _ in range(epochs):
        loss, dout = binary_cross_entropy(net.forward(XOR_X), XOR_Y)
        losses.append(loss)
        net.backward(dout, need_dX=False)
        opt.step(params, net.grads())
    return net, losses

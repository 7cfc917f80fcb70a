"""Checks for notebook 06: `softmax`, `softmax_cross_entropy` and `iterate_minibatches`.

Softmax and the loss are probed at ordinary logits and at logits shifted by +-1000,
where a softmax without the max subtracted overflows (B17), and on non-square batches
so a wrong axis shows. The loss gradient is compared by its ratio to the true one (n
for a missing 1/n: B5; -1: B15; the MSE-on-one-hot gradient: B9). Minibatches are
probed with targets that encode the row index, so lost, repeated or misaligned samples
are named exactly.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy

from nnlab.checks._core import (
    as_array,
    as_float,
    call,
    check,
    describe,
    fail,
    finite,
    max_rel_error,
    reference,
)

# numpy as it was at import: a student who replaces np.exp later changes no verdict.
np = SimpleNamespace(**vars(numpy))

__all__ = ["check_softmax", "check_softmax_cross_entropy", "check_iterate_minibatches"]


def _close(a, b, tol: float = 1e-6) -> bool:
    # reshape(-1): max_rel_error needs at least one dimension (a loss is 0-d).
    return a.shape == b.shape and max_rel_error(a.reshape(-1), b.reshape(-1)) < tol


def _same(a, b) -> bool:
    return a.shape == b.shape and max_rel_error(a, b) == 0.0


def _softmax(Z):
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _logits(hidden):
    rng = np.random.default_rng(66 if hidden else 6)
    n, k = (5, 7) if hidden else (3, 4)
    return rng.normal(scale=3.0, size=(n, k))


# --------------------------------------------------------------------------- softmax

def _call_softmax(softmax, Z, what, forbid):
    before = Z.copy()
    P, warned = call(softmax, Z, what=what, seconds=2, forbid=forbid)
    if not _same(Z, before):
        fail(f"{what} changed Z in place (Z -= Z.max(...) writes into the caller's array). "
             "Compute into a new array: Z = Z - Z.max(axis=1, keepdims=True).")
    return as_array(P, what), warned


@check("softmax", rung="06", covers=("B17",))
def check_softmax(softmax, *, hidden=False):
    """Check `softmax(Z)` (notebook 06): Z (n, k) logits -> P (n, k), rows sum to 1,
    stable for large logits."""
    forbid = reference("nnlab.activations", "softmax")
    Z = _logits(hidden)
    n, k = Z.shape
    what = f"softmax(Z) with Z of shape {Z.shape}"
    P, _ = _call_softmax(softmax, Z.copy(), what, forbid)
    if P.shape != Z.shape:
        fail(f"{what} returned shape {P.shape}; P has the shape of Z, {Z.shape}: one row of "
             "k probabilities per sample.")
    exp = _softmax(Z)
    if not _close(P, exp):
        cols = np.exp(Z - Z.max(axis=0)) / np.exp(Z - Z.max(axis=0)).sum(axis=0)
        if _close(P, cols):
            fail(f"{what}: the columns of P sum to 1, not the rows (row sums "
                 f"{describe(P.sum(axis=1))}). Samples are rows: normalise with "
                 "axis=1, keepdims=True.")
        if _close(P, np.exp(Z) / np.exp(Z).sum()):
            fail(f"{what}: all of P sums to 1, not each row. Normalise each row: "
                 "e / e.sum(axis=1, keepdims=True).")
        fail(f"{what} returned {describe(P)} (row sums {describe(P.sum(axis=1))}), not "
             "exp(Z) / exp(Z).sum(axis=1, keepdims=True).")
    for shift in (1000.0, -1000.0):
        what = f"softmax(Z {'+' if shift > 0 else '-'} 1000)"
        P, warned = _call_softmax(softmax, Z + shift, what, forbid)
        if not finite(P) or P.shape != Z.shape:
            fail(f"{what} returned {describe(P)}: exp overflows to inf (or underflows to 0) at "
                 "large logits, and inf/inf is nan. Softmax does not change when a constant "
                 "is subtracted from a row, so subtract each row's max first: "
                 "e = np.exp(Z - Z.max(axis=1, keepdims=True)).", "B17")
        if not _close(P, exp, 1e-5):
            fail(f"{what} returned {describe(P)}, not softmax(Z): adding a constant to every "
                 "logit must not change the probabilities. Subtract the row max, not a "
                 "global one or a fixed number.", "B17" if warned else None)
    # Rows of very different scales: a single global max still underflows a row.
    rows = np.array([[0.0, 800.0, -800.0], [-1500.0, -1499.0, -1501.0]])
    w = "softmax(Z) with rows of very different scale (logits near 800 and near -1500)"
    P, _ = _call_softmax(softmax, rows.copy(), w, forbid)
    if not finite(P) or not _close(P, _softmax(rows), 1e-6):
        fail(f"{w} returned {describe(P)}. Each row must be stabilised by its own max "
             "(Z.max(axis=1, keepdims=True)); with none, or one max for the whole array, "
             "exp over- or underflows and 0/0 gives nan.", "B17")


# --------------------------------------------------------------------------- loss

def _ce(Z, y):
    n = len(y)
    shifted = Z - Z.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    onehot = np.zeros(Z.shape)
    onehot[np.arange(n), y] = 1.0
    return -logp[np.arange(n), y].mean(), (np.exp(logp) - onehot) / n, onehot


def _call_ce(fn, Z, y, what, forbid):
    before = Z.copy()
    out, warned = call(fn, Z, y.copy(), what=what, seconds=2, forbid=forbid)
    if not _same(Z, before):
        fail(f"{what} changed Z in place. Work on a copy: Z = Z - Z.max(axis=1, "
             "keepdims=True).")
    if not isinstance(out, tuple) or len(out) != 2:
        fail(f"{what} returned {type(out).__name__}; it must return a pair (loss, dZ).")
    loss = as_float(out[0], f"{what}: the loss")
    dZ = as_array(out[1], f"{what}: dZ")
    if dZ.shape != Z.shape:
        fail(f"{what}: dZ has shape {dZ.shape}; it has the shape of Z, {Z.shape}.")
    return loss, dZ, warned


def _loss_verdict(loss, dZ, Z, y, what):
    n = len(y)
    L, G, Y = _ce(Z, y)
    lin = Z - Y  # the gradient of MSE on one-hot targets with a linear output, up to a factor
    c = float((dZ * lin).sum() / (lin * lin).sum())
    if abs(c) > 1e-12 and _close(dZ, c * lin, 1e-6) and not _close(dZ, G, 1e-6):
        fail(f"{what}: dZ is proportional to Z - onehot(y): the gradient of a squared error "
             "on one-hot targets with a linear output (seed 002's `y - layer_2`). For "
             "classification use softmax cross-entropy: dZ = (softmax(Z) - onehot(y)) / n.",
             "B9")
    for name, got, exp in (("dZ", dZ, G), ("loss", loss, L)):
        got, exp = np.asarray(got, dtype=float), np.asarray(exp, dtype=float)
        if _close(got, exp):
            continue
        if _close(got, exp * n):
            fail(f"{what}: {name} is {n} times the right value, the batch size: "
                 + ("the loss is a sum over the samples, not a mean. Use .mean()."
                    if name == "loss" else "dZ misses the 1/n of the mean loss. Divide it by "
                    "n = len(y): dZ = (P - onehot) / n."), "B5")
        if _close(got, -exp):
            fail(f"{what}: {name} has the wrong sign ({describe(got)}); gradient descent with "
                 "it climbs the loss. dZ = (softmax(Z) - onehot(y)) / n.", "B15")
        if name == "loss" and any(_close(got, v) for v in _mse_losses(Z, Y)):
            fail(f"{what}: the loss is a squared error on one-hot targets, not cross-entropy. "
                 "Use -mean(log softmax(Z)[range(n), y]).", "B9")
        fail(f"{what}: {name} = {describe(got)} is not the mean softmax cross-entropy"
             + (" -mean(log P[range(n), y])." if name == "loss" else
                "'s gradient (softmax(Z) - onehot(y)) / n."))


def _mse_losses(Z, Y):
    P = _softmax(Z)
    for A in (Z, P):
        d = ((A - Y) ** 2)
        yield d.sum(axis=1).mean()
        yield d.mean()
        yield 0.5 * d.sum(axis=1).mean()
        yield d.sum()


@check("softmax_cross_entropy", rung="06", covers=("B5", "B9", "B15", "B17"))
def check_softmax_cross_entropy(softmax_cross_entropy, *, hidden=False):
    """Check `softmax_cross_entropy(Z, y) -> (loss, dZ)` (notebook 06): Z (n, k) logits,
    y (n,) integer labels; loss a float (the mean), dZ (n, k) = (softmax(Z) - onehot) / n."""
    forbid = reference("nnlab.losses", "softmax_cross_entropy")
    Z = _logits(hidden)
    n, k = Z.shape
    y = np.random.default_rng(n).integers(0, k, n)
    y[:2] = [k - 1, 0]
    what = f"softmax_cross_entropy(Z, y) with Z of shape {Z.shape}"
    loss, dZ, _ = _call_ce(softmax_cross_entropy, Z.copy(), y, what, forbid)
    _loss_verdict(loss, dZ, Z, y, what)
    for shift in (1000.0, -1000.0):
        w = f"softmax_cross_entropy(Z {'+' if shift > 0 else '-'} 1000, y)"
        loss, dZ, _ = _call_ce(softmax_cross_entropy, Z + shift, y, w, forbid)
        if not (finite(np.array(loss)) and finite(dZ)):
            fail(f"{w} gave loss {loss:.4g} and dZ {describe(dZ)}: exp overflowed at large "
                 "logits. Subtract each row's max from Z before exp (the loss does not "
                 "change).", "B17")
        _loss_verdict(loss, dZ, Z + shift, y, w)
    # The true class 800 below the best: its probability underflows to 0.
    Zf = np.array([[0.0, 800.0, -800.0], [1.0, 2.0, 3.0]])  # class 2 of row 0: p = 0
    yf = np.array([2, 0])
    w = "softmax_cross_entropy(Z, y) with a true class 1600 below the best logit"
    loss, dZ, _ = _call_ce(softmax_cross_entropy, Zf.copy(), yf, w, forbid)
    if not (finite(np.array(loss)) and finite(dZ)):
        fail(f"{w} gave loss {loss:.4g}: the probability of the true class underflows to 0 "
             "and log(0) = -inf. Use log-softmax: logp = Z - max - log(sum(exp(Z - max))), "
             "or clip: np.log(np.clip(P, 1e-12, 1)).", "B17")
    want = float(_ce(Zf, yf)[0])
    if not _close(np.array(loss), np.array(want), 1e-6):
        fail(f"{w} gave loss {loss:.4g}; the mean cross-entropy is {want:.4g}: the true class "
             "has log-probability -1600, but your loss caps it (np.log(np.clip(P, 1e-12, 1)) "
             "or np.log(P + 1e-12) can never go below log(1e-12) = -27.6), so a confidently "
             "wrong network reports a small loss. Compute the log-probabilities directly: "
             "logp = Z - max - log(sum(exp(Z - max))), then -mean(logp[range(n), y]).", "B17")
    if not _close(dZ, _ce(Zf, yf)[1], 1e-6):
        fail(f"{w} gave dZ {describe(dZ)}, not (softmax(Z) - onehot(y)) / n.")
    # float32 logits stay float32: the network of notebook 06 trains in float32.
    Z32 = Z.astype(np.float32)
    w = "softmax_cross_entropy(Z, y) with float32 Z"
    out, _ = call(softmax_cross_entropy, Z32.copy(), y.copy(), what=w, seconds=2,
                  forbid=forbid)
    dtype = getattr(out[1], "dtype", None) if isinstance(out, tuple) and len(out) == 2 \
        else None
    if dtype != np.float32:
        fail(f"{w} returned dZ of dtype {dtype}; float32 logits must give a float32 dZ, or "
             "every layer below silently computes in float64 (twice the memory, half the "
             "speed). A float64 array sneaks in through np.zeros((n, k)) for the one-hot: "
             "use np.zeros_like(Z), or subtract 1 in place: dZ = P.copy(); "
             "dZ[np.arange(n), y] -= 1.")


# --------------------------------------------------------------------------- minibatches

def _epoch(fn, X, y, bs, seed, forbid):
    what = f"iterate_minibatches(X, y, batch_size={bs}, seed={seed}) with {len(y)} samples"
    Xc, yc = X.copy(), y.copy()
    it, _ = call(fn, Xc, yc, bs, seed, what=what, seconds=2, forbid=forbid)
    if not hasattr(it, "__iter__"):
        fail(f"{what} returned {type(it).__name__}, which cannot be looped over. Use `yield "
             "Xb, yb` (a generator) or return a list of (Xb, yb) pairs.")
    cap = len(y) + 5

    def take():
        out = []
        for pair in it:
            out.append(pair)
            if len(out) > cap:
                break
        return out

    batches, _ = call(take, what=f"looping over {what}", seconds=2)
    if len(batches) > cap:
        fail(f"{what} yielded more than {cap} batches: it never stops. Stop after one pass "
             "over the data (one epoch).")
    if not (_same(Xc, X) and _same(yc.astype(float), y.astype(float))):
        fail(f"{what} shuffled X or y in place (np.random.shuffle(X) changes the caller's "
             "data). Index with a permutation instead: idx = rng.permutation(n); X[idx].")
    Xs, ys = [], []
    for i, pair in enumerate(batches):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            fail(f"{what}: batch {i} is a {type(pair).__name__}, not a pair (Xb, yb).")
        Xb, yb = as_array(pair[0], f"batch {i} Xb"), as_array(pair[1], f"batch {i} yb")
        if Xb.ndim != 2 or Xb.shape[1] != X.shape[1] or yb.shape[:1] != Xb.shape[:1]:
            fail(f"{what}: batch {i} has Xb of shape {Xb.shape} and yb of shape {yb.shape}; "
                 f"expected (b, {X.shape[1]}) and (b,), the same b.")
        Xs.append(Xb)
        ys.append(yb)
    return what, Xs, ys


@check("iterate_minibatches", rung="06", covers=())
def check_iterate_minibatches(iterate_minibatches, *, hidden=False):
    """Check `iterate_minibatches(X, y, batch_size, seed)` (notebook 06): X (n, d), y (n,)
    -> an iterable of (Xb (b, d), yb (b,)), every sample once per epoch, shuffled by seed."""
    forbid = reference("nnlab.train", "iterate_minibatches")
    n, bs, d = (23, 5, 3) if hidden else (10, 4, 2)
    seeds = (13, 14) if hidden else (0, 1)
    y = np.arange(n)
    X = y[:, None] * 1.0 + np.arange(d) / 10  # row i of X starts with i: y encodes the row
    what, Xs, ys = _epoch(iterate_minibatches, X, y, bs, seeds[0], forbid)
    order = np.concatenate(ys) if ys else np.zeros(0)
    rows = np.concatenate([Xb[:, 0] for Xb in Xs]) if Xs else np.zeros(0)
    seen = np.sort(order)
    if len(order) < n and len(order) == n - n % bs and len(set(order.tolist())) == len(order):
        fail(f"{what} yielded {len(order)} samples: the last, partial batch of {n % bs} was "
             f"dropped, so {n % bs} samples are never trained on. Yield it too: "
             "for start in range(0, n, batch_size).")
    if len(seen) != n or not _same(seen, y * 1.0):
        fail(f"{what} yielded {len(order)} samples, {len(set(order.tolist()))} distinct, out "
             f"of {n}: every sample must appear exactly once per epoch. Take one permutation "
             "and slice it: idx = rng.permutation(n); idx[start:start + batch_size].")
    if not _same(rows, order):
        if _same(np.sort(rows), y * 1.0):
            fail(f"{what}: Xb and yb do not belong together (row i of X came with the label "
                 "of another row): X and y were shuffled with different permutations. Use "
                 "one: idx = rng.permutation(n); yield X[idx[s]], y[idx[s]].")
        fail(f"{what}: the rows of Xb are not the rows of X that go with yb.")
    sizes = [len(b) for b in ys]
    want = [bs] * (n // bs) + ([n % bs] if n % bs else [])
    if sizes != want:
        fail(f"{what} gave batches of sizes {sizes}; expected {want}: full batches of "
             f"{bs} and one smaller last batch.")
    if _same(order, y * 1.0):
        fail(f"{what} returned the samples in their original order: no shuffling. Draw a "
             "permutation from the seed each epoch: rng = np.random.default_rng(seed); "
             "idx = rng.permutation(n).")
    # A size that batch_size divides: no empty (or missing) batch at the end.
    m = 3 * bs
    y_m = np.arange(m)
    what_m, _, ys_m = _epoch(iterate_minibatches, y_m[:, None] * 1.0 + np.arange(d) / 10,
                             y_m, bs, seeds[0], forbid)
    sizes_m = [len(b) for b in ys_m]
    if sizes_m != [bs] * 3:
        empty = " an empty batch at the end" if 0 in sizes_m else ""
        fail(f"{what_m} gave batches of sizes {sizes_m}; expected {[bs] * 3}:{empty} when n "
             f"is a multiple of batch_size. range(n // batch_size + 1) makes one batch too "
             "many there; loop over the starts instead: for start in range(0, n, "
             "batch_size), which gives a smaller last batch only when one is left over.")
    again = np.concatenate(_epoch(iterate_minibatches, X, y, bs, seeds[0], forbid)[2])
    if not _same(again, order):
        fail(f"{what} called twice with the same seed gave two different orders: the seed "
             "is not used. Build rng = np.random.default_rng(seed) inside the function.")
    other = np.concatenate(_epoch(iterate_minibatches, X, y, bs, seeds[1], forbid)[2])
    if _same(other, order):
        fail(f"{what} gave the same order for seed={seeds[0]} and seed={seeds[1]}: the seed "
             "is ignored (a fixed seed inside?). Use rng = np.random.default_rng(seed).")

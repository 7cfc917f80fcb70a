"""Specimens for the checks of notebook 06: softmax, its cross-entropy, and minibatches.

The B9 mutants are seed 002's squared error on one-hot targets with a linear output
(`layer_2_delta = y - layer_2`); the B17 ones skip the max subtraction or take log(0).
None of them imports the nnlab reference.
"""

import numpy as np

from nnlab.checks.zoo import correct, mutant

# --------------------------------------------------------------------------- softmax


@correct("check_softmax", "row max subtracted, vectorised")
def softmax_stable(Z):
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@correct("check_softmax", "per-row loop, exp(z - logsumexp(z))")
def softmax_logsumexp(Z):
    P = np.empty_like(Z, dtype=float)
    for i, z in enumerate(Z):
        m = z.max()
        P[i] = np.exp(z - (m + np.log(np.exp(z - m).sum())))
    return P


@mutant("check_softmax", "B17", "textbook exp(Z) / sum, no max subtracted")
def softmax_naive(Z):
    e = np.exp(Z)
    return e / np.sum(e, axis=1, keepdims=True)


@mutant("check_softmax", "B17", "one global max for the whole batch")
def softmax_global_max(Z):
    e = np.exp(Z - np.max(Z))
    return e / e.sum(axis=1, keepdims=True)


@mutant("check_softmax", "B17", "loops, row max subtracted only when it is positive")
def softmax_positive_max(Z):
    P = np.zeros(Z.shape)
    for i in range(Z.shape[0]):
        z = Z[i] - max(Z[i].max(), 0)
        P[i] = np.exp(z) / np.exp(z).sum()
    return P


@mutant("check_softmax", None, "columns normalised (axis=0)")
def softmax_axis0(Z):
    e = np.exp(Z - Z.max(axis=0))
    return e / e.sum(axis=0)


@mutant("check_softmax", None, "the whole array sums to 1")
def softmax_global_sum(Z):
    e = np.exp(Z - Z.max())
    return e / e.sum()


@mutant("check_softmax", None, "max subtracted in place, the caller's Z changed")
def softmax_inplace(Z):
    Z -= Z.max(axis=1, keepdims=True)
    np.exp(Z, out=Z)
    Z /= Z.sum(axis=1, keepdims=True)
    return Z


# --------------------------------------------------------------------------- cross-entropy


def _onehot(y, k):
    return np.eye(k)[y]


@correct("check_softmax_cross_entropy", "log-softmax, vectorised")
def sce_logsoftmax(Z, y):
    n = len(y)
    s = Z - Z.max(axis=1, keepdims=True)
    logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    dZ = np.exp(logp)
    dZ[np.arange(n), y] -= 1
    return -logp[np.arange(n), y].mean(), dZ / n


@mutant("check_softmax_cross_entropy", "B17",
        "per-sample loop, clipped log: the loss capped at 27.6 per sample")
def sce_loop(Z, y):
    n, k = Z.shape
    loss, dZ = 0.0, np.zeros_like(Z, dtype=float)
    for i in range(n):
        z = Z[i] - Z[i].max()
        p = np.exp(z) / np.exp(z).sum()
        loss -= np.log(np.clip(p[y[i]], 1e-12, 1.0))
        dZ[i] = (p - _onehot(y[i], k)) / n
    return loss / n, dZ


def _stable_p(Z):
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@mutant("check_softmax_cross_entropy", "B17", "naive softmax, then log")
def sce_naive(Z, y):
    e = np.exp(Z)
    P = e / e.sum(axis=1, keepdims=True)
    n = len(y)
    return -np.log(P[np.arange(n), y]).mean(), (P - _onehot(y, Z.shape[1])) / n


@mutant("check_softmax_cross_entropy", "B17", "stable softmax, unclipped log(P)")
def sce_log_zero(Z, y):
    P = _stable_p(Z)
    n = len(y)
    with np.errstate(divide="ignore"):
        loss = -np.mean(np.log(P[range(n), y]))
    return loss, (P - _onehot(y, Z.shape[1])) / n


@mutant("check_softmax_cross_entropy", "B5", "dZ misses the 1/n")
def sce_no_mean_grad(Z, y):
    loss, dZ = sce_logsoftmax(Z, y)
    return loss, dZ * len(y)


@mutant("check_softmax_cross_entropy", "B5", "loop: loss summed over the samples")
def sce_sum_loss(Z, y):
    loss, dZ = sce_loop(Z, y)
    return loss * len(y), dZ


@mutant("check_softmax_cross_entropy", "B15", "dZ = (onehot - P) / n")
def sce_sign(Z, y):
    P = _stable_p(Z)
    return sce_logsoftmax(Z, y)[0], (_onehot(y, Z.shape[1]) - P) / len(y)


@mutant("check_softmax_cross_entropy", "B15", "loop, minus on the gradient")
def sce_loop_sign(Z, y):
    loss, dZ = sce_loop(Z, y)
    return loss, -dZ


@mutant("check_softmax_cross_entropy", "B9", "seed 002: squared error on one-hot, linear output")
def sce_seed002(Z, y):
    Y = _onehot(y, Z.shape[1])
    error = np.sum((Y - Z) ** 2) / len(y)
    layer_2_delta = Y - Z
    return error, -layer_2_delta


@mutant("check_softmax_cross_entropy", "B9", "mean squared error with its exact gradient")
def sce_mse(Z, y):
    Y = _onehot(y, Z.shape[1])
    return ((Z - Y) ** 2).mean(), 2 * (Z - Y) / Z.size


@mutant("check_softmax_cross_entropy", None, "one-hot forgotten: dZ = P / n")
def sce_no_onehot(Z, y):
    return sce_logsoftmax(Z, y)[0], _stable_p(Z) / len(y)


@mutant("check_softmax_cross_entropy", None, "loss on the most likely class, not the true one")
def sce_max_class(Z, y):
    P = _stable_p(Z)
    return -np.log(P.max(axis=1)).mean(), sce_logsoftmax(Z, y)[1]


# --------------------------------------------------------------------------- minibatches


@correct("check_iterate_minibatches", "generator, default_rng permutation")
def minibatches_gen(X, y, batch_size, seed):
    idx = np.random.default_rng(seed).permutation(len(y))
    for start in range(0, len(y), batch_size):
        part = idx[start:start + batch_size]
        yield X[part], y[part]


@correct("check_iterate_minibatches", "list of pairs, RandomState, while loop")
def minibatches_list(X, y, batch_size, seed):
    order = np.arange(len(X))
    np.random.RandomState(seed).shuffle(order)
    batches, i = [], 0
    while i < len(order):
        take = order[i:i + batch_size]
        batches.append((X[take], y[take]))
        i += batch_size
    return batches


@mutant("check_iterate_minibatches", None, "last partial batch dropped")
def minibatches_drop_last(X, y, batch_size, seed):
    idx = np.random.default_rng(seed).permutation(len(y))
    for start in range(0, len(y) - batch_size + 1, batch_size):
        yield X[idx[start:start + batch_size]], y[idx[start:start + batch_size]]


@mutant("check_iterate_minibatches", None, "no shuffling")
def minibatches_in_order(X, y, batch_size, seed):
    for start in range(0, len(y), batch_size):
        yield X[start:start + batch_size], y[start:start + batch_size]


@mutant("check_iterate_minibatches", None, "X and y shuffled with different permutations")
def minibatches_two_perms(X, y, batch_size, seed):
    rng = np.random.default_rng(seed)
    Xs, ys = X[rng.permutation(len(X))], y[rng.permutation(len(y))]
    for start in range(0, len(y), batch_size):
        yield Xs[start:start + batch_size], ys[start:start + batch_size]


@mutant("check_iterate_minibatches", None, "seed ignored: a fixed seed inside")
def minibatches_fixed_seed(X, y, batch_size, seed):
    yield from minibatches_gen(X, y, batch_size, 42)


@mutant("check_iterate_minibatches", None, "seed 002 style: np.random.shuffle on the data")
def minibatches_shuffle_in_place(X, y, batch_size, seed):
    np.random.seed(seed)
    state = np.random.get_state()
    np.random.shuffle(X)
    np.random.set_state(state)
    np.random.shuffle(y)
    for start in range(0, len(y), batch_size):
        yield X[start:start + batch_size], y[start:start + batch_size]


@mutant("check_iterate_minibatches", None, "samples drawn with replacement")
def minibatches_with_replacement(X, y, batch_size, seed):
    rng = np.random.default_rng(seed)
    for start in range(0, len(y), batch_size):
        part = rng.integers(0, len(y), min(batch_size, len(y) - start))
        yield X[part], y[part]


@mutant("check_iterate_minibatches", None, "never stops: loops over epochs forever")
def minibatches_forever(X, y, batch_size, seed):
    rng = np.random.default_rng(seed)
    while True:
        idx = rng.permutation(len(y))
        for start in range(0, len(y), batch_size):
            yield X[idx[start:start + batch_size]], y[idx[start:start + batch_size]]

"""Specimens for the checks of notebook 05: Standardizers and SGD steps, right and wrong.

The B2 mutants recompute their statistics inside transform (seed 000 divided each array
by its own max); the B12 one is seed 003's `W -= lr * W`; the B13 one is seed 004's
gradient added into the parameter. None of them imports the nnlab reference.
"""

import numpy as np

from nnlab.checks.zoo import correct, mutant

# --------------------------------------------------------------------------- Standardizer


@correct("check_standardizer", "vectorised, population std, a (relatively) zero std -> 1")
class StandardizerVec:
    def fit(self, X):
        self.mean = X.mean(axis=0)
        std = X.std(axis=0)
        self.std = np.where(std <= 1e-10 * np.abs(X).max(axis=0), 1.0, std)
        return self

    def transform(self, X):
        if not hasattr(self, "mean"):
            raise RuntimeError("Standardizer: call fit(X) before transform(X)")
        return (X - self.mean) / self.std

    def inverse_transform(self, Z):
        return Z * self.std + self.mean


@correct("check_standardizer", "per-column loops, sample std (ddof=1), None until fit")
class StandardizerLoop:
    def __init__(self):
        self.mu = None
        self.sigma = None

    def fit(self, data):
        cols = data.shape[1]
        self.mu = np.array([data[:, j].mean() for j in range(cols)])
        self.sigma = np.ones(cols)
        for j in range(cols):
            s = data[:, j].std(ddof=1)
            if s > 1e-9 * abs(data[:, j]).max():
                self.sigma[j] = s
        return self

    def transform(self, data):
        if self.mu is None:
            raise ValueError("fit the Standardizer first")
        out = np.empty_like(data, dtype=float)
        for j in range(data.shape[1]):
            out[:, j] = (data[:, j] - self.mu[j]) / self.sigma[j]
        return out

    def inverse_transform(self, Z):
        return self.mu + Z * self.sigma


@mutant("check_standardizer", "B2", "transform recomputes mean and std from its input")
class StandardizerRefits(StandardizerVec):
    def transform(self, X):
        return (X - X.mean(axis=0)) / X.std(axis=0)


@mutant("check_standardizer", "B2", "seed 000: each array divided by its own max")
class StandardizerOwnMax(StandardizerLoop):
    def transform(self, data):
        return data / np.amax(data, axis=0)

    def inverse_transform(self, Z):
        return Z * self.mu


@mutant("check_standardizer", "B2", "inverse_transform uses the statistics of Z")
class StandardizerInverseRefits(StandardizerVec):
    def inverse_transform(self, Z):
        return Z * Z.std(axis=0) + Z.mean(axis=0)


@mutant("check_standardizer", "B10", "transform returns the data unchanged")
class StandardizerIdentity(StandardizerVec):
    def transform(self, X):
        return X.copy()


@mutant("check_standardizer", "B10", "fit stores nothing; mean 0 and std 1 from __init__")
class StandardizerNeverFits:
    def __init__(self):
        self.m, self.s = 0.0, 1.0

    def fit(self, X):
        return self

    def transform(self, X):
        return (X - self.m) / self.s

    def inverse_transform(self, Z):
        return Z * self.s + self.m


@mutant("check_standardizer", None, "one global mean and std for the whole array")
class StandardizerGlobal(StandardizerVec):
    def fit(self, X):
        self.mean, self.std = X.mean(), X.std()
        return self


@mutant("check_standardizer", None, "max-scaler with the max stored at fit")
class StandardizerMaxScaler(StandardizerVec):
    def fit(self, X):
        self.mean, self.std = 0.0, np.abs(X).max(axis=0)
        return self


@mutant("check_standardizer", None, "no guard for a constant column (division by 0)")
class StandardizerNoGuard(StandardizerVec):
    def fit(self, X):
        self.mean, self.std = X.mean(axis=0), X.std(axis=0)
        return self


@mutant("check_standardizer", None, "inverse in the wrong order: (Z + mean) * std")
class StandardizerInverseOrder(StandardizerVec):
    def inverse_transform(self, Z):
        return (Z + self.mean) * self.std


@mutant("check_standardizer", None, "fit forgets `return self`")
class StandardizerNoReturn(StandardizerVec):
    def fit(self, X):
        StandardizerVec.fit(self, X)


@mutant("check_standardizer", None, "transform standardises in place (X -= mean)")
class StandardizerInPlace(StandardizerVec):
    def transform(self, X):
        X -= self.mean
        X /= self.std
        return X


@mutant("check_standardizer", None, "transform before fit silently returns X")
class StandardizerSilentBeforeFit(StandardizerVec):
    def __init__(self):
        self.mean, self.std = 0.0, 1.0

    def transform(self, X):
        return (X - self.mean) / self.std


# --------------------------------------------------------------------------- sgd_step


def _same_keys_and_shapes(params, grads):
    """The ValueError notebook 05 asks for, naming the key."""
    for key, p in params.items():
        if key not in grads or np.shape(grads[key]) != np.shape(p):
            raise ValueError(f"grads[{key!r}] is missing or has another shape than params")


@correct("check_sgd_step", "loop over keys, -=")
def sgd_step_loop(params, grads, lr):
    _same_keys_and_shapes(params, grads)
    for key in params:
        params[key] -= lr * grads[key]


@correct("check_sgd_step", "np.subtract with out=, over zipped items")
def sgd_step_out(params, grads, lr):
    _same_keys_and_shapes(params, grads)
    for (_name, p), g in zip(params.items(), (grads[k] for k in params), strict=True):
        np.subtract(p, lr * g, out=p)
    return params


@correct("check_sgd_step", "slice assignment p[...] = p - lr * g")
def sgd_step_slice(params, grads, lr):
    _same_keys_and_shapes(params, grads)
    for name, g in grads.items():
        p = params[name]
        p[...] = p - lr * g


@mutant("check_sgd_step", "B12", "seed 003: W -= lr * W")
def sgd_step_seed003(params, grads, lr):
    for key in params:
        params[key] -= lr * params[key]


@mutant("check_sgd_step", "B12", "weights used where the gradient belongs, np.subtract")
def sgd_step_self_out(params, grads, lr):
    for p in params.values():
        np.subtract(p, lr * p, out=p)


@mutant("check_sgd_step", "B13", "seed 004: gradient added into the parameter")
def sgd_step_seed004(params, grads, lr):
    for key in params:
        params[key] += grads[key]


@mutant("check_sgd_step", "B13", "np.add(p, g, out=p), lr forgotten")
def sgd_step_add_out(params, grads, lr):
    for key, g in grads.items():
        np.add(params[key], g, out=params[key])


@mutant("check_sgd_step", "B15", "+= lr * grad (ascent)")
def sgd_step_ascent(params, grads, lr):
    for key in params:
        params[key] += lr * grads[key]


@mutant("check_sgd_step", "B15", "double minus: p -= -lr * g")
def sgd_step_double_minus(params, grads, lr):
    for key, p in params.items():
        p -= -lr * grads[key]


@mutant("check_sgd_step", None, "rebinds dict entries to new arrays")
def sgd_step_rebind(params, grads, lr):
    for key in params:
        params[key] = params[key] - lr * grads[key]


@mutant("check_sgd_step", None, "returns a new dict, params untouched")
def sgd_step_new_dict(params, grads, lr):
    return {k: p - lr * grads[k] for k, p in params.items()}


@mutant("check_sgd_step", None, "only the weights are updated, the biases forgotten")
def sgd_step_weights_only(params, grads, lr):
    for key in params:
        if key.endswith("W"):
            params[key] -= lr * grads[key]


@mutant("check_sgd_step", None, "learning rate ignored")
def sgd_step_no_lr(params, grads, lr):
    for key in params:
        params[key] -= grads[key]


@mutant("check_sgd_step", None,
        "right update over grads' keys, unchecked: a missing key is skipped, a (a, 1) "
        "gradient broadcasts, and no ValueError is raised")
def sgd_step_unchecked(params, grads, lr):
    for key, g in grads.items():
        params[key] -= lr * g

"""Feature scaling that remembers the statistics of the data it was fit on.

`Standardizer` is the graded class of notebook 05. Scaling new data with its own mean
and spread, instead of the training data's, is bug B2: the model then sees numbers on a
different scale from the ones it learned.
"""

from __future__ import annotations

import numpy as np

from nnlab import _validate

#: A column counts as constant when its std is at most this fraction of its largest |value|.
#: np.std of a column of 0.1s is about 1e-17, not 0: the mean is rounded. Rounding noise is
#: ~1e-16 of the values; real spread in float64 data is far above 1e-12 of them.
CONSTANT_RTOL = 1e-12


def constant_tolerance(X) -> np.ndarray:
    """Per column of `X` (n, d): the std at or below which the column is constant."""
    return CONSTANT_RTOL * np.abs(np.asarray(X, dtype=np.float64)).max(axis=0)


class Standardizer:
    """Per-feature ``(X - mean) / std`` with mean and std taken from `fit`'s data only.

    Introduced in notebook 05. `X` is (n, d) (or (n,), one feature). A feature with no
    spread (std at most 1e-12 of its largest |value|: rounding) gets std 1, so it is
    centred but not blown up. Attributes after `fit`:
    ``mean_`` and ``std_``, shape (d,) (or () for 1-D data), float64. The output keeps a
    float32 input in float32.
    """

    def __init__(self):
        self.mean_ = None
        self.std_ = None

    def fit(self, X):
        """Learn the mean and std of each column of `X` (n, d). Returns self."""
        X = self._data(X, "X", fitted=False)
        if len(X) == 0:
            raise ValueError("X is empty; fit needs at least one sample")
        self.mean_ = X.mean(axis=0, dtype=np.float64)
        std = X.std(axis=0, dtype=np.float64)
        self.std_ = np.where(std > constant_tolerance(X), std, 1.0)
        return self

    def transform(self, X):
        """(X - mean_) / std_ for `X` (m, d), using the statistics from `fit`."""
        X = self._data(X, "X")
        return ((X - self.mean_) / self.std_).astype(X.dtype, copy=False)

    def inverse_transform(self, Z):
        """Z * std_ + mean_: back to the original units, `Z` (m, d)."""
        Z = self._data(Z, "Z")
        return (Z * self.std_ + self.mean_).astype(Z.dtype, copy=False)

    def fit_transform(self, X):
        """fit(X), then transform(X)."""
        return self.fit(X).transform(X)

    def _data(self, X, name: str, *, fitted: bool = True) -> np.ndarray:
        if fitted and self.mean_ is None:
            raise ValueError("this Standardizer has not been fit yet: call fit(X_train) "
                             f"first, then transform({name}) with the training statistics")
        X = _validate.array(X, name, float_only=True)
        if X.ndim not in (1, 2):
            raise ValueError(f"{name} has shape {X.shape}; expected (n, d) or (n,)")
        if fitted and X.shape[1:] != np.shape(self.mean_):
            want = f"(n, {np.size(self.mean_)})" if np.ndim(self.mean_) else "(n,)"
            raise ValueError(f"{name} has shape {X.shape} but the Standardizer was fit on "
                             f"data of shape {want}; transform data with the same features")
        return X

    def __repr__(self) -> str:
        state = "not fit" if self.mean_ is None else f"{np.size(self.mean_)} features"
        return f"Standardizer({state})"

"""Layers with a forward and a backward pass: Dense and the activations, plus Dropout.

The reference answers of notebook 03 (`Dense`, `Sigmoid`, `Tanh`, `ReLU`); `LeakyReLU`
and `Dropout` come in notebook 06. Every layer follows the one contract below.

The layer contract
------------------
- ``forward(X)`` takes a batch ``X`` of shape (n, d), samples in rows, returns the
  output (n, k), and keeps what ``backward`` will need (the input, a mask, the output).
- ``backward(dY)`` takes dLoss/dOutput, shape (n, k), and returns dLoss/dX, shape (n, d).
  For each parameter named in ``layer.params`` (e.g. ``("W", "b")``) it stores the
  gradient under the name with a ``d`` prefix (``dW``, ``db``), same shape and dtype as
  the parameter. Gradients are overwritten, never accumulated, and the ``dW`` / ``db``
  arrays are updated in place, so a reference to them stays live.
- ``layer.training`` is True in training mode and False in evaluation mode; only
  `Dropout` behaves differently. `nnlab.network.Sequential.train()`/`.eval()` set it.
- A float32 batch through float32 parameters stays float32.
"""

from __future__ import annotations

import numpy as np

from nnlab import _validate
from nnlab.activations import sigmoid

INITS = {
    "he": lambda n_in, n_out: np.sqrt(2.0 / n_in),        # for ReLU layers
    "xavier": lambda n_in, n_out: np.sqrt(2.0 / (n_in + n_out)),  # for tanh / sigmoid
    "lecun": lambda n_in, n_out: np.sqrt(1.0 / n_in),
    "zeros": lambda n_in, n_out: 0.0,                      # symmetric: bug B6, for teaching
}


class Layer:
    """Base class: no parameters, training mode on. Subclasses follow the contract above."""

    params: tuple[str, ...] = ()

    def __init__(self):
        self.training = True

    def forward(self, X):
        raise NotImplementedError

    def backward(self, dY):
        raise NotImplementedError

    def _input(self, X) -> np.ndarray:
        if type(X) is np.ndarray and X.ndim == 2 and X.dtype.kind == "f":
            return X                        # the usual case, checked in ~0.2 us
        return _validate.array(X, "X", ndim=2, float_only=True)

    def _grad(self, dY, shape: tuple) -> np.ndarray:
        if shape is None:
            raise RuntimeError(f"{type(self).__name__}.backward was called before forward; "
                               "call forward(X) first, it keeps what backward needs")
        if not (type(dY) is np.ndarray and dY.dtype.kind == "f"):
            dY = _validate.array(dY, "dY", float_only=True)
        if dY.shape != shape:
            raise ValueError(f"dY has shape {dY.shape}; the last forward pass of this "
                             f"{type(self).__name__} returned shape {shape}, and dY must "
                             "match it (one gradient per output)")
        return dY

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Dense(Layer):
    """A fully connected layer: ``Y = X @ W + b``.

    Introduced in notebook 03. ``W`` has shape (n_in, n_out) and starts random with the
    standard deviation `init` names ("he": sqrt(2/n_in), "xavier": sqrt(2/(n_in+n_out)),
    "lecun": sqrt(1/n_in), "zeros"); ``b`` has shape (n_out,), one bias per neuron, and
    starts at 0. forward: X (n, n_in) -> Y (n, n_out). backward: dY (n, n_out) ->
    dX (n, n_in), with ``dW = X.T @ dY`` and ``db = dY.sum(axis=0)``.
    """

    params = ("W", "b")

    def __init__(self, n_in, n_out, seed=0, *, init="he", dtype=np.float64):
        super().__init__()
        self.n_in = _validate.positive_int(n_in, "n_in")
        self.n_out = _validate.positive_int(n_out, "n_out")
        if init not in INITS:
            raise ValueError(f"init={init!r} is not known; choose one of {sorted(INITS)}")
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"dtype={dtype!r}: a layer's parameters must be floating point, "
                            "np.float32 or np.float64")
        rng = np.random.default_rng(_validate.seed(seed))
        std = INITS[init](self.n_in, self.n_out)
        self._W = (rng.standard_normal((self.n_in, self.n_out)) * std).astype(self.dtype)
        self._b = np.zeros(self.n_out, dtype=self.dtype)
        self.dW = np.zeros_like(self._W)
        self.db = np.zeros_like(self._b)
        self.X = None

    @property
    def W(self) -> np.ndarray:
        return self._W

    @W.setter
    def W(self, value):
        value = _validate.array(value, "W", float_only=True)
        if value.shape != (self.n_in, self.n_out):
            hint = (" (that is W transposed: bug B14)"
                    if value.shape == (self.n_out, self.n_in) else "")
            raise ValueError(f"W has shape {value.shape}{hint}; this Dense layer maps "
                             f"{self.n_in} inputs to {self.n_out} outputs, so W needs shape "
                             f"(n_in, n_out) = ({self.n_in}, {self.n_out})")
        self._W = value.astype(self.dtype, copy=False)

    @property
    def b(self) -> np.ndarray:
        return self._b

    @b.setter
    def b(self, value):
        value = _validate.array(value, "b", float_only=True)
        if value.shape != (self.n_out,):
            raise ValueError(f"b has shape {value.shape}; a dense layer keeps one bias per "
                             f"neuron, shape ({self.n_out},), not one per training example")
        self._b = value.astype(self.dtype, copy=False)

    def forward(self, X):
        X = self._input(X)
        if X.shape[1] != self.n_in:
            raise ValueError(f"X has {X.shape[1]} columns (features) but this Dense layer "
                             f"expects n_in={self.n_in}; X needs shape (n, {self.n_in})")
        self.X = X
        Y = X @ self._W
        Y += self._b
        return Y

    def backward(self, dY, *, need_dX=True):
        """dY (n, n_out) -> dX (n, n_in); sets dW and db in place.

        ``need_dX=False`` skips the product ``dY @ W.T`` and returns None; the network
        uses it for its first layer, whose dX nobody reads.
        """
        shape = None if self.X is None else (self.X.shape[0], self.n_out)
        dY = self._grad(dY, shape)
        np.matmul(self.X.T, dY, out=self.dW)
        dY.sum(axis=0, out=self.db)
        return dY @ self._W.T if need_dX else None

    def __repr__(self) -> str:
        return f"Dense({self.n_in} -> {self.n_out}, {self.dtype.name})"


class _Elementwise(Layer):
    """An activation applied elementwise; backward multiplies dY by the local slope."""

    def __init__(self):
        super().__init__()
        self._slope_from = None

    def backward(self, dY):
        """dY (n, h) -> dX (n, h) = dY * f'(input of the last forward)."""
        keep = self._slope_from
        dY = self._grad(dY, None if keep is None else keep.shape)
        return dY * self._slope()


class Sigmoid(_Elementwise):
    """sigmoid(X) = 1 / (1 + exp(-X)); X (n, h) -> same shape. Notebook 03.

    Keeps its output s; the slope is s (1 - s).
    """

    def forward(self, X):
        self._slope_from = sigmoid(self._input(X))
        return self._slope_from

    def _slope(self):
        s = self._slope_from
        return s * (1 - s)


class Tanh(_Elementwise):
    """tanh(X); X (n, h) -> same shape. Notebook 03. Keeps its output t; slope 1 - t**2."""

    def forward(self, X):
        self._slope_from = np.tanh(self._input(X))
        return self._slope_from

    def _slope(self):
        t = self._slope_from
        return 1 - t * t


class ReLU(_Elementwise):
    """max(X, 0); X (n, h) -> same shape. Notebook 03.

    Keeps the mask ``X > 0``; the slope is 1 where the input was positive, else 0
    (``output >= 0``, always true, is bug B8).
    """

    def forward(self, X):
        X = self._input(X)
        self._slope_from = X > 0
        return np.maximum(X, 0)

    def backward(self, dY):
        """dY (n, h) -> dX (n, h) = dY where the input was > 0, else 0."""
        mask = self._slope_from
        dY = self._grad(dY, None if mask is None else mask.shape)
        return dY * mask          # a bool mask keeps dY's dtype, and is 3x faster than np.where


class LeakyReLU(_Elementwise):
    """X where X > 0, else alpha * X; X (n, h) -> same shape. Notebook 06."""

    def __init__(self, alpha=0.01):
        super().__init__()
        self.alpha = _validate.fraction(alpha, "alpha", low=0.0, high=1.0)

    def forward(self, X):
        X = self._input(X)
        self._slope_from = X > 0
        return np.where(self._slope_from, X, self.alpha * X)

    def backward(self, dY):
        """dY (n, h) -> dX (n, h) = dY where the input was > 0, else alpha * dY."""
        mask = self._slope_from
        dY = self._grad(dY, None if mask is None else mask.shape)
        return np.where(mask, dY, self.alpha * dY)

    def __repr__(self) -> str:
        return f"LeakyReLU(alpha={self.alpha})"


class Dropout(Layer):
    """Inverted dropout: in training mode zero each input with probability `p`.

    Introduced in notebook 06. X (n, h) -> same shape. In training mode the kept inputs
    are divided by 1 - p, so the expected output equals the input and evaluation mode
    is the identity. The mask comes from a generator seeded with `seed` and is redrawn
    on every forward pass; backward applies the last mask.
    """

    def __init__(self, p=0.5, seed=0):
        super().__init__()
        self.p = _validate.fraction(p, "p", low=0.0, high=1.0)
        self.rng = np.random.default_rng(_validate.seed(seed))
        self.mask = None
        self._shape = None

    def forward(self, X):
        X = self._input(X)
        self._shape = X.shape
        if not self.training or self.p == 0:
            self.mask = None
            return X
        keep = self.rng.random(X.shape, dtype=np.float32 if X.dtype == np.float32
                               else np.float64) >= self.p
        self.mask = keep.astype(X.dtype) / X.dtype.type(1 - self.p)
        return X * self.mask

    def backward(self, dY):
        """dY (n, h) -> dX (n, h): dY times the last mask (identity in eval mode)."""
        dY = self._grad(dY, self._shape)
        return dY if self.mask is None else dY * self.mask

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"

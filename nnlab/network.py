"""A network as a sequence of layers, with its parameters and gradients named.

`Sequential` runs its layers' forward passes in order and their backward passes in
reverse. Parameter ``W`` of layer 0 is called ``"0.W"``, so an optimiser, a gradient
check or a student's `sgd_step` can walk ``net.params()`` and ``net.grads()`` side by side.
"""

from __future__ import annotations

import numpy as np

from nnlab import _validate
from nnlab.layers import Dense


class Sequential:
    """Layers applied one after the other. Introduced in notebook 03.

    ``Sequential(Dense(2, 3), Tanh(), Dense(3, 1), Sigmoid())`` or
    ``Sequential([...])``. forward: X (n, d) -> output (n, k); backward: dOutput (n, k)
    -> dX (n, d), filling every layer's gradients.
    """

    def __init__(self, *layers):
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        if not layers:
            raise ValueError("Sequential needs at least one layer, e.g. "
                             "Sequential(Dense(2, 3), Tanh(), Dense(3, 1))")
        for i, layer in enumerate(layers):
            if isinstance(layer, type):
                raise TypeError(f"layer {i} is the class {layer.__name__}, not a layer; "
                                f"write {layer.__name__}(...) to make one")
            if not (callable(getattr(layer, "forward", None))
                    and callable(getattr(layer, "backward", None))):
                raise TypeError(f"layer {i} ({type(layer).__name__}) has no forward/backward "
                                "methods; every layer needs forward(X) and backward(dY)")
        self.layers = list(layers)

    # ------------------------------------------------------------------ passes
    def forward(self, X):
        """X (n, d) -> the last layer's output (n, k)."""
        for layer in self.layers:
            X = layer.forward(X)
        return X

    def backward(self, dY, *, need_dX=True):
        """dY (n, k), the loss gradient at the output -> dX (n, d).

        Every layer stores its parameter gradients on the way. ``need_dX=False`` lets a
        first `Dense` layer skip computing dX (training never reads it) and returns None.
        """
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            if i == 0 and not need_dX and isinstance(layer, Dense):
                return layer.backward(dY, need_dX=False)
            dY = layer.backward(dY)
        return dY

    def predict(self, X, *, batch_size=4096):
        """The output (n, k) in evaluation mode (no dropout), in chunks of `batch_size`.

        Each layer's training flag is restored afterwards.
        """
        X = _validate.array(X, "X", ndim=2, float_only=True)
        batch_size = _validate.positive_int(batch_size, "batch_size")
        modes = [getattr(layer, "training", True) for layer in self.layers]
        self.eval()
        try:
            outs = [self.forward(X[i:i + batch_size]) for i in range(0, len(X), batch_size)]
        finally:
            for layer, mode in zip(self.layers, modes, strict=True):
                layer.training = mode
        return np.concatenate(outs) if outs else self.forward(X)

    def predict_classes(self, X, *, batch_size=4096):
        """Predicted class labels (n,): the argmax of each output row.

        With a single output column (a sigmoid output) the label is ``output > 0.5``.
        """
        out = self.predict(X, batch_size=batch_size)
        if out.shape[1] == 1:
            return (out[:, 0] > 0.5).astype(np.int64)
        return out.argmax(axis=1)

    # ------------------------------------------------------------------ modes
    def train(self):
        """Training mode for every layer (dropout on). Returns the network."""
        for layer in self.layers:
            layer.training = True
        return self

    def eval(self):
        """Evaluation mode for every layer (dropout off). Returns the network."""
        for layer in self.layers:
            layer.training = False
        return self

    # ------------------------------------------------------------------ parameters
    def params(self) -> dict[str, np.ndarray]:
        """{"0.W": W of layer 0, "0.b": ..., "2.W": ...}: the live arrays, not copies."""
        return {f"{i}.{name}": getattr(layer, name)
                for i, layer in enumerate(self.layers) for name in getattr(layer, "params", ())}

    def grads(self) -> dict[str, np.ndarray]:
        """{"0.W": dW of layer 0, ...}: the gradients of the last backward, same keys."""
        return {f"{i}.{name}": getattr(layer, "d" + name)
                for i, layer in enumerate(self.layers) for name in getattr(layer, "params", ())}

    def n_params(self) -> int:
        """The number of trainable numbers."""
        return int(sum(p.size for p in self.params().values()))

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]

    def __iter__(self):
        return iter(self.layers)

    def __repr__(self) -> str:
        lines = [f"  ({i}) {layer!r}" for i, layer in enumerate(self.layers)]
        return "Sequential(\n" + "\n".join(lines) + f"\n)  # {self.n_params():,} parameters"

"""The forward/backward diagram of a small network (notebook 03).

`forward_backward(net, n)` draws each layer of a `Sequential` as a box, the forward pass
left to right above with each output's shape, the backward pass right to left below with
each gradient's shape, and under each box what the layer keeps from forward for backward.
"""

from __future__ import annotations

from nnlab.plot._base import new_axes as _axes

#: What each kind of layer keeps from forward for backward, by class name.
KEEPS = {"Dense": "keeps X (to make dW = X.T @ dY)", "Sigmoid": "keeps Y = sigmoid(X)",
         "Tanh": "keeps Y = tanh(X)", "ReLU": "keeps the mask X > 0",
         "LeakyReLU": "keeps the mask X > 0", "Dropout": "keeps its mask"}


def _shapes(net, n: int, d: int) -> list[tuple[str, tuple]]:
    """[(layer name, output shape)], found by running a zero batch through copies' sizes."""
    width, found = d, []
    for layer in net.layers:
        W = getattr(layer, "W", None)
        if W is not None:
            width = W.shape[1]
            name = f"{type(layer).__name__} {W.shape[0]}->{W.shape[1]}"
        else:
            name = type(layer).__name__
        found.append((name, (n, width)))
    return found


def forward_backward(net, n: int = 4, *, loss: str = "loss L", ax=None,
                     title: str | None = None):
    """Draw `net` (a `Sequential`) for a batch of `n` samples; returns the Figure.

    The input width is read from the first layer's ``W`` (n, d); every layer with a ``W``
    (d, h) changes the width, activations keep it.
    """
    layers = list(getattr(net, "layers", []))
    if not layers:
        raise TypeError(f"net={net!r}: pass a Sequential (an object with .layers)")
    first = next((getattr(layer, "W", None) for layer in layers
                  if getattr(layer, "W", None) is not None), None)
    if first is None:
        raise ValueError("the network has no layer with a weight matrix W; nothing to size")
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n={n!r}: give the batch size, a positive int")
    d = first.shape[0]
    boxes = _shapes(net, n, d)
    k = len(boxes)
    fig, ax = _axes(ax, (2.1 * (k + 2), 3.6))
    xs = [1.6 + 2.0 * i for i in range(k)]
    ax.text(0, 0, f"X\n{(n, d)}", ha="center", va="center", fontsize=9,
            bbox={"boxstyle": "round", "fc": "#eeeeee"})
    ax.text(xs[-1] + 2.0, 0, loss, ha="center", va="center", fontsize=9,
            bbox={"boxstyle": "round", "fc": "#fde0c5"})
    prev_shape, prev_x = (n, d), 0.0
    for (name, shape), x, layer in zip(boxes, xs, layers, strict=True):
        has_params = getattr(layer, "W", None) is not None
        ax.text(x, 0, name, ha="center", va="center", fontsize=9,
                bbox={"boxstyle": "round", "fc": "#cfe3f7" if has_params else "#e3f2d7"})
        ax.text(x, -0.55, KEEPS.get(type(layer).__name__, "keeps what backward needs"),
                ha="center", va="top", fontsize=7, wrap=True, color="#444444")
        if has_params:
            ax.text(x, 0.42, "stores dW, db", ha="center", fontsize=7, color="#1f4e79")
        _arrow(ax, prev_x + 0.3, x - 0.3, 0.9, f"{prev_shape}", "#1f4e79")
        _arrow(ax, x - 0.3, prev_x + 0.3, -1.35, f"{'dX' if prev_x == 0 else 'dY'} {prev_shape}",
               "#a0522d")
        prev_shape, prev_x = shape, x
    _arrow(ax, prev_x + 0.3, xs[-1] + 1.7, 0.9, f"{prev_shape}", "#1f4e79")
    _arrow(ax, xs[-1] + 1.7, prev_x + 0.3, -1.35, f"dL/dY {prev_shape}", "#a0522d")
    ax.text(-0.6, 1.25, "forward: output shapes", fontsize=8, color="#1f4e79")
    ax.text(-0.6, -1.75, "backward: gradients, same shapes", fontsize=8, color="#a0522d")
    ax.set_xlim(-0.8, xs[-1] + 2.8)
    ax.set_ylim(-2.0, 1.5)
    ax.axis("off")
    ax.set_title(title or f"forward and backward through {k} layers, a batch of n = {n}")
    return fig


def _arrow(ax, x0, x1, y, label, color):
    ax.annotate("", xy=(x1, y), xytext=(x0, y),
                arrowprops={"arrowstyle": "->", "color": color, "lw": 1.2})
    ax.text((x0 + x1) / 2, y + 0.1, label, ha="center", va="bottom", fontsize=7, color=color)

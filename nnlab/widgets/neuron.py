"""The interactive neuron of notebook 01: sliders w1, w2, b over a truth table.

Moving a slider recomputes the four outputs with the reference `neuron_forward` and
redraws the decision line, so a student sees why no line separates XOR (bug B4).
"""

from __future__ import annotations

import numpy as np

from nnlab.widgets._common import GATES, closed_figure, gate_data, show_in

_SPAN = np.linspace(-0.5, 1.5, 81)


class InteractiveNeuron:
    """Sliders w1, w2, b for one sigmoid neuron over the AND, OR or XOR points (01).

    The neuron outputs `y_hat = sigmoid(X @ w + b)` with `X (4, 2)`, `w (2, 1)`,
    `b (1,)`; the figure shades `y_hat` over the plane, draws the decision line
    `w1 x1 + w2 x2 + b = 0` and the four points. Attributes: `sliders` (dict of
    FloatSliders), `gate` (a Dropdown), `outputs` (the current `y_hat (4, 1)`),
    `figure`, `widget` (the box to display); `update()` recomputes and redraws.
    """

    def __init__(self, gate: str = "and", *, w1: float = 1.0, w2: float = 1.0,
                 b: float = -1.5, limit: float = 10.0):
        import ipywidgets as widgets

        X, y = gate_data(gate)
        if not (isinstance(limit, int | float) and limit > 0):
            raise ValueError(f"limit={limit!r}: the sliders' range must be a positive number")
        start = {"w1": w1, "w2": w2, "b": b}
        for name, value in start.items():
            if not isinstance(value, int | float) or not -limit <= value <= limit:
                raise ValueError(f"{name}={value!r}: start inside the sliders' range "
                                 f"[-{limit}, {limit}]")
        self.X, self.y = X, y
        self.sliders = {name: widgets.FloatSlider(value=float(value), min=-limit, max=limit,
                                                  step=0.1, description=name,
                                                  continuous_update=True)
                        for name, value in start.items()}
        self.gate = widgets.Dropdown(options=list(GATES), value=gate, description="gate")
        self.table = widgets.HTML()
        self.plot = widgets.Output()
        self.outputs = np.full((4, 1), np.nan)
        self.figure, (ax,) = closed_figure(1, 4.2)
        self._ax = ax
        grid = np.array([[a, c] for c in _SPAN for a in _SPAN])
        self._grid = grid
        self._shade = ax.imshow(np.zeros((len(_SPAN), len(_SPAN))), origin="lower",
                                extent=(-0.5, 1.5, -0.5, 1.5), cmap="RdBu_r", vmin=0, vmax=1,
                                alpha=0.55)
        (self._line,) = ax.plot([], [], "k-", linewidth=2, label="w1 x1 + w2 x2 + b = 0")
        self._points = ax.scatter(X[:, 0], X[:, 1], c=y[:, 0], cmap="RdBu_r", vmin=0, vmax=1,
                                  s=120, edgecolors="k", zorder=3)
        self._labels = [ax.annotate("", (x1, x2), xytext=(8, 8), textcoords="offset points")
                        for x1, x2 in X]
        ax.set_xlim(-0.5, 1.5)
        ax.set_ylim(-0.5, 1.5)
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
        self.figure.colorbar(self._shade, ax=ax, label="y_hat")
        for slider in self.sliders.values():
            slider.observe(self._on_change, names="value")
        self.gate.observe(self._on_gate, names="value")
        self.widget = widgets.VBox([widgets.HBox([self.gate, *self.sliders.values()]),
                                    widgets.HBox([self.plot, self.table])])
        self.update()

    @property
    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        """The current `w (2, 1)` and `b (1,)` read from the sliders."""
        s = self.sliders
        return np.array([[s["w1"].value], [s["w2"].value]]), np.array([s["b"].value])

    def _on_change(self, change=None) -> None:
        self.update()

    def _on_gate(self, change) -> None:
        self.X, self.y = gate_data(change["new"])
        self._points.set_array(self.y[:, 0])
        self.update()

    def update(self) -> np.ndarray:
        """Recompute the four outputs from the sliders, redraw; returns `outputs (4, 1)`."""
        from nnlab.neuron import neuron_forward

        w, b = self.weights
        self.outputs = neuron_forward(self.X, w, b)
        shade = neuron_forward(self._grid, w, b).reshape(len(_SPAN), len(_SPAN))
        self._shade.set_data(shade)
        (w1, w2), (b0,) = w[:, 0], b
        if abs(w2) > 1e-9:
            self._line.set_data(_SPAN, -(w1 * _SPAN + b0) / w2)
        elif abs(w1) > 1e-9:
            self._line.set_data(np.full(2, -b0 / w1), [-0.5, 1.5])
        else:
            self._line.set_data([], [])
        for label, out in zip(self._labels, self.outputs[:, 0], strict=True):
            label.set_text(f"{out:.2f}")
        correct = int(np.sum((self.outputs > 0.5) == (self.y > 0.5)))
        self._ax.set_title(f"{self.gate.value.upper()}: {correct} of 4 right")
        rows = "".join(f"<tr><td>{int(x1)} {int(x2)}</td><td>{int(t)}</td><td>{o:.3f}</td></tr>"
                       for (x1, x2), t, o in zip(self.X, self.y[:, 0], self.outputs[:, 0],
                                                 strict=True))
        self.table.value = ("<table><tr><th>x1 x2</th><th>target</th><th>y_hat</th></tr>"
                            f"{rows}</table><p>{correct} of 4 on the right side of 0.5</p>")
        show_in(self.plot, self.figure)
        return self.outputs

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def interactive_neuron(gate: str = "and", **kwargs) -> InteractiveNeuron:
    """Sliders w1, w2, b over the `gate` truth table ("and", "or", "xor"); notebook 01.

    Keyword arguments `w1`, `w2`, `b` (starting values) and `limit` (slider range) go to
    `InteractiveNeuron`. Display the returned object to use it.
    """
    return InteractiveNeuron(gate, **kwargs)

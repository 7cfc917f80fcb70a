"""XOR training, live (notebook 04): pick hidden units, learning rate and seed, press
Train, and watch the loss fall (or stall) and the decision boundary bend.

The network and its training are those of the reference `nnlab.train.train_xor`
(Dense(2, h), Tanh, Dense(h, 1), Sigmoid; full-batch gradient descent on the mean
binary cross-entropy), run in chunks so the figure can be redrawn between them.
"""

from __future__ import annotations

import numpy as np

from nnlab.widgets._common import closed_figure, gate_data, show_in

_SPAN = np.linspace(-0.5, 1.5, 61)


class LiveTraining:
    """A live XOR training widget (notebook 04).

    Controls in `controls`: "hidden" (h, 1-16), "lr", "seed", "epochs"; `button` starts
    training (`train()` does the same from code). After training: `net`, `losses` (one
    per epoch), `outputs` (the net's `(4, 1)` outputs on the XOR points), `figure` (loss
    curve and decision boundary), `status` (an HTML summary); `widget` is the box to
    display.
    """

    def __init__(self, *, hidden: int = 2, lr: float = 2.0, seed: int = 0,
                 epochs: int = 500, redraw_every: int = 25):
        import ipywidgets as widgets

        for name, value, low, high in (("hidden", hidden, 1, 16), ("seed", seed, 0, 2**31 - 1),
                                       ("epochs", epochs, 10, 20000),
                                       ("redraw_every", redraw_every, 1, 20000)):
            if (isinstance(value, bool) or not isinstance(value, int | np.integer)
                    or not low <= value <= high):
                raise ValueError(f"{name}={value!r}: use an integer from {low} to {high}")
        if isinstance(lr, bool) or not isinstance(lr, int | float) or not 1e-3 <= lr <= 100:
            raise ValueError(f"lr={lr!r}: use a learning rate from 0.001 to 100, e.g. 1.0")
        self.X, self.y = gate_data("xor")
        self.redraw_every = int(redraw_every)
        self.controls = {
            "hidden": widgets.IntSlider(value=int(hidden), min=1, max=16,
                                        description="hidden"),
            "lr": widgets.FloatLogSlider(value=float(lr), base=10, min=-3, max=2, step=0.1,
                                         description="lr"),
            "seed": widgets.BoundedIntText(value=int(seed), min=0, max=2**31 - 1,
                                           description="seed"),
            "epochs": widgets.IntSlider(value=int(epochs), min=10, max=20000, step=10,
                                        description="epochs"),
        }
        self.button = widgets.Button(description="Train", button_style="primary",
                                     icon="play")
        self.button.on_click(self._on_click)
        self.status = widgets.HTML("Press Train.")
        self.plot = widgets.Output()
        self.net = None
        self.losses: list[float] = []
        self.outputs = np.full((4, 1), np.nan)
        self.figure, (self._loss_ax, self._ax) = closed_figure(2, 8.5)
        (self._loss_line,) = self._loss_ax.plot([], [])
        self._loss_ax.set_yscale("log")
        self._loss_ax.set_xlabel("epoch")
        self._loss_ax.set_ylabel("loss (binary cross-entropy)")
        self._shade = self._ax.imshow(np.full((len(_SPAN), len(_SPAN)), 0.5), origin="lower",
                                      extent=(-0.5, 1.5, -0.5, 1.5), cmap="RdBu_r",
                                      vmin=0, vmax=1, alpha=0.6)
        self._ax.scatter(self.X[:, 0], self.X[:, 1], c=self.y[:, 0], cmap="RdBu_r", vmin=0,
                         vmax=1, s=120, edgecolors="k", zorder=3)
        self._ax.set_xlabel("x1")
        self._ax.set_ylabel("x2")
        self._ax.set_title("P(class 1)")
        self._grid = np.array([[a, c] for c in _SPAN for a in _SPAN])
        self.widget = widgets.VBox([
            widgets.HBox([self.controls["hidden"], self.controls["lr"]]),
            widgets.HBox([self.controls["seed"], self.controls["epochs"], self.button]),
            self.status, self.plot])

    def _on_click(self, button) -> None:
        self.train()

    def _build(self):
        """The network of `train_xor(hidden, seed)`: same layers, same seeding."""
        from nnlab.layers import Dense, Sigmoid, Tanh
        from nnlab.network import Sequential

        hidden, seed = self.controls["hidden"].value, self.controls["seed"].value
        s1, s2 = np.random.SeedSequence(seed).generate_state(2)
        return Sequential(Dense(2, hidden, int(s1), init="xavier"), Tanh(),
                          Dense(hidden, 1, int(s2), init="xavier"), Sigmoid())

    def train(self) -> list[float]:
        """Train a fresh network with the controls' settings, redrawing every
        `redraw_every` epochs; returns the losses (one per epoch)."""
        from nnlab.losses import binary_cross_entropy
        from nnlab.optim import SGD

        self.button.disabled = True
        try:
            self.net = self._build()
            self.losses = []
            params, opt = self.net.params(), SGD(self.controls["lr"].value)
            total = self.controls["epochs"].value
            for epoch in range(1, total + 1):
                loss, dout = binary_cross_entropy(self.net.forward(self.X), self.y)
                self.losses.append(float(loss))
                if not np.isfinite(loss):
                    break
                self.net.backward(dout, need_dX=False)
                opt.step(params, self.net.grads())
                if epoch % self.redraw_every == 0 or epoch == total:
                    self.update()
            self.update()
        finally:
            self.button.disabled = False
        return self.losses

    def update(self) -> np.ndarray:
        """Redraw from the current network; returns `outputs (4, 1)`."""
        if self.net is None:
            return self.outputs
        self.outputs = self.net.predict(self.X)
        self._shade.set_data(self.net.predict(self._grid).reshape(len(_SPAN), len(_SPAN)))
        epochs = np.arange(1, len(self.losses) + 1)
        self._loss_line.set_data(epochs, self.losses)
        self._loss_ax.relim()
        self._loss_ax.autoscale_view()
        learned = bool(np.all((self.outputs > 0.5) == (self.y > 0.5)))
        last = self.losses[-1] if self.losses else float("nan")
        self._loss_ax.set_title(f"epoch {len(self.losses)}: loss {last:.3g}")
        outs = " ".join(f"{o:.2f}" for o in self.outputs[:, 0])
        verdict = ("<b style='color:green'>learned XOR</b>" if learned else
                   "<b style='color:#b00'>not XOR (yet)</b>: try another seed, more hidden "
                   "units, or a different learning rate")
        self.status.value = (f"epoch {len(self.losses)}, loss {last:.4g}, outputs for "
                             f"00 01 10 11: {outs} &mdash; {verdict}")
        show_in(self.plot, self.figure)
        return self.outputs

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def live_training(**kwargs) -> LiveTraining:
    """A live XOR training widget (notebook 04); keyword arguments `hidden`, `lr`,
    `seed`, `epochs`, `redraw_every` set its starting values. Display the result."""
    return LiveTraining(**kwargs)

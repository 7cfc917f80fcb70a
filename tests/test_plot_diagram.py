"""nnlab.plot.forward_backward: the diagram of notebook 03 states the right shapes."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from nnlab import plot  # noqa: E402
from nnlab.layers import Dense, ReLU, Sigmoid, Tanh  # noqa: E402
from nnlab.network import Sequential  # noqa: E402


def _texts(fig):
    return [t.get_text() for t in fig.axes[0].texts]


def test_each_layer_its_shapes_and_what_it_keeps():
    fig = plot.forward_backward(Sequential(Dense(2, 3), Tanh(), Dense(3, 1), Sigmoid()), n=4)
    texts = _texts(fig)
    for label in ("Dense 2->3", "Tanh", "Dense 3->1", "Sigmoid", "X\n(4, 2)",
                  "keeps X (to make dW = X.T @ dY)", "keeps Y = tanh(X)",
                  "dX (4, 2)", "dY (4, 3)", "dL/dY (4, 1)"):
        assert label in texts, (label, texts)
    assert texts.count("(4, 3)") == 2 and texts.count("stores dW, db") == 2


def test_relu_layers_keep_their_mask():
    fig = plot.forward_backward(Sequential(Dense(5, 8), ReLU(), Dense(8, 2)), n=16)
    assert "keeps the mask X > 0" in _texts(fig) and "(16, 8)" in _texts(fig)


@pytest.mark.parametrize("net, n, words", [
    (object(), 4, "pass a Sequential"),
    (Sequential(Tanh(), Sigmoid()), 4, "no layer with a weight matrix"),
    (Sequential(Dense(2, 1)), 0, "n=0"),
])
def test_bad_input_is_named(net, n, words):
    with pytest.raises((TypeError, ValueError), match=words):
        plot.forward_backward(net, n)

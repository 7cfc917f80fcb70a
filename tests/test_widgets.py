"""nnlab.widgets driven headlessly: set sliders, click buttons, read the outputs.

The quick tests run without a kernel (ipywidgets work without a front end; nothing is
displayed). One slow test runs the widgets in a real kernel through nbclient.
"""

import io
import subprocess
import sys

import numpy as np
import pytest

from nnlab.widgets import GATES, InteractiveNeuron, LiveTraining, interactive_neuron, live_training

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _expected(w1, w2, b):
    return _sigmoid(XOR_X @ np.array([[w1], [w2]]) + b)


def test_importing_widgets_builds_and_imports_nothing_heavy():
    code = ("import sys; import nnlab.widgets; "
            "heavy = [m for m in ('ipywidgets', 'matplotlib', 'IPython') if m in sys.modules]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_neuron_outputs_follow_the_sliders():
    widget = interactive_neuron("and", w1=1.0, w2=1.0, b=-1.5)
    assert isinstance(widget, InteractiveNeuron)
    assert set(widget.sliders) == {"w1", "w2", "b"}
    np.testing.assert_allclose(widget.outputs, _expected(1.0, 1.0, -1.5))
    widget.sliders["w1"].value = 4.0
    widget.sliders["b"].value = -2.0
    np.testing.assert_allclose(widget.outputs, _expected(4.0, 1.0, -2.0))
    assert f"{widget.outputs[2, 0]:.3f}" in widget.table.value


def test_neuron_decision_line_is_where_the_output_is_one_half():
    widget = interactive_neuron("or", w1=2.0, w2=-3.0, b=0.5)
    xs, ys = widget._line.get_data()
    assert len(xs) > 2
    np.testing.assert_allclose(2.0 * np.asarray(xs) - 3.0 * np.asarray(ys) + 0.5, 0, atol=1e-9)
    widget.sliders["w2"].value = 0.0  # a vertical line x1 = -b / w1
    xs, _ = widget._line.get_data()
    np.testing.assert_allclose(xs, -0.25)
    widget.sliders["w1"].value = 0.0  # no weights: no line
    assert len(widget._line.get_data()[0]) == 0


def test_and_and_or_have_a_separating_setting_xor_has_none():
    assert "4 of 4" in interactive_neuron("and", w1=1, w2=1, b=-1.5)._ax.get_title()
    assert "4 of 4" in interactive_neuron("or", w1=1, w2=1, b=-0.5)._ax.get_title()
    widget = interactive_neuron("xor")
    rng = np.random.default_rng(0)
    best = 0
    for w1, w2, b in rng.uniform(-10, 10, size=(150, 3)):
        widget.sliders["w1"].value, widget.sliders["w2"].value = float(w1), float(w2)
        widget.sliders["b"].value = float(b)
        best = max(best, int(np.sum((widget.outputs > 0.5) == np.array([[0], [1], [1], [0]]))))
    assert best == 3  # one line gets at most 3 of the 4 XOR points right (bug B4)


def test_switching_the_gate_changes_the_targets():
    widget = interactive_neuron("and", w1=1, w2=1, b=-1.5)
    widget.gate.value = "xor"
    np.testing.assert_array_equal(widget.y[:, 0], [0, 1, 1, 0])
    assert widget._ax.get_title() == "XOR: 1 of 4 right"  # the AND line gets only 00
    np.testing.assert_array_equal(widget._points.get_array(), [0, 1, 1, 0])


def test_neuron_figure_renders_and_the_widget_has_a_view():
    widget = interactive_neuron("or")
    buffer = io.BytesIO()
    widget.figure.savefig(buffer, format="png")
    assert buffer.getvalue()[:4] == b"\x89PNG"
    bundle = widget._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


@pytest.mark.parametrize("args, kwargs, err, match", [
    (("nand",), {}, ValueError, "gate='nand'"),
    (("and",), {"w1": 20.0}, ValueError, r"w1=20.0.*\[-10.0, 10.0\]"),
    (("and",), {"limit": 0}, ValueError, "limit=0"),
    (("and",), {"bias": 1.0}, TypeError, "bias"),
])
def test_neuron_rejects_bad_arguments(args, kwargs, err, match):
    with pytest.raises(err, match=match):
        interactive_neuron(*args, **kwargs)


def test_gates_are_the_three_truth_tables():
    assert GATES == ("and", "or", "xor")


def test_live_training_button_trains_and_redraws():
    widget = live_training(hidden=3, lr=1.0, seed=0, epochs=300, redraw_every=50)
    assert isinstance(widget, LiveTraining)
    assert set(widget.controls) == {"hidden", "lr", "seed", "epochs"}
    assert np.isnan(widget.outputs).all() and widget.losses == []
    widget.button.click()
    assert len(widget.losses) == 300
    assert widget.losses[-1] < 0.1 * widget.losses[0]
    np.testing.assert_array_equal(widget.outputs > 0.5, [[False], [True], [True], [False]])
    assert "learned XOR" in widget.status.value and not widget.button.disabled
    xs, ys = widget._loss_line.get_data()
    assert len(xs) == 300 and ys[-1] == widget.losses[-1]
    shade = widget._shade.get_array()
    assert shade.min() < 0.1 and shade.max() > 0.9
    assert "epoch 300" in widget._loss_ax.get_title()


def test_live_training_matches_the_reference_train_xor():
    from nnlab.train import train_xor

    widget = live_training(hidden=2, lr=2.0, seed=5, epochs=200)
    losses = widget.train()
    _, reference = train_xor(2, 5, lr=2.0, epochs=200)
    np.testing.assert_allclose(losses, reference, rtol=0, atol=0)


def test_live_training_starts_from_train_xors_defaults():
    import inspect

    from nnlab.train import train_xor

    defaults = inspect.signature(train_xor).parameters
    widget = live_training()
    assert widget.controls["lr"].value == pytest.approx(defaults["lr"].default)
    assert widget.controls["epochs"].value == defaults["epochs"].default


def test_live_training_controls_change_the_run():
    widget = live_training(hidden=2, epochs=100)
    first = list(widget.train())
    widget.controls["seed"].value = 7
    assert widget.train() != first
    widget.controls["hidden"].value = 1
    widget.controls["epochs"].value = 200
    widget.train()
    assert len(widget.losses) == 200
    assert widget.net.params()["0.W"].shape == (2, 1)
    assert "not XOR" in widget.status.value  # one hidden unit cannot do it


@pytest.mark.parametrize("kwargs, match", [
    ({"hidden": 0}, "hidden=0"), ({"hidden": 17}, "hidden=17"), ({"lr": 0.0}, "lr=0.0"),
    ({"seed": -1}, "seed=-1"), ({"epochs": 2.5}, "epochs=2.5"), ({"hidden": True}, "hidden"),
])
def test_live_training_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        live_training(**kwargs)


def test_live_training_rejects_unknown_keywords():
    with pytest.raises(TypeError):
        live_training(hidden_units=3)


@pytest.mark.slow
def test_widgets_in_a_real_kernel(tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.delenv("MPLBACKEND", raising=False)  # as Jupyter starts a kernel
    cells = [
        "from nnlab.widgets import interactive_neuron, live_training\n"
        "neuron = interactive_neuron('or')\nneuron",
        "neuron.sliders['b'].value = -1.5\nprint((neuron.outputs > 0.5).ravel().tolist())",
        "live = live_training(hidden=3, epochs=200)\nlive.button.click()\n"
        "print(len(live.losses), (live.outputs > 0.5).ravel().tolist())",
    ]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    NotebookClient(nb, timeout=60, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    view = nb.cells[0].outputs[0]["data"]
    assert "application/vnd.jupyter.widget-view+json" in view
    assert nb.cells[1].outputs[0]["text"].strip() == "[False, False, False, True]"
    assert nb.cells[2].outputs[0]["text"].strip() == "200 [False, True, True, False]"
    # The figures went into the widgets' Output areas, not into the cells.
    assert not any("image/png" in o.get("data", {}) for c in nb.cells for o in c.outputs)
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    outputs = [m["state"] for m in state.values() if m["model_name"] == "OutputModel"]
    assert any("image/png" in o.get("data", {}) for s in outputs for o in s.get("outputs", []))

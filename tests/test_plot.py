"""nnlab.plot with the Agg backend: what each figure draws, and what it refuses."""

import io
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nnlab import plot  # noqa: E402

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([[0.0], [1.0], [1.0], [0.0]])


def _xor_probability(P):
    # A hand-made XOR solution: high when exactly one input is near 1.
    a, b = P[:, 0] > 0.5, P[:, 1] > 0.5
    return np.where(a ^ b, 0.9, 0.1).reshape(-1, 1)


def _rendered(fig):
    # What Jupyter does with a returned figure: print it to PNG.
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return plt.imread(io.BytesIO(buffer.getvalue()), format="png")


def test_figures_stay_out_of_pyplots_registry():
    before = plt.get_fignums()
    fig = plot.loss_curves([3, 2, 1])
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == before  # Jupyter will show it once, as the return value
    assert _rendered(fig).shape[2] == 4  # still printable after being closed


def test_loss_curves_from_a_list():
    fig = plot.loss_curves([1.0, 0.5, 0.25], logy=True)
    (ax,) = fig.axes
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(line.get_ydata(), [1.0, 0.5, 0.25])
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
    assert ax.get_yscale() == "log"


def test_loss_curves_from_a_history_puts_accuracy_on_a_second_axis():
    history = {"loss": [1.0, 0.6], "val_loss": [1.1, 0.7], "acc": [0.5, 0.8], "val_acc": []}
    fig = plot.loss_curves(history)
    loss_ax, acc_ax = fig.axes
    assert [ln.get_label() for ln in loss_ax.get_lines()] == ["loss", "val_loss"]
    assert [ln.get_label() for ln in acc_ax.get_lines()] == ["acc"]
    assert acc_ax.get_ylabel() == "accuracy"
    legend = [t.get_text() for t in loss_ax.get_legend().get_texts()]
    assert legend == ["loss", "val_loss", "acc"]


def test_loss_curves_accepts_the_real_history_of_fit():
    from nnlab import train
    history = train.History()
    history["loss"].extend([0.9, 0.4])
    fig = plot.loss_curves(history)
    assert len(fig.axes[0].get_lines()) == 1


@pytest.mark.parametrize("bad, err, match", [
    (5, TypeError, "list of losses"),
    ("loss", TypeError, "list of losses"),
    ([], ValueError, "no values"),
    ({"loss": []}, ValueError, "no values"),
    ([[1, 2], [3, 4]], ValueError, r"shape \(2, 2\)"),
])
def test_loss_curves_rejects_bad_history(bad, err, match):
    with pytest.raises(err, match=match):
        plot.loss_curves(bad)


def test_loss_curves_rejects_unknown_keywords():
    with pytest.raises(TypeError):
        plot.loss_curves([1, 2], log=True)


def test_decision_boundary_draws_the_half_contour_and_the_points():
    fig = plot.decision_boundary(_xor_probability, XOR_X, XOR_Y, resolution=50)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "x1" and ax.get_ylabel() == "x2"
    scatter = ax.collections[-1]
    np.testing.assert_array_equal(scatter.get_offsets(), XOR_X)
    np.testing.assert_array_equal(scatter.get_array(), [0, 1, 1, 0])
    assert fig.axes[1].get_ylabel() == "P(class 1)"  # the colour bar
    assert len(ax.collections) >= 3  # filled shades, the 0.5 line, the points
    _rendered(fig)


def test_decision_boundary_handles_k_class_scores_and_a_given_axes():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])

    def scores(P):
        return np.column_stack([-P.sum(axis=1), P[:, 0] - P[:, 1], P[:, 1] - P[:, 0]])

    fig0, ax = plt.subplots()
    plt.close(fig0)
    fig = plot.decision_boundary(scores, X, [0, 1, 2], ax=ax, resolution=20)
    assert fig is fig0
    _rendered(fig)


@pytest.mark.parametrize("X, y, fn, match", [
    (np.zeros((4, 3)), np.zeros(4), _xor_probability, r"shape \(4, 3\).*\(n, 2\)"),
    (XOR_X, np.zeros(3), _xor_probability, r"y has shape \(3,\); expected \(4,\)"),
    (XOR_X, XOR_Y, lambda P: np.zeros((len(P), 2, 2)), r"predict_fn returned shape"),
    (XOR_X, XOR_Y, lambda P: np.zeros(7), r"predict_fn returned shape \(7,\)"),
    (XOR_X, [0.5, 1, 1, 0], _xor_probability, "non-integer"),
])
def test_decision_boundary_rejects_bad_shapes(X, y, fn, match):
    with pytest.raises(ValueError, match=match):
        plot.decision_boundary(fn, X, y, resolution=10)


def test_decision_boundary_rejects_a_non_callable():
    with pytest.raises(TypeError, match="not callable"):
        plot.decision_boundary(np.zeros(4), XOR_X, XOR_Y)


def test_gradcheck_report_bars_on_a_log_scale_with_the_tolerance_line():
    report = {"0.W": 3e-10, "0.b": 2e-9, "2.W": 4e-3, "2.b": 0.0}
    fig = plot.gradcheck_report(report)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == list(report)
    heights = [bar.get_height() for bar in ax.patches]
    np.testing.assert_allclose(heights, [3e-10, 2e-9, 4e-3, 1e-16])
    red = [bar.get_facecolor()[:3] == matplotlib.colors.to_rgb("tab:red") for bar in ax.patches]
    assert red == [False, False, True, False]
    (tol_line,) = [ln for ln in ax.get_lines() if ln.get_ydata()[0] == 1e-7]
    assert "1 of 4 above 1e-07" in ax.get_title()
    assert ax.get_ylabel() == "relative error"
    assert tol_line.get_linestyle() == "--"


def test_gradcheck_report_is_duck_typed_on_rows_and_marks_nan():
    class Report:
        rows = [("W", 1e-9), ("b", float("nan"))]

    fig = plot.gradcheck_report(Report())
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["W", "b"]
    assert any(t.get_text() == "nan" for t in ax.texts)
    assert "1 of 2" in ax.get_title()
    rows = [{"name": "W", "rel_error": 1e-9}]
    assert "all 1 below" in plot.gradcheck_report(rows).axes[0].get_title()


def test_gradcheck_report_reads_the_reference_gradreport():
    from nnlab import gradcheck, layers, losses, network
    net = network.Sequential(layers.Dense(2, 3, 0), layers.Tanh(), layers.Dense(3, 1, 1),
                             layers.Sigmoid())
    X = np.random.default_rng(0).normal(size=(5, 2))
    y = np.array([[0.0], [1.0], [1.0], [0.0], [1.0]])
    report = gradcheck.network_gradient_report(net, losses.binary_cross_entropy, X, y)
    ax = plot.gradcheck_report(report).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(report.errors())
    np.testing.assert_allclose([b.get_height() for b in ax.patches],
                               np.maximum(list(report.errors().values()), 1e-16))
    assert f"below {report.threshold:g}" in ax.get_title()


@pytest.mark.parametrize("bad, err, match", [
    ({}, ValueError, "empty"),
    ({"W": -1.0}, ValueError, ">= 0"),
    ({"W": "small"}, TypeError, "not a number"),
    (0.5, TypeError, "dict name -> relative error"),
])
def test_gradcheck_report_rejects_bad_reports(bad, err, match):
    with pytest.raises(err, match=match):
        plot.gradcheck_report(bad)


def test_digit_grid_titles_and_marks_mistakes():
    rng = np.random.default_rng(0)
    X = rng.random((12, 784))
    y = np.arange(12) % 10
    y_pred = y.copy()
    y_pred[3] = 9
    fig = plot.digit_grid(X, y, y_pred, n=8, ncols=4)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(fig.axes) == 8 and len(shown) == 8
    assert shown[0].images[0].get_array().shape == (28, 28)
    assert shown[3].get_title() == "9/3"
    assert shown[3].title.get_color() == "tab:red" and shown[2].title.get_color() == "k"


def test_digit_grid_on_the_shipped_subset_and_8x8_digits():
    from nnlab.data import load_mnist_subset

    X, y, _, _ = load_mnist_subset()
    fig = plot.digit_grid(X, y, n=10)
    assert [ax.get_title() for ax in fig.axes] == [str(v) for v in y[:10]]
    fig = plot.digit_grid(np.zeros((3, 64)), n=25)
    assert fig.axes[0].images[0].get_array().shape == (8, 8) and len(fig.axes) == 3


@pytest.mark.parametrize("X, kw, match", [
    (np.zeros((3, 783)), {}, "not a square"),
    (np.zeros((3, 4, 5)), {}, r"shape \(3, 4, 5\)"),
    (np.zeros((3, 64)), {"n": 0}, "n=0"),
    (np.zeros((3, 64)), {"y": [1, 2]}, r"y has shape \(2,\)"),
])
def test_digit_grid_rejects_bad_input(X, kw, match):
    with pytest.raises(ValueError, match=match):
        plot.digit_grid(X, **kw)


def test_confusion_counts_and_matrix():
    y_true = [0, 0, 1, 2, 2, 2]
    y_pred = [0, 1, 1, 2, 0, 2]
    counts = plot.confusion_counts(y_true, y_pred, 3)
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    fig = plot.confusion_matrix(y_true, y_pred, 3)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    np.testing.assert_array_equal(ax.images[0].get_array(), counts)
    assert "66.7%" in ax.get_title()
    assert sorted(int(t.get_text()) for t in ax.texts) == sorted(counts.ravel().tolist())
    one_hot = np.eye(3)[y_pred]
    np.testing.assert_array_equal(plot.confusion_counts(y_true, one_hot, 3), counts)


@pytest.mark.parametrize("y_true, y_pred, k, match", [
    ([0, 1], [0, 3], 3, "label 3, outside 0..2"),
    ([0, -1], [0, 1], 3, "label -1"),
    ([0, 1], [0], 3, r"y_pred has shape \(1,\)"),
    ([0, 1], [0, 1], 1, "k=1"),
])
def test_confusion_matrix_rejects_bad_labels(y_true, y_pred, k, match):
    with pytest.raises(ValueError, match=match):
        plot.confusion_matrix(y_true, y_pred, k)


def test_xor_success_grid_shows_rates_per_hidden_size():
    success = np.array([[True, False, False, False], [True, True, False, True],
                        [True, True, True, True]])
    fig = plot.xor_success_grid(success, [1, 2, 8])
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), success.astype(float))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1", "2", "8"]
    assert ax.get_xlabel() == "seed" and ax.get_ylabel() == "hidden units"
    assert [t.get_text().strip() for t in ax.texts] == ["25%", "75%", "100%"]
    assert "67%" in ax.get_title()
    rates = plot.xor_success_grid([[0.2, 0.4]], [3], columns=[0.1, 1.0],
                                  column_label="learning rate")
    assert rates.axes[0].get_xlabel() == "learning rate"
    # rates: each cell's number in the cell, no average across learning rates
    assert [t.get_text() for t in rates.axes[0].texts] == ["20%", "40%"]
    assert "30%" not in rates.axes[0].get_title()


@pytest.mark.parametrize("success, hidden, kw, match", [
    (np.zeros((2, 3)), [1, 2, 3], {}, r"shape \(2, 3\); expected \(3, m\)"),
    (np.full((1, 2), 1.5), [1], {}, "outside"),
    (np.zeros((1, 2)), [1], {"columns": [0]}, "1 column labels for 2 columns"),
])
def test_xor_success_grid_rejects_bad_input(success, hidden, kw, match):
    with pytest.raises(ValueError, match=match):
        plot.xor_success_grid(success, hidden, **kw)


def test_importing_nnlab_plot_does_not_import_pyplot():
    code = ("import sys, matplotlib; rc = dict(matplotlib.rcParams); import nnlab.plot; "
            "assert 'matplotlib.pyplot' not in sys.modules; "
            "assert dict(matplotlib.rcParams) == rc")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
def test_a_real_kernel_shows_a_returned_figure_exactly_once(tmp_path, monkeypatch):
    import nbformat
    # A kernel as Jupyter starts it: no MPLBACKEND=Agg inherited from the test settings.
    monkeypatch.delenv("MPLBACKEND", raising=False)
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from nnlab import plot\nplot.loss_curves([3, 2, 1])")]
    NotebookClient(nb, timeout=60, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = nb.cells[0].outputs
    pngs = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(pngs) == 1, [o.get("output_type") for o in outputs]

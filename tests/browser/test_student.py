"""A student in JupyterLab: the student version of 01_single_neuron (made by nbgrader through
`python -m autograder release`) filled in through the editor, run, its interactive neuron
dragged, and a bug typed into neuron_gradients diagnosed by the check; then 04_xor's
live-training widget trained by pressing Train.
"""

from __future__ import annotations

import re
import shutil
import time

import nbformat
import numpy as np
import pytest
from labdriver import drag_slider

from nnlab.checks._core import CATALOGUE

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
#: Seed 000's bias gradient: one per sample instead of summed over the batch (bug B1).
B1_GRADIENTS = '''\
def neuron_gradients(X, y, y_hat):
    n = X.shape[0]
    dz = (y_hat - y) / n
    return X.T @ dz, dz
'''


def student_version(name: str, course, tmp_path):
    """A lab root holding nbgrader's student version of `name` (from the released course),
    and the instructor's source notebook."""
    lab_root = tmp_path / "lab"
    lab_root.mkdir()
    shutil.copy(course / "release" / name / f"{name}.ipynb", lab_root)
    source = nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)
    return lab_root, source


def solutions(source) -> dict[str, str]:
    """grade_id -> the instructor's answer (markers removed) for every code answer cell."""
    return {c.metadata.nbgrader.grade_id: "\n".join(
                line for line in c.source.split("\n") if line.strip() not in MARKERS)
            for c in source.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")}


def _table(notebook):
    """The interactive neuron's y_hat column, read off the page."""
    text = notebook.page.locator(".widget-html table").first.text_content()
    return [float(v) for v in re.findall(r"\d\.\d{3}", text)]


def readout_value(slider) -> float:
    """The number a slider's readout shows (ipywidgets writes negatives with U+2212)."""
    return float(slider.locator(".widget-readout").text_content().replace("\u2212", "-"))


def wait_until_drawn(notebook, box, quiet_ms: int = 1500, timeout: float = 30.0) -> None:
    """Wait until the kernel is idle and the widget's picture has stopped changing: a drag
    queues one redraw per intermediate value, and the last one is what the student sees."""
    page, last, since = notebook.page, None, time.monotonic()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        notebook.wait_kernel_idle()
        src = box.locator(".widget-output img").first.get_attribute("src")
        if src != last:
            last, since = src, time.monotonic()
        elif (time.monotonic() - since) * 1000 >= quiet_ms:
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"the widget was still redrawing after {timeout:.0f} s")


def test_student_fills_in_01_drags_the_neuron_and_meets_a_diagnosis(
        released_course, tmp_path, start_lab, open_notebook, shot):
    name = "01_single_neuron"
    lab_root, source = student_version(name, released_course, tmp_path)
    student = nbformat.read(lab_root / f"{name}.ipynb", as_version=4)
    answers = solutions(source)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in student.cells]
    assert set(answers) <= set(ids), f"student version lacks answer cells {set(answers) - set(ids)}"
    assert all("NotImplementedError" in student.cells[ids.index(g)].source for g in answers), (
        "the student version should hold nbgrader's stubs, not the solutions")

    notebook = open_notebook(start_lab(lab_root), f"{name}.ipynb")
    assert notebook.cells.count() == len(student.cells), "JupyterLab shows another notebook"
    for grade_id, answer in answers.items():
        notebook.type_into(ids.index(grade_id), answer)
    notebook.run_all(timeout=120)
    saved = notebook.assert_no_error_outputs()
    for grade_id, answer in answers.items():
        assert saved.cells[ids.index(grade_id)].source == answer, f"{grade_id} typed wrongly"

    # The interactive neuron: its sliders, the table of outputs and the figure.
    page = notebook.page
    widget_cell = next(i for i, c in enumerate(student.cells)
                       if "interactive_neuron(" in c.source and c.cell_type == "code")
    box = notebook.cells.nth(widget_cell)
    box.scroll_into_view_if_needed()
    box.locator(".widget-slider .widget-readout").nth(2).wait_for()
    # text_content, not inner_text: the latter is "" for parts the browser has not laid out
    # yet (JupyterLab skips off-screen cells with content-visibility).
    sliders = {s.locator(".widget-label").text_content(): s
               for s in box.locator(".widget-slider").all()}
    assert set(sliders) == {"w1", "w2", "b"}, f"sliders shown: {sorted(sliders)}"
    image = box.locator(".widget-output img").first
    image.wait_for()
    before_img, before_out = image.get_attribute("src"), _table(notebook)
    shot(page, "neuron-before")

    # w1 from 1 to about 5: the line w1 x1 + w2 x2 + b = 0 turns from a diagonal to nearly
    # vertical and stays in view, and (1, 0) moves to the right side of 0.5.
    drag_slider(page, sliders["w1"], 0.75)
    # The Output widget replaces its <img> on every redraw: look it up afresh each time.
    page.wait_for_function(
        "([box, src]) => box.querySelector('.widget-output img')?.getAttribute('src') !== src",
        arg=[box.element_handle(), before_img], timeout=15_000)
    wait_until_drawn(notebook, box)  # every intermediate value of the drag has been drawn
    assert image.get_attribute("src") != before_img, "the figure was not redrawn"
    after_out = _table(notebook)
    readouts = {k: readout_value(s) for k, s in sliders.items()}
    assert 3 <= readouts["w1"] <= 7, f"w1 dragged to 3/4 of [-10, 10] reads {readouts['w1']}"
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    z = X @ np.array([readouts["w1"], readouts["w2"]]) + readouts["b"]
    expected = 1 / (1 + np.exp(-z))
    assert after_out != before_out, "the outputs did not change when w1 moved"
    assert np.allclose(after_out, expected, atol=6e-4), (
        f"the table shows y_hat {after_out}; the sliders {readouts} give {expected.round(3)}")
    shot(page, "neuron-after-drag")
    notebook.assert_no_error_outputs()  # the widget's callbacks raised nothing either

    # A bug typed into neuron_gradients: its check names it, in words the catalogue uses.
    answer_cell = ids.index("neuron_gradients")
    notebook.type_into(answer_cell, B1_GRADIENTS)
    notebook.run_cell(answer_cell)
    notebook.run_cell(ids.index("test_neuron_gradients"))
    diagnosis = notebook.output_text(ids.index("test_neuron_gradients"))
    assert "CheckFailed" in diagnosis and "found bug B1" in diagnosis, diagnosis
    assert CATALOGUE["B1"][0] in diagnosis, diagnosis
    assert "db" in diagnosis and "(1,)" in diagnosis, (
        f"the diagnosis should say what db's shape must be:\n{diagnosis}")
    notebook.cells.nth(ids.index("test_neuron_gradients")).scroll_into_view_if_needed()
    shot(page, "diagnosis-B1")
    assert not page.console_errors, f"JupyterLab's page raised: {page.console_errors}"


#: Record, in the page, every picture and status line the live-training widget shows.
_WATCH_REDRAWS = """box => {
    window.__frames = new Set(); window.__statuses = [];
    const seen = () => {
        const img = box.querySelector('.widget-output img');
        if (img) window.__frames.add(img.getAttribute('src'));
        const status = box.querySelector('.widget-html-content');
        if (status && window.__statuses.at(-1) !== status.textContent)
            window.__statuses.push(status.textContent);
    };
    new MutationObserver(seen).observe(box, {subtree: true, childList: true,
                                             attributes: true, characterData: true});
}"""


def _status(box) -> str:
    return box.locator(".widget-html-content").first.text_content()


def _train_and_watch(notebook, box, timeout_ms: int = 60_000) -> tuple[int, list[str]]:
    """Press Train; return (pictures drawn, status lines shown) once training has ended."""
    page = notebook.page
    page.evaluate(_WATCH_REDRAWS, box.element_handle())
    box.locator("button", has_text="Train").click()
    epochs = int(readout_value(box.locator(".widget-slider", has_text="epochs")))
    page.wait_for_function(
        "([box, n]) => box.querySelector('.widget-html-content').textContent"
        ".startsWith(`epoch ${n},`) && !box.querySelector('button').disabled",
        arg=[box.element_handle(), epochs], timeout=timeout_ms)
    wait_until_drawn(notebook, box)
    return page.evaluate("window.__frames.size"), page.evaluate("window.__statuses")


def _expected_status(box) -> tuple[str, str]:
    """The loss and outputs the reference train_xor gives for the widget's controls."""
    from nnlab.data import xor_gate
    from nnlab.train import train_xor

    def readout(label):
        return readout_value(box.locator(".widget-slider", has_text=label))

    hidden, epochs, lr = int(readout("hidden")), int(readout("epochs")), readout("lr")
    seed = int(box.locator(".widget-inline-hbox", has_text="seed").locator("input")
               .input_value())
    net, losses = train_xor(hidden, seed, lr=lr, epochs=epochs)
    outputs = " ".join(f"{o:.2f}" for o in net.predict(xor_gate()[0])[:, 0])
    return f"epoch {epochs}, loss {losses[-1]:.4g}", f"00 01 10 11: {outputs}"


def test_student_runs_04_and_the_live_training_widget_trains_and_redraws(
        released_course, tmp_path, start_lab, open_notebook, shot):
    name = "04_xor"
    lab_root, source = student_version(name, released_course, tmp_path)
    student = nbformat.read(lab_root / f"{name}.ipynb", as_version=4)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in student.cells]
    notebook = open_notebook(start_lab(lab_root), f"{name}.ipynb")
    for grade_id, answer in solutions(source).items():
        notebook.type_into(ids.index(grade_id), answer)
    notebook.run_all(timeout=150)
    notebook.assert_no_error_outputs()

    widget_cell = next(i for i, c in enumerate(student.cells)
                       if c.cell_type == "code" and "live_training(" in c.source)
    box = notebook.cells.nth(widget_cell).locator(".jp-OutputArea").first
    box.scroll_into_view_if_needed()
    assert _status(box) == "Press Train.", _status(box)

    frames, statuses = _train_and_watch(notebook, box)
    epochs_seen = [int(m.group(1)) for s in statuses if (m := re.match(r"epoch (\d+),", s))]
    assert frames >= 5 and len(epochs_seen) >= 5, (
        f"training drew {frames} pictures and {len(epochs_seen)} status lines: not live")
    assert epochs_seen == sorted(epochs_seen), f"epochs shown out of order: {epochs_seen}"
    loss, outputs = _expected_status(box)
    assert loss in _status(box) and outputs in _status(box), (
        f"the widget says {_status(box)!r}; the reference train_xor gives {loss!r}, {outputs!r}")
    shot(notebook.page, "live-training-trained")

    # More hidden units through the slider, Train again: a new run, drawn live again.
    before = _status(box)
    drag_slider(notebook.page, box.locator(".widget-slider", has_text="hidden"), 0.3)
    notebook.wait_kernel_idle()
    frames, statuses = _train_and_watch(notebook, box)
    loss, outputs = _expected_status(box)
    assert frames >= 5 and _status(box) != before
    assert loss in _status(box) and outputs in _status(box), (
        f"the widget says {_status(box)!r}; the reference train_xor gives {loss!r}, {outputs!r}")
    shot(notebook.page, "live-training-retrained")
    notebook.assert_no_error_outputs()  # Train's callbacks raised nothing either
    assert not notebook.page.console_errors, (
        f"JupyterLab's page raised: {notebook.page.console_errors}")

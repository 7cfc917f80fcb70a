"""The browser harness itself, on a notebook made here: type into a cell, run, read the
output, drag an ipywidgets slider and see the kernel answer. When this fails, the
course scenarios cannot be trusted either way.
"""

import nbformat
import pytest
from labdriver import drag_slider

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

SLIDER_CELL = """\
import ipywidgets as widgets
slider = widgets.IntSlider(value=10, min=0, max=100, description="n")
square = widgets.Label(value="n squared = 100")
slider.observe(lambda change: setattr(square, "value", f"n squared = {change.new ** 2}"),
               names="value")
widgets.VBox([slider, square])
"""


def _trivial_notebook(path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("x = 0  # the student replaces this"),
        nbformat.v4.new_code_cell("print('x times 7 is', x * 7)"),
        nbformat.v4.new_code_cell(SLIDER_CELL),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)


def test_type_run_read_and_drag_a_slider(tmp_path, start_lab, open_notebook, shot):
    _trivial_notebook(tmp_path / "trivial.ipynb")
    server = start_lab(tmp_path)
    notebook = open_notebook(server, "trivial.ipynb")

    notebook.type_into(0, "def f(a):\n    return a + 1\n\nx = f(5)")
    notebook.run_all()
    assert "x times 7 is 42" in notebook.output_text(1)

    page = notebook.page
    label = page.locator(".widget-label", has_text="n squared")
    assert label.inner_text() == "n squared = 100"
    readout = page.locator(".widget-slider .widget-readout").first
    drag_slider(page, page.locator(".widget-slider").first, 0.75)
    value = int(readout.inner_text())
    assert 60 <= value <= 90, f"slider dragged to 3/4 of its track reads {value}"
    # The drag sends every intermediate value; the kernel answers them in turn, the last last.
    try:
        page.wait_for_function("([el, want]) => el.textContent === want",
                               arg=[label.element_handle(), f"n squared = {value ** 2}"],
                               timeout=20_000)
    except Exception as exc:
        raise AssertionError(f"the kernel did not answer the slider at {value}: the label "
                             f"says {label.inner_text()!r}") from exc
    shot(page, "after-drag")

    saved = notebook.assert_no_error_outputs()
    assert saved.cells[0].source == "def f(a):\n    return a + 1\n\nx = f(5)", (
        "what was typed into the editor is not what the file holds")

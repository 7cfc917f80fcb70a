"""What the widgets share: truth tables by name, a figure kept out of pyplot's list, and
redrawing a figure inside an Output widget."""

from __future__ import annotations

GATES = ("and", "or", "xor")


def gate_data(gate: str):
    from nnlab import data

    if gate not in GATES:
        raise ValueError(f"gate={gate!r}: choose one of {', '.join(map(repr, GATES))}")
    return getattr(data, f"{gate}_gate")()


def closed_figure(ncols: int, width: float):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=(width, 3.4), squeeze=False)
    plt.close(fig)  # shown through the widget's Output, never by pyplot as well
    return fig, axes[0]


def show_in(output, fig) -> None:
    """Redraw `fig` inside the Output widget (only when a kernel is there to see it)."""
    from IPython import get_ipython
    from IPython.display import display

    if get_ipython() is None:
        return
    with output:
        output.clear_output(wait=True)
        display(fig)

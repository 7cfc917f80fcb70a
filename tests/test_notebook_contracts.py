"""What the notebooks' own cells promise a student, run on the cells' source in this process
(no kernel): 01's hand-forward stub names the two names its test reads and a missing one
is an AssertionError naming both; 00's demonstration of a failing check stops before the
fix; 03's demonstrations run with any correct `Tanh` a student may write (the zoo's
correct variants), or none yet.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import nbformat
import pytest

matplotlib.use("Agg")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SOLUTION = re.compile(r"### BEGIN SOLUTION.*?### END SOLUTION", re.S)


def _cells(name: str) -> dict:
    nb = nbformat.read(str(NOTEBOOKS / f"{name}.ipynb"), as_version=4)
    return {cell.get("id"): cell for cell in nb.cells}


def _run(name: str, *ids: str, **given) -> dict:
    """The set-up cell (magics left out), then cells `ids`, in one namespace holding `given`."""
    cells = _cells(name)
    setup = next(c for c in cells.values() if c.cell_type == "code")
    namespace = dict(given)
    for cell in (setup, *(cells[i] for i in ids)):
        code = "\n".join("" if line.lstrip().startswith("%") else line
                         for line in cell.source.splitlines())
        exec(compile(code, f"{name}:{cell.get('id')}", "exec"), namespace)  # noqa: S102
    return namespace


def test_01_the_hand_forward_stub_names_both_names():
    stub = SOLUTION.sub("", _cells("01_single_neuron")["hand-forward-07"].source)
    assert "z_by_hand" in stub and "y_hat_by_hand" in stub, stub


@pytest.mark.parametrize("given", [{}, {"z_by_hand": [-1.5, -2.5, 0.5, -0.5]},
                                   {"y_hat_by_hand": [0.182, 0.076, 0.622, 0.378]}],
                         ids=["neither", "no y_hat_by_hand", "no z_by_hand"])
def test_01_a_missing_name_is_an_assertion_that_names_both(given):
    with pytest.raises(AssertionError) as failed:
        _run("01_single_neuron", "test-hand-forward-08", **given)
    message = str(failed.value)
    assert "z_by_hand" in message and "y_hat_by_hand" in message, message
    assert "those names exactly" in message, message


def test_01_the_hand_forward_solution_passes_its_test():
    _run("01_single_neuron", "hand-forward-07", "test-hand-forward-08")


@pytest.mark.filterwarnings("ignore:overflow encountered in exp")
def test_00_the_demonstration_shows_the_diagnosis_not_the_fix(capsys):
    from nnlab.checks import CheckFailed, check_sigmoid

    namespace = _run("00_welcome", "naive-04")
    capsys.readouterr()
    _run("00_welcome", "check-demo-06", naive_sigmoid=namespace["naive_sigmoid"])
    shown = capsys.readouterr().out
    with pytest.raises(CheckFailed) as failed:
        check_sigmoid(namespace["naive_sigmoid"])
    diagnosis, fix = failed.value.message.rsplit(". ", 1)
    assert "bug id: B17" in shown and diagnosis in shown, shown
    assert fix not in shown, shown
    # nothing of the exercise's answer either: its solution lines, or the -|z| trick
    answer = re.search(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION",
                       _cells("00_welcome")["sigmoid-08"].source, re.S)[1]
    leaked = [line.strip() for line in answer.splitlines()
              if len(line.strip()) > 12 and line.split("#")[0].strip() in shown]
    assert not leaked and "np.abs" not in shown, (leaked, shown)


def _correct_tanh_variants():
    from nnlab.checks.zoo import load

    return [s.obj for s in load() if s.check == "check_tanh" and s.correct]


@pytest.mark.parametrize("tanh", [None, *_correct_tanh_variants()],
                         ids=lambda t: "not written" if t is None else t.__name__)
def test_03_demonstrations_run_with_any_correct_tanh(tanh):
    """WrongTanh (B18) needs nothing of the student's Tanh, and the network check takes
    the student's Tanh whatever it stores (the reference's when it is a stub)."""
    from nnlab import layers

    given = {} if tanh is None else {"Tanh": tanh}
    # the student's Dense and Sigmoid, written: nnlab's own
    namespace = _run("03_hidden_layer", "b18-18", "net-check-20",
                     Dense=layers.Dense, Sigmoid=layers.Sigmoid, **given)
    assert type(namespace["wrong"].layers[1]).__name__ == "WrongTanh"
    assert isinstance(namespace["net"].layers[1], tanh or layers.Tanh)
    assert namespace["report"].passed, namespace["report"]

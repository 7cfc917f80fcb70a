"""`python -m nnlab.checks notebook`: a self-learner's whole-notebook check, run for real
(a kernel per run) on small nbgrader-style notebooks written here."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from nnlab.checks.notebook import hidden_variant

SETUP = "import numpy as np\nfrom nnlab.checks import check_sigmoid"
NAIVE = "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))"
STABLE = ("def sigmoid(z):\n    z = np.asarray(z)\n    e = np.exp(-np.abs(z))\n"
          "    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))")
TEST = "# sigmoid: no overflow\ncheck_sigmoid(sigmoid)"


def _notebook(tmp_path, answer: str):
    def meta(**kw):
        base = {"grade": False, "solution": False, "locked": False, "schema_version": 3,
                "task": False}
        base.update(kw)
        return {"nbgrader": base}

    nb = new_notebook(cells=[
        new_markdown_cell("# a tiny course notebook"),
        new_code_cell(SETUP),
        new_code_cell(answer, metadata=meta(solution=True, grade_id="sigmoid")),
        new_code_cell(TEST, metadata=meta(grade=True, locked=True, grade_id="test_sigmoid",
                                          points=3)),
    ])
    path = tmp_path / "00_tiny.ipynb"
    nbformat.write(nb, str(path))
    return path


def _run(*args):
    return subprocess.run([sys.executable, "-m", "nnlab.checks", "notebook", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_a_buggy_notebook_gets_the_graders_diagnosis_and_exit_1(tmp_path):
    path = _notebook(tmp_path, NAIVE)
    before = path.read_bytes()
    done = _run(path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAIL  test_sigmoid (3 points)" in done.stdout
    assert "check_sigmoid found bug B17" in done.stdout
    assert "0 of 3 points" in done.stdout
    assert path.read_bytes() == before, "the notebook file must not change"


@pytest.mark.slow
def test_a_right_notebook_passes_visible_and_hidden_with_exit_0(tmp_path):
    done = _run(_notebook(tmp_path, STABLE))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS  test_sigmoid (3 points)" in done.stdout and "3 of 3 points" in done.stdout


def test_a_missing_file_is_named_with_exit_2(tmp_path):
    done = _run(tmp_path / "nope.ipynb")
    assert done.returncode == 2 and "nope.ipynb: no such notebook" in done.stderr


def test_the_hidden_run_adds_hidden_true_to_every_check_call():
    got = hidden_variant("# dense\ncheck_dense(Dense)\nx = 1\ncheck_dense(Dense, part='init')")
    assert got.splitlines()[1:] == ["check_dense(Dense, hidden=True)", "x = 1",
                                    "check_dense(Dense, part='init', hidden=True)"]
    # a source notebook's test cell already makes its hidden call: nothing to add
    assert hidden_variant("check_x(f, hidden=True)") is None
    assert hidden_variant("assert z_by_hand == [1]") is None

"""Bug injections for notebooks 04-06, graded by real nbgrader.

Each injection replaces one answer cell of a correct submission with a catalogued bug,
autogrades it with `nbgrader autograde` in a temporary course, and requires that the
named test cell scores 0 and that its feedback names the bug. The correct submission
must score full marks, so a test cell that always fails is caught too.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NBGRADER = [sys.executable, "-m", "nbgrader"]


@dataclass(frozen=True)
class Injection:
    answer: str   # grade_id of the answer cell that receives the bug
    source: str   # the buggy cell, in full (signature included), as a student would write it
    test: str     # grade_id of the test cell that must score 0
    bug: str      # the catalogue id its feedback must name


# --------------------------------------------------------------------------- the bugs

XOR_SYMMETRIC_INIT = '''\
def train_xor(hidden, seed, lr=1.0, epochs=2000):
    """Seed 001's start: every weight the same value, so the hidden units stay twins."""
    net = Sequential([Dense(2, hidden, seed=seed), Tanh(), Dense(hidden, 1, seed=seed + 1),
                      Sigmoid()])
    for value in net.params().values():
        value[...] = 0.1
    X, y = xor_gate()
    losses = []
    for _ in range(epochs):
        y_hat = net.forward(X)
        loss, grad = binary_cross_entropy(y_hat, y)
        net.backward(grad)
        sgd_step(net.params(), net.grads(), lr)
        losses.append(loss)
    return net, losses
'''

XOR_ONE_NEURON = '''\
def train_xor(hidden, seed, lr=2.0, epochs=500):
    """Seed 001's network: one sigmoid neuron, `hidden` ignored."""
    net = Sequential(Dense(2, 1, seed=seed), Sigmoid())
    X, y = xor_gate()
    losses = []
    for _ in range(epochs):
        loss, grad = binary_cross_entropy(net.forward(X), y)
        losses.append(loss)
        net.backward(grad)
        sgd_step(net.params(), net.grads(), lr)
    return net, losses
'''

XOR_GRADIENT_ASCENT = '''\
def train_xor(hidden, seed, lr=2.0, epochs=500):
    """The step taken uphill: every parameter moved along its gradient (W += lr * dW)."""
    net = Sequential(Dense(2, hidden, seed=seed), Tanh(), Dense(hidden, 1, seed=seed + 1),
                     Sigmoid())
    X, y = xor_gate()
    losses = []
    for _ in range(epochs):
        loss, grad = binary_cross_entropy(net.forward(X), y)
        losses.append(loss)
        net.backward(grad)
        for name, value in net.params().items():
            value += lr * net.grads()[name]
    return net, losses
'''

STANDARDIZER_REFITS = '''\
class Standardizer:
    """Seed 000's scaling: statistics taken from whatever data is being transformed."""

    def fit(self, X):
        self.mean_ = X.mean(axis=0)
        self.std_ = X.std(axis=0)
        return self

    def transform(self, X):
        return (X - X.mean(axis=0)) / X.std(axis=0)

    def inverse_transform(self, Z):
        return Z * self.std_ + self.mean_
'''

SGD_WITH_WEIGHTS = '''\
def sgd_step(params, grads, lr):
    """Seed 003's update: each array moved by itself instead of by its gradient."""
    for name in params:
        params[name] -= lr * params[name]
'''

SGD_INTO_PARAM = '''\
def sgd_step(params, grads, lr):
    """Seed 004's update: the gradient added straight into the parameter."""
    for name in params:
        params[name] += grads[name]
'''

SOFTMAX_NO_MAX = '''\
def softmax(Z):
    """No max subtracted: exp overflows for large logits."""
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)
'''

CE_NO_MEAN = '''\
def softmax_cross_entropy(Z, y):
    """Loss is a mean, but the gradient forgets the 1/n."""
    n = Z.shape[0]
    P = softmax(Z)
    loss = -np.mean(np.log(P[np.arange(n), y]))
    dZ = P.copy()
    dZ[np.arange(n), y] -= 1
    return loss, dZ
'''

CE_LOG_ZERO = '''\
def softmax_cross_entropy(Z, y):
    """A stable softmax, then the log of a probability that can underflow to 0."""
    n = Z.shape[0]
    P = softmax(Z)
    loss = -np.mean(np.log(P[np.arange(n), y]))
    dZ = P.copy()
    dZ[np.arange(n), y] -= 1
    return loss, dZ / n
'''

CE_IS_MSE = '''\
def softmax_cross_entropy(Z, y):
    """Seed 002's loss: squared error between the linear scores and one-hot targets."""
    n, k = Z.shape
    Y = np.eye(k)[y]
    loss = np.mean(np.sum((Z - Y) ** 2, axis=1))
    return loss, 2 * (Z - Y) / n
'''

#: notebook -> the bugs injected into it. Filled from the checks' catalogue ids.
INJECTIONS: dict[str, list[Injection]] = {
    "04_xor": [
        Injection("train_xor", XOR_SYMMETRIC_INIT, "test_train_xor", "B6"),
        Injection("train_xor", XOR_ONE_NEURON, "test_train_xor", "B4"),
        Injection("train_xor", XOR_GRADIENT_ASCENT, "test_train_xor", "B15"),
    ],
    "05_bias_and_scaling": [
        Injection("standardizer", STANDARDIZER_REFITS, "test_standardizer_new_data", "B2"),
        Injection("sgd_step", SGD_WITH_WEIGHTS, "test_sgd_step", "B12"),
        Injection("sgd_step", SGD_INTO_PARAM, "test_sgd_step", "B13"),
    ],
    "06_mnist_and_synthetic": [
        Injection("softmax", SOFTMAX_NO_MAX, "test_softmax", "B17"),
        Injection("softmax_cross_entropy", CE_NO_MEAN, "test_softmax_cross_entropy", "B5"),
        Injection("softmax_cross_entropy", CE_LOG_ZERO, "test_softmax_cross_entropy", "B17"),
        Injection("softmax_cross_entropy", CE_IS_MSE, "test_softmax_cross_entropy", "B9"),
    ],
}


# --------------------------------------------------------------------------- the course

SOLUTION_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


def completed(source_cell: str) -> str:
    """What a student who solved the cell would have in it: the source minus the markers."""
    return "\n".join(line for line in source_cell.splitlines()
                     if not SOLUTION_MARKERS.match(line))


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1", MPLBACKEND="Agg")
    proc = subprocess.run([*NBGRADER, *args], cwd=course, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{proc.stderr[-3000:]}"
    return proc


def submission(release: Path, source: Path, replace: dict[str, str]) -> nbformat.NotebookNode:
    """The released notebook with every answer filled in from the source notebook, except
    the answer cells in `replace` (grade_id -> cell text)."""
    answers = {}
    for cell in nbformat.read(source, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            answers[meta["grade_id"]] = completed(cell.source)
    nb = nbformat.read(release, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in replace:
            cell.source = replace[grade_id]
        elif grade_id in answers:
            cell.source = answers[grade_id]
    return nb


def cell_output(nb: nbformat.NotebookNode, grade_id: str) -> str:
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            parts = []
            for out in cell.get("outputs", []):
                parts += [out.get("text", ""), out.get("evalue", ""),
                          "\n".join(out.get("traceback", []))]
            return "\n".join(parts)
    raise KeyError(f"no cell with grade_id {grade_id!r}")


@pytest.fixture(scope="module", params=sorted(INJECTIONS))
def graded(request, tmp_path_factory):
    """Autograde, in one nbgrader run, a correct submission and one submission per bug.

    Returns (notebook name, course dir, gradebook as {student: {test grade_id: (score,
    max)}}).
    """
    name = request.param
    course = tmp_path_factory.mktemp(f"course_{name}")
    (course / "source" / name).mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / f"{name}.ipynb", course / "source" / name)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{course}/gradebook.db'\n"
        "c.Execute.timeout = 120\n")
    nbgrader(course, "generate_assignment", name, "--force")
    release = course / "release" / name / f"{name}.ipynb"
    source = course / "source" / name / f"{name}.ipynb"
    students = {"correct": {}}
    for i, inj in enumerate(INJECTIONS[name]):
        students[f"bug{i}"] = {inj.answer: inj.source}
    for student, replace in students.items():
        folder = course / "submitted" / student / name
        folder.mkdir(parents=True)
        nbformat.write(submission(release, source, replace), folder / f"{name}.ipynb")
    nbgrader(course, "autograde", name)

    from nbgrader.api import Gradebook

    scores: dict[str, dict[str, tuple[float, float]]] = {}
    gb = Gradebook(f"sqlite:///{course}/gradebook.db")
    try:
        for student in students:
            sub = gb.find_submission_notebook(name, name, student)
            scores[student] = {g.name: (g.score, g.max_score) for g in sub.grades
                               if g.cell_type == "code" and g.max_score}
    finally:
        gb.close()
    return name, course, scores


def manifest_tests(name: str) -> set[str]:
    manifest = json.loads((ROOT / "notebooks" / "manifest.json").read_text())
    return {c["grade_id"] for c in manifest["notebooks"][name]["cells"] if c["kind"] == "test"}


@pytest.mark.slow
@pytest.mark.xdist_group("notebook_bugs_04_06")
def test_correct_submission_gets_full_marks(graded):
    name, _, scores = graded
    correct = scores["correct"]
    assert set(correct) == manifest_tests(name), "gradebook and manifest disagree on tests"
    lost = {gid: s for gid, s in correct.items() if s[0] != s[1]}
    assert not lost, f"{name}: the source notebook's own solutions lose points: {lost}"


@pytest.mark.slow
@pytest.mark.xdist_group("notebook_bugs_04_06")
def test_each_injected_bug_is_caught_and_named(graded):
    name, course, scores = graded
    problems = []
    for i, inj in enumerate(INJECTIONS[name]):
        student = f"bug{i}"
        score, max_score = scores[student][inj.test]
        if score != 0:
            problems.append(f"{inj.bug} in {inj.answer}: {inj.test} scored {score}/{max_score}")
            continue
        graded_nb = nbformat.read(
            course / "autograded" / student / name / f"{name}.ipynb", as_version=4)
        text = cell_output(graded_nb, inj.test)
        if f"found bug {inj.bug}" not in text:
            problems.append(f"{inj.bug} in {inj.answer}: {inj.test} failed without naming "
                            f"it:\n{text[-800:]}")
    assert not problems, "\n".join(problems)

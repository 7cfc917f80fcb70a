"""The bench machinery at tiny sizes: sections found, variants computing the same
training, ratios taken from the measured times, the absent-data and missing-torch
lines, notebook timing with budgets. No assertion here is about speed."""

from __future__ import annotations

import sys

import nbformat
import numpy as np
import pytest

# `bench` is a folder of the checkout, not an installed package: pyproject's
# `pythonpath = ["."]` puts the root on sys.path for pytest.
from bench import __main__ as runner
from bench import accuracy, epoch, notebooks
from nnlab.optim import SGD


def test_sections_are_the_modules_with_run():
    names = runner.sections()
    assert {"accuracy", "demo", "epoch", "notebooks"} <= set(names)
    assert names == sorted(names)
    assert not any(name.startswith("_") for name in names)


@pytest.mark.parametrize("name", runner.sections())
def test_every_section_imports_and_has_a_run(name):
    # `make bench` imports each section only when it runs; a renamed helper (bench.grading
    # once imported a `zoo_bugs` that autograder.demo no longer had) must fail here.
    import importlib

    assert callable(importlib.import_module(f"bench.{name}").run)


def test_unknown_section_is_refused_with_the_known_ones(capsys):
    with pytest.raises(SystemExit) as exc:
        runner.main(["epochs"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "epochs" in err and "'epoch'" in err


def test_main_prints_each_section_and_fails_after_running_the_rest(monkeypatch, capsys):
    def broken():
        yield "first line"
        raise RuntimeError("section broke")

    monkeypatch.setattr(accuracy, "run", broken)
    monkeypatch.setattr(epoch, "run", lambda: iter(["epoch line"]))
    assert runner.main(["accuracy", "epoch"]) == 1
    out, err = capsys.readouterr()
    assert out.index("== accuracy ==") < out.index("first line") < out.index("== epoch ==")
    assert "epoch line" in out
    assert "section broke" in err and "bench sections that failed: accuracy" in err
    monkeypatch.setattr(accuracy, "run", lambda: iter(["fine"]))
    assert runner.main(["accuracy"]) == 0


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_hand_numpy_epoch_trains_exactly_like_nnlab(optimizer):
    # The comparison is only fair if both variants do the same work: same shuffles,
    # same gradients, same update (nnlab's Adam keeps scaled moments; the hand one not).
    X, y = epoch.make_data(300)
    opt = SGD(0.01) if optimizer == "sgd" else None
    mine = epoch.nnlab_epoch(X, y, optimizer=opt)
    hand = epoch.numpy_epoch(X, y, optimizer=optimizer)
    before = {k: v.copy() for k, v in mine.params.items()}
    for _ in range(2):
        mine()
        hand()
    for k, p in mine.params.items():
        assert p.dtype == np.float32 and hand.params[k].dtype == np.float32
        assert not np.allclose(p, before[k])               # it trained
        np.testing.assert_allclose(p, hand.params[k], rtol=1e-4, atol=1e-6, err_msg=k)


def test_ratios_are_medians_of_the_measured_times():
    cpu, wall = epoch.time_epochs(n=256, repeats=3, with_torch=False)
    assert set(cpu) == set(wall) == {"nnlab", "nnlab_sgd", "numpy", "numpy_sgd", "matmul"}
    assert all(len(v) == 3 and min(v) > 0 for v in cpu.values())
    got = {(a, b): rest for a, b, *rest in epoch.ratios(cpu)}
    assert set(got) == {("nnlab_sgd", "numpy_sgd"), ("nnlab_sgd", "matmul")}
    for (a, b), (median, best, _) in got.items():
        assert median == pytest.approx(np.median(cpu[a]) / np.median(cpu[b]))
        assert best == pytest.approx(min(cpu[a]) / min(cpu[b]))
    info = {(a, b): target for a, b, *_, target in epoch.ratios(cpu, epoch.INFO)}
    assert info == {("nnlab", "numpy"): None, ("nnlab", "matmul"): None}


def test_ratios_use_the_median_and_the_minimum_not_the_mean():
    times = {"nnlab_sgd": [1.0, 9.0, 3.0], "numpy_sgd": [2.0, 2.0, 100.0],
             "torch_sgd": [6.0, 5.0, 4.0]}
    got = {(a, b): tuple(rest) for a, b, *rest in epoch.ratios(times)}
    assert got == {("nnlab_sgd", "numpy_sgd"): (1.5, 0.5, 1.15),
                   ("nnlab_sgd", "torch_sgd"): (0.6, 0.25, 0.85)}


def test_run_without_torch_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)        # makes `import torch` fail
    lines = list(epoch.run(n=200, repeats=1))
    assert any(line.strip().startswith("nnlab_sgd / numpy_sgd ") for line in lines)
    assert not any("PyTorch" in line for line in lines)
    assert lines[-1].strip() == epoch.TORCH_MISSING
    assert "pip install" in epoch.TORCH_MISSING and "torch==2.13.0" in epoch.TORCH_MISSING


@pytest.mark.slow
def test_torch_variant_is_timed_when_installed():
    pytest.importorskip("torch")
    cpu, _ = epoch.time_epochs(n=256, repeats=1)
    assert "torch" in cpu and "torch_sgd" in cpu
    assert ("nnlab_sgd", "torch_sgd") in {(a, b) for a, b, *_ in epoch.ratios(cpu)}


def _subset_slice(n_train=400, n_test=200):
    from nnlab.data import load_mnist_subset

    X_train, y_train, X_test, y_test = load_mnist_subset()
    return X_train[:n_train], y_train[:n_train], X_test[:n_test], y_test[:n_test]


def test_time_to_accuracy_stops_at_the_target_or_the_epoch_limit():
    data = _subset_slice()
    easy = accuracy.time_to_accuracy(data, target=0.0, max_epochs=5)
    assert easy["epochs"] == 1 and easy["reached"] and easy["cpu"] > 0
    hard = accuracy.time_to_accuracy(data, target=1.01, max_epochs=2)
    assert hard["epochs"] == 2 and not hard["reached"]
    assert 0.3 < hard["accuracy"] <= 1.0                    # 2 epochs on 400 digits learn


def test_accuracy_says_full_mnist_is_absent_without_downloading(tmp_path):
    lines = list(accuracy.run(subset_max_epochs=1, data_dir=tmp_path))
    assert lines[0].startswith("MNIST subset 4,000/1,000: ") and "after 1 epochs" in lines[0]
    assert lines[1] == "full MNIST absent: python -m nnlab.data fetch mnist"
    assert list(tmp_path.iterdir()) == []                   # nothing fetched or created


def test_accuracy_trains_on_full_mnist_when_its_cache_is_there(tmp_path):
    X_train, y_train, X_test, y_test = _subset_slice(300, 100)
    (tmp_path / "mnist").mkdir()
    pixels = {"X_train": X_train, "X_test": X_test}
    np.savez(tmp_path / "mnist" / "mnist.npz", y_train=y_train, y_test=y_test,
             **{k: np.rint(v * 255).astype(np.uint8).reshape(-1, 28, 28)
                for k, v in pixels.items()})
    lines = list(accuracy.run(subset_max_epochs=1, full_max_epochs=1, data_dir=tmp_path))
    assert lines[1].startswith("full MNIST 300/100: ") and "target 97.5%" in lines[1]


def test_notebooks_refuses_unknown_names(tmp_path):
    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "00_a.ipynb")
    with pytest.raises(ValueError, match="no notebook \\['01_b'\\].*00_a"):
        list(notebooks.run(["01_b"], folder=tmp_path))


def _notebook(path, source):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nbformat.write(nb, path)


@pytest.mark.slow
def test_notebooks_are_timed_against_the_budgets_and_failures_reported(tmp_path):
    _notebook(tmp_path / "00_ok.ipynb",
              "import os\nassert os.environ['OPENBLAS_NUM_THREADS'] == '1'")
    _notebook(tmp_path / "01_bad.ipynb", "raise ValueError('broken cell')")
    (tmp_path / "manifest.json").write_text(
        '{"notebooks": {"00_ok": {}, "01_bad": {}, "02_later": {}}}', encoding="utf-8")
    lines = []
    with pytest.raises(RuntimeError, match="notebooks failed: 01_bad"):
        for line in notebooks.run(folder=tmp_path, budget=0.0, course_budget=1000.0):
            lines.append(line)
    ok, bad, missing, total = lines
    assert ok.startswith("00_ok") and "OVER the 0 s budget" in ok
    seconds = float(ok.split()[1])
    assert seconds > 0
    assert bad.startswith("01_bad") and "FAILED" in bad and "broken cell" in bad
    assert missing.startswith("02_later") and "MISSING" in missing
    assert total.startswith("course total") and total.endswith("ok (1 notebooks timed, 1 missing)")
    assert float(total.split()[2]) == pytest.approx(seconds, abs=0.05)

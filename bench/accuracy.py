"""Issue 2: the accuracy nnlab reaches on real digits and the seconds it takes to get there.

The bench model (784-128-10, ReLU, softmax cross-entropy, Adam(1e-3), batch 128, float32)
trains epoch by epoch exactly as `nnlab.train.fit` would, and stops at the first epoch
whose test accuracy reaches the target: 93% on the shipped 4,000/1,000 subset and 97.5%
on full MNIST when it has been fetched. Nothing is ever downloaded here.
"""

from __future__ import annotations

import time

from bench.epoch import BATCH, make_net
from nnlab.losses import softmax_cross_entropy
from nnlab.optim import Adam
from nnlab.train import _accuracy, train_epoch

SUBSET_TARGET, SUBSET_MAX_EPOCHS = 0.93, 40
FULL_TARGET, FULL_MAX_EPOCHS = 0.975, 30
FULL_ABSENT = "full MNIST absent: python -m nnlab.data fetch mnist"


def time_to_accuracy(data, target: float, max_epochs: int, seed: int = 0) -> dict:
    """Train the bench model on ``data = (X_train, y_train, X_test, y_test)`` until its
    test accuracy reaches `target` or `max_epochs` have run.

    X_train (n, 784) float32, y_train (n,) labels 0..9, likewise the test set. Epoch e
    shuffles with seed ``seed + e - 1``, as `fit` does. Returns {"epochs", "accuracy"
    (test, after the last epoch), "cpu", "wall" (seconds of training only; the test
    evaluations are not counted), "reached"}.
    """
    X_train, y_train, X_test, y_test = data
    net, opt = make_net(seed), Adam(1e-3)
    cpu = wall = 0.0
    acc = 0.0
    for epoch in range(1, max_epochs + 1):
        c0, w0 = time.process_time(), time.perf_counter()
        net.train()
        train_epoch(net, X_train, y_train, softmax_cross_entropy, opt, BATCH,
                    seed + epoch - 1, epoch=epoch)
        cpu += time.process_time() - c0
        wall += time.perf_counter() - w0
        acc = _accuracy(net.predict(X_test), y_test)
        if acc >= target:
            break
    return {"epochs": epoch, "accuracy": acc, "cpu": cpu, "wall": wall,
            "reached": acc >= target}


def _line(name: str, result: dict, target: float) -> str:
    verdict = "reached" if result["reached"] else "NOT reached"
    return (f"{name}: {result['accuracy']:.2%} test after {result['epochs']} epochs, "
            f"{result['cpu']:.1f} s cpu ({result['wall']:.1f} s wall) of training; "
            f"target {target:.1%} {verdict}")


def run(*, subset_max_epochs: int = SUBSET_MAX_EPOCHS, full_max_epochs: int = FULL_MAX_EPOCHS,
        data_dir=None):
    """Yield one line for the subset and one for full MNIST (or the line saying it is
    absent). `data_dir` is passed to `load_mnist` as its data_dir (default: the
    course's data folder)."""
    from nnlab.data import load_mnist, load_mnist_subset

    result = time_to_accuracy(load_mnist_subset(), SUBSET_TARGET, subset_max_epochs)
    yield _line("MNIST subset 4,000/1,000", result, SUBSET_TARGET)
    try:
        full = load_mnist(data_dir=data_dir)
    except FileNotFoundError:
        yield FULL_ABSENT
        return
    result = time_to_accuracy(full, FULL_TARGET, full_max_epochs)
    yield _line(f"full MNIST {len(full[0]):,}/{len(full[2]):,}", result, FULL_TARGET)

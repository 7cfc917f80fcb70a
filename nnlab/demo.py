"""`python -m nnlab.demo` (what `make demo` runs): the ladder's last rung in one command.

It trains the network notebook 06 ends with, 784-128-10 with ReLU, softmax
cross-entropy and Adam in float32, on the 5,000 MNIST digits that ship with the course,
shows a progress bar and prints the test accuracy. Nothing runs on import.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m nnlab.demo",
        description="Train 784-128-10 (ReLU, softmax cross-entropy, Adam, batch 128, float32) "
                    "on the shipped MNIST subset (4,000 train / 1,000 test) and print the "
                    "test accuracy.")
    parser.add_argument("--epochs", type=int, default=15, help="passes over the data (15)")
    parser.add_argument("--seed", type=int, default=0, help="initialisation and shuffling seed")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def train_mnist_subset(epochs: int = 15, seed: int = 0, progress: bool = True):
    """Train the final network on the shipped subset; returns ``(net, history, seconds)``.

    Introduced in notebook 06. The net maps X (n, 784) pixels in [0, 1] to k = 10 class
    scores; ``history["val_acc"]`` holds the test accuracy after each epoch.
    """
    from nnlab.data import load_mnist_subset
    from nnlab.layers import Dense, ReLU
    from nnlab.network import Sequential
    from nnlab.optim import Adam
    from nnlab.train import fit

    X_train, y_train, X_test, y_test = load_mnist_subset(dtype=np.float32)
    net = Sequential(Dense(784, 128, seed, dtype=np.float32), ReLU(),
                     Dense(128, 10, seed + 1, dtype=np.float32))
    start = time.perf_counter()
    history = fit(net, X_train, y_train, loss="cross_entropy", optimizer=Adam(1e-3),
                  epochs=epochs, batch_size=128, seed=seed, X_val=X_test, y_val=y_test,
                  progress=progress)
    return net, history, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.epochs < 1:
        build_parser().error(f"--epochs must be at least 1, got {args.epochs}")
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):       # one BLAS thread: two collapse on a busy machine
        net, history, seconds = train_mnist_subset(args.epochs, args.seed,
                                                   progress=not args.no_progress)
    print(net)
    print(f"test accuracy {history['val_acc'][-1]:.1%} on 1,000 held-out MNIST digits after "
          f"{args.epochs} epochs ({seconds:.1f} s; train accuracy {history['acc'][-1]:.1%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

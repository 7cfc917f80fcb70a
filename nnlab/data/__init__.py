"""The data sets of the course: truth tables, the forum posts' data, digits and MNIST.

Every loader returns fresh numpy arrays with samples in rows and reads files only when
called; nothing is seeded, read or downloaded at import. Files live in the repository's
`data/` folder (found from this package's location, which is what `pip install -e .`
gives) or in the folder named by the environment variable `NNLAB_DATA`.
"""

from __future__ import annotations

import numpy as np

from nnlab.data._common import ChecksumError, DownloadError, data_dir, float_dtype, sha256_file
from nnlab.data.mnist import MNIST_FILES, MNIST_MIRRORS, fetch_mnist, load_mnist

__all__ = [
    "MNIST_FILES", "MNIST_MIRRORS", "SUBSET_SHA256", "ChecksumError", "DownloadError",
    "and_gate", "curve_data", "data_dir", "fetch_mnist", "line_data", "load_digits_split",
    "load_mnist", "load_mnist_subset", "or_gate", "seed002_classification", "xor_gate",
]

#: SHA-256 of `data/mnist_5k.npz` as committed (see `data/README.md`).
SUBSET_SHA256 = "90339819ca309c9067979e72a56ca914a20925dcbd5bf5ddd2e5072a0e167cb8"
SUBSET_FILE = "mnist_5k.npz"


# ----------------------------------------------------------------------- truth tables

_GATE_X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]


def _gate(outputs: list[float]) -> tuple[np.ndarray, np.ndarray]:
    return np.array(_GATE_X), np.array(outputs).reshape(4, 1)


def and_gate() -> tuple[np.ndarray, np.ndarray]:
    """The AND truth table (notebook 01).

    Returns `X (4, 2)` float64 with rows 00, 01, 10, 11 and `y (4, 1)` float64 targets.
    """
    return _gate([0.0, 0.0, 0.0, 1.0])


def or_gate() -> tuple[np.ndarray, np.ndarray]:
    """The OR truth table (notebook 01): `X (4, 2)`, `y (4, 1)`, float64."""
    return _gate([0.0, 1.0, 1.0, 1.0])


def xor_gate() -> tuple[np.ndarray, np.ndarray]:
    """The XOR truth table (notebooks 01 and 04): `X (4, 2)`, `y (4, 1)`, float64.

    No single neuron can fit it (bug B4); a 2-H-1 network can.
    """
    return _gate([0.0, 1.0, 1.0, 0.0])


# ------------------------------------------------------------------ the forum posts' data


def line_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The straight line `y = 2x` of seed post 000 (notebook 05).

    Returns `X (4, 1)` = 0, 1, 2, 3 and `Y (4, 1)` = 2X to train on, then the post's
    "new data" `X_new (4, 1)` = 2, 3, 4, 5 and `Y_new (4, 1)` = 4, 6, 8, 10 that exposed
    the per-sample bias (B1) and the max-scaled targets (B2). All float64.
    """
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    X_new = np.array([[2.0], [3.0], [4.0], [5.0]])
    return X, 2.0 * X, X_new, 2.0 * X_new


def curve_data(n: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """The curve `y = x**2` of seed post 003 (notebook 05).

    Returns `X (n, 1)`, n evenly spaced points from 0 to 1 as in the post's
    `np.linspace(0, 1, 1000)`, and `y (n, 1)` = X**2, float64.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2:
        raise ValueError(f"n={n!r}: curve_data needs an integer number of points >= 2, "
                         "e.g. curve_data(n=1000)")
    X = np.linspace(0.0, 1.0, int(n)).reshape(-1, 1)
    return X, X**2


def seed002_classification() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The synthetic 4-class problem of seed post 002, made exactly as in the post (06).

    `make_classification(n_samples=10000, n_features=5, n_classes=4,
    n_clusters_per_class=1, shuffle=True, random_state=1)` then
    `train_test_split(test_size=0.2, random_state=1)`. Returns, in the post's order,
    `X_train (8000, 5)`, `X_test (2000, 5)` float64 (not standardised, as posted) and
    `y_train (8000,)`, `y_test (2000,)` int64 labels in 0..3.
    """
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split

    X, y = make_classification(n_samples=10000, n_features=5, n_classes=4,
                               n_clusters_per_class=1, shuffle=True, random_state=1)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=1)
    return X_train, X_test, y_train.astype(np.int64), y_test.astype(np.int64)


# ------------------------------------------------------------------------- the digits


def load_digits_split(*, dtype=np.float32) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                    np.ndarray]:
    """scikit-learn's 8x8 digits, scaled to [0, 1], with a fixed split (notebook 06).

    1,797 images; a stratified split with `test_size=0.2, random_state=0`. Returns
    `X_train (1437, 64)`, `y_train (1437,)`, `X_test (360, 64)`, `y_test (360,)`:
    pixels in `dtype` (float32 unless told), labels int64 in 0..9 (k = 10).
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X = (digits.data / 16.0).astype(float_dtype(dtype))
    X_train, X_test, y_train, y_test = train_test_split(
        X, digits.target.astype(np.int64), test_size=0.2, random_state=0,
        stratify=digits.target)
    return X_train, y_train, X_test, y_test


def load_mnist_subset(*, dtype=np.float32) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                    np.ndarray]:
    """5,000 real MNIST digits that ship with the course, split 4,000 / 1,000 (06).

    The split is fixed in the file: 400 training and 100 test images per digit. Returns
    `X_train (4000, 784)`, `y_train (4000,)`, `X_test (1000, 784)`, `y_test (1000,)`:
    pixels in [0, 1] as `dtype` (float32 unless told), labels int64 in 0..9 (k = 10).
    The file's SHA-256 is checked on every load; a damaged file raises `ChecksumError`.
    """
    dtype = float_dtype(dtype)
    path = data_dir() / SUBSET_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"the MNIST subset {path} is missing. It ships in the repository's data/ "
            "folder; install the course from a checkout with `pip install -e .`, or set "
            "NNLAB_DATA to a folder holding mnist_5k.npz.")
    got = sha256_file(path)
    if got != SUBSET_SHA256:
        raise ChecksumError(
            f"{path} is damaged: SHA-256 {got}, expected {SUBSET_SHA256}. Restore it with "
            f"`git checkout -- data/{SUBSET_FILE}` (see data/README.md).")
    with np.load(path) as npz:
        arrays = [npz[key] for key in ("X_train", "y_train", "X_test", "y_test")]
    X_train, y_train, X_test, y_test = arrays
    return (X_train.astype(dtype) / dtype(255), y_train.astype(np.int64),
            X_test.astype(dtype) / dtype(255), y_test.astype(np.int64))


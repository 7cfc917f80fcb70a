"""nnlab.data: the truth tables, the seed posts' data, digits and the shipped MNIST subset.

Everything here runs offline; the downloader has its own tests in test_fetch.py.
"""

import hashlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

import nnlab.data as data


@pytest.mark.parametrize("gate, outputs", [
    (data.and_gate, [0, 0, 0, 1]), (data.or_gate, [0, 1, 1, 1]), (data.xor_gate, [0, 1, 1, 0]),
])
def test_truth_tables_compute_their_gate(gate, outputs):
    X, y = gate()
    assert X.shape == (4, 2) and y.shape == (4, 1)
    assert X.dtype == np.float64 and y.dtype == np.float64
    assert sorted(map(tuple, X.tolist())) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    a, b = X[:, 0].astype(bool), X[:, 1].astype(bool)
    truth = {data.and_gate: a & b, data.or_gate: a | b, data.xor_gate: a ^ b}[gate]
    np.testing.assert_array_equal(y[:, 0], truth.astype(float))
    np.testing.assert_array_equal(y[:, 0], outputs)


def test_truth_tables_are_fresh_copies():
    X, y = data.xor_gate()
    X[:] = 7
    y[:] = 7
    X2, y2 = data.xor_gate()
    assert X2.max() == 1 and y2.max() == 1


def test_line_data_is_the_seed_000_post():
    X, Y, X_new, Y_new = data.line_data()
    np.testing.assert_array_equal(X, [[0], [1], [2], [3]])
    np.testing.assert_array_equal(Y, [[0], [2], [4], [6]])
    np.testing.assert_array_equal(X_new, [[2], [3], [4], [5]])
    np.testing.assert_array_equal(Y_new, [[4], [6], [8], [10]])
    assert all(a.shape == (4, 1) for a in (X, Y, X_new, Y_new))


def test_curve_data_is_x_squared_on_the_unit_interval():
    X, y = data.curve_data()
    assert X.shape == y.shape == (1000, 1)
    assert X[0, 0] == 0.0 and X[-1, 0] == 1.0
    assert np.all(np.diff(X[:, 0]) > 0)
    np.testing.assert_allclose(y, X * X)
    assert data.curve_data(n=5)[0].shape == (5, 1)


@pytest.mark.parametrize("bad", [0, 1, -3, 2.5, "10", True])
def test_curve_data_rejects_bad_n(bad):
    with pytest.raises(ValueError, match=r"n=.*curve_data\(n=1000\)"):
        data.curve_data(n=bad)


def test_seed002_matches_the_posts_recipe():
    from sklearn.datasets import make_classification

    X_train, X_test, y_train, y_test = data.seed002_classification()
    assert X_train.shape == (8000, 5) and X_test.shape == (2000, 5)
    assert y_train.shape == (8000,) and y_test.shape == (2000,)
    assert y_train.dtype == np.int64 and set(np.unique(y_train)) == {0, 1, 2, 3}
    # The same 10,000 samples, split without loss or duplication.
    X, _ = make_classification(n_samples=10000, n_features=5, n_classes=4,
                               n_clusters_per_class=1, shuffle=True, random_state=1)
    both = np.concatenate([X_train, X_test])
    assert np.array_equal(np.sort(both, axis=0), np.sort(X, axis=0))
    again = data.seed002_classification()
    assert np.array_equal(again[0], X_train) and np.array_equal(again[3], y_test)


def test_digits_split_is_scaled_fixed_and_stratified():
    X_train, y_train, X_test, y_test = data.load_digits_split()
    assert X_train.shape == (1437, 64) and X_test.shape == (360, 64)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    assert X_train.min() == 0.0 and X_train.max() == 1.0
    counts = np.bincount(y_test, minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37
    assert np.array_equal(data.load_digits_split()[1], y_train)
    assert data.load_digits_split(dtype=np.float64)[0].dtype == np.float64


def test_mnist_subset_shapes_types_and_balance():
    X_train, y_train, X_test, y_test = data.load_mnist_subset()
    assert X_train.shape == (4000, 784) and X_test.shape == (1000, 784)
    assert X_train.dtype == np.float32 and X_test.dtype == np.float32
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64
    assert 0.0 == X_train.min() and X_train.max() == 1.0
    np.testing.assert_array_equal(np.bincount(y_train), [400] * 10)
    np.testing.assert_array_equal(np.bincount(y_test), [100] * 10)
    # Real handwriting: most pixels are background, some are ink.
    assert 0.7 < np.mean(X_train == 0) < 0.9


def test_mnist_subset_has_no_image_in_both_halves():
    X_train, _, X_test, _ = data.load_mnist_subset()
    seen = {row.tobytes() for row in (X_train * 255).astype(np.uint8)}
    assert not any(row.tobytes() in seen for row in (X_test * 255).astype(np.uint8))


def test_mnist_subset_labels_belong_to_their_images():
    # A nearest-centroid classifier fit on the training half reaches ~80% on real MNIST;
    # with labels shuffled against images it would sit near 10%.
    X_train, y_train, X_test, y_test = data.load_mnist_subset(dtype=np.float64)
    centroids = np.stack([X_train[y_train == c].mean(axis=0) for c in range(10)])
    dist = ((X_test[:, None, :] - centroids[None]) ** 2).sum(axis=2)
    accuracy = np.mean(dist.argmin(axis=1) == y_test)
    assert accuracy > 0.75, accuracy


def test_mnist_subset_file_matches_its_recorded_checksum(repo_root):
    path = repo_root / "data" / data.SUBSET_FILE
    assert hashlib.sha256(path.read_bytes()).hexdigest() == data.SUBSET_SHA256
    assert data.SUBSET_SHA256 in (repo_root / "data" / "README.md").read_text()
    assert path.stat().st_size < 3_000_000


def test_damaged_subset_is_refused(tmp_path, monkeypatch, repo_root):
    damaged = bytearray((repo_root / "data" / data.SUBSET_FILE).read_bytes())
    damaged[1000] ^= 0xFF
    (tmp_path / data.SUBSET_FILE).write_bytes(bytes(damaged))
    monkeypatch.setenv("NNLAB_DATA", str(tmp_path))
    with pytest.raises(data.ChecksumError, match=r"damaged.*SHA-256.*git checkout"):
        data.load_mnist_subset()


def test_missing_subset_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("NNLAB_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"pip install -e \..*NNLAB_DATA"):
        data.load_mnist_subset()


def test_nnlab_data_env_var_is_honoured(tmp_path, monkeypatch, repo_root):
    shutil.copy(repo_root / "data" / data.SUBSET_FILE, tmp_path / data.SUBSET_FILE)
    monkeypatch.setenv("NNLAB_DATA", str(tmp_path))
    assert data.data_dir() == tmp_path.resolve()
    assert data.load_mnist_subset()[0].shape == (4000, 784)


def test_data_dir_does_not_depend_on_the_working_directory(tmp_path, monkeypatch, repo_root):
    monkeypatch.delenv("NNLAB_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    assert data.data_dir() == repo_root / "data"
    assert data.load_mnist_subset()[2].shape == (1000, 784)


@pytest.mark.parametrize("bad, err", [(np.int32, ValueError), ("float16", ValueError),
                                      (object(), TypeError)])
def test_pixel_dtype_is_validated(bad, err):
    with pytest.raises(err, match="np.float32 or np.float64"):
        data.load_mnist_subset(dtype=bad)


def test_unknown_keyword_is_rejected():
    with pytest.raises(TypeError):
        data.load_mnist_subset(split="train")


def test_full_mnist_absent_names_the_fetch_command(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"python -m nnlab\.data fetch mnist"):
        data.load_mnist(data_dir=tmp_path)


def test_import_does_nothing(tmp_path):
    # A fresh interpreter: importing nnlab.data reads no file, seeds nothing, and pulls in
    # neither scikit-learn nor matplotlib nor tqdm.
    code = (
        "import sys, numpy as np\n"
        "state = np.random.get_state()[1].copy()\n"
        "import nnlab.data\n"
        "assert (np.random.get_state()[1] == state).all()\n"
        "heavy = [m for m in ('sklearn', 'matplotlib', 'tqdm') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    env = {"NNLAB_DATA": str(tmp_path / "nowhere"), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path, env=env)

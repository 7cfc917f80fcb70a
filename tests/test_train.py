"""nnlab.train: minibatches, fit (history, eval-mode accuracy, divergence, quiet mode), XOR."""

import numpy as np
import pytest

from nnlab.layers import Dense, Dropout, ReLU, Sigmoid
from nnlab.network import Sequential
from nnlab.optim import SGD, Adam
from nnlab.train import XOR_X, TrainingDiverged, fit, iterate_minibatches, train_xor

rng = np.random.default_rng(0)


def _blobs(n=300, k=3, seed=0):
    r = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])[:k]   # well separated
    y = r.integers(0, k, size=n)
    return centres[y] + r.normal(size=(n, 2)), y


def test_minibatches_cover_every_sample_once_in_a_seeded_order():
    X = np.arange(23.0).reshape(-1, 1)
    y = np.arange(23)
    batches = list(iterate_minibatches(X, y, 5, seed=1))
    assert [len(b[0]) for b in batches] == [5, 5, 5, 5, 3]
    seen = np.concatenate([yb for _, yb in batches])
    assert sorted(seen) == list(range(23)) and not np.array_equal(seen, y)
    for Xb, yb in batches:
        np.testing.assert_array_equal(Xb[:, 0], yb)       # rows stay paired
    again = np.concatenate([yb for _, yb in iterate_minibatches(X, y, 5, seed=1)])
    np.testing.assert_array_equal(seen, again)
    with pytest.raises(ValueError, match="23 samples.*22"):
        list(iterate_minibatches(X, y[:22], 5, 0))
    with pytest.raises(ValueError, match="batch_size"):
        list(iterate_minibatches(X, y, 0, 0))


def test_fit_learns_and_records_history():
    X, y = _blobs()
    net = Sequential(Dense(2, 16, 0), ReLU(), Dense(16, 3, 1))
    history = fit(net, X, y, epochs=15, batch_size=32, optimizer=Adam(0.01), progress=False,
                  X_val=X[:50], y_val=y[:50])
    assert set(history) == {"loss", "acc", "val_loss", "val_acc"}
    assert all(len(v) == 15 for v in history.values())
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["acc"][-1] > 0.9
    assert "15 epochs" in repr(history)


def test_fit_measures_accuracy_with_dropout_off():
    X, y = _blobs(seed=2)
    net = Sequential(Dense(2, 64, 0), ReLU(), Dropout(0.8, seed=1), Dense(64, 3, 1))
    history = fit(net, X, y, epochs=3, optimizer=Adam(0.01), progress=False)
    assert net[2].training                                # left in training mode
    eval_acc = np.mean(net.predict_classes(X) == y)
    train_mode_acc = np.mean(net.forward(X).argmax(axis=1) == y)
    assert history["acc"][-1] == eval_acc != train_mode_acc


def test_fit_with_bce_and_a_callable_loss():
    X, y = _blobs(k=2)
    net = Sequential(Dense(2, 8, 0), ReLU(), Dense(8, 1, 1), Sigmoid())
    history = fit(net, X, y.reshape(-1, 1).astype(float), loss="bce", epochs=10,
                  optimizer=Adam(0.02), progress=False)
    assert history["acc"][-1] > 0.9

    calls = []

    def my_loss(Z, yb):
        calls.append(len(yb))
        return 0.5 * float(np.sum(Z ** 2)) / len(Z), Z / len(Z)

    fit(Sequential(Dense(2, 1)), X, np.zeros((len(X), 1)),
        loss=my_loss, epochs=1, batch_size=100, progress=False)
    assert calls == [100, 100, 100]


def test_fit_raises_training_diverged_on_a_huge_learning_rate():
    X, y = _blobs()
    net = Sequential(Dense(2, 1, 0))
    with pytest.raises(TrainingDiverged) as info:
        fit(net, X * 100, y.reshape(-1, 1) * 1.0, loss="mse", optimizer=SGD(1e3), epochs=50,
            progress=False)
    err = info.value
    assert isinstance(err, FloatingPointError)
    assert err.epoch >= 1 and err.step >= 1
    text = str(err)
    assert f"epoch {err.epoch}, step {err.step}" in text
    assert "learning rate" in text and "B17" in text and "B16" in text


def test_fit_progress_false_prints_nothing_and_true_draws_a_bar(capsys):
    X, y = _blobs(n=64)
    net = Sequential(Dense(2, 3, 0))
    fit(net, X, y, epochs=2, progress=False)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    fit(net, X, y, epochs=2, progress=True)
    assert "epoch 2/2" in capsys.readouterr().err


def test_fit_rejects_bad_arguments():
    X, y = _blobs(n=20)
    net = Sequential(Dense(2, 3, 0))
    with pytest.raises(ValueError, match="hinge"):
        fit(net, X, y, loss="hinge")
    with pytest.raises(TypeError, match="lr"):
        fit(net, X, y, lr=0.1)
    with pytest.raises(ValueError, match="X_val and y_val"):
        fit(net, X, y, X_val=X)
    with pytest.raises(ValueError, match="20 samples"):
        fit(net, X, y[:10])


def _solved(net):
    return np.array_equal(net.predict(XOR_X)[:, 0] > 0.5, [False, True, True, False])


def test_train_xor_solves_xor_for_most_seeds():
    net, losses = train_xor(4, seed=0)
    assert len(losses) == 500 and losses[-1] < 0.1
    assert net[0].W.shape == (2, 4)
    successes = sum(_solved(train_xor(4, seed)[0]) for seed in range(10))
    assert successes >= 9                       # measured: 20 of seeds 0..19

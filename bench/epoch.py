"""Issue 2: how fast nnlab trains, one MNIST-sized epoch against hand numpy, matmuls, torch.

The model is the one notebook 06 ends with: 784-128-10, ReLU, softmax cross-entropy,
batch 128, float32, on n random MNIST-shaped samples (n = 60,000 by default). The issue's
targets are taken on the plain epoch (SGD, as every variant can write it); the same
comparisons with Adam, notebook 06's optimiser, are printed beside them, since Adam's
memory passes add the same cost to every numpy variant. Variants run interleaved, repeat
by repeat, timed in CPU seconds of this process (the machine is shared, so wall time is
shown too); the ratios of medians are the figures.
"""

from __future__ import annotations

import time

import numpy as np

from nnlab.layers import Dense, ReLU
from nnlab.losses import softmax_cross_entropy
from nnlab.network import Sequential
from nnlab.optim import SGD, Adam
from nnlab.train import train_epoch

D, H, K, BATCH = 784, 128, 10, 128

#: (numerator, denominator, at most): the targets of issue 2, on the SGD epoch.
TARGETS = (("nnlab_sgd", "numpy_sgd", 1.15), ("nnlab_sgd", "matmul", 1.6),
           ("nnlab_sgd", "torch_sgd", 0.85))
#: (numerator, denominator): the same comparisons with Adam, printed without a target.
INFO = (("nnlab", "numpy"), ("nnlab", "matmul"), ("nnlab", "torch"))
LABELS = {"nnlab_sgd": "nnlab Sequential + SGD", "numpy_sgd": "hand-written numpy + SGD",
          "matmul": "matrix products only", "torch_sgd": "PyTorch CPU + SGD, 1 thread",
          "nnlab": "nnlab Sequential + Adam", "numpy": "hand-written numpy + Adam",
          "torch": "PyTorch CPU + Adam, 1 thread"}
TORCH_MISSING = ("torch: not installed, comparison skipped. For the `bench` extra's CPU build: "
                 ".venv/bin/python -m pip install torch==2.13.0 --index-url "
                 "https://download.pytorch.org/whl/cpu (from plain PyPI, Linux gets GBs of "
                 "CUDA libraries)")


def make_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random X (n, 784) float32 in [0, 1) and labels y (n,) in 0..9: MNIST's shapes."""
    rng = np.random.default_rng(seed)
    return rng.random((n, D), dtype=np.float32), rng.integers(0, K, size=n)


def make_net(seed: int = 0) -> Sequential:
    """The bench model, as in notebook 06: Dense(784, 128), ReLU, Dense(128, 10), float32."""
    return Sequential(Dense(D, H, seed, dtype=np.float32), ReLU(),
                      Dense(H, K, seed + 1, dtype=np.float32))


# --------------------------------------------------------------------------- the variants

def nnlab_epoch(X, y, seed: int = 0, optimizer=None):
    """A closure running one epoch through nnlab: `train_epoch`, fit's inner loop.

    `optimizer` defaults to ``Adam(1e-3)``, the one notebook 06 trains with.
    X (n, 784) float32, y (n,) labels; every variant's closure has a ``params`` dict
    {"0.W": (784, 128), "0.b": (128,), "2.W": (128, 10), "2.b": (10,)} of live arrays.
    """
    net, opt = make_net(seed), Adam(1e-3) if optimizer is None else optimizer

    def epoch():
        train_epoch(net, X, y, softmax_cross_entropy, opt, BATCH, seed)

    epoch.params = net.params()                    # live arrays, for tests
    return epoch


def numpy_epoch(X, y, seed: int = 0, optimizer: str = "adam"):
    """The same epoch written out in plain numpy, as a careful student would.

    `optimizer`: "adam" (Adam(1e-3)) or "sgd" (SGD(0.01)), like nnlab's variants.
    """
    P = {k: v.copy() for k, v in make_net(seed).params().items()}   # same initial weights
    M, V, T = ({k: np.zeros_like(v) for k, v in P.items()} for _ in range(3))
    t = [0]

    def adam(grads, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        t[0] += 1
        step, vs = lr / (1 - b1 ** t[0]), 1 / np.sqrt(1 - b2 ** t[0])
        for k, g in grads.items():
            m, v, tmp = M[k], V[k], T[k]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            np.multiply(g, g, out=tmp)
            tmp *= 1 - b2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp *= vs
            tmp += eps
            np.divide(m, tmp, out=tmp)
            tmp *= step
            P[k] -= tmp

    def sgd(grads, lr=0.01):
        for k, g in grads.items():
            g *= lr
            P[k] -= g

    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer={optimizer!r}; use 'adam' or 'sgd'")
    update = adam if optimizer == "adam" else sgd

    def epoch():
        W1, b1, W2, b2 = P["0.W"], P["0.b"], P["2.W"], P["2.b"]
        order = np.random.default_rng(seed).permutation(len(X))
        for s in range(0, len(X), BATCH):
            idx = order[s:s + BATCH]
            Xb, yb = X.take(idx, axis=0), y.take(idx)
            rows = np.arange(len(idx))
            A = Xb @ W1
            A += b1
            np.maximum(A, 0, out=A)
            Z = A @ W2
            Z += b2
            Z -= Z.max(axis=1, keepdims=True)
            np.exp(Z, out=Z)
            Z /= Z.sum(axis=1, keepdims=True)
            Z[rows, yb] -= 1
            Z *= 1.0 / len(idx)
            dA = Z @ W2.T
            dA *= A > 0
            update({"0.W": Xb.T @ dA, "0.b": dA.sum(axis=0), "2.W": A.T @ Z,
                    "2.b": Z.sum(axis=0)})

    epoch.params = P
    return epoch


def matmul_epoch(X, y, seed: int = 0):
    """Only the epoch's five matrix products per batch: the floor for any numpy MLP."""
    net = make_net(seed)
    W1, W2 = net[0].W, net[2].W

    def epoch():
        for s in range(0, len(X), BATCH):
            Xb = X[s:s + BATCH]
            A = Xb @ W1
            Z = A @ W2
            dA = Z @ W2.T
            A.T @ Z
            Xb.T @ dA

    return epoch


def torch_epoch(X, y, seed: int = 0, optimizer: str = "adam"):
    """The same model in PyTorch on the CPU with one thread, or None without torch.

    `optimizer`: "adam" (Adam(1e-3)) or "sgd" (SGD(0.01)).
    """
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.ReLU(), torch.nn.Linear(H, K))
    opt = (torch.optim.Adam(model.parameters(), lr=1e-3) if optimizer == "adam"
           else torch.optim.SGD(model.parameters(), lr=0.01))
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    gen = torch.Generator().manual_seed(seed)

    def epoch():
        order = torch.randperm(len(Xt), generator=gen)
        for s in range(0, len(Xt), BATCH):
            idx = order[s:s + BATCH]
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()

    return epoch


# --------------------------------------------------------------------------- measuring

def time_epochs(n: int = 60_000, repeats: int = 5, *, with_torch: bool = True):
    """Time each variant's epoch `repeats` times, interleaved, after one warm-up epoch.

    Returns ``(cpu, wall)``: two dicts {variant: [seconds per repeat]}, CPU seconds of
    this process and wall-clock seconds.
    """
    X, y = make_data(n)
    variants = {"nnlab_sgd": nnlab_epoch(X, y, optimizer=SGD(0.01)),
                "numpy_sgd": numpy_epoch(X, y, optimizer="sgd"),
                "matmul": matmul_epoch(X, y),
                "nnlab": nnlab_epoch(X, y), "numpy": numpy_epoch(X, y)}
    if with_torch:
        for name, opt in (("torch_sgd", "sgd"), ("torch", "adam")):
            fn = torch_epoch(X, y, optimizer=opt)
            if fn is not None:
                variants[name] = fn
    for fn in variants.values():                   # warm up caches and allocators
        fn()
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    wall: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, fn in variants.items():
            c0, w0 = time.process_time(), time.perf_counter()
            fn()
            cpu[name].append(time.process_time() - c0)
            wall[name].append(time.perf_counter() - w0)
    return cpu, wall


def ratios(times: dict[str, list[float]], pairs=TARGETS) -> list[tuple]:
    """``(numerator, denominator, ratio of medians, ratio of minima, target)`` for each
    of `pairs` ((a, b, target) or (a, b) for no target) both sides of which were timed."""
    med = {name: float(np.median(v)) for name, v in times.items()}
    low = {name: float(np.min(v)) for name, v in times.items()}
    return [(a, b, med[a] / med[b], low[a] / low[b], target[0] if target else None)
            for a, b, *target in pairs if a in med and b in med]


def run(n: int = 60_000, repeats: int = 5, *, with_torch: bool = True):
    """Yield the section's lines: per-variant medians, then the ratios against targets."""
    yield (f"one epoch: {n:,} x {D} float32 random samples, {D}-{H}-{K} ReLU, softmax "
           f"cross-entropy, batch {BATCH}, 1 BLAS thread; targets on the SGD(0.01) epoch, "
           "the same comparisons with Adam(1e-3) (notebook 06's optimiser) below them")
    cpu, wall = time_epochs(n, repeats, with_torch=with_torch)
    yield (f"median (min) of {repeats} interleaved repeats in CPU seconds of this process; "
           "wall seconds beside them (the machine is shared)")
    for name, values in cpu.items():
        yield (f"  {LABELS[name]:30s} {np.median(values):6.3f} ({np.min(values):.3f}) s cpu "
               f"{np.median(wall[name]):7.3f} s wall")
    yield "ratios of the medians (of the minima, the least disturbed repeats):"
    for a, b, value, best, target in ratios(cpu) + ratios(cpu, INFO):
        if target is None:
            verdict = "with Adam, for information"
        else:
            verdict = f"target <= {target}x: " + ("ok" if value <= target else "MISSED")
        yield f"  {a + ' / ' + b:22s} {value:5.2f}x ({best:4.2f}x)   {verdict}"
    if "torch_sgd" not in cpu:
        yield "  " + TORCH_MISSING if with_torch else "  torch: skipped (with_torch=False)"

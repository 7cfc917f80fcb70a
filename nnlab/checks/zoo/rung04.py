"""Specimens for the check of notebook 04: `train_xor`, right and wrong.

Most are written with plain numpy arrays (fast, and the check must not depend on how the
net is stored); one correct variant uses nnlab's reference layers and `Sequential`, as
the notebook does. Each mutant is one decision a student gets wrong.
"""

import numpy as np

from nnlab.checks.zoo import correct, mutant

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = np.array([[0.0], [1.0], [1.0], [0.0]])


class Layer:
    """A dense layer as a student's own code might keep it: W (d, h), b (h,)."""

    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, A):
        return A @ self.W + self.b


class Act:
    def __init__(self, f):
        self.f = f

    def forward(self, A):
        return self.f(A)


def _sig(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


def _mlp(W1, b1, W2, b2):
    """A list of layers; the check runs it with each layer's forward."""
    return [Layer(W1, b1), Act(np.tanh), Layer(W2, b2), Act(_sig)]


def _train(hidden, seed, lr, epochs, *, init=None, update=None, sign=1.0, bias=True):
    rng = np.random.default_rng(seed)
    if init is None:
        W1 = rng.normal(0, 1, (2, hidden))
        W2 = rng.normal(0, 1, (hidden, 1))
    else:
        W1, W2 = init(hidden)
    b1, b2 = np.zeros(hidden), np.zeros(1)
    losses = []
    for _ in range(epochs):
        H = np.tanh(X @ W1 + b1)
        P = _sig(H @ W2 + b2)
        losses.append(float(-np.mean(Y * np.log(P + 1e-12) + (1 - Y) * np.log(1 - P + 1e-12))))
        dZ2 = sign * (P - Y) / len(X)
        dW2, db2 = H.T @ dZ2, dZ2.sum(axis=0)
        dZ1 = dZ2 @ W2.T * (1 - H**2)
        dW1, db1 = X.T @ dZ1, dZ1.sum(axis=0)
        params, grads = [W1, W2, b1, b2], [dW1, dW2, db1, db2]
        if not bias:
            params, grads = params[:2], grads[:2]
        for p, g in zip(params, grads, strict=True):
            if update is None:
                p -= lr * g
            else:
                update(p, g, lr)
    return _mlp(W1, b1, W2, b2), losses


@correct("check_train_xor", "numpy arrays, normal init, tanh hidden, lr 2, 600 epochs")
def train_xor_numpy(hidden, seed, lr=2.0, epochs=600):
    return _train(hidden, seed, lr, epochs)


def _train_layers(hidden, seed, lr, epochs, freeze_bias=False):
    from nnlab.layers import Dense, Sigmoid
    from nnlab.network import Sequential

    net = Sequential(Dense(2, hidden, seed=seed), Sigmoid(), Dense(hidden, 1, seed=seed + 1),
                     Sigmoid())
    losses = []
    for _ in range(epochs):
        P = net.forward(X)
        losses.append(float(-np.mean(Y * np.log(P) + (1 - Y) * np.log(1 - P))))
        net.backward((P - Y) / len(X))
        for layer in net.layers:
            if hasattr(layer, "W"):
                layer.W -= lr * layer.dW
                if not freeze_bias:
                    layer.b -= lr * layer.db
    return net, losses


@correct("check_train_xor", "nnlab layers and Sequential, sigmoid hidden, explicit loop")
def train_xor_layers(hidden, seed, lr=5.0, epochs=400):
    return _train_layers(hidden, seed, lr, epochs)


@mutant("check_train_xor", "B4", "seed 001: one neuron, hidden ignored")
def train_xor_one_neuron(hidden, seed, lr=1.0, epochs=300):
    rng = np.random.default_rng(seed)
    w, b = rng.normal(size=(2, 1)), np.zeros(1)
    losses = []
    for _ in range(epochs):
        p = _sig(X @ w + b)
        losses.append(float(np.mean((p - Y) ** 2)))
        d = (p - Y) * p * (1 - p) / len(X)
        w -= lr * X.T @ d
        b -= lr * d.sum(axis=0)
    return [Layer(w, b), Act(_sig)], losses


@mutant("check_train_xor", "B4", "a Sequential with a single Dense(2, 1) and a sigmoid")
def train_xor_no_hidden_layer(hidden, seed, lr=1.0, epochs=200):
    from nnlab.layers import Dense, Sigmoid
    from nnlab.network import Sequential

    net = Sequential(Dense(2, 1, seed=seed), Sigmoid())
    losses = []
    for _ in range(epochs):
        P = net.forward(X)
        losses.append(float(np.mean((P - Y) ** 2)))
        net.backward((P - Y) / len(X))
        net.layers[0].W -= lr * net.layers[0].dW
        net.layers[0].b -= lr * net.layers[0].db
    return net, losses


@mutant("check_train_xor", "B6", "all weights start at 0")
def train_xor_zero_init(hidden, seed, lr=2.0, epochs=600):
    return _train(hidden, seed, lr, epochs,
                  init=lambda h: (np.zeros((2, h)), np.zeros((h, 1))))


@mutant("check_train_xor", "B6", "seed 001-like: every weight the same 0.1")
def train_xor_constant_init(hidden, seed, lr=2.0, epochs=600):
    return _train(hidden, seed, lr, epochs,
                  init=lambda h: (np.full((2, h), 0.1), np.full((h, 1), 0.1)))


@mutant("check_train_xor", "B7", "seed 002: no bias anywhere")
def train_xor_no_bias(hidden, seed, lr=2.0, epochs=600):
    return _train(hidden, seed, lr, epochs, bias=False)


@mutant("check_train_xor", "B7", "seed 004: bias update commented out, layer objects")
def train_xor_frozen_bias(hidden, seed, lr=5.0, epochs=400):
    return _train_layers(hidden, seed, lr, epochs, freeze_bias=True)


@mutant("check_train_xor", "B12", "seed 003: W -= lr * W")
def train_xor_seed003(hidden, seed, lr=2.0, epochs=600):
    def update(p, g, lr):
        p -= lr * p
    return _train(hidden, seed, min(lr, 0.5), epochs, update=update)


@mutant("check_train_xor", "B12", "weights multiplied by (1 - lr), the gradient forgotten")
def train_xor_decay_only(hidden, seed, lr=0.1, epochs=600):
    def update(p, g, lr):
        p *= 1 - lr
    return _train(hidden, seed, lr, epochs, update=update)


@mutant("check_train_xor", "B15", "gradient ascent: W += lr * dW")
def train_xor_ascent(hidden, seed, lr=0.5, epochs=300):
    def update(p, g, lr):
        p += lr * g
    return _train(hidden, seed, lr, epochs, update=update)


@mutant("check_train_xor", "B15", "dZ = y - y_hat with W -= lr * dW")
def train_xor_error_sign(hidden, seed, lr=0.5, epochs=300):
    return _train(hidden, seed, lr, epochs, sign=-1.0)


@mutant("check_train_xor", None, "far too few epochs by default")
def train_xor_too_short(hidden, seed, lr=0.1, epochs=20):
    return _train(hidden, seed, lr, epochs)


@mutant("check_train_xor", None, "hidden size ignored: always 8 units")
def train_xor_fixed_width(hidden, seed, lr=2.0, epochs=600):
    return _train(8, seed, lr, epochs)


# The arguments: `lr` scales every step, `epochs` counts the losses.

@mutant("check_train_xor", "B13", "the gradient added in: p += g, no lr (numpy arrays)")
def train_xor_grad_added(hidden, seed, lr=2.0, epochs=600):
    def update(p, g, lr):
        p += g
    return _train(hidden, seed, lr, epochs, update=update)


def _train_on_layers(hidden, seed, epochs, step):
    """The notebook's loop on nnlab's layers, with the parameter update `step(net)`."""
    from nnlab.layers import Dense, Sigmoid, Tanh
    from nnlab.losses import binary_cross_entropy
    from nnlab.network import Sequential

    net = Sequential(Dense(2, hidden, seed=seed), Tanh(), Dense(hidden, 1, seed=seed + 1),
                     Sigmoid())
    losses = []
    for _ in range(epochs):
        loss, grad = binary_cross_entropy(net.forward(X), Y)
        losses.append(loss)
        net.backward(grad)
        step(net)
    return net, losses


@mutant("check_train_xor", "B13", "the notebook's layers, params[k] += grads[k]")
def train_xor_layers_grad_added(hidden, seed, lr=2.0, epochs=500):
    def step(net):
        grads = net.grads()
        for k, p in net.params().items():
            p += grads[k]
    return _train_on_layers(hidden, seed, epochs, step)


@mutant("check_train_xor", None, "lr ignored: p -= g (numpy arrays)")
def train_xor_no_lr(hidden, seed, lr=2.0, epochs=600):
    def update(p, g, lr):
        p -= g
    return _train(hidden, seed, lr, epochs, update=update)


@mutant("check_train_xor", None, "a learning rate fixed inside: sgd_step(..., 2.0)")
def train_xor_fixed_lr(hidden, seed, lr=2.0, epochs=500):
    from nnlab.optim import sgd_step

    return _train_on_layers(hidden, seed, epochs,
                            lambda net: sgd_step(net.params(), net.grads(), 2.0))


@mutant("check_train_xor", None, "epochs ignored: a hard-coded range(500)")
def train_xor_fixed_epochs(hidden, seed, lr=2.0, epochs=500):
    return _train(hidden, seed, lr, 500)


@mutant("check_train_xor", None, "a loss recorded every 10 epochs only")
def train_xor_sparse_losses(hidden, seed, lr=2.0, epochs=600):
    net, losses = _train(hidden, seed, lr, epochs)
    return net, losses[::10]


@correct("check_train_xor", "a decaying step lr / (1 + epoch / 300), the notebook's layers")
def train_xor_decaying(hidden, seed, lr=3.0, epochs=500):
    from nnlab.optim import sgd_step

    count = [0]

    def step(net):
        sgd_step(net.params(), net.grads(), lr / (1 + count[0] / 300))
        count[0] += 1
    return _train_on_layers(hidden, seed, epochs, step)


@correct("check_train_xor", "losses in a preallocated array, float32-free numpy")
def train_xor_array_losses(hidden, seed, lr=2.0, epochs=600):
    net, losses = _train(hidden, seed, lr, epochs)
    out = np.empty(epochs)
    out[:] = losses
    return net, out

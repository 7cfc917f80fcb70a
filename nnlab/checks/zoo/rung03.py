"""Specimens for the checks of notebook 03: dense and activation layers, right and wrong.

Two correct dense layers in different styles (vectorised, and per-sample loops) serve as
bases; each mutant changes one line of one of them, the way a student would get it wrong.
None of them imports the nnlab reference.
"""

import numpy as np

from nnlab.checks.zoo import correct, mutant

# --------------------------------------------------------------------------- Dense


@correct("check_dense", "vectorised, default_rng, He-style scale")
class DenseVec:
    def __init__(self, n_in, n_out, seed=0):
        rng = np.random.default_rng(seed)
        self.W = rng.normal(0, np.sqrt(2 / n_in), (n_in, n_out))
        self.b = np.zeros(n_out)

    def forward(self, X):
        self.X = X
        return X @ self.W + self.b

    def backward(self, dY):
        self.dW = self.X.T @ dY
        self.db = dY.sum(axis=0)
        return dY @ self.W.T


@correct("check_dense", "per-sample loops with np.outer, uniform init, RandomState")
class DenseLoop:
    def __init__(self, n_in, n_out, seed=0):
        state = np.random.RandomState(seed)
        limit = 1 / np.sqrt(n_in)
        self.W = state.uniform(-limit, limit, size=(n_in, n_out))
        self.b = np.zeros((n_out,))

    def forward(self, inputs):
        self.inputs = inputs
        return np.dot(inputs, self.W) + self.b

    def backward(self, grad_out):
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
        grad_in = np.zeros_like(self.inputs)
        for i in range(grad_out.shape[0]):
            self.dW += np.outer(self.inputs[i], grad_out[i])
            self.db += grad_out[i]
            grad_in[i] = self.W @ grad_out[i]
        return grad_in


@correct("check_dense", "seed 001's style: inputs with a column of ones, [b; W] stacked")
class DenseAugmented:
    def __init__(self, n_in, n_out, seed=0):
        self.W = np.random.default_rng(seed).standard_normal((n_in, n_out)) * 0.5
        self.b = np.zeros(n_out)

    def forward(self, X):
        self.Xa = np.concatenate((np.ones((X.shape[0], 1)), X), 1)
        return np.dot(self.Xa, np.vstack([self.b[None, :], self.W]))

    def backward(self, dY):
        grad = np.dot(self.Xa.T, dY)
        self.db, self.dW = grad[0], grad[1:]
        return np.dot(dY, self.W.T)


@mutant("check_dense", "B1", "db not summed over the batch (db = dY)")
class DenseDbPerSample(DenseVec):
    def backward(self, dY):
        self.dW = self.X.T @ dY
        self.db = dY
        return dY @ self.W.T


@mutant("check_dense", "B1", "seed 000: err summed over axis=1, one bias per sample (n, 1)")
class DenseSeed000Bias(DenseLoop):
    def backward(self, grad_out):
        grad_in = DenseLoop.backward(self, grad_out)
        err = np.sum(grad_out, axis=1)
        err.shape = (grad_out.shape[0], 1)
        self.db = err
        return grad_in


@mutant("check_dense", "B5", "dividing by the batch size inside the layer")
class DenseMeanInside(DenseVec):
    def backward(self, dY):
        n = len(self.X)
        self.dW = self.X.T @ dY / n
        self.db = dY.mean(axis=0)
        return dY @ self.W.T / n


@mutant("check_dense", "B5", "loops, dW averaged over samples")
class DenseLoopAveraged(DenseLoop):
    def backward(self, grad_out):
        grad_in = DenseLoop.backward(self, grad_out)
        self.dW /= grad_out.shape[0]
        return grad_in


@mutant("check_dense", "B6", "all weights zero")
class DenseZeros(DenseVec):
    def __init__(self, n_in, n_out, seed=0):
        self.W = np.zeros((n_in, n_out))
        self.b = np.zeros(n_out)


@mutant("check_dense", "B6", "seed 001: every weight the same constant 0.1")
class DenseConstant(DenseLoop):
    def __init__(self, n_in, n_out, seed=0):
        self.W = np.full((n_in, n_out), 0.1)
        self.b = np.zeros(n_out)


@mutant("check_dense", "B6", "seed ignored: rng seeded with a fixed 42")
class DenseSeedIgnored(DenseVec):
    def __init__(self, n_in, n_out, seed=0):
        super().__init__(n_in, n_out, seed=42)


@mutant("check_dense", "B6", "identical columns: one random vector tiled over the units")
class DenseTiled(DenseVec):
    def __init__(self, n_in, n_out, seed=0):
        column = np.random.default_rng(seed).normal(size=(n_in, 1))
        self.W = np.tile(column, (1, n_out))
        self.b = np.zeros(n_out)


@mutant("check_dense", "B7", "seed 002: no bias at all")
class DenseNoBias:
    def __init__(self, n_in, n_out, seed=0):
        self.W = np.random.default_rng(seed).normal(size=(n_in, n_out)) * 0.1

    def forward(self, X):
        self.X = X
        return X.dot(self.W)

    def backward(self, dY):
        self.dW = self.X.T.dot(dY)
        return dY.dot(self.W.T)


@mutant("check_dense", "B7", "bias stored but ignored in forward")
class DenseBiasIgnored(DenseLoop):
    def forward(self, inputs):
        self.inputs = inputs
        return np.dot(inputs, self.W)


@mutant("check_dense", "B7", "seed 004: bias gradient commented out, db stays zero")
class DenseDbNeverSet(DenseVec):
    def backward(self, dY):
        self.dW = self.X.T @ dY
        self.db = np.zeros_like(self.b)
        # self.db = dY.sum(axis=0)
        return dY @ self.W.T


@mutant("check_dense", "B13", "seed 004: gradient added into the bias (b += db)")
class DenseAddIntoBias(DenseVec):
    def backward(self, dY):
        dX = super().backward(dY)
        self.b += self.db
        return dX


@mutant("check_dense", "B13", "loops: gradients added into W and b")
class DenseLoopAddInto(DenseLoop):
    def backward(self, grad_out):
        grad_in = DenseLoop.backward(self, grad_out)
        self.W = self.W + self.dW
        self.b = self.b + self.db
        return grad_in


@mutant("check_dense", "B14", "dW transposed: dY.T @ X")
class DenseDwTransposed(DenseVec):
    def backward(self, dY):
        self.dW = dY.T @ self.X
        self.db = dY.sum(axis=0)
        return dY @ self.W.T


@mutant("check_dense", "B14", "loops: dX with W instead of W.T")
class DenseLoopDxNoTranspose(DenseLoop):
    def backward(self, grad_out):
        DenseLoop.backward(self, grad_out)
        return np.dot(grad_out, self.W)


@mutant("check_dense", "B15", "dW with the sign flipped")
class DenseDwSign(DenseVec):
    def backward(self, dY):
        self.dW = -(self.X.T @ dY)
        self.db = dY.sum(axis=0)
        return dY @ self.W.T


@mutant("check_dense", "B15", "seed 002 style: delta = y - y_hat convention, all signs flipped")
class DenseLoopSign(DenseLoop):
    def backward(self, grad_out):
        return DenseLoop.backward(self, -grad_out)


@mutant("check_dense", "B16", "dW accumulated with += and never reset")
class DenseAccumulate(DenseVec):
    def __init__(self, n_in, n_out, seed=0):
        super().__init__(n_in, n_out, seed)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)

    def backward(self, dY):
        self.dW += self.X.T @ dY
        self.db += dY.sum(axis=0)
        return dY @ self.W.T


@mutant("check_dense", "B16", "loops: gradient buffers created once in __init__")
class DenseLoopAccumulate(DenseLoop):
    def __init__(self, n_in, n_out, seed=0):
        super().__init__(n_in, n_out, seed)
        self.gW, self.gb = None, None

    def backward(self, grad_out):
        if self.gW is None or self.gW.shape != self.W.shape:
            self.gW, self.gb = np.zeros_like(self.W), np.zeros_like(self.b)
        for i in range(grad_out.shape[0]):
            self.gW += np.outer(self.inputs[i], grad_out[i])
            self.gb += grad_out[i]
        self.dW, self.db = self.gW, self.gb
        return grad_out @ self.W.T


@mutant("check_dense", None, "W stored transposed (n_out, n_in), forward X @ W.T")
class DenseStoredTransposed(DenseVec):
    def __init__(self, n_in, n_out, seed=0):
        super().__init__(n_out, n_in, seed)
        self.b = np.zeros(n_out)

    def forward(self, X):
        self.X = X
        return X @ self.W.T + self.b


@mutant("check_dense", None, "weights copied in __init__, forward reads the copy")
class DenseStaleCopy(DenseVec):
    def __init__(self, n_in, n_out, seed=0):
        super().__init__(n_in, n_out, seed)
        self._weights = self.W.copy()

    def forward(self, X):
        self.X = X
        return X @ self._weights + self.b


@mutant("check_dense", None, "seed 002: 0.2 * np.random.random(...) - 0.1, seed ignored")
class DenseGlobalRandom(DenseVec):
    def __init__(self, n_in, n_out, seed=0):
        self.W = 0.2*np.random.random((n_in, n_out)) - 0.1
        self.b = np.zeros(n_out)


# --------------------------------------------------------------------------- activations


class _Stable:
    @staticmethod
    def sig(z):
        e = np.exp(-np.abs(z))
        return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


@correct("check_sigmoid_layer", "stores the output")
class SigmoidOut(_Stable):
    def forward(self, X):
        self.out = self.sig(X)
        return self.out

    def backward(self, dY):
        return dY * self.out * (1 - self.out)


@correct("check_sigmoid_layer", "stores the input, derivative via exp(-|x|)")
class SigmoidIn:
    def forward(self, X):
        self.X = X
        return 0.5 * (1 + np.tanh(0.5 * X))

    def backward(self, dY):
        e = np.exp(-np.abs(self.X))
        return dY * e / (1 + e) ** 2


@mutant("check_sigmoid_layer", "B18", "sigmoid' applied to the output (sigmoid taken twice)")
class SigmoidTwice(SigmoidOut):
    def backward(self, dY):
        s = self.sig(self.out)
        return dY * s * (1 - s)


@mutant("check_sigmoid_layer", "B18", "seed 001 sig_prime(z) fed the activation")
class SigmoidPrimeOfOutput:
    def sigmoid(self, z):
        return 1 / (1 + np.exp(-z))

    def sig_prime(self, z):
        return np.multiply(self.sigmoid(z), (1 - self.sigmoid(z)))

    def forward(self, X):
        self.a = self.sigmoid(X)
        return self.a

    def backward(self, dY):
        return dY * self.sig_prime(self.a)


@mutant("check_sigmoid_layer", "B18", "derivative s * (1 + s)")
class SigmoidPlus(SigmoidOut):
    def backward(self, dY):
        return dY * self.out * (1 + self.out)


@mutant("check_sigmoid_layer", "B15", "sign flipped")
class SigmoidSign(SigmoidOut):
    def backward(self, dY):
        return -dY * self.out * (1 - self.out)


@mutant("check_sigmoid_layer", "B15", "(out - 1) * out")
class SigmoidSignIn(SigmoidIn):
    def backward(self, dY):
        s = self.forward(self.X)
        return dY * (s - 1) * s


@correct("check_tanh", "stores the output")
class TanhOut:
    def forward(self, X):
        self.out = np.tanh(X)
        return self.out

    def backward(self, dY):
        return dY * (1 - self.out**2)


@correct("check_tanh", "stores the input, 1 / cosh^2")
class TanhCosh:
    def forward(self, X):
        self.z = X.copy()
        return np.tanh(self.z)

    def backward(self, dY):
        return dY / np.cosh(self.z) ** 2


@mutant("check_tanh", "B18", "1 - tanh(z), not squared")
class TanhNotSquared(TanhOut):
    def backward(self, dY):
        return dY * (1 - self.out)


@mutant("check_tanh", "B18", "tanh applied to the stored output again")
class TanhTwice(TanhOut):
    def backward(self, dY):
        return dY * (1 - np.tanh(self.out) ** 2)


@mutant("check_tanh", "B15", "sign flipped")
class TanhSign(TanhOut):
    def backward(self, dY):
        return dY * (self.out**2 - 1)


@mutant("check_tanh", "B15", "minus cosh")
class TanhSignCosh(TanhCosh):
    def backward(self, dY):
        return -dY / np.cosh(self.z) ** 2


@mutant("check_tanh", "B18", "the sigmoid's derivative out * (1 - out) reused for tanh")
class TanhSigmoidDerivative(TanhOut):
    def backward(self, dY):
        return dY * self.out * (1 - self.out)


@correct("check_relu", "mask X > 0, the course convention")
class ReluMask:
    def forward(self, X):
        self.X = X
        return np.maximum(X, 0)

    def backward(self, dY):
        return dY * (self.X > 0)


@correct("check_relu", "np.where on the input with >=, gradient 1 at exactly 0")
class ReluWhere:
    def forward(self, X):
        self.mask = X >= 0
        return np.where(self.mask, X, 0.0)

    def backward(self, dY):
        return np.where(self.mask, dY, 0.0)


@mutant("check_relu", "B8", "seed 002: relu2deriv(output) = output >= 0")
class ReluSeed002:
    def forward(self, X):
        self.out = (X >= 0) * X
        return self.out

    def backward(self, dY):
        return dY * (self.out >= 0)


@mutant("check_relu", "B8", "gradient passed through unchanged")
class ReluIdentityBackward(ReluMask):
    def backward(self, dY):
        return dY.copy()


@mutant("check_relu", "B15", "sign flipped")
class ReluSign(ReluMask):
    def backward(self, dY):
        return -dY * (self.X > 0)


@mutant("check_relu", "B15", "np.where with a minus")
class ReluSignWhere(ReluWhere):
    def backward(self, dY):
        return np.where(self.mask, -dY, 0.0)


@mutant("check_relu", None, "mask inverted: gradient where the input was negative")
class ReluInverted(ReluMask):
    def backward(self, dY):
        return dY * (self.X < 0)

"""The plain-numpy peer: Nielsen's network2 written the way a numpy user would.

Sigmoid hidden and output layers, the cross-entropy cost, mini-batch SGD
with L2 weight decay (penalty_scale "n": lambda' = l2 / n). One matmul per
layer per batch in each direction, no per-sample Python loop, and nothing
clever beyond that: this is the fair baseline creg has to beat.

Same conventions and step rule as creg (DESIGN.md "Semantics"):
- W[l] has shape (n_out, n_in), row j = neuron j's incoming weights;
  Z = A_prev @ W.T + b, A = sigmoid(Z);
- output delta (cross-entropy) a - y, averaged over the m rows of the batch;
  the last batch of an epoch may be shorter and is averaged over its size;
- W <- W - lr * (dW + lambda' * W),  b <- b - lr * db.

Dimensions: n = samples, m = rows in a batch, I/O = a layer's inputs/outputs.
"""
import numpy as np


def sigmoid(z):
    # 1 / (1 + exp(-z)) in place; exp overflows to inf for z < -88 in
    # float32, which correctly gives 0, so the warning is silenced.
    with np.errstate(over="ignore"):
        np.negative(z, out=z)
        np.exp(z, out=z)
    z += 1
    return np.reciprocal(z, out=z)


def one_hot(y, n_classes, dtype):
    """Integer labels (n,) -> targets (n, n_classes)."""
    Y = np.zeros((y.shape[0], n_classes), dtype)
    Y[np.arange(y.shape[0]), y] = 1
    return Y


class NumpyMLP:
    """A fully-connected sigmoid network trained by mini-batch SGD.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, for example [784, 30, 10].
    dtype : numpy dtype, default float32
    seed : int
        Initial weights N(0, 1/n_in), biases N(0, 1) (Nielsen's default).
    """

    def __init__(self, sizes, dtype=np.float32, seed=0):
        rng = np.random.default_rng(seed)
        self.sizes = tuple(sizes)
        self.dtype = np.dtype(dtype)
        self.weights = [(rng.standard_normal((o, i)) / np.sqrt(i))
                        .astype(self.dtype)
                        for i, o in zip(sizes[:-1], sizes[1:])]
        self.biases = [rng.standard_normal(o).astype(self.dtype)
                       for o in sizes[1:]]

    def forward(self, X):
        """Every layer's activation: [X, A_1, ..., A_L], A_l (m, sizes[l])."""
        activations = [X]
        for W, b in zip(self.weights, self.biases):
            activations.append(sigmoid(activations[-1] @ W.T + b))
        return activations

    def gradient(self, X, Y):
        """Batch-mean cross-entropy gradient over the rows of X (no penalty).

        X (m, I_0), Y (m, O_L) -> (list of dW (O, I), list of db (O,)).
        """
        activations = self.forward(X)
        # dC/dZ_L = (A_L - Y) / m for sigmoid + cross-entropy; the 1/m of the
        # batch mean is applied once here and flows through every layer.
        delta = (activations[-1] - Y) * self.dtype.type(1 / X.shape[0])
        dWs, dbs = [], []
        for layer in range(len(self.weights) - 1, -1, -1):
            dWs.append(delta.T @ activations[layer])    # (O, m) @ (m, I)
            dbs.append(delta.sum(axis=0))
            if layer > 0:                               # through sigmoid
                A = activations[layer]
                delta = (delta @ self.weights[layer]) * A * (1 - A)
        return dWs[::-1], dbs[::-1]

    def step(self, X, Y, lr, l2):
        """One SGD step on the batch (X, Y); l2 is the per-step lambda'."""
        dWs, dbs = self.gradient(X, Y)
        for W, b, dW, db in zip(self.weights, self.biases, dWs, dbs):
            W -= lr * (dW + l2 * W)
            b -= lr * db

    def fit_epoch(self, X, Y, *, batch_size=10, lr=0.5, l2=0.0, rng=None):
        """One epoch of mini-batch SGD.

        X (n, sizes[0]) and one-hot Y (n, sizes[-1]) in self.dtype;
        l2 is scaled by 1/n here (penalty_scale "n"); rng=None keeps the
        given order, otherwise the epoch's order is rng.permutation(n).
        """
        n = X.shape[0]
        if rng is not None:
            order = rng.permutation(n)
            X, Y = X[order], Y[order]
        lr = self.dtype.type(lr)
        l2 = self.dtype.type(l2 / n)
        for first in range(0, n, batch_size):
            self.step(X[first:first + batch_size],
                      Y[first:first + batch_size], lr, l2)

    def monitor(self, X, Y, *, l2=0.0):
        """(mean cost + l2/(2n) sum W^2, accuracy) over the whole of X, the
        training-set line network2 prints (and creg's fit records) after
        every epoch."""
        A = self.forward(X)[-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            cost = np.nan_to_num(-Y * np.log(A) - (1 - Y) * np.log(1 - A))
        cost = float(cost.sum(dtype=np.float64)) / X.shape[0]
        cost += 0.5 * l2 / X.shape[0] * sum(
            float(np.square(W, dtype=np.float64).sum()) for W in self.weights)
        accuracy = float(np.mean(A.argmax(axis=1) == Y.argmax(axis=1)))
        return cost, accuracy

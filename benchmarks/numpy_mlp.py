"""The plain-numpy peer: creg's update rule written the way a numpy user would.

Hidden layers sigmoid or ReLU; output sigmoid + cross-entropy or softmax +
log-likelihood; mini-batch SGD with L2 weight decay, momentum, L1 by the
proximal step, max-norm and (inverted) dropout on the hidden layers. One
matmul per layer per batch in each direction, in-place elementwise work
where it is natural, no per-sample Python loop, and nothing clever beyond
that: this is the fair baseline creg has to beat. For a batch of one row
the weight gradient is ``np.outer`` (4x faster than a matmul with an inner
dimension of 1 here), as a user writing online SGD would.

Same conventions and step rule as creg (DESIGN.md "Semantics"):
- W[l] has shape (n_out, n_in), row j = neuron j's incoming weights;
  Z = A_prev @ W.T + b, A = f(Z), H = A * mask with dropout;
- output delta (both costs) a - y, averaged over the m rows of the batch;
  the last batch of an epoch may be shorter and is averaged over its size;
- with lambda' = l2 (or l1) / n for penalty_scale "n", unscaled for "none":
  1. g = dW + lambda2' W;  2. V = mu V - lr g;  3. W = W + V;
  4. W = sign(W) max(|W| - lr lambda1', 0);
  5. rows of W with norm > c are scaled to norm c;
  biases take steps 2-3 with g = db.

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


def relu(z):
    return np.maximum(z, 0, out=z)


def softmax(z):
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


HIDDEN = {"sigmoid": sigmoid, "relu": relu}
OUTPUT = {"sigmoid": sigmoid, "softmax": softmax}


class NumpyMLP:
    """A fully-connected network trained by mini-batch SGD.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, for example [784, 30, 10].
    dtype : numpy dtype, default float32
    seed : int
        Initial weights N(0, 1/n_in), biases N(0, 1) (Nielsen's default).
    hidden : {"sigmoid", "relu"}
    output : {"sigmoid", "softmax"}
        sigmoid goes with the cross-entropy cost, softmax with the
        log-likelihood; both have the output delta a - y.
    """

    def __init__(self, sizes, dtype=np.float32, seed=0, hidden="sigmoid",
                 output="sigmoid"):
        rng = np.random.default_rng(seed)
        self.sizes = tuple(sizes)
        self.dtype = np.dtype(dtype)
        self.hidden, self.output = hidden, output
        self.weights = [(rng.standard_normal((o, i)) / np.sqrt(i))
                        .astype(self.dtype)
                        for i, o in zip(sizes[:-1], sizes[1:])]
        self.biases = [rng.standard_normal(o).astype(self.dtype)
                       for o in sizes[1:]]

    # ------------------------------------------------------------ forward
    def forward(self, X, masks=None):
        """Every layer's activation: [X, A_1, ..., A_L], A_l (m, sizes[l]).

        masks: None, or one (m, sizes[l]) array per hidden layer holding
        0 (dropped) or 1/(1 - rate) (kept); the activations returned for
        hidden layers are then the dropped-out H_l = A_l * mask_l, which is
        what the next layer reads. The unmasked A_l are kept in
        ``self._unmasked`` for the backward pass.
        """
        activations, unmasked = [X], []
        last = len(self.weights) - 1
        for layer, (W, b) in enumerate(zip(self.weights, self.biases)):
            Z = activations[-1] @ W.T
            Z += b
            if layer == last:
                activations.append(OUTPUT[self.output](Z))
                break
            A = HIDDEN[self.hidden](Z)
            unmasked.append(A)
            activations.append(A if masks is None else A * masks[layer])
        self._unmasked = unmasked
        return activations

    # ----------------------------------------------------------- backward
    def gradient(self, X, Y, masks=None):
        """Batch-mean data-cost gradient over the rows of X (no penalty).

        X (m, I_0), Y (m, O_L) -> (list of dW (O, I), list of db (O,)).
        """
        activations = self.forward(X, masks)
        # dC/dZ_L = (A_L - Y) / m for both costs; the 1/m of the batch
        # mean is applied once here and flows through every layer.
        delta = activations[-1] - Y
        delta *= self.dtype.type(1 / X.shape[0])
        dWs, dbs = [], []
        for layer in range(len(self.weights) - 1, -1, -1):
            A_in = activations[layer]
            if X.shape[0] == 1:                          # online SGD
                dWs.append(np.outer(delta[0], A_in[0]))
            else:
                dWs.append(delta.T @ A_in)               # (O, m) @ (m, I)
            dbs.append(delta.sum(axis=0))
            if layer > 0:
                delta = delta @ self.weights[layer]      # dH (m, I)
                if masks is not None:                    # H = A * mask
                    delta *= masks[layer - 1]
                A = self._unmasked[layer - 1]
                if self.hidden == "relu":                # A = max(Z, 0)
                    delta *= A > 0
                else:                                    # A = sigmoid(Z)
                    delta *= A * (1 - A)
        return dWs[::-1], dbs[::-1]

    # ------------------------------------------------------------- update
    def step(self, X, Y, lr, l2=0.0, l1=0.0, momentum=0.0, max_norm=None,
             masks=None):
        """One step on the batch (X, Y); l2, l1 are the per-step lambda'."""
        dWs, dbs = self.gradient(X, Y, masks)
        for layer, (W, b, g, db) in enumerate(
                zip(self.weights, self.biases, dWs, dbs)):
            if l2:
                g += l2 * W
            if momentum:
                V, Vb = self.velocity[layer]
                V *= momentum
                V -= lr * g
                W += V
                Vb *= momentum
                Vb -= lr * db
                b += Vb
            else:
                W -= lr * g
                b -= lr * db
            if l1:
                W[...] = np.sign(W) * np.maximum(np.abs(W) - lr * l1, 0)
            if max_norm:
                norms = np.sqrt(np.einsum("ij,ij->i", W, W))
                W *= (max_norm / np.maximum(norms, max_norm))[:, None]

    def dropout_masks(self, rng, m, rate):
        """Fresh inverted-dropout masks for a batch of m rows."""
        keep = self.dtype.type(1 / (1 - rate))
        return [(rng.random((m, o), dtype=self.dtype) >= rate) * keep
                for o in self.sizes[1:-1]]

    def fit_epoch(self, X, Y, *, batch_size=10, lr=0.5, l2=0.0, l1=0.0,
                  penalty_scale="n", momentum=0.0, max_norm=None,
                  dropout=0.0, rng=None, mask_source=None):
        """One epoch of mini-batch SGD.

        X (n, sizes[0]) and one-hot Y (n, sizes[-1]) in self.dtype;
        l2, l1 are scaled by 1/n when penalty_scale is "n"; rng=None keeps
        the given order, otherwise the epoch's order is rng.permutation(n)
        and rng draws the dropout masks. mask_source(step, m), when given,
        returns the masks of a step instead (tests feed creg's masks).
        The velocity starts at zero on every call, as in creg's fit.
        """
        n = X.shape[0]
        if rng is not None:
            order = rng.permutation(n)
            X, Y = X[order], Y[order]
        scale = 1 / n if penalty_scale == "n" else 1.0
        if momentum:
            self.velocity = [(np.zeros_like(W), np.zeros_like(b))
                             for W, b in zip(self.weights, self.biases)]
        if dropout and mask_source is None:
            mask_rng = rng if rng is not None else np.random.default_rng(0)
            mask_source = lambda step, m: self.dropout_masks(  # noqa: E731
                mask_rng, m, dropout)
        for step, first in enumerate(range(0, n, batch_size)):
            xb = X[first:first + batch_size]
            masks = mask_source(step, xb.shape[0]) if dropout else None
            self.step(xb, Y[first:first + batch_size], lr, l2 * scale,
                      l1 * scale, momentum, max_norm, masks)

    # ------------------------------------------------------------ monitor
    def monitor(self, X, Y, *, l2=0.0, l1=0.0, penalty_scale="n"):
        """(mean cost + penalty, accuracy) over the whole of X, the
        training-set line network2 prints (and creg's fit records) after
        every epoch."""
        A = self.forward(X)[-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.output == "softmax":
                cost = -np.log(A[Y.astype(bool)])
            else:
                cost = -Y * np.log(A) - (1 - Y) * np.log(1 - A)
            cost = np.nan_to_num(cost)
        cost = float(cost.sum(dtype=np.float64)) / X.shape[0]
        scale = 1 / X.shape[0] if penalty_scale == "n" else 1.0
        for W in self.weights:
            cost += 0.5 * l2 * scale * float(np.square(W, dtype=np.float64)
                                             .sum())
            cost += l1 * scale * float(np.abs(W, dtype=np.float64).sum())
        accuracy = float(np.mean(A.argmax(axis=1) == Y.argmax(axis=1)))
        return cost, accuracy

"""Plain numpy float64 oracle for creg (STYLE.md 6.10).

Nothing here imports creg. Every function is the formula of DESIGN.md
"Semantics" written out directly, short enough to check by eye.

Conventions: X is (rows, inputs); weights[l] is (n_out, n_in) with row j the
incoming weights of neuron j; biases[l] is (n_out,); targets Y are a float
matrix (rows, n_out). Layer l computes Z = A_prev @ W.T + b, A = f(Z).
"""

import numpy as np

# ---------------------------------------------------------------- activations


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z):
    return np.tanh(z)


def tanh_prime(z):
    return 1.0 - np.tanh(z) ** 2


def relu(z):
    return np.maximum(z, 0.0)


def relu_prime(z):
    return (z > 0).astype(np.float64)


def linear(z):
    return np.array(z, dtype=np.float64)


def linear_prime(z):
    return np.ones_like(z, dtype=np.float64)


def softmax(z):
    """Row-wise softmax, shifted by the row max for stability."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_prime(z):
    """Jacobians da_i/dz_j, shape (rows, O, O): diag(a) - a a^T per row.

    Only the log_likelihood cost uses a softmax output, and its output delta
    a - y already contains this Jacobian; it is here for completeness.
    """
    a = softmax(z)
    return a[:, :, None] * np.eye(z.shape[1])[None] - a[:, :, None] * a[:, None, :]


ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (tanh, tanh_prime),
    "relu": (relu, relu_prime),
    "linear": (linear, linear_prime),
    "softmax": (softmax, softmax_prime),
}

# ---------------------------------------------------------------------- costs


def cross_entropy(a, y):
    """Per-sample -sum[y ln a + (1-y) ln(1-a)], shape (rows,)."""
    return -np.sum(y * np.log(a) + (1.0 - y) * np.log(1.0 - a), axis=1)


def log_likelihood(a, y):
    """Per-sample -ln a_y (for one-hot y: -sum y ln a), shape (rows,)."""
    return -np.sum(y * np.log(a), axis=1)


def quadratic(a, y):
    """Per-sample 1/2 |a - y|^2, shape (rows,)."""
    return 0.5 * np.sum((a - y) ** 2, axis=1)


COSTS = {
    "cross_entropy": cross_entropy,
    "log_likelihood": log_likelihood,
    "quadratic": quadratic,
}


def output_delta(cost, output, z, a, y):
    """dC/dz at the output layer, per sample (DESIGN.md)."""
    if cost == "quadratic":
        return (a - y) * ACTIVATIONS[output][1](z)
    return a - y  # cross_entropy + sigmoid, log_likelihood + softmax


def one_hot(labels, n_classes):
    Y = np.zeros((len(labels), n_classes))
    Y[np.arange(len(labels)), labels] = 1.0
    return Y


def penalty_strengths(l2, l1, n, penalty_scale):
    """(lambda2', lambda1'): divided by n for "n" (Nielsen), as is for "none"."""
    scale = 1.0 / n if penalty_scale == "n" else 1.0
    return l2 * scale, l1 * scale


def penalty(weights, l2p, l1p):
    """l2'/2 sum w^2 + l1' sum |w| over the weights (never the biases)."""
    return (0.5 * l2p * sum(np.sum(W ** 2) for W in weights)
            + l1p * sum(np.sum(np.abs(W)) for W in weights))


def labels(outputs):
    """The class of each row of outputs (or targets): the first largest
    value, or value > 0.5 for a single column."""
    if outputs.shape[1] == 1:
        return (outputs[:, 0] > 0.5).astype(np.int64)
    return outputs.argmax(axis=1)


# -------------------------------------------------------- forward / backprop


def forward(weights, biases, X, hidden, output, masks=None):
    """Returns (Zs, As): Zs[l] pre-activations, As[0] = X, As[l+1] = f(Zs[l]),
    times masks[l] for a hidden layer when dropout masks are given (each 0 or
    1/(1 - rate): inverted dropout)."""
    Zs, As = [], [np.asarray(X, dtype=np.float64)]
    for l, (W, b) in enumerate(zip(weights, biases)):
        last = l == len(weights) - 1
        f = ACTIVATIONS[output if last else hidden][0]
        Zs.append(As[-1] @ W.T + b)
        As.append(f(Zs[-1]) if last or masks is None else f(Zs[-1]) * masks[l])
    return Zs, As


def cost(weights, biases, X, Y, *, hidden, output, cost, l2=0.0, l1=0.0,
         penalty_scale="n"):
    """Mean data cost over the rows + l2'/2 sum w^2 + l1' sum |w| (n = rows)."""
    _, As = forward(weights, biases, X, hidden, output)
    l2p, l1p = penalty_strengths(l2, l1, len(X), penalty_scale)
    return np.mean(COSTS[cost](As[-1], Y)) + penalty(weights, l2p, l1p)


def backprop(weights, biases, X, Y, *, hidden, output, cost, masks=None):
    """Batch-mean data-cost gradients (dWs, dbs) over the rows of X, through
    the dropout masks if given (as in forward)."""
    Zs, As = forward(weights, biases, X, hidden, output, masks)
    m = len(X)
    delta = output_delta(cost, output, Zs[-1], As[-1], Y)
    dWs, dbs = [None] * len(weights), [None] * len(weights)
    for l in range(len(weights) - 1, -1, -1):
        dWs[l] = delta.T @ As[l] / m
        dbs[l] = delta.sum(axis=0) / m
        if l > 0:
            delta = (delta @ weights[l]) * ACTIVATIONS[hidden][1](Zs[l - 1])
            if masks is not None:
                delta = delta * masks[l - 1]
    return dWs, dbs


# ---------------------------------------------------------------- the update


def step(W, b, VW, Vb, dW, db, *, lr, l2p, l1p, l1_method, max_norm, momentum):
    """One update of one layer, DESIGN.md steps 1-5. Returns (W, b, VW, Vb)."""
    g = dW + l2p * W                                          # 1
    if l1_method == "subgradient":
        g = g + l1p * np.sign(W)
    VW = momentum * VW - lr * g                               # 2
    W = W + VW                                                # 3
    if l1_method == "prox":                                   # 4
        W = np.sign(W) * np.maximum(np.abs(W) - lr * l1p, 0.0)
    if max_norm is not None:                                  # 5
        norms = np.sqrt(np.sum(W ** 2, axis=1))
        over = norms > max_norm
        W[over] = W[over] * (max_norm / norms[over])[:, None]
    Vb = momentum * Vb - lr * db                              # biases: 2-3
    b = b + Vb
    return W, b, VW, Vb


def train(weights, biases, X, Y, *, hidden, output, cost, epochs, batch_size,
          lr, l2=0.0, l1=0.0, penalty_scale="n", l1_method="prox",
          max_norm=None, momentum=0.0, on_step=None):
    """Mini-batch training with shuffle=False semantics; returns (Ws, bs).

    Batches are consecutive rows; the last one of an epoch may be shorter
    and is averaged over its own size. Velocities start at zero and carry
    across epochs. The inputs are not modified. If given,
    on_step(Ws, bs, Xb) is called before every update step with the
    current parameters and the batch (tests use it to watch the run).
    """
    Ws, bs, _, _ = train_running(
        weights, biases, X, Y, hidden=hidden, output=output, cost=cost,
        epochs=epochs, batch_size=batch_size, lr=lr, l2=l2, l1=l1,
        penalty_scale=penalty_scale, l1_method=l1_method, max_norm=max_norm,
        momentum=momentum, on_step=on_step)
    return Ws, bs


def train_running(weights, biases, X, Y, *, hidden, output, cost, epochs,
                  batch_size, lr, l2=0.0, l1=0.0, penalty_scale="n",
                  l1_method="prox", max_norm=None, momentum=0.0,
                  order=None, masks=None, noise=None, on_step=None):
    """train, with each epoch's running metrics; returns (Ws, bs, costs,
    accuracies), the last two one value per epoch:

    - cost: the sum over the epoch's rows of the per-sample cost that the
      forward pass of the row's batch gave (with its masks and noise,
      before its step), divided by n, plus the penalty of the weights that
      end the epoch;
    - accuracy: the fraction of rows whose labels(...) was right in that
      same forward pass.

    order(epoch) gives the epoch's row order (default: as given);
    masks(epoch, step, shapes) the dropout masks of the batch's hidden
    layers (shapes[l] = (rows, units)); noise(epoch, step, shape) the noise
    added to the batch's inputs.  Batch `step` counts from 0 in each epoch.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    n = len(X)
    l2p, l1p = penalty_strengths(l2, l1, n, penalty_scale)
    Ws = [np.array(W, dtype=np.float64) for W in weights]
    bs = [np.array(b, dtype=np.float64) for b in biases]
    VWs = [np.zeros_like(W) for W in Ws]
    Vbs = [np.zeros_like(b) for b in bs]
    costs, accuracies = [], []
    for epoch in range(epochs):
        rows = np.arange(n) if order is None else order(epoch)
        cost_sum, correct = 0.0, 0
        for step_index, start in enumerate(range(0, n, batch_size)):
            batch = rows[start:start + batch_size]
            Xb, Yb = X[batch], Y[batch]
            if noise is not None:
                Xb = Xb + noise(epoch, step_index, Xb.shape)
            Mb = None
            if masks is not None:
                Mb = masks(epoch, step_index,
                           [(len(batch), W.shape[0]) for W in Ws[:-1]])
            As = forward(Ws, bs, Xb, hidden, output, Mb)[1]
            cost_sum += np.sum(COSTS[cost](As[-1], Yb))
            correct += int(np.sum(labels(As[-1]) == labels(Yb)))
            dWs, dbs = backprop(Ws, bs, Xb, Yb, hidden=hidden, output=output,
                                cost=cost, masks=Mb)
            if on_step is not None:
                on_step(Ws, bs, Xb)
            for l in range(len(Ws)):
                Ws[l], bs[l], VWs[l], Vbs[l] = step(
                    Ws[l], bs[l], VWs[l], Vbs[l], dWs[l], dbs[l], lr=lr,
                    l2p=l2p, l1p=l1p, l1_method=l1_method, max_norm=max_norm,
                    momentum=momentum)
        costs.append(cost_sum / n + penalty(Ws, l2p, l1p))
        accuracies.append(correct / n)
    return Ws, bs, costs, accuracies

"""With penalty_scale="n", no momentum and no L1, one epoch of creg is
Nielsen's network2.py rule

    w <- (1 - lr * l2 / n) w - (lr / m) sum_x grad_w C_x
    b <- b - (lr / m) sum_x grad_b C_x

written out here the way network2 does it: column vectors, a backprop per
sample, per-sample gradients summed over the mini-batch. It shares no code
with tests/reference.py or creg. float64, relative tolerance 1e-10.
"""

import numpy as np
import pytest

import creg
from conftest import TOL, assert_params_close, make_problem, params64

SIZES = [5, 4, 3, 3]
N = 23


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


def network2_backprop(weights, biases, x, y, cost):
    """network2.Network.backprop for one sample (column vectors x, y)."""
    activation, activations, zs = x, [x], []
    for w, b in zip(weights, biases):
        z = np.dot(w, activation) + b
        zs.append(z)
        activation = sigmoid(z)
        activations.append(activation)
    if cost == "cross_entropy":       # CrossEntropyCost.delta
        delta = activations[-1] - y
    else:                             # QuadraticCost.delta
        delta = (activations[-1] - y) * sigmoid_prime(zs[-1])
    nabla_b = [None] * len(biases)
    nabla_w = [None] * len(weights)
    nabla_b[-1] = delta
    nabla_w[-1] = np.dot(delta, activations[-2].transpose())
    for k in range(2, len(weights) + 1):
        delta = np.dot(weights[-k + 1].transpose(), delta) * sigmoid_prime(zs[-k])
        nabla_b[-k] = delta
        nabla_w[-k] = np.dot(delta, activations[-k - 1].transpose())
    return nabla_b, nabla_w


def network2_epoch(weights, biases, training_data, mini_batch_size, eta,
                   lmbda, cost):
    """One epoch of network2.Network.SGD without shuffling."""
    n = len(training_data)
    mini_batches = [training_data[k:k + mini_batch_size]
                    for k in range(0, n, mini_batch_size)]
    for mini_batch in mini_batches:
        nabla_b = [np.zeros(b.shape) for b in biases]
        nabla_w = [np.zeros(w.shape) for w in weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = network2_backprop(weights, biases,
                                                             x, y, cost)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        weights = [(1 - eta * (lmbda / n)) * w - (eta / len(mini_batch)) * nw
                   for w, nw in zip(weights, nabla_w)]
        biases = [b - (eta / len(mini_batch)) * nb
                  for b, nb in zip(biases, nabla_b)]
    return weights, biases


@pytest.mark.parametrize("l2", [0.0, 5.0])
@pytest.mark.parametrize("batch_size", [1, 7, N])
@pytest.mark.parametrize("cost", ["cross_entropy", "quadratic"])
def test_one_epoch_is_network2_rule(cost, batch_size, l2):
    eta = 0.5
    net = creg.Network(SIZES, hidden="sigmoid", output="sigmoid", cost=cost,
                       dtype="float64", seed=1, init="normalized")
    Ws, bs = params64(net)
    X, y, Y = make_problem(SIZES, N, "sigmoid", seed=2)
    training_data = [(X[i].reshape(-1, 1), Y[i].reshape(-1, 1))
                     for i in range(N)]
    Ws2, bs2 = network2_epoch(Ws, [b.reshape(-1, 1) for b in bs],
                              training_data, batch_size, eta, l2, cost)

    net.fit(X, y, epochs=1, batch_size=batch_size, lr=eta, l2=l2,
            penalty_scale="n", shuffle=False)

    assert_params_close(net, Ws2, [b.ravel() for b in bs2],
                        TOL[np.dtype(np.float64)])
    # The epoch really moved the parameters (beyond the tolerance).
    moved = max(np.max(np.abs(a - b)) / np.max(np.abs(b))
                for a, b in zip(Ws2, Ws))
    assert moved > 1e-3

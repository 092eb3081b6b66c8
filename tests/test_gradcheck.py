"""Whole-network gradient check (STYLE.md 6.10), float64.

net.gradient(X, y) (the C backprop, batch-mean data cost, no penalty) is
compared with 4th-order central differences of net.cost(X, y) with respect to
every weight and bias of a tiny net, for every cost/output pair and hidden
activation. net.cost itself is checked against the reference cost.
"""

import numpy as np
import pytest

import creg
import reference
from conftest import COST_OUTPUT, HIDDEN, assert_close, make_problem, params64

SIZES = [4, 3, 3, 2]
ROWS = 6
H = 1e-4          # finite-difference step
FD_TOL = 1e-8     # relative, per parameter array (rounding ~ eps/H ~ 1e-12)


def central_difference(f, x0, h=H):
    """4th-order central difference (sklearn's numerical_derivative)."""
    return (f(x0 - 2 * h) - 8 * f(x0 - h) + 8 * f(x0 + h)
            - f(x0 + 2 * h)) / (12 * h)


def numerical_gradient(net, X, y, param):
    """d net.cost(X, y) / d param, entry by entry, perturbing param in place."""
    num = np.zeros(param.shape)
    for idx in np.ndindex(param.shape):
        x0 = float(param[idx])

        def f(x):
            param[idx] = x
            c = net.cost(X, y)
            param[idx] = x0
            return c

        num[idx] = central_difference(f, x0)
    return num


def tiny_net(cost, output, hidden, dtype="float64"):
    net = creg.Network(SIZES, hidden=hidden, output=output, cost=cost,
                       dtype=dtype, seed=7, init="normalized")
    X, y, Y = make_problem(SIZES, ROWS, output, seed=5, dtype=np.dtype(dtype))
    return net, X, y, Y


def assert_no_kink_within(net, X, hidden, h):
    """ReLU is not differentiable at 0: keep pre-activations away from it."""
    if hidden != "relu":
        return
    Ws, bs = params64(net)
    Zs, _ = reference.forward(Ws, bs, X, hidden, "linear")
    # A perturbation of 2h in one parameter moves a pre-activation by at most
    # 2h * max(|input|, 1) * (upstream weight scale); 100h is a safe margin.
    assert min(np.abs(Z).min() for Z in Zs[:-1]) > 100 * h


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("cost,output", COST_OUTPUT)
def test_gradient_matches_finite_differences(cost, output, hidden):
    net, X, y, _ = tiny_net(cost, output, hidden)
    assert_no_kink_within(net, X, hidden, H)
    dWs, dbs = net.gradient(X, y)
    assert len(dWs) == len(net.weights) and len(dbs) == len(net.biases)
    for l, (W, dW) in enumerate(zip(net.weights, dWs)):
        assert dW.shape == W.shape
        assert_close(dW, numerical_gradient(net, X, y, W), FD_TOL, f"dW[{l}]")
    for l, (b, db) in enumerate(zip(net.biases, dbs)):
        assert db.shape == b.shape
        assert_close(db, numerical_gradient(net, X, y, b), FD_TOL, f"db[{l}]")


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("cost,output", COST_OUTPUT)
def test_gradient_matches_reference_backprop(cost, output, hidden, dtype,
                                             tol):
    net, X, y, Y = tiny_net(cost, output, hidden, dtype.name)
    Ws, bs = params64(net)
    dWs_ref, dbs_ref = reference.backprop(Ws, bs, X, Y, hidden=hidden,
                                          output=output, cost=cost)
    dWs, dbs = net.gradient(X, y)
    for l in range(len(Ws)):
        assert dWs[l].dtype == dtype and dbs[l].dtype == dtype
        assert_close(dWs[l], dWs_ref[l], tol, f"dW[{l}]")
        assert_close(dbs[l], dbs_ref[l], tol, f"db[{l}]")


@pytest.mark.parametrize("penalty", [
    dict(),
    dict(l2=3.0),
    dict(l1=2.0),
    dict(l2=0.5, l1=0.25, penalty_scale="none"),
])
@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("cost,output", COST_OUTPUT)
def test_cost_matches_reference(cost, output, hidden, penalty, dtype, tol):
    net, X, y, Y = tiny_net(cost, output, hidden, dtype.name)
    Ws, bs = params64(net)
    expected = reference.cost(Ws, bs, X, Y, hidden=hidden, output=output,
                              cost=cost, **penalty)
    got = net.cost(X, y, **penalty)
    assert np.isfinite(got)
    assert abs(got - expected) <= tol * abs(expected)
    if penalty:  # the penalty terms are really included
        plain = reference.cost(Ws, bs, X, Y, hidden=hidden, output=output,
                               cost=cost)
        assert abs(got - plain) > 100 * tol * abs(expected)


def test_gradient_of_an_overflowing_cost_is_computed_not_refused():
    """A query reports what it finds, as cost() does: a float32 row whose
    output sums overflow makes the cost inf, and the gradient is still
    backprop's (finite here: a - y times the row, over 2), equal to the
    float64 reference, where the same sums do not overflow.  Before, it
    raised FloatingPointError saying "during training"."""
    net = creg.Network([3, 2], output="sigmoid", cost="cross_entropy",
                       dtype="float32", seed=3)
    net.weights[0][...] = np.abs(net.weights[0]) + 0.5  # all positive
    X = np.array([[3e38, 3e38, 3e38], [0.5, -0.25, 1.0]], np.float32)
    y = np.array([0, 1])
    assert not np.isfinite(net.cost(X, y))
    Ws, bs = params64(net)
    dWs_ref, dbs_ref = reference.backprop(
        Ws, bs, X.astype(np.float64), reference.one_hot(y, 2),
        hidden="relu", output="sigmoid", cost="cross_entropy")
    dWs, dbs = net.gradient(X, y)
    for l in range(len(Ws)):
        assert np.isfinite(dWs[l]).all() and np.isfinite(dbs[l]).all()
        assert_close(dWs[l], dWs_ref[l], 1e-5, f"dW[{l}]")
        assert_close(dbs[l], dbs_ref[l], 1e-5, f"db[{l}]")

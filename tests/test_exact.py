"""Acceptance sweep: creg's fit(shuffle=False) equals the float64 oracle.

Every cost/output pair x hidden activation x penalty x momentum x batch size
x dtype. The network has three weight layers and n = 23 rows, so a batch
size of 7 leaves a short last batch (23 = 3 * 7 + 2) and a batch of n is
full-batch gradient descent. Two epochs, so velocities carry across an
epoch boundary. Training starts from creg's own initial weights.

Each case also checks that it exercises what it names: the penalty changes
the reference result by far more than the float32 tolerance, L1 prox makes
exact zeros, the max-norm clamp fires, and momentum changes the result.
"""

import numpy as np
import pytest

import creg
import reference
from conftest import (COST_OUTPUT, HIDDEN, TOL, assert_params_close,
                      make_problem, params64, rel_err)

SIZES = [6, 5, 4, 3]
N = 23
EPOCHS = 2
BATCH_SIZES = [1, 7, N]
# Modest rates so float32 stays well inside its tolerance (momentum 0.9
# multiplies the effective step by ~10).
LR = {1: 0.02, 7: 0.1, N: 0.5}
MAX_NORM = 0.7  # below the typical initial row norm (~1 for N(0, 1/n_in))

PENALTIES = ["none", "l2_n", "l2_none", "l1_prox", "l1_subgradient",
             "elastic_net", "max_norm"]

# Sensitivity floor: a penalty (or momentum) must move the reference result
# by this much, far above the float32 tolerance, or the case proves nothing.
SENSITIVITY = 100 * TOL[np.dtype(np.float32)]


def n_steps(batch_size):
    return EPOCHS * -(-N // batch_size)


def penalty_kwargs(name, batch_size):
    """fit keyword arguments for a penalty, sized to the run's step count.

    A strength s acting for S steps of rate lr moves a weight by about
    lr * s' * S in total; `total(t)` is the strength s' for which that is t,
    so every batch size sees a penalty of the same overall size.
    """
    lr = LR[batch_size]

    def total(t):
        return t / (lr * n_steps(batch_size))

    kwargs = {
        "none": {},
        "l2_n": dict(l2=total(0.2) * N, penalty_scale="n"),
        "l2_none": dict(l2=total(0.2), penalty_scale="none"),
        "l1_prox": dict(l1=total(0.2) * N, l1_method="prox"),
        "l1_subgradient": dict(l1=total(0.2) * N, l1_method="subgradient"),
        "elastic_net": dict(l1=total(0.15) * N, l2=total(0.15) * N,
                            l1_method="prox"),
        "max_norm": dict(max_norm=MAX_NORM),
    }[name]
    # Keep the shrink factor 1 - lr * l2' well positive: the sweep does not
    # depend on behaviour past that edge.
    scale = 1.0 / N if kwargs.get("penalty_scale", "n") == "n" else 1.0
    assert lr * kwargs.get("l2", 0.0) * scale < 0.5
    return kwargs


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("cost,output", COST_OUTPUT)
def test_fit_matches_reference(cost, output, hidden, penalty, momentum,
                               batch_size, dtype, tol):
    net = creg.Network(SIZES, hidden=hidden, output=output, cost=cost,
                       dtype=dtype.name, seed=3)
    W0, b0 = params64(net)
    X, y, Y = make_problem(SIZES, N, output, seed=11, dtype=dtype)
    kw = penalty_kwargs(penalty, batch_size)
    common = dict(epochs=EPOCHS, batch_size=batch_size, lr=LR[batch_size],
                  momentum=momentum)

    net.fit(X, y, shuffle=False, **common, **kw)
    Ws, bs = reference.train(W0, b0, X, Y, hidden=hidden, output=output,
                             cost=cost, **common, **kw)

    assert net.dtype == dtype
    assert all(W.dtype == dtype for W in net.weights + net.biases)
    assert_params_close(net, Ws, bs, tol)

    # The case exercises what it names.
    ref = dict(hidden=hidden, output=output, cost=cost)
    if penalty != "none":
        Ws_plain, _ = reference.train(W0, b0, X, Y, **ref, **common)
        assert max(rel_err(a, b) for a, b in zip(Ws, Ws_plain)) > SENSITIVITY
    if momentum != 0.0:
        Ws_nomom, _ = reference.train(W0, b0, X, Y, **ref, **kw,
                                      **dict(common, momentum=0.0))
        assert max(rel_err(a, b) for a, b in zip(Ws, Ws_nomom)) > SENSITIVITY
    if penalty in ("l1_prox", "elastic_net"):
        assert sum(np.count_nonzero(W == 0.0) for W in Ws) > 0
        assert sum(np.count_nonzero(W == 0.0) for W in net.weights) > 0
    if penalty == "max_norm":
        Ws_free, _ = reference.train(W0, b0, X, Y, **ref, **common)
        assert max(np.linalg.norm(W, axis=1).max() for W in Ws_free) > MAX_NORM
        for W in net.weights:
            assert np.linalg.norm(np.asarray(W, np.float64), axis=1).max() \
                <= MAX_NORM * (1 + 10 * tol)

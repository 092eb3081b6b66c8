"""What the regularizers do, observed on whole fits.

- L1 prox makes exact zeros (== 0.0), more of them for larger l1;
  history.zero_fraction is the counted fraction of zero weights.
- max_norm=c holds after every step, and clamps exactly the rows the
  unclamped step would push above c (checked step by step against the
  reference update).
- Biases are never decayed, thresholded or clamped, even under huge
  penalties.
- The L1 subgradient uses sign(0) = 0.
"""

import numpy as np
import pytest

import creg
import reference
from conftest import (TOL, assert_close, assert_params_close, make_problem,
                      params64, rel_err)

SENSITIVITY = 10 * TOL[np.dtype(np.float32)]


def zero_fraction(net):
    weights = [np.asarray(W) for W in net.weights]
    return (sum(np.count_nonzero(W == 0.0) for W in weights)
            / sum(W.size for W in weights))


# ------------------------------------------------------------------ L1 prox

L1_SIZES = [8, 12, 4]
L1_N = 60
L1_FIT = dict(epochs=5, batch_size=10, lr=0.2, shuffle=False)
L1_STRENGTHS = [0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 64.0]


def l1_net(dtype):
    return creg.Network(L1_SIZES, hidden="tanh", output="sigmoid",
                        cost="cross_entropy", dtype=dtype.name, seed=2,
                        init="normalized")


def test_l1_prox_zero_fraction_grows_with_strength(dtype):
    X, y, _ = make_problem(L1_SIZES, L1_N, "sigmoid", seed=4, dtype=dtype)
    fractions = []
    for l1 in L1_STRENGTHS:
        net = l1_net(dtype)
        hist = net.fit(X, y, l1=l1, l1_method="prox", **L1_FIT)
        fractions.append(zero_fraction(net))
        assert hist.zero_fraction[-1] == fractions[-1]
    assert fractions[0] == 0.0          # no penalty, no zeros
    assert fractions[-1] > 0.9          # a huge penalty zeroes (nearly) all
    for weaker, stronger in zip(fractions, fractions[1:]):
        assert stronger >= weaker, fractions
        if weaker < 1.0 and stronger > 0.0:  # not at either end: grows
            assert stronger > weaker, fractions


def test_l1_exact_zeros_come_from_prox_not_subgradient(dtype):
    X, y, _ = make_problem(L1_SIZES, L1_N, "sigmoid", seed=4, dtype=dtype)
    prox, sub = l1_net(dtype), l1_net(dtype)
    prox.fit(X, y, l1=4.0, l1_method="prox", **L1_FIT)
    sub.fit(X, y, l1=4.0, l1_method="subgradient", **L1_FIT)
    n_prox = sum(np.count_nonzero(W == 0.0) for W in prox.weights)
    n_sub = sum(np.count_nonzero(W == 0.0) for W in sub.weights)
    assert n_prox >= 0.2 * sum(W.size for W in prox.weights)
    # The subgradient only oscillates around zero: exact zeros come from
    # the soft-threshold.
    assert n_sub < n_prox / 10


def test_history_zero_fraction_is_counted_every_epoch(dtype):
    X, y, _ = make_problem(L1_SIZES, L1_N, "sigmoid", seed=4, dtype=dtype)
    net = l1_net(dtype)
    counted = []
    for _ in range(4):  # one epoch per call: the count after each epoch
        hist = net.fit(X, y, l1=4.0, l1_method="prox",
                       **dict(L1_FIT, epochs=1))
        assert len(hist.zero_fraction) == 1
        assert hist.zero_fraction[0] == zero_fraction(net)
        counted.append(zero_fraction(net))
    assert counted[-1] > 0.0
    # A multi-epoch fit records one entry per epoch; the last is the count.
    net = l1_net(dtype)
    hist = net.fit(X, y, l1=4.0, l1_method="prox", **dict(L1_FIT, epochs=4))
    assert len(hist.zero_fraction) == 4
    assert hist.zero_fraction[-1] == zero_fraction(net)
    assert hist.zero_fraction == counted


# ----------------------------------------------------------------- max-norm

MN_SIZES = [6, 8, 5, 3]
MN_N = 30
MN_STEPS = 12
MN_SLACK = 1e-6  # relative; holds in float32 too for these short rows


@pytest.mark.parametrize("c", [0.6, 1.5])
def test_max_norm_holds_after_every_step(dtype, tol, c):
    """Single full-batch steps; after each, every row norm <= c, and the step
    equals the reference step (rows above c scaled to c, others untouched)."""
    net = creg.Network(MN_SIZES, hidden="relu", output="softmax",
                       cost="log_likelihood", dtype=dtype.name, seed=5,
                       init="normalized")
    X, y, Y = make_problem(MN_SIZES, MN_N, "softmax", seed=6, dtype=dtype)
    lr = 2.0
    clamped = untouched = 0
    for _ in range(MN_STEPS):
        Ws, bs = params64(net)
        dWs, dbs = reference.backprop(Ws, bs, X, Y, hidden="relu",
                                      output="softmax", cost="log_likelihood")
        net.fit(X, y, epochs=1, batch_size=len(X), shuffle=False, lr=lr,
                max_norm=c)
        for l, (W, b, dW, db) in enumerate(zip(Ws, bs, dWs, dbs)):
            free = W - lr * dW                 # the step without the clamp
            expected, _, _, _ = reference.step(
                W, b, 0 * W, 0 * b, dW, db, lr=lr, l2p=0.0, l1p=0.0,
                l1_method="prox", max_norm=c, momentum=0.0)
            got = np.asarray(net.weights[l], dtype=np.float64)
            norms = np.linalg.norm(got, axis=1)
            assert norms.max() <= c * (1 + MN_SLACK), (l, norms)
            assert_close(got, expected, tol, f"weights[{l}]")
            over = np.linalg.norm(free, axis=1) > c
            clamped += int(over.sum())
            untouched += int((~over).sum())
            # Rows the free step pushed above c end exactly on the sphere.
            if over.any():
                assert_close(norms[over], np.full(over.sum(), c), tol)
    assert clamped > 0 and untouched > 0, (clamped, untouched)


# ------------------------------------------------------------------- biases

HUGE = {
    "l2": dict(l2=0.9 / 0.5, penalty_scale="none"),      # lr * l2' = 0.9
    "l1": dict(l1=50.0, l1_method="prox"),                # zeroes every weight
    "max_norm": dict(max_norm=1e-3),
    "all": dict(l2=0.9 / 0.5, l1=0.05, penalty_scale="none", max_norm=1e-3),
}
B_SIZES = [5, 6, 4, 3]
B_N = 20


@pytest.mark.parametrize("penalty", list(HUGE))
def test_biases_take_plain_step_under_huge_penalties(dtype, tol, penalty):
    """One full-batch step: b <- b - lr * mean(delta), whatever the penalty."""
    lr = 0.5
    net = creg.Network(B_SIZES, hidden="tanh", output="sigmoid",
                       cost="cross_entropy", dtype=dtype.name, seed=8,
                       init="normalized")
    X, y, Y = make_problem(B_SIZES, B_N, "sigmoid", seed=9, dtype=dtype)
    Ws, bs = params64(net)
    _, dbs = reference.backprop(Ws, bs, X, Y, hidden="tanh", output="sigmoid",
                                cost="cross_entropy")
    net.fit(X, y, epochs=1, batch_size=B_N, shuffle=False, lr=lr,
            **HUGE[penalty])
    kw = HUGE[penalty]
    l2p, l1p = reference.penalty_strengths(kw.get("l2", 0.0), kw.get("l1", 0.0),
                                           B_N, kw.get("penalty_scale", "n"))
    for l, (b, db) in enumerate(zip(bs, dbs)):
        expected = b - lr * db
        assert_close(net.biases[l], expected, tol, f"biases[{l}]")
        # A bias updated like a weight (each its own one-element row) would
        # have landed far away: decayed, thresholded or clamped.
        as_weight, _, _, _ = reference.step(
            b[:, None], b, 0 * b[:, None], 0 * b, db[:, None], db, lr=lr,
            l2p=l2p, l1p=l1p, l1_method=kw.get("l1_method", "prox"),
            max_norm=kw.get("max_norm"), momentum=0.0)
        assert rel_err(as_weight.ravel(), expected) > SENSITIVITY


@pytest.mark.parametrize("penalty", list(HUGE))
def test_biases_follow_reference_with_momentum_under_huge_penalties(
        dtype, tol, penalty):
    """Several epochs with momentum and a short last batch: biases (and
    weights) equal the reference, whose biases are never penalised."""
    fit = dict(epochs=3, batch_size=7, lr=0.5, momentum=0.9)
    net = creg.Network(B_SIZES, hidden="tanh", output="sigmoid",
                       cost="cross_entropy", dtype=dtype.name, seed=8,
                       init="normalized")
    X, y, Y = make_problem(B_SIZES, B_N, "sigmoid", seed=9, dtype=dtype)
    W0, b0 = params64(net)
    net.fit(X, y, shuffle=False, **fit, **HUGE[penalty])
    Ws, bs = reference.train(W0, b0, X, Y, hidden="tanh", output="sigmoid",
                             cost="cross_entropy", **fit, **HUGE[penalty])
    for l in range(len(bs)):
        assert_close(net.biases[l], bs[l], tol, f"biases[{l}]")
        if np.any(Ws[l] != 0.0):
            assert_close(net.weights[l], Ws[l], tol, f"weights[{l}]")
        else:  # the penalty zeroed the whole layer, in creg too
            assert np.all(np.asarray(net.weights[l]) == 0.0)
        # The biases really moved, and stayed far from what decay or the
        # clamp would allow.
        assert rel_err(bs[l], b0[l]) > SENSITIVITY
        assert np.abs(net.biases[l]).max() > 0.1


# ------------------------------------------------------ subgradient sign(0)

def test_subgradient_sign_of_zero_is_zero(dtype, tol):
    """Weights set to exactly 0 get no L1 push in the subgradient method."""
    lr, l1 = 0.5, 0.2
    net = creg.Network(B_SIZES, hidden="tanh", output="sigmoid",
                       cost="cross_entropy", dtype=dtype.name, seed=8,
                       init="normalized")
    X, y, Y = make_problem(B_SIZES, B_N, "sigmoid", seed=9, dtype=dtype)
    for W in net.weights:
        W[:, ::2] = 0.0  # training starts from weights the user set
    Ws, bs = params64(net)
    net.fit(X, y, epochs=1, batch_size=B_N, shuffle=False, lr=lr, l1=l1,
            l1_method="subgradient", penalty_scale="none")
    W1, b1 = reference.train(Ws, bs, X, Y, hidden="tanh", output="sigmoid",
                             cost="cross_entropy", epochs=1, batch_size=B_N,
                             lr=lr, l1=l1, l1_method="subgradient",
                             penalty_scale="none")
    assert_params_close(net, W1, b1, tol)
    # sign(0) = +1 would move every zeroed weight by lr * l1 = 0.1.
    for W, W_ref in zip(net.weights, W1):
        wrong = W_ref.copy()
        wrong[:, ::2] -= lr * l1
        assert rel_err(wrong, W_ref) > SENSITIVITY

"""Acceptance sweep: creg's fit(shuffle=False) equals the float64 oracle.

Every cost/output pair x hidden activation x penalty x momentum x batch size
x dtype. The network has three weight layers and n = 23 rows, so a batch
size of 7 leaves a short last batch (23 = 3 * 7 + 2) and a batch of n is
full-batch gradient descent. Two epochs, so velocities carry across an
epoch boundary. Training starts from creg's own initial weights.

Each case also checks that it exercises what it names: the penalty changes
the reference result by far more than the float32 tolerance, L1 prox makes
exact zeros, the max-norm clamp fires, and momentum changes the result.

Conditioning. Two pieces of the rule are discontinuous: sign(w) in the L1
subgradient and relu'(z) at z = 0. If the oracle's trajectory passes within
float32 rounding of either, a correct float32 run may take the other branch
and end far away (a sign flip moves a weight by 2 lr l1'). Each case
therefore asserts that the oracle stayed at least CONDITION_MARGIN away from
those points, so a failure is always either a creg bug or a badly posed case,
never a silent pass. The fixed seeds below give well-posed cases.
"""

import numpy as np
import pytest

import creg
import reference
from creg import _core
from conftest import (COST_OUTPUT, HIDDEN, TOL, assert_params_close,
                      make_problem, params64, rel_err)

SIZES = [6, 5, 4, 3]
N = 23
EPOCHS = 2
BATCH_SIZES = [1, 7, N]
MOMENTA = [0.0, 0.9]
NET_SEED, DATA_SEED = 9, 3
# Modest rates so float32 stays well inside its tolerance.
LR = {1: 0.02, 7: 0.1, N: 0.5}
MAX_NORM = 0.7  # below the typical initial row norm (~1 for N(0, 1/n_in))

PENALTIES = ["none", "l2_n", "l2_none", "l1_prox", "l1_subgradient",
             "elastic_net", "max_norm"]

# A penalty (or momentum) must move the reference result by this much, well
# above the float32 tolerance, or the case proves nothing.
SENSITIVITY = 10 * TOL[np.dtype(np.float32)]
# Closest the oracle may come to sign(0) / relu'(0) (see the docstring):
# about 10x the absolute float32 error of these runs, or 1e4 ulp in float64.
CONDITION_MARGIN = {np.dtype(np.float32): 1e-6, np.dtype(np.float64): 1e-12}


def n_steps(batch_size):
    return EPOCHS * -(-N // batch_size)


def penalty_kwargs(name, batch_size, momentum):
    """fit keyword arguments for a penalty, sized to the run.

    A strength s' acting for S steps of rate lr moves a weight by about
    lr s' S in total, times 1 / (1 - momentum) when it acts through the
    velocity (L2, L1 subgradient) but not for the prox threshold. `total(t)`
    is the strength for which that is t, so every batch size and momentum
    sees a penalty of about the same overall size (and lr l2' stays far
    below 1).
    """
    lr = LR[batch_size]

    def total(t, via_velocity=True):
        damp = (1 - momentum) if via_velocity else 1.0
        return t * damp / (lr * n_steps(batch_size))

    return {
        "none": {},
        "l2_n": dict(l2=total(0.2) * N, penalty_scale="n"),
        "l2_none": dict(l2=total(0.2), penalty_scale="none"),
        "l1_prox": dict(l1=total(0.2, False) * N, l1_method="prox"),
        "l1_subgradient": dict(l1=total(0.2) * N, l1_method="subgradient"),
        "elastic_net": dict(l1=total(0.15, False) * N, l2=total(0.15) * N,
                            l1_method="prox"),
        "max_norm": dict(max_norm=MAX_NORM),
    }[name]


def closest_approach(hidden, l1_method):
    """An on_step callback and the smallest |w| (subgradient) and |z| (relu
    hidden pre-activation) the oracle evaluated a discontinuity at."""
    closest = [np.inf]

    def on_step(Ws, bs, Xb):
        if l1_method == "subgradient":
            closest[0] = min(closest[0], min(np.abs(W).min() for W in Ws))
        if hidden == "relu":
            Zs, _ = reference.forward(Ws, bs, Xb, hidden, "linear")
            closest[0] = min(closest[0], min(np.abs(Z).min() for Z in Zs[:-1]))

    return on_step, closest


def max_rel_change(Ws, Ws_other):
    return max(rel_err(a, b) for a, b in zip(Ws, Ws_other))


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
@pytest.mark.parametrize("momentum", MOMENTA)
@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("cost,output", COST_OUTPUT)
def test_fit_matches_reference(cost, output, hidden, penalty, momentum,
                               batch_size, dtype, tol):
    net = creg.Network(SIZES, hidden=hidden, output=output, cost=cost,
                       dtype=dtype.name, seed=NET_SEED, init="normalized")
    W0, b0 = params64(net)
    X, y, Y = make_problem(SIZES, N, output, seed=DATA_SEED, dtype=dtype)
    kw = penalty_kwargs(penalty, batch_size, momentum)
    common = dict(epochs=EPOCHS, batch_size=batch_size, lr=LR[batch_size],
                  momentum=momentum)
    ref = dict(hidden=hidden, output=output, cost=cost)

    net.fit(X, y, shuffle=False, **common, **kw)
    on_step, closest = closest_approach(hidden, kw.get("l1_method"))
    Ws, bs = reference.train(W0, b0, X, Y, **ref, **common, **kw,
                             on_step=on_step)

    assert closest[0] > CONDITION_MARGIN[dtype], (
        f"ill-posed case: the oracle came within {closest[0]:.1e} of a "
        "discontinuity of sign() or relu'(); change NET_SEED/DATA_SEED")
    assert net.dtype == dtype
    assert all(W.dtype == dtype for W in net.weights + net.biases)
    assert_params_close(net, Ws, bs, tol)

    # The case exercises what it names.
    if penalty != "none":
        Ws_plain, _ = reference.train(W0, b0, X, Y, **ref, **common)
        assert max_rel_change(Ws, Ws_plain) > SENSITIVITY
    if momentum != 0.0:
        Ws_nomom, _ = reference.train(W0, b0, X, Y, **ref, **kw,
                                      **dict(common, momentum=0.0))
        assert max_rel_change(Ws, Ws_nomom) > SENSITIVITY
    if penalty in ("l1_prox", "elastic_net"):
        assert sum(np.count_nonzero(W == 0.0) for W in Ws) > 0
        assert sum(np.count_nonzero(W == 0.0) for W in net.weights) > 0
    if penalty == "max_norm":
        Ws_free, _ = reference.train(W0, b0, X, Y, **ref, **common)
        assert max(np.linalg.norm(W, axis=1).max() for W in Ws_free) > MAX_NORM
        for W in net.weights:
            norms = np.linalg.norm(np.asarray(W, np.float64), axis=1)
            assert norms.max() <= MAX_NORM * (1 + 10 * tol)


def _unit_that_passes_its_input():
    """A float32 [1, 1] sigmoid network whose pre-activation z is its input."""
    net = creg.Network([1, 1], output="sigmoid", dtype="float32", seed=0,
                       hidden="sigmoid", init="normalized")
    net.params[:] = 0
    net.weights[0][...] = 1
    return net


def _float32_ulps(a, exact):
    """Distance in float32 units in the last place, element by element."""
    return np.abs(np.asarray(a, np.float32).view(np.int32).astype(np.int64)
                  - exact.view(np.int32).astype(np.int64))


def test_float32_sigmoid_is_within_two_ulp_over_its_range(level):
    # float32 sigmoid runs a vector of units at a time with its own exp (not
    # libm's expf, one call per unit): against the correctly rounded value,
    # from saturation at 1 down through the subnormal outputs to 0, at
    # every kernel level (4 lanes at the baseline, 8 with FMA under AVX2,
    # 16 at level 4).
    z = np.concatenate([np.linspace(-110, 110, 40001),
                        [0.0, -0.0, 1e-8, -1e-8, -87.3, -88.5, -103.2, -150,
                         3e38, -3e38]]).astype(np.float32)
    net = _unit_that_passes_its_input()
    a = np.asarray(net.predict_proba(z[:, None])).ravel()
    z64 = z.astype(np.float64)
    e = np.exp(-np.abs(z64))
    exact = np.where(z64 >= 0, 1 / (1 + e), e / (1 + e)).astype(np.float32)
    assert _float32_ulps(a, exact).max() <= 2
    assert np.count_nonzero((exact > 0) & (exact < np.finfo(np.float32).tiny)) > 0
    assert a[-2] == 1 and a[-1] == 0


def test_float32_cross_entropy_term_is_within_two_ulp_over_its_range(level):
    # The cross-entropy cost's log1p(e^-|z|) comes a vector at a time from
    # creg's own exp and log in float32.  With the target y = [z >= 0] the
    # rest of a sample's cost, max(z, 0) - y z, is exactly 0, so the cost of
    # one sample is that term alone: against the correctly rounded value,
    # from ln 2 at z = 0 through the subnormal range to 0.
    z = np.concatenate([np.linspace(-110, 110, 2201),
                        [0.0, -0.0, 1e-8, -1e-8, 1e-30, 0.3465736,
                         -87.3, -88.5, -103.2, -150, 3e38, -3e38]]
                       ).astype(np.float32)
    net = _unit_that_passes_its_input()
    y = (z >= 0).astype(np.float64)
    terms = np.array([net.cost(z[i:i + 1, None], y[i:i + 1, None])
                      for i in range(len(z))], np.float32)
    z64 = z.astype(np.float64)
    exact = np.log1p(np.exp(-np.abs(z64))).astype(np.float32)
    ulps = _float32_ulps(terms, exact)
    assert ulps.max() <= 2, z[np.argmax(ulps)]
    assert np.count_nonzero((exact > 0) & (exact < np.finfo(np.float32).tiny)) > 0
    assert terms[-2] == 0 and terms[-1] == 0


AVX512 = 4


@pytest.mark.skipif(_core.best_kernel_level() < AVX512,
                    reason="the CPU has no AVX-512")
def test_float32_maps_give_the_same_bits_at_every_vector_width():
    # sigmoid and log1p(e^-|z|) run the same operations lane by lane, so
    # the 16-lane build of level 4 must give the 8-lane AVX2 bits (and a
    # ragged tail the same bits as a whole vector).
    z = np.concatenate([np.linspace(-110, 110, 40003),
                        [0.0, -0.0, 1e-30, -87.3, -103.2, 3e38, -3e38]]
                       ).astype(np.float32)
    y = (np.arange(len(z)) % 2).astype(np.float64)
    net = _unit_that_passes_its_input()
    results = []
    before = _core.kernel_level()
    try:
        for level in (2, AVX512):
            assert _core.set_kernel_level(level) == level
            outputs = net.predict_proba(z[:, None])
            terms = [net.cost(z[i:i + 7, None], y[i:i + 7, None])
                     for i in range(0, 2000, 7)]
            results.append((outputs, np.array(terms)))
    finally:
        _core.set_kernel_level(before)
    assert np.array_equal(results[0][0], results[1][0])
    assert np.array_equal(results[0][1], results[1][1])

"""fit's training metrics (issue 17): by default the running means over the
epoch's mini-batches as they were trained, summed in C at no extra pass;
with train_metrics="exact" network2's pass over the training set after the
epoch.  Also: any cut of an epoch into C calls sums to the same bits, the
sums do not depend on the thread count, and NaN/inf in X, no longer scanned
before training, is found by the first epoch.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import creg
import reference
from conftest import (COST_OUTPUT, dropout_masks, input_noise_draws,
                      make_problem, params64, shuffle_order, tol_for)
from creg import _core
from creg._descriptors import Noise, StepRule

SIZES = [6, 5, 4, 3]


@pytest.mark.parametrize("cost, output", COST_OUTPUT)
@pytest.mark.parametrize("dropout, input_noise", [(0.0, 0.0), (0.3, 0.2)])
def test_running_metrics_equal_the_reference_running_mean(dtype, cost,
                                                           output, dropout,
                                                           input_noise):
    # 3 epochs of 4 shuffled batches, the last 2 rows short, with momentum,
    # L2, L1 prox, max-norm: each epoch's running cost and accuracy against
    # the reference fed creg's order, masks and noise
    net = creg.Network(SIZES, hidden="tanh", output=output, cost=cost,
                       dtype=dtype.name, seed=11, init="normalized")
    X, y, Y = make_problem(SIZES, 30, output, seed=12, dtype=dtype)
    rule = dict(lr=0.1, l2=0.5, l1=0.2, momentum=0.5, max_norm=1.5)
    Ws, bs = params64(net)
    hist = net.fit(X, y, epochs=3, batch_size=8, dropout=dropout,
                   input_noise=input_noise, **rule)
    Ws, bs, costs, accuracies = reference.train_running(
        Ws, bs, X, Y, hidden="tanh", output=output, cost=cost, epochs=3,
        batch_size=8, order=shuffle_order(net, len(X)),
        masks=dropout_masks(net, dropout) if dropout else None,
        noise=input_noise_draws(net, input_noise) if input_noise else None, **rule)
    assert hist.train_metrics == "running"
    tol = tol_for(dtype)
    np.testing.assert_allclose(hist.train_cost, costs, rtol=tol)
    if output == "linear":
        assert np.isnan(hist.train_accuracy).all()
    else:
        assert hist.train_accuracy == accuracies
    # the sums were taken as trained: they differ from the exact pass
    exact = net.cost(X, y, l2=0.5, l1=0.2)
    assert hist.train_cost[-1] != pytest.approx(exact, rel=100 * tol)
    assert net.weights[0] == pytest.approx(Ws[0], rel=10 * tol, abs=tol)


@pytest.mark.parametrize("cost, output", COST_OUTPUT)
@pytest.mark.parametrize("penalty_scale", ["n", "none"])
def test_exact_metrics_equal_cost_and_accuracy_after_each_epoch(
        dtype, cost, output, penalty_scale):
    net = creg.Network(SIZES, hidden="relu", output=output, cost=cost,
                       dtype=dtype.name, seed=3, init="normalized")
    X, y, _ = make_problem(SIZES, 25, output, seed=4, dtype=dtype)
    strengths = dict(l2=0.4, l1=0.1, penalty_scale=penalty_scale)
    for epoch in range(2):
        hist = net.fit(X, y, epochs=1, batch_size=7, lr=0.05, dropout=0.2,
                       input_noise=0.1, train_metrics="exact", **strengths)
        assert hist.train_metrics == "exact"
        assert hist.train_cost == [net.cost(X, y, **strengths)]
        if output != "linear":
            assert hist.train_accuracy == [net.accuracy(X, y)]


def test_train_metrics_is_checked():
    X, y, _ = make_problem(SIZES, 10, "sigmoid")
    net = creg.Network(SIZES, **creg.NIELSEN)
    with pytest.raises(ValueError, match="train_metrics must be one of "
                                         "'running', 'exact'; got 'full'"):
        net.fit(X, y, train_metrics="full", lr=0.5)
    with pytest.raises(TypeError, match="train_metrics"):
        net.fit(X, y, train_metrics=True, lr=0.5)


WIDE = [40, 300, 200, 10]


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
def test_running_metrics_do_not_depend_on_threads(dtype_name):
    # layers wide enough, at batch 128, that a team of threads starts
    X, y, _ = make_problem(WIDE, 700, "softmax", seed=5)
    runs = []
    for n_threads in (1, 2, 3):
        net = creg.Network(WIDE, hidden="relu", output="softmax",
                           cost="log_likelihood", dtype=dtype_name, seed=6,
                           init="normalized")
        hist = net.fit(X, y, epochs=2, batch_size=128, lr=0.05, dropout=0.3,
                       input_noise=0.1, l2=0.1, n_threads=n_threads)
        runs.append((hist.train_cost, hist.train_accuracy, net.params))
    for cost, accuracy, params in runs[1:]:
        assert cost == runs[0][0] and accuracy == runs[0][1]
        assert np.array_equal(params, runs[0][2])


def _sums_of_cut(level_net, X, Y, order, cuts, batch_size, noise):
    net = level_net()
    ws = net._workspace(batch_size)
    rule = StepRule(lr=0.2, momentum=0.9, l2=1e-3)
    grads, velocity = net._train_scratch(batch_size, rule), \
        np.zeros_like(net.params)
    sums, first = _core.PassSums(), 0
    for count in cuts:
        _core.train_batches(net.params, velocity, grads, ws, X, Y, order,
                            batch_size=batch_size, first_batch=first,
                            n_batches=count, net=net._spec, rule=rule,
                            noise=noise, n_threads=1, sums=sums)
        first += count
    return sums.cost, sums.correct, net.params


@settings(max_examples=25, deadline=None)
@given(batch_size=st.sampled_from([1, 3, 10, 17]),
       cut_points=st.lists(st.floats(0, 1), max_size=5),
       shuffled=st.booleans(), input_noise=st.sampled_from([0.0, 0.3]),
       dtype_name=st.sampled_from(["float32", "float64"]))
def test_any_cut_of_an_epoch_sums_to_the_same_bits(batch_size, cut_points,
                                                  shuffled, input_noise,
                                                  dtype_name):
    # fit cuts an epoch into calls by elapsed time (and for its progress
    # line); the small-batch look-ahead runs across the cuts differently
    n = 61
    n_batches = -(-n // batch_size)
    X, _, Y = make_problem(SIZES, n, "sigmoid", seed=7, dtype=dtype_name)
    Y = Y.astype(dtype_name)
    order = None
    if shuffled:
        order = np.empty(n, np.int64)
        _core.shuffle(order, 2, 0)
    bounds = sorted({0, n_batches,
                     *(int(p * n_batches) for p in cut_points)})
    cuts = [b - a for a, b in zip(bounds, bounds[1:])]
    noise = Noise(dropout=0.25, input_noise=input_noise, seed=1)

    def make():
        return creg.Network(SIZES, dtype=dtype_name, seed=8, **creg.NIELSEN)
    whole = _sums_of_cut(make, X, Y, order, [n_batches], batch_size, noise)
    cut = _sums_of_cut(make, X, Y, order, cuts, batch_size, noise)
    assert cut[0] == whole[0] and cut[1] == whole[1]
    assert np.array_equal(cut[2], whole[2])
    assert whole[0] > 0 and 0 <= whole[1] <= n


def test_running_metrics_at_every_kernel_level_match(level):
    # the look-ahead of the vector levels computes the next batch's first
    # layer inside the step; the sums must be those of the batch's forward
    X, y, Y = make_problem([37, 21, 3], 53, "softmax", seed=9,
                           dtype=np.float32)
    net = creg.Network([37, 21, 3], output="softmax", cost="log_likelihood",
                       seed=10, hidden="sigmoid", init="normalized")
    Ws, bs = params64(net)
    hist = net.fit(X, y, epochs=2, batch_size=5, lr=0.3, l2=0.5)
    _, _, costs, accuracies = reference.train_running(
        Ws, bs, X, Y, hidden="sigmoid", output="softmax",
        cost="log_likelihood", epochs=2, batch_size=5, lr=0.3, l2=0.5,
        order=shuffle_order(net, len(X)))
    np.testing.assert_allclose(hist.train_cost, costs, rtol=1e-4)
    assert hist.train_accuracy == accuracies


@settings(max_examples=30, deadline=None)
@given(row=st.integers(0, 39), column=st.integers(0, 5),
       value=st.sampled_from([np.nan, np.inf, -np.inf]),
       batch_size=st.sampled_from([1, 4, 10, 40]), shuffle=st.booleans(),
       hidden=st.sampled_from(["sigmoid", "tanh", "relu"]),
       dtype_name=st.sampled_from(["float32", "float64"]),
       dropout=st.sampled_from([0.0, 0.5]), l1=st.sampled_from([0.0, 5.0]))
def test_nan_or_inf_anywhere_in_X_is_refused_by_the_first_epoch(
        row, column, value, batch_size, shuffle, hidden, dtype_name,
        dropout, l1):
    # fit does not scan X before training: the first epoch finds the value
    # (layer 0's pre-activation of its row is non-finite), puts the weights
    # back and raises the error predict would raise
    X, y, _ = make_problem(SIZES, 40, "sigmoid", seed=13)
    X[row, column] = value
    net = creg.Network(SIZES, hidden=hidden, dtype=dtype_name, seed=14,
                       output="sigmoid", init="normalized")
    net.fit(X[:row] if row else X[1:2], y[:row] if row else y[1:2],
            epochs=1, batch_size=1, lr=0.5)  # trained before, on finite rows
    before, epochs = net.params.copy(), net.epochs_trained
    message = "Input X contains NaN." if np.isnan(value) else \
        "Input X contains infinity or a value too large"
    with pytest.raises(ValueError, match=message) as info:
        net.fit(X, y, epochs=3, batch_size=batch_size, shuffle=shuffle,
                dropout=dropout, momentum=0.5, l1=l1, lr=0.5)
    assert info.value.__context__ is None
    assert np.array_equal(net.params, before)
    assert net.epochs_trained == epochs
    with pytest.raises(ValueError, match=message):
        net.predict(X)


def test_an_overflowing_first_layer_is_divergence_not_bad_input():
    X, y, _ = make_problem(SIZES, 40, "sigmoid", seed=15)
    net = creg.Network(SIZES, dtype="float32", seed=16, **creg.NIELSEN)
    net.weights[0][...] = 3e37
    with pytest.raises(creg.DivergenceError, match="diverged in epoch 1"):
        net.fit(X * 100, y, epochs=1, lr=0.5)

"""The zeros of a batch are skipped, keeping the sums.

The packed GEMM lists, for each micro-panel of A (MR rows, one slice of
K), the k whose values are not all zero and multiplies only those; from
CREG_STEP_PACK_BATCH rows the fused step skips the batch rows whose deltas
are zero for every neuron of a panel (the zeros of ReLU and dropout); at
smaller batches the first layer in columns skips the inputs that are zero
in every row of the batch (its step) or of a group of rows (its forward):
MNIST's blank pixels.  All must give what the whole product gives: against
the float64 oracle, bit for bit against the same kernels on the operands
with the zero columns taken out, and the same for any thread count.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import creg
import reference
from conftest import (KERNEL_LEVELS, assert_params_close, dropout_masks,
                      make_problem, params64, shuffle_order, tol_for)
from creg import _core
from test_gemm import check_against_numpy


def zeros_by_row_groups(rng, A, group, fraction):
    """A with, in each run of `group` rows from row 0, a random `fraction`
    of the columns zeroed in every row of the run (the micro-panels of MR
    rows then meet all-zero k wherever the runs cover them)."""
    A = A.copy()
    for start in range(0, A.shape[0], group):
        A[start:start + group, rng.random(A.shape[1]) < fraction] = 0
    return A


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(M=st.integers(16, 150), N=st.integers(16, 120),
       K=st.integers(8, 700), group=st.sampled_from([1, 6, 12, 1000]),
       fraction=st.sampled_from([0.0, 0.3, 0.8, 1.0]),
       layout=st.sampled_from(["nn", "tn", "nt"]),
       dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**31))
def test_gemm_with_zero_columns_in_a_matches_numpy(level, M, N, K, group,
                                                   fraction, layout, dtype,
                                                   seed):
    # M, N >= 16 and K >= 8: the packed path, where the lists are made
    rng = np.random.default_rng(seed)
    A = zeros_by_row_groups(rng, rng.standard_normal((M, K)), group,
                            fraction).astype(dtype)
    B = rng.standard_normal((K, N)).astype(dtype)
    if layout[0] == "t":
        A = np.ascontiguousarray(A.T).T
    if layout[1] == "t":
        B = np.ascontiguousarray(B.T).T
    results = []
    for n_threads in (1, 2, 3):
        C = np.empty((M, N), dtype)
        check_against_numpy(A, B, C, 0.0, n_threads)
        results.append(C)
    assert all(np.array_equal(results[0], r) for r in results[1:])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("K", [8, 100, 256])
def test_skipped_columns_keep_the_bits_of_the_whole_product(level, dtype,
                                                            K):
    # K <= 256 is one slice of K at every level, so the product without
    # the zero columns sums the same kept terms in the same order; columns
    # zero in every row are skipped by every micro-panel, and two of them
    # side by side, first and last exercise the list's ends
    rng = np.random.default_rng(K)
    A = rng.standard_normal((70, K)).astype(dtype)
    B = rng.standard_normal((K, 40)).astype(dtype)
    zero = rng.random(K) < 0.4
    zero[[0, 1, K - 1]] = True
    A[:, zero] = 0
    for n_threads in (1, 2):
        whole = np.empty((70, 40), dtype)
        kept = np.empty((70, 40), dtype)
        _core.gemm(whole, A, B, dtype(1), dtype(0), n_threads)
        _core.gemm(kept, np.ascontiguousarray(A[:, ~zero]),
                   np.ascontiguousarray(B[~zero]), dtype(1), dtype(0),
                   n_threads)
        assert np.array_equal(whole, kept)


def test_a_micro_panel_with_every_k_zero_gives_zeros(level):
    # every k skipped: the tile is stored from its zero accumulators, and
    # beta still scales C
    A = np.zeros((30, 50), np.float32)
    A[24:] = 1  # the last rows' micro-panel is dense (MR = 6 at level 2)
    B = np.ones((50, 20), np.float32)
    C = np.full((30, 20), 2, np.float32)
    _core.gemm(C, A, B, np.float32(1), np.float32(0.5), 1)
    assert np.array_equal(C[:24], np.full((24, 20), 1, np.float32))
    assert np.array_equal(C[24:], np.full((6, 20), 51, np.float32))


def dead_unit_network(dtype, seed):
    """A ReLU network whose hidden layers are wide enough for the packed
    forward (> 128 units), with the first units of each dead: a bias of
    -50 keeps their input sum below zero for inputs in [0, 1], so their
    activations and deltas are zero for every row and step."""
    net = creg.Network([30, 140, 132, 4], hidden="relu", output="softmax",
                       cost="log_likelihood", dtype=dtype.name, seed=seed,
                       init="normalized")
    net.biases[0][:40] = -50  # views into the parameters
    net.biases[1][:30] = -50
    return net


def test_dead_units_really_are_dead():
    # the premise of the training test: whole columns of A and whole
    # panels of the step's deltas are zero, and they stay so
    net = dead_unit_network(np.dtype(np.float64), 1)
    X, _, _ = make_problem([30, 140, 132, 4], 96, "softmax", seed=2)
    Ws, bs = params64(net)
    activations = reference.forward(Ws, bs, X, "relu", "softmax")[1]
    assert np.all(activations[1][:, :40] == 0)
    assert np.all(activations[2][:, :30] == 0)
    assert np.all(activations[1][:, 40:].any(axis=0))


@pytest.mark.parametrize("batch_size", [16, 32, 96])
def test_relu_dropout_training_with_dead_units_equals_the_oracle(
        level, dtype, batch_size):
    # dropout 0.5 on top of the dead units: many batch rows of a panel's
    # deltas are zero (skipped by the step from 16 rows), whole columns of
    # the second layer's input and of its deltas too (skipped by the
    # packed forward and input gradient); momentum, both penalties and
    # the clamp act on the skipped weights as on the others
    net = dead_unit_network(dtype, 3)
    X, y, Y = make_problem([30, 140, 132, 4], 96, "softmax", seed=4,
                           dtype=dtype)
    rule = dict(lr=0.05, momentum=0.9, l2=0.01, l1=0.01, max_norm=1.0)
    Ws, bs = params64(net)
    net.fit(X, y, epochs=2, batch_size=batch_size, dropout=0.5,
            n_threads=2, **rule)
    Ws, bs, _, _ = reference.train_running(
        Ws, bs, X, Y, hidden="relu", output="softmax",
        cost="log_likelihood", epochs=2, batch_size=batch_size,
        order=shuffle_order(net, len(X)), masks=dropout_masks(net, 0.5),
        **rule)
    assert_params_close(net, Ws, bs, tol_for(dtype))
    assert np.all(net.biases[0][:40] == -50)  # dead: no gradient reached


# the levels whose first layer runs in columns at batches of 2-15 rows
COLUMN_LEVELS = [v for v in KERNEL_LEVELS
                 if _core.kernel_name(v) in ("avx2+fma", "avx512vl", "avx512")]
SPARSE_RULES = {
    "l2": dict(l2=0.3),
    "momentum_prox": dict(momentum=0.9, l2=0.1, l1=0.02, l1_method="prox"),
    "subgradient": dict(l1=0.02, l1_method="subgradient"),
}


def sparse_inputs(rng, n, inputs, dtype):
    """MNIST-like rows: dead columns (the first two, the last, and a
    random fifth of the rest), most of each sparse row's values zero (some
    of them -0.0), and dense rows among them, so that some batches' first
    row has no zero."""
    X = rng.random((n, inputs)).astype(dtype) + dtype.type(0.1)
    sparse = rng.random(n) < 0.7
    X[sparse[:, None] & (rng.random((n, inputs)) < 0.8)] = 0
    X[(X == 0) & (rng.random((n, inputs)) < 0.3)] = -0.0
    dead = rng.random(inputs) < 0.2
    dead[[0, 1, inputs - 1]] = True
    X[:, dead] = 0
    return X, dead


# conftest's `level` fixture, at these levels only
at_column_levels = pytest.mark.parametrize(
    "level", COLUMN_LEVELS, indirect=True,
    ids=[_core.kernel_name(v) for v in COLUMN_LEVELS])


@pytest.mark.filterwarnings("ignore::creg.TrainingWarning")  # random labels
@at_column_levels
@pytest.mark.parametrize("rule", sorted(SPARSE_RULES))
@pytest.mark.parametrize("batch_size", [2, 7, 10, 13])
@pytest.mark.parametrize("inputs", [37, 150, 4100])
def test_zero_inputs_keep_the_bits_of_the_network_without_them(
        level, dtype, rule, batch_size, inputs):
    # the first layer sums along the inputs in order and each weight's
    # gradient along the batch, so leaving out the inputs that are zero in
    # a batch (or group) must give the network trained on the live columns
    # alone, bit for bit: 37 and 150 inputs end in a short chunk of 64,
    # 4,100 exceed CREG_COLUMNS_LISTED_INPUTS (no input left out there,
    # the same bits again); batch 13 makes three groups at AVX2's 6 rows
    rng = np.random.default_rng(inputs + batch_size)
    n = 60 if inputs < 1000 else 24
    X, dead = sparse_inputs(rng, n, inputs, dtype)
    y = rng.integers(0, 3, n)
    kw = dict(hidden="sigmoid", output="sigmoid", dtype=dtype.name, seed=7)
    fit = dict(epochs=2, batch_size=batch_size, lr=0.3,
               penalty_scale="none", **SPARSE_RULES[rule])
    runs = []
    for n_threads in (1, 2, 3):
        whole = creg.Network([inputs, 21, 3], **kw)
        live = creg.Network([int((~dead).sum()), 21, 3], **kw)
        live.weights[0][...] = whole.weights[0][:, ~dead]
        live.biases[0][...] = whole.biases[0]
        live.weights[1][...] = whole.weights[1]
        live.biases[1][...] = whole.biases[1]
        start = whole.weights[0].copy()
        whole.fit(X, y, n_threads=n_threads, **fit)
        live.fit(np.ascontiguousarray(X[:, ~dead]), y, n_threads=n_threads,
                 **fit)
        assert np.array_equal(whole.weights[0][:, ~dead], live.weights[0])
        for a, b in [(whole.biases[0], live.biases[0]),
                     (whole.weights[1], live.weights[1]),
                     (whole.biases[1], live.biases[1])]:
            assert np.array_equal(a, b)
        # the dead inputs' weights took the rule (decay, penalty) alone
        assert not np.array_equal(whole.weights[0][:, dead], start[:, dead])
        runs.append(whole.params.copy())
    assert all(np.array_equal(runs[0], r) for r in runs[1:])


@at_column_levels
@pytest.mark.parametrize("rule", sorted(SPARSE_RULES))
def test_zero_inputs_train_as_the_oracle(level, dtype, rule):
    # what the dead inputs' weights take without a gradient (momentum,
    # decay, the prox's shrinking to exact zero, the subgradient's sign)
    rng = np.random.default_rng(3)
    X, dead = sparse_inputs(rng, 50, 150, dtype)
    y = rng.integers(0, 3, 50)
    net = creg.Network([150, 21, 3], hidden="sigmoid", output="sigmoid",
                       dtype=dtype.name, seed=2)
    Ws, bs = params64(net)
    fit = dict(epochs=2, batch_size=10, lr=0.3, penalty_scale="none",
               **SPARSE_RULES[rule])
    net.fit(X, y, **fit)
    Ws, bs, _, _ = reference.train_running(
        Ws, bs, np.asarray(X, np.float64), reference.one_hot(y, 3),
        hidden="sigmoid", output="sigmoid", cost="cross_entropy",
        order=shuffle_order(net, 50), **fit)
    assert_params_close(net, Ws, bs, tol_for(dtype))

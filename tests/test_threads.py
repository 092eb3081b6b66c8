"""Bitwise-identical training for any n_threads (DESIGN.md, Determinism),
and teams no larger than the work of a step pays for."""
import os
import subprocess
import sys

import numpy as np
import pytest

import creg


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("config", [
    dict(sizes=[300, 400, 10], hidden="sigmoid", output="sigmoid",
         cost="cross_entropy", fit=dict(batch_size=10, lr=0.5, l2=5.0)),
    dict(sizes=[300, 700, 200, 10], hidden="relu", output="softmax",
         cost="log_likelihood",
         fit=dict(batch_size=64, lr=0.05, l2=1.0, l1=2.0, max_norm=1.5,
                  momentum=0.9, dropout=0.3, input_noise=0.1)),
    # 64 x 1100 hidden units: dropout and the relu's backward go parallel
    # (CREG_ELEMENTWISE_PARALLEL_MIN)
    dict(sizes=[64, 1100, 10], hidden="relu", output="softmax",
         cost="log_likelihood",
         fit=dict(batch_size=64, lr=0.05, momentum=0.9, dropout=0.5)),
    # 64 x 1030 inputs and 64 x 1040 units: the gather with input noise and
    # the bias, tanh and dropout pass go parallel too
    dict(sizes=[1030, 1040, 10], hidden="tanh", output="softmax",
         cost="log_likelihood",
         fit=dict(batch_size=64, lr=0.05, momentum=0.9, dropout=0.2,
                  input_noise=0.2)),
    # online SGD with 700 x 1100 weights in layer 0: its step takes up to
    # 3 threads (one per CREG_SHARE_MIN multiply-adds), each holding and
    # applying the stores of its own panels (net.c)
    dict(sizes=[700, 1100, 10], hidden="sigmoid", output="sigmoid",
         cost="cross_entropy",
         fit=dict(batch_size=1, lr=0.05, momentum=0.5, l2=1.0, l1=1.0,
                  l1_method="prox")),
], ids=["nielsen", "all-regularizers", "wide-dropout", "wide-input-noise",
        "online-wide"])
def test_weights_identical_for_1_2_3_threads(dtype, config):
    rng = np.random.default_rng(7)
    X = rng.random((256, config["sizes"][0]))
    y = rng.integers(0, 10, 256)
    results = []
    for n_threads in (1, 2, 3):
        net = creg.Network(config["sizes"], hidden=config["hidden"],
                           output=config["output"], cost=config["cost"],
                           dtype=dtype, seed=3, init="normalized")
        net.fit(X, y, epochs=2, n_threads=n_threads, **config["fit"])
        results.append(net.params)
    assert np.isfinite(results[0]).all()
    assert np.array_equal(results[0], results[1])
    assert np.array_equal(results[0], results[2])


def train_params(sizes, fit, n_threads, dtype, n, epochs=2):
    rng = np.random.default_rng(11)
    X = rng.random((n, sizes[0]))
    y = rng.integers(0, sizes[-1], n)
    net = creg.Network(sizes, hidden="relu", output="softmax",
                       cost="log_likelihood", dtype=dtype, seed=5,
                       init="normalized")
    net.fit(X, y, epochs=epochs, n_threads=n_threads, **fit)
    return net.params


# Output layers too narrow for a panel of neurons a thread: the team splits
# their columns at the max-norm sums' chunks (update.c, 256 inputs) and
# their batch rows in groups of four (dense.c).  Max-norm of 0.3-0.5 clamps
# these rows from the first step, so the chunks' sums decide the bits.
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("sizes, fit", [
    # C3's output layer: 10 x 1,024 at batch 128, all of C3's rule
    ([64, 1024, 10], dict(batch_size=128, lr=0.01, momentum=0.9, l2=1e-4,
                          l1=1e-5, max_norm=0.5, dropout=0.5)),
    # three chunks, the last of 8 inputs (a part tile); 7 neurons
    ([40, 520, 7], dict(batch_size=300, lr=0.05, max_norm=0.4, l1=1e-3,
                        l1_method="prox")),
    # a batch below the packing threshold: the rows read in place
    ([20, 4000, 10], dict(batch_size=15, lr=0.05, max_norm=0.3,
                          momentum=0.5)),
    # no max-norm: no sums, no barrier
    ([50, 600, 5], dict(batch_size=300, lr=0.05, l2=1.0)),
], ids=["c3-output", "part-chunk", "unpacked", "no-max-norm"])
def test_narrow_layers_give_the_same_bits_split_by_columns(dtype, sizes, fit):
    n = 3 * fit["batch_size"]
    one = train_params(sizes, fit, 1, dtype, n)
    assert np.isfinite(one).all()
    for n_threads in (2, 3, 4):
        assert np.array_equal(one, train_params(sizes, fit, n_threads, dtype,
                                                n)), n_threads


hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(inputs=st.integers(200, 1300), outputs=st.integers(1, 24),
       batch=st.integers(8, 300), max_norm=st.sampled_from([None, 0.3, 2.0]),
       momentum=st.sampled_from([0.0, 0.9]),
       l1=st.sampled_from([0.0, 1e-3]),
       dtype=st.sampled_from(["float32", "float64"]),
       threads=st.integers(2, 5))
def test_any_narrow_layer_gives_the_same_bits_on_any_team(
        inputs, outputs, batch, max_norm, momentum, l1, dtype, threads):
    sizes = [8, inputs, max(outputs, 2)]
    fit = dict(batch_size=batch, lr=0.02, momentum=momentum, l1=l1,
               l1_method="prox", max_norm=max_norm)
    n = 2 * batch + 3
    one = train_params(sizes, fit, 1, dtype, n, epochs=1)
    assert np.array_equal(one, train_params(sizes, fit, threads, dtype, n,
                                            epochs=1))


# Run in a fresh process, so that no earlier test has started an OpenMP team:
# libgomp starts its worker threads at the first region of more than one
# thread and keeps them, so the process's thread count after each training
# is one less than the largest team it has run so far.
TEAM_CHILD = r"""
import os, sys
import numpy as np
import creg
from creg import _core
from creg._descriptors import Noise, StepRule

def threads():
    return len(os.listdir("/proc/self/task"))

def train(sizes, batch_size, n):
    net = creg.Network(sizes, seed=0, **creg.NIELSEN)
    rng = np.random.default_rng(0)
    X = rng.random((n, sizes[0]), dtype=np.float32)
    Y = np.eye(sizes[-1], dtype=np.float32)[rng.integers(0, sizes[-1], n)]
    order = np.empty(n, np.int64)
    _core.shuffle(order, 0, 0)
    rule = StepRule(lr=0.5, l2=5.0 / n)
    _core.train_batches(net.params, np.zeros_like(net.params),
                        net._train_scratch(batch_size, rule),
                        net._workspace(batch_size),
                        X, Y, order, batch_size=batch_size, first_batch=0,
                        n_batches=n // batch_size, net=net._spec, rule=rule,
                        noise=Noise(), n_threads=4)
    return threads()

print(threads(), train([784, 30, 10], 10, 2000), train([784, 100, 10], 1, 500),
      train([784, 100, 10], 10, 2000), train([1024, 10], 128, 512),
      train([784, 1024, 10], 128, 512))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="counts threads in /proc/self/task")
def test_teams_are_sized_by_the_work_of_a_step():
    # A job gets at most one thread per CREG_SHARE_MIN (250K) multiply-adds,
    # whatever n_threads asks (4 here): issue 4's C1 (10 x 784 x 30 per
    # step) and C4 (batch 1) run the one-thread code and start no team;
    # C2's 10 x 784 x 100 step (784K) takes a team of 3, not 4; ten
    # outputs of 1,024 inputs at batch 128 (1.3M) take all 4, splitting
    # their batch and their columns, where whole 64-row blocks and panels
    # of six neurons made two pieces; a wide layer at batch 128 takes all 4.
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env["OPENBLAS_NUM_THREADS"] = "1"
    out = subprocess.run([sys.executable, "-c", TEAM_CHILD], env=env,
                         capture_output=True, text=True, check=True).stdout
    start, c1, c4, c2, narrow, wide = map(int, out.split())
    assert (c1, c4, c2, narrow, wide) == (start, start, start + 2, start + 3,
                                          start + 3), out


def _reference_step(net, cost, X, Y, lr):
    """The mean cost of `net` (relu hidden layer, `cost`) on the batch (X,
    Y), and the parameters after one plain SGD step on it, in numpy."""
    (W0, W1), (b0, b1) = ([np.array(w) for w in net.weights],
                          [np.array(b) for b in net.biases])
    z0 = X @ W0.T + b0
    a0 = np.maximum(z0, 0)
    z1 = a0 @ W1.T + b1
    if net.output == "softmax":
        e = np.exp(z1 - z1.max(axis=1, keepdims=True))
        a1 = e / e.sum(axis=1, keepdims=True)
    elif net.output == "sigmoid":
        a1 = 1 / (1 + np.exp(-z1))
    else:
        a1 = z1
    d1 = a1 - Y
    if cost == "quadratic":
        total = 0.5 * ((a1 - Y) ** 2).sum()
    elif cost == "cross_entropy":
        total = -(Y * np.log(a1) + (1 - Y) * np.log(1 - a1)).sum()
    else:
        total = -(Y * np.log(a1)).sum()
    if cost == "quadratic" and net.output == "sigmoid":
        d1 = d1 * a1 * (1 - a1)
    d0 = (d1 @ W1) * (z0 > 0)
    B = X.shape[0]
    return total / B, [W0 - lr * d0.T @ X / B, b0 - lr * d0.mean(0),
                       W1 - lr * d1.T @ a0 / B, b1 - lr * d1.mean(0)]


# [40, 800, 10] at batch 128: the output layer's forward (a million
# multiply-adds) runs on up to 4 threads, and with it the activation, the
# cost and its delta for each thread's rows (net.c, output_layer_tail);
# cost() runs the same team on every core, without the delta.
@pytest.mark.parametrize("output, cost", [
    ("sigmoid", "quadratic"), ("linear", "quadratic"),
    ("sigmoid", "cross_entropy"), ("softmax", "log_likelihood")])
def test_the_output_layers_team_takes_the_reference_step(output, cost):
    rng = np.random.default_rng(5)
    X = rng.random((128, 40))
    Y = (rng.standard_normal((128, 10)) if output == "linear"
         else np.eye(10)[rng.integers(0, 10, 128)])
    results = []
    for n_threads in (1, 2, 3):
        net = creg.Network([40, 800, 10], hidden="relu", output=output,
                           cost=cost, dtype="float64", seed=3)
        mean_cost, expected = _reference_step(net, cost, X, Y, 0.1)
        assert net.cost(X, Y) == pytest.approx(mean_cost, rel=1e-13)
        net.fit(X, Y, epochs=1, batch_size=128, lr=0.1, n_threads=n_threads,
                shuffle=False)
        got = [net.weights[0], net.biases[0], net.weights[1], net.biases[1]]
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=0, atol=1e-12)
        results.append(net.params)
    assert np.array_equal(results[0], results[1])
    assert np.array_equal(results[0], results[2])

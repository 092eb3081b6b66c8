"""Sparse predict (issue 19): ``predict`` of a [784, 100, 10] network whose
first layer is mostly zeros, against the dense predict of the same
network, at one thread, on the 5,000 bundled MNIST images.

Each case zeroes a fraction of the first layer's weights at random (the
hard case: every input stays in use, no neuron dies), or trains the
network with L1 (case "l1": about 95% zeros, with unused inputs and dead
neurons, as L1 leaves them), and checks the outputs against the dense
pass once.  Then it times, interleaved round by round so that a busy
machine slows all alike, in an order rotated from round to round:
``predict`` as a user calls it (input checks
included; the layer goes sparse when its density is at most
``creg._sparse.MAX_DENSITY``), ``predict`` with the sparse path forced and
with it turned off, the two passes alone (without predict's own checks),
and predict of the compressed network (``net.compress()``, on
``select(X)``), each timed after three untimed calls of its own, as the
CPU time of the calling thread (at n_threads=1 all the work runs on it,
and time the machine gives to other processes does not count).  ``extra_info`` holds
the medians and the ratios; the benchmark's own timing is the auto
predict.  The densities sweep the crossover that sets MAX_DENSITY
(benchmarks/README.md, "Sparse predict").
"""
import statistics
import time
import warnings

import numpy as np
import pytest

import creg
from creg import _sparse

ROUNDS = 15
WARM_CALLS = 3  # untimed calls before each timed one
# fractions of zeros drawn at random, and "l1": the zeros L1 leaves
ZEROS = [0.95, 0.98, 0.9, 0.85, 0.8, 0.7, 0.5, 0.4, 0.3, "l1"]
DTYPES = ["float32", "float64"]


def _network(zeros, dtype, X, y, smoke):
    net = creg.Network([784, 100, 10], dtype=dtype, seed=0)
    if zeros == "l1":
        # about 95% zeros in the first layer, test accuracy about 0.85
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", creg.TrainingWarning)
            net.fit(X[:4000], y[:4000], epochs=1 if smoke else 10, lr=0.1,
                    l1=25.0, batch_size=20)
        return net
    W = net.weights[0]
    W[np.random.default_rng(0).random(W.shape) < zeros] = 0
    return net


def _cpu_seconds(run):
    start = time.thread_time()
    run()
    return time.thread_time() - start


def _predict(net, X, mode):
    """predict with the sparse path as `mode` says: "auto", "sparse" or
    "dense"; returns the calling thread's CPU seconds."""
    saved = _sparse.MAX_DENSITY
    if mode != "auto":
        _sparse.MAX_DENSITY = {k: 1.0 if mode == "sparse" else -1.0
                               for k in saved}
    try:
        start = time.thread_time()
        net.predict(X, n_threads=1)
        return time.thread_time() - start
    finally:
        _sparse.MAX_DENSITY = saved


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("zeros", ZEROS, ids=[
    z if isinstance(z, str) else f"{z:.0%}" for z in ZEROS])
def test_sparse_predict_against_dense(benchmark, request, zeros, dtype):
    smoke = request.config.getoption("benchmark_disable", False)
    X, y = creg.datasets.load_mnist_sample(dtype=dtype)
    net = _network(zeros, dtype, X, y, smoke)
    if smoke:
        X = X[:500]
    zeros = 1 - np.count_nonzero(net.weights[0]) / net.weights[0].size
    sparse = _sparse.forward(net, X, 1, layers=1)
    dense = net._evaluate(X, None, net._workspace(1024), 1)[0]
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert np.max(np.abs(sparse - dense)) <= tol * np.max(np.abs(dense))

    ws = net._workspace(1024)
    small = net.compress()
    X_small = small.select(X)
    passes = {"sparse_pass": lambda: _sparse.forward(net, X, 1, layers=1),
              "dense_pass": lambda: net._evaluate(X, None, ws, 1),
              "compressed": lambda: small.predict(X_small, n_threads=1)}
    times = {"auto": [], "sparse": [], "dense": [], "sparse_pass": [],
             "dense_pass": [], "compressed": []}
    runs = {mode: (lambda mode=mode: _predict(net, X, mode))
            for mode in ("auto", "sparse", "dense")}
    for mode, run in passes.items():  # without predict's input checks
        runs[mode] = lambda run=run: _cpu_seconds(run)
    order = list(runs)
    for i in range(1 if smoke else ROUNDS):
        # rotated, so that no mode always comes first; each timed call
        # after untimed ones of the same mode, so that none pays for the
        # mode before it (the first two or three predicts after a dense
        # one took 0.3-0.4 ms longer, whichever they were:
        # benchmarks/README.md)
        for mode in order[i % len(order):] + order[:i % len(order)]:
            for _ in range(0 if smoke else WARM_CALLS):
                runs[mode]()
            times[mode].append(runs[mode]())
    median = {mode: statistics.median(t) for mode, t in times.items()}
    benchmark.group = f"sparse predict [784, 100, 10], {dtype}"
    benchmark.extra_info.update(
        zeros=zeros, rows=len(X), dtype=dtype, n_threads=1,
        sparse_layers=_sparse.sparse_prefix(net, len(X)),
        auto_ms=1e3 * median["auto"], sparse_ms=1e3 * median["sparse"],
        dense_ms=1e3 * median["dense"],
        dense_over_auto=median["dense"] / median["auto"],
        dense_over_sparse=median["dense"] / median["sparse"],
        sparse_pass_ms=1e3 * median["sparse_pass"],
        dense_pass_ms=1e3 * median["dense_pass"],
        dense_over_sparse_pass=median["dense_pass"] / median["sparse_pass"],
        compressed_sizes=list(small.sizes),
        compressed_ms=1e3 * median["compressed"],
        dense_over_compressed=median["dense"] / median["compressed"])
    print(f"\n{dtype} {zeros:.0%} zeros, {len(X)} rows: dense "
          f"{1e3 * median['dense']:.2f} ms, sparse "
          f"{1e3 * median['sparse']:.2f} ms "
          f"({median['dense'] / median['sparse']:.2f}x), auto "
          f"{1e3 * median['auto']:.2f} ms "
          f"({median['dense'] / median['auto']:.2f}x); the passes alone "
          f"{1e3 * median['dense_pass']:.2f} / "
          f"{1e3 * median['sparse_pass']:.2f} ms "
          f"({median['dense_pass'] / median['sparse_pass']:.2f}x); "
          f"compressed to {list(small.sizes)}: "
          f"{1e3 * median['compressed']:.2f} ms "
          f"({median['dense'] / median['compressed']:.2f}x)")
    benchmark.pedantic(net.predict, args=(X,), kwargs={"n_threads": 1},
                       rounds=1 if smoke else ROUNDS, warmup_rounds=0)

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
    _core.train_batches(net.params, np.zeros_like(net.params),
                        net._train_scratch(batch_size),
                        net._workspace(batch_size),
                        X, Y, order, batch_size=batch_size, first_batch=0,
                        n_batches=n // batch_size, net=net._spec,
                        rule=StepRule(lr=0.5, l2=5.0 / n), noise=Noise(),
                        n_threads=4)
    return threads()

print(threads(), train([784, 30, 10], 10, 2000), train([784, 100, 10], 1, 500),
      train([784, 100, 10], 10, 2000), train([784, 1024, 10], 128, 512))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="counts threads in /proc/self/task")
def test_teams_are_sized_by_the_work_of_a_step():
    # A job gets at most one thread per CREG_SHARE_MIN (250K) multiply-adds,
    # whatever n_threads asks (4 here): issue 4's C1 (10 x 784 x 30 per
    # step) and C4 (batch 1) run the one-thread code and start no team;
    # C2's 10 x 784 x 100 step (784K) takes a team of 3, not 4; a wide
    # layer at batch 128 takes all 4.
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env["OPENBLAS_NUM_THREADS"] = "1"
    out = subprocess.run([sys.executable, "-c", TEAM_CHILD], env=env,
                         capture_output=True, text=True, check=True).stdout
    start, c1, c4, c2, wide = map(int, out.split())
    assert (c1, c4, c2, wide) == (start, start, start + 2, start + 3), out

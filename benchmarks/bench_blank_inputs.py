"""Blank inputs: at batches of 2-15 rows the first layer runs in columns
and leaves out the inputs that are zero in every row of a batch (every row
of a group, in its forward), such as an image's blank pixels.

One epoch of C1 and C2 (batch 10, one thread) on the 5,000 bundled MNIST
images (81% of the pixels zero, half of them blank in a whole batch), and
the same network on 5,000 synthetic rows of the same shape with no zero:
the same arithmetic but for what is left out.  Timed as the calling
thread's CPU time (at n_threads=1 all the work runs on it), the two data
interleaved round by round.  ``extra_info`` holds the medians and
``dense_over_mnist``: about 1 where nothing is skipped (levels 0 and 1,
max-norm, batch 1 or 16 and more), above where blank pixels are.
"""
import statistics
import time

import pytest

import creg
from configs import CONFIGS, make_data

ROUNDS = 7


def _fit_seconds(config, X, y):
    net = creg.Network(list(config.sizes), seed=0, **config.net)
    start = time.thread_time()
    net.fit(X, y, epochs=1, n_threads=1, **config.rule)
    return time.thread_time() - start


@pytest.mark.parametrize("name", ["C1", "C2"])
def test_blank_inputs_against_dense_ones(benchmark, request, name):
    smoke = request.config.getoption("benchmark_disable", False)
    config = CONFIGS[name]
    X, y = creg.datasets.load_mnist_sample()
    if smoke:
        X, y = X[:500], y[:500]
    data = {"mnist": (X, y), "dense": make_data(len(X), config.sizes)}
    times = {kind: [] for kind in data}
    for i in range(1 if smoke else ROUNDS):
        for kind in sorted(data, reverse=i % 2 == 1):
            times[kind].append(_fit_seconds(config, *data[kind]))
    median = {kind: statistics.median(t) for kind, t in times.items()}
    benchmark.group = f"blank inputs: {name}, 1 epoch, {len(X):,} rows"
    benchmark.extra_info.update(
        rows=len(X), n_threads=1, mnist_s=median["mnist"],
        dense_s=median["dense"],
        dense_over_mnist=median["dense"] / median["mnist"])
    print(f"\n{name}, {len(X)} rows, one thread: MNIST "
          f"{median['mnist']:.4f} s, dense {median['dense']:.4f} s "
          f"({median['dense'] / median['mnist']:.2f}x)")
    benchmark.pedantic(_fit_seconds, args=(config, X, y), rounds=1,
                       iterations=1)

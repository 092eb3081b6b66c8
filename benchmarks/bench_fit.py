"""What a user waits for: the wall time of ``fit(X, y, epochs=1)`` against
the training inside it, ``sum(history.seconds)`` (issue 17: a fit costs
what its training costs).

Around the epoch, fit checks its arguments, converts y, allocates its
buffers and records the history; its training metrics come from the
training pass itself (``train_metrics="running"``), and NaN/inf in X from
the first epoch's forward pass, so nothing else reads X.  The cases are
issue 17's: C1 at n = 10,000 and 50,000 (whatever ``CREG_BENCH_SCALE``
says) and C3 at the ``bench_n`` fixture's size; under
``--benchmark-disable`` all three run on smoke sizes.  ``extra_info``
holds n, the median training seconds and ``fit_over_training``, the
median over rounds of fit's wall time ÷ that round's training time; the
exact option (network2's monitor pass) is timed beside it for C1 at
50,000 rows.  report.py's headline creg column is the same wall time.
"""
import statistics
import time

import pytest

import creg
from configs import CONFIGS, make_data
from conftest import SMOKE_N

ROUNDS, WARMUP_ROUNDS = 5, 1
CASES = [("C1", 10_000, "running"), ("C1", 50_000, "running"),
         ("C3", None, "running"), ("C1", 50_000, "exact")]


@pytest.mark.parametrize("name, n_rows, train_metrics", CASES,
                         ids=["C1-10k", "C1-50k", "C3", "C1-50k-exact"])
def test_fit_wall_time_against_its_training(benchmark, bench_n, request,
                                            name, n_rows, train_metrics):
    config = CONFIGS[name]
    smoke = request.config.getoption("benchmark_disable", False)
    n = (min(config.n, SMOKE_N[name]) if smoke
         else bench_n(config) if n_rows is None else n_rows)
    X, y = make_data(n, config.sizes)
    benchmark.group = f"fit, 1 epoch: {name} n={n:,}"
    rounds = []

    def fresh_network():
        net = creg.Network(config.sizes, dtype="float32", seed=0,
                           **config.net)
        return (net,), {}

    def fit(net):
        start = time.perf_counter()
        hist = net.fit(X, y, epochs=1, shuffle=True, n_threads=1,
                       train_metrics=train_metrics, **config.rule)
        wall = time.perf_counter() - start
        assert hist.train_metrics == train_metrics and hist.epochs == 1
        rounds.append((wall, sum(hist.seconds)))

    benchmark.pedantic(fit, setup=fresh_network, rounds=ROUNDS,
                       warmup_rounds=WARMUP_ROUNDS)
    timed = rounds[-ROUNDS:]  # without the warm-up (smoke: its one run)
    benchmark.extra_info.update(
        n=n, train_metrics=train_metrics,
        train_seconds=round(statistics.median(t for _, t in timed), 5),
        fit_over_training=round(
            statistics.median(w / t for w, t in timed), 3))

"""Issue 18: a 16-point grid (l2 x dropout x lr) of C1, one epoch each,
as one ``creg.sweep`` against 16 sequential one-thread creg fits, 16
sequential PyTorch epochs, ``GridSearchCV(n_jobs=-1)`` over
CregClassifier and 16 one-thread programs at once (sweep_work.py
describes each).  The rows are the ``bench_n`` fixture's share of C1's
50,000 (``CREG_BENCH_SCALE=1`` for all of them).  report.py's sweep
section runs the same contenders interleaved and reports their median
ratios.
"""
import pytest

import sweep_work
from configs import make_data

ROUNDS = 3


@pytest.fixture(scope="module")
def data(bench_n):
    return make_data(bench_n(sweep_work.CONFIG), sweep_work.CONFIG.sizes)


def test_sweep_networks_are_the_sequential_fits(data):
    sweep_work.check_sweep_is_sequential(*data)


@pytest.mark.parametrize("contender", sweep_work.CONTENDERS)
def test_sweep_16_points(benchmark, data, contender):
    if contender == "torch":
        pytest.importorskip("torch")
    if contender == "gridsearch":
        pytest.importorskip("sklearn")
    X, y = data
    calls = {"sweep": lambda: sweep_work.run_sweep(X, y),
             "sequential": lambda: sweep_work.run_sequential(X, y),
             "torch": lambda: sweep_work.run_torch(X, y),
             "gridsearch": lambda: sweep_work.run_gridsearch(X, y),
             "processes": lambda: sweep_work.run_processes(X, y)}
    benchmark.group = f"sweep of 16 C1 fits, 1 epoch, n={len(X):,}"
    benchmark.extra_info.update(n=len(X), points=len(sweep_work.POINTS))
    benchmark.pedantic(calls[contender], rounds=ROUNDS, warmup_rounds=0)

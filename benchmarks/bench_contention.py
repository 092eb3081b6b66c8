"""creg at its default n_threads beside a busy core (issue 16).

For each workload of contention.py (predict_proba of 1,000 rows through
[784, 30, 10]; fit of C1 and of C3 on a slice) one benchmark per thread
setting, n_threads=1 and the default, both while one process spins in a
busy loop: the two rows of a group compare a default call with a
one-thread call under the same load. ``extra_info`` holds the default
teams creg held back (of those it decided) and, on the default row, the
median ratio default / n_threads=1 measured alternately in the same
benchmark. ``python benchmarks/report.py`` prints the full table (idle,
beside a spinner, after numpy calls).

Under ``--benchmark-disable`` (the smoke run) every body runs once on a
tenth of the fits' rows.
"""
import statistics

import pytest

import contention

ROUNDS = {"predict": 60, "C1 fit": 5, "C3 fit": 3}


@pytest.fixture(scope="module")
def busy_core():
    with contention.spinning(1):
        yield


@pytest.mark.parametrize("n_threads", [1, None], ids=["1", "default"])
@pytest.mark.parametrize("workload", contention.WORKLOADS)
def test_beside_a_spinning_process(benchmark, busy_core, workload,
                                   n_threads):
    from creg import _core
    smoke = benchmark.disabled
    call = contention.Workload(workload, scale=0.1 if smoke else 1.0)
    call(n_threads)  # warm-up
    benchmark.group = f"contention {workload}, one core busy"
    decided, held = _core.team_counts()
    rounds = 1 if smoke else ROUNDS[workload]
    benchmark.pedantic(call, args=(n_threads,), rounds=rounds)
    decided_after, held_after = _core.team_counts()
    benchmark.extra_info["default_teams_held"] = (
        f"{held_after - held} of {decided_after - decided}")
    if n_threads is None and not smoke:
        pairs = [(call(None), call(1)) for _ in range(rounds)]
        benchmark.extra_info["default_over_one_thread"] = round(
            statistics.median(d / o for d, o in pairs), 3)

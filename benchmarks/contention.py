"""creg's default thread count beside other work (issue 16, "contention").

A call at the default ``n_threads=None`` must never be much slower than at
``n_threads=1`` when another process holds a core (csrc/team.h says how
creg sees that). This module times, in one process, each workload at
``n_threads=1``, at the default and at an explicit team of every core,
alternating the three call by call (so a busy spell of the machine hits
all alike), under one of these conditions:

- ``idle``: nothing started here (the machine's other tenants still run);
- ``spinner``: one process in a busy loop (``python -c "while True:
  pass"``), so one core is taken for the whole measurement;
- ``after numpy``: each call right after an untimed ``numpy.matmul`` of
  512 x 512 float32 matrices with OpenBLAS on every core, whose threads
  then spin for a while (numpy and creg calls alternating in one process).

Workloads (configs.py's networks, synthetic data):

- ``predict``: ``predict_proba`` of 1,000 rows through C1's [784, 30, 10];
- ``C1 fit``: ``fit(epochs=1)`` of C1 on its first ``C1_ROWS`` rows (its
  steps run on one thread at any n_threads; fit's pass over the training
  set after the epoch uses the team);
- ``C3 fit``: ``fit(epochs=1)`` of C3 on its first ``C3_ROWS`` rows.

Used by report.py (its "Default threads beside a busy core" table, run in
a worker process) and bench_contention.py (pytest-benchmark).
"""
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager

import numpy as np

from configs import CONFIGS, make_data

C1_ROWS = 10_000
C3_ROWS = 3_840
PREDICT_ROWS = 1_000
MATMUL_SIZE = 512
CONDITIONS = ("idle", "spinner", "after numpy")
WORKLOADS = ("predict", "C1 fit", "C3 fit")


@contextmanager
def spinning(count=1):
    """`count` processes in a busy loop, each running before the body
    starts, killed after it."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
             for _ in range(count)]
    try:
        time.sleep(0.2)  # the interpreter's start-up, then the loop
        yield procs
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


class Workload:
    """One timed call of a workload at a given n_threads."""

    def __init__(self, name, scale=1.0):
        import creg
        self.name, self.creg = name, creg
        if name == "predict":
            config = CONFIGS["C1"]
            self.X = np.random.default_rng(0).random(
                (PREDICT_ROWS, config.sizes[0]), dtype=np.float32)
            self.net = creg.Network(list(config.sizes), dtype="float32",
                                    seed=0, **config.net)
            return
        config = CONFIGS[name.split()[0]]
        rows = C1_ROWS if config.name == "C1" else C3_ROWS
        rows = max(2 * config.batch_size, int(rows * scale))
        self.config = config
        self.X, self.y = make_data(rows, config.sizes)

    def __call__(self, n_threads):
        """Seconds of one call (a fresh network for each fit)."""
        if self.name == "predict":
            start = time.perf_counter()
            self.net.predict_proba(self.X, n_threads=n_threads)
            return time.perf_counter() - start
        net = self.creg.Network(list(self.config.sizes), dtype="float32",
                                seed=0, **self.config.net)
        start = time.perf_counter()
        net.fit(self.X, self.y, epochs=1, n_threads=n_threads,
                **self.config.rule)
        return time.perf_counter() - start


class BlasBusy:
    """An untimed numpy.matmul on every core, before each creg call."""

    def __init__(self):
        rng = np.random.default_rng(1)
        self.A = rng.random((MATMUL_SIZE, MATMUL_SIZE), dtype=np.float32)
        self.C = np.empty_like(self.A)

    def __call__(self):
        np.matmul(self.A, self.A, out=self.C)


def all_threads():
    """What creg's default would use on an idle machine: OpenMP's
    default team (omp_get_max_threads, as creg.show_config reports it)."""
    import creg
    return int(creg.show_config(as_dict=True)["threads"]["default"])


def measure(workload, threads, rounds, condition="idle"):
    """{n_threads: [seconds per call]} of `workload` over `rounds` rounds,
    each calling every entry of `threads` once in a rotated order, under
    `condition`; plus "held": the default teams creg held back meanwhile
    over those it decided."""
    from creg import _core
    before_nt = None if condition != "after numpy" else BlasBusy()
    samples = {t: [] for t in threads}
    for t in threads:  # warm-up: buffers, the OpenMP pool, first look
        if before_nt is not None:
            before_nt()
        workload(t)
    decided, held = _core.team_counts()
    with (spinning(1) if condition == "spinner" else _nothing()):
        for r in range(rounds):
            order = threads[r % len(threads):] + threads[:r % len(threads)]
            for t in order:
                if before_nt is not None:
                    before_nt()
                samples[t].append(workload(t))
    decided_after, held_after = _core.team_counts()
    samples["held"] = (held_after - held, decided_after - decided)
    return samples


@contextmanager
def _nothing():
    yield


def summary(samples):
    """Median seconds per n_threads, and default / n_threads=1."""
    medians = {t: statistics.median(v) for t, v in samples.items()
               if t != "held"}
    ratio = medians[None] / medians[1] if None in medians else None
    return medians, ratio

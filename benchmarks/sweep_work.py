"""Issue 18's sweep benchmark, as data and five contenders.

A 16-point grid (l2 x dropout x lr) of C1, one epoch each on the same
rows, done five ways:

sweep        ``creg.sweep(X, y, ..., GRID, epochs=1)`` on every core.
sequential   16 ``Network(...).fit(X, y, epochs=1, n_threads=1)`` calls in
             a row: what a loop over the grid costs.
torch        16 PyTorch epochs in a row (peers.TorchEpoch, one thread),
             each on a fresh model with the point's l2, dropout and lr;
             building the model is not timed.
gridsearch   ``GridSearchCV(CregClassifier(...), GRID, n_jobs=-1)`` over
             the same 16 points, one fold that trains on every row
             (scored on the first 1,000), ``refit=False``: joblib's worker
             processes each receive the data.  CregClassifier has a
             softmax output with the log-likelihood cost where C1 has
             sigmoid outputs with cross-entropy: the same GEMMs, a
             different output function.
processes    16 programs of one thread each, one per point, started
             together, each with its own copy of the data (made by
             ``make_data``, as a program of its own would read it): from
             the moment all are ready until the last fit ends.  Issue 18
             asks a sweep on 16 cores for twice their throughput.

Each returns its wall time in seconds.  ``interleaved`` runs them in
rounds whose order rotates, so a busy spell of this shared machine hits
everyone alike, and returns every sample.
"""
import dataclasses
import itertools
import multiprocessing
import queue
import statistics
import time

import numpy as np

import creg
from configs import CONFIGS, make_data

CONFIG = CONFIGS["C1"]
GRID = {"l2": [0.0, 5.0], "dropout": [0.0, 0.2],
        "lr": [0.1, 0.25, 0.5, 1.0]}
POINTS = [dict(zip(GRID, values)) for values in itertools.product(
    *GRID.values())]
CONTENDERS = ("sweep", "sequential", "torch", "gridsearch", "processes")
PROGRAM_WAIT_SECONDS = 300  # for each program's word: ready, or done
SCORED_ROWS = 1000


def _fixed_rule():
    return {k: v for k, v in CONFIG.rule.items() if k not in GRID}


def run_sweep(X, y, threads=None):
    start = time.perf_counter()
    result = creg.sweep(X, y, CONFIG.sizes, GRID, epochs=1, dtype="float32",
                        n_threads=threads, **CONFIG.net, **_fixed_rule())
    seconds = time.perf_counter() - start
    assert len(result) == len(POINTS) and not result.interrupted
    return seconds, result


def run_sequential(X, y):
    nets, start = [], time.perf_counter()
    for point in POINTS:
        net = creg.Network(CONFIG.sizes, dtype="float32", seed=0,
                           **CONFIG.net)
        net.fit(X, y, epochs=1, n_threads=1, **_fixed_rule(), **point)
        nets.append(net)
    return time.perf_counter() - start, nets


def run_torch(X, y):
    from peers import TorchEpoch

    seconds = 0.0
    for point in POINTS:
        config = dataclasses.replace(CONFIG, rule=dict(CONFIG.rule, **point))
        epoch = TorchEpoch(config, X, y, 1)
        epoch.prepare()
        seconds += epoch.epoch()["seconds"]
    return seconds


def run_gridsearch(X, y, n_jobs=-1):
    from sklearn.model_selection import GridSearchCV
    from creg.sklearn import CregClassifier

    estimator = CregClassifier(
        (CONFIG.sizes[1],), hidden=CONFIG.net["hidden"],
        init=CONFIG.net["init"], epochs=1, dtype="float32", n_threads=1,
        random_state=0, **_fixed_rule())
    fold = [(np.arange(len(X)), np.arange(min(SCORED_ROWS, len(X))))]
    grid = {k: list(v) for k, v in GRID.items()}
    start = time.perf_counter()
    GridSearchCV(estimator, grid, cv=fold, refit=False,
                 n_jobs=n_jobs).fit(X, y)
    return time.perf_counter() - start


def _fit_in_own_process(n, point, ready, go, finished):
    X, y = make_data(n, CONFIG.sizes)
    net = creg.Network(CONFIG.sizes, dtype="float32", seed=0, **CONFIG.net)
    ready.put(None)
    go.wait()
    net.fit(X, y, epochs=1, n_threads=1, **_fixed_rule(), **point)
    # perf_counter is the system's monotonic clock: one across processes
    finished.put(time.perf_counter())


def run_processes(X, y):
    """Seconds from the go signal until the last of 16 one-thread programs
    (one per point) ends its fit.  Each makes its own data, so X only
    gives the row count."""
    methods = multiprocessing.get_all_start_methods()
    # a fresh server process, not a fork of this threaded one
    ctx = multiprocessing.get_context(
        "forkserver" if "forkserver" in methods else "spawn")
    ready, finished, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=_fit_in_own_process,
                         args=(len(X), point, ready, go, finished),
                         daemon=True) for point in POINTS]
    for proc in procs:
        proc.start()
    try:
        for _ in procs:
            _get(ready, procs, PROGRAM_WAIT_SECONDS)
        start = time.perf_counter()
        go.set()
        ends = [_get(finished, procs, PROGRAM_WAIT_SECONDS)
                for _ in procs]
    finally:
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
    return max(ends) - start


def _get(messages, procs, seconds):
    """The next message, or RuntimeError once a program has failed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            return messages.get(timeout=0.1)
        except queue.Empty:
            failed = [p.exitcode for p in procs if p.exitcode not in
                      (None, 0)]
            if failed:
                raise RuntimeError(f"a fit's program exited with {failed}")
    raise RuntimeError(f"no word from the programs in {seconds} s")


def check_sweep_is_sequential(X, y):
    """The sweep's networks are bitwise the sequential fits'."""
    result = run_sweep(X, y)[1]
    nets = run_sequential(X, y)[1]
    for run, net in zip(result, nets):
        assert np.array_equal(run.network.params, net.params), run.params


def interleaved(X, y, rounds, contenders=CONTENDERS, torch_rounds=None,
                log=None):
    """{contender: [seconds per round]}; torch runs in the first
    torch_rounds rounds only (default all: its 16 epochs are slow)."""
    calls = {"sweep": lambda: run_sweep(X, y)[0],
             "sequential": lambda: run_sequential(X, y)[0],
             "torch": lambda: run_torch(X, y),
             "gridsearch": lambda: run_gridsearch(X, y),
             "processes": lambda: run_processes(X, y)}
    samples = {c: [] for c in contenders}
    for r in range(rounds):
        order = list(contenders)[r % len(contenders):] + \
            list(contenders)[:r % len(contenders)]
        for contender in order:
            if contender == "torch" and torch_rounds is not None \
                    and r >= torch_rounds:
                continue
            samples[contender].append(calls[contender]())
            if log is not None:
                log(f"round {r + 1}: {contender} "
                    f"{samples[contender][-1]:.3f} s")
    return samples


def ratios(samples):
    """Median seconds of each contender and each one's median over the
    sweep's."""
    medians = {c: statistics.median(s) for c, s in samples.items() if s}
    return medians, {c: m / medians["sweep"] for c, m in medians.items()}


def report_section(n, rounds, torch_rounds, log=None):
    """The markdown lines of report.py's sweep section."""
    X, y = make_data(n, CONFIG.sizes)
    check_sweep_is_sequential(X[:2000], y[:2000])
    samples = interleaved(X, y, rounds, torch_rounds=torch_rounds, log=log)
    medians, over_sweep = ratios(samples)
    labels = {"sweep": "creg.sweep (all cores)",
              "sequential": "16 creg fits in a row, 1 thread",
              "torch": "16 PyTorch epochs in a row, 1 thread",
              "gridsearch": "GridSearchCV(CregClassifier, n_jobs=-1)",
              "processes": "16 one-thread programs at once, own data"}
    lines = ["", f"### A 16-point sweep of C1 (l2 × dropout × lr), 1 epoch, "
             f"n={n:,} (median of interleaved rounds)", "",
             "| contender | rounds | median s | ÷ sweep |",
             "|---|---|---|---|"]
    for contender, seconds in medians.items():
        lines.append(f"| {labels[contender]} | {len(samples[contender])} "
                     f"| {seconds:.3f} | {over_sweep[contender]:.2f}× |")
    lines += ["", "- Each run of the sweep is checked to equal its "
              "sequential fit bitwise before timing; the contenders take "
              "turns, each alone on the machine, all but the 16 programs "
              "in this process (sweep_work.py).", ""]
    return lines

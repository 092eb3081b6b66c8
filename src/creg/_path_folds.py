"""A regularization path's chains trained side by side: the path on all
the data and one path per cross-validation fold, each a warm-started walk
down the strengths on one thread of a pool (creg's C releases the GIL).

Each chain is exactly the walk `regularization_path` makes without cv, on
its own rows, so the path on all the data gives the same bits with or
without cv, and fold i's points equal a walk on fold i's training rows
evaluated on its test rows, whatever the thread count.  Ctrl-C stops every
chain within one call into C (creg._interrupt) and is raised in the
caller's thread; the chains' warnings are shown from there, naming the
fold (creg._warnings).
"""
import threading

import numpy as np

from creg import _interrupt, _validation as check, _warnings
from creg._pool import DaemonPool


def walk_all(walk, X, y, validation_data, folds, n_threads):
    """[points of the whole data's walk, then of each fold's walk], where
    walk(X, y, validation_data, n_threads) is one chain.

    folds : list of (train, test) index arrays
    n_threads : int or None
        Threads for all the chains (None: check.pool_threads' default).
    """
    X, y = np.asarray(X), np.asarray(y)
    chains = [(None, (X, y, validation_data))]
    chains += [(i, (train, test)) for i, (train, test) in enumerate(folds)]
    threads = check.pool_threads(n_threads)
    workers = max(1, min(len(chains), threads))
    per_chain = max(1, threads // workers)
    stop = threading.Event()
    results, warned = {}, {}

    def run(index, fold, data):
        warned[index] = []
        if fold is None:
            X_fit, y_fit, validation = data
        else:  # copied here: only the folds being walked are held
            train, test = data
            X_fit, y_fit, validation = X[train], y[train], (X[test], y[test])
        with _interrupt.stop_when(stop), _warnings.collected(warned[index]):
            results[index] = walk(X_fit, y_fit, validation, per_chain)

    pool = DaemonPool(workers, "creg-path")
    try:
        with _interrupt.deferred():
            for i, (fold, data) in enumerate(chains):
                pool.submit(run, i, fold, data)
        pool.wait()  # a chain's error ends the path
    finally:
        stop.set()  # on an error or Ctrl-C, the others stop too
        pool.shutdown()
        _show(warned)
    return [results[i] for i in range(len(chains))]


def _show(warned):
    """Each chain's warnings once per message, naming the chains that gave
    it (an input scale warning comes from all of them)."""
    chains_of: dict = {}
    for index in sorted(warned):
        for message, category in warned[index]:
            chains = chains_of.setdefault((message, category), [])
            if index not in chains:
                chains.append(index)
    for (message, category), chains in chains_of.items():
        names = ["the whole data" if i == 0 else f"fold {i - 1}"
                 for i in chains]
        _warnings.warn(f"path on {', '.join(names)}: {message}", category)

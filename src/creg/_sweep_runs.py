"""The runs of a sweep: the data they share, one plan per run, and the
threads that train them.

Each run is a plain ``Network.fit`` on one thread in a worker thread (creg's
C releases the GIL).  Ctrl-C in the caller's thread sets an event that the
fits read between their calls into C (creg._interrupt); their warnings are
collected per run and shown from the caller's thread (creg._warnings).
"""
import copy
import hashlib
import threading

import numpy as np

from creg import _interrupt, _validation as check, _warnings
from creg._errors import DivergenceError
from creg._pool import DaemonPool
from creg._progress import RunsProgress
from creg._sweep_arguments import (DEFAULTS, FIT_SETTINGS, NETWORK_SETTINGS,
                                   named, point_name, reads_patience, shown,
                                   splits)
from creg.early_stopping import EarlyStopping
from creg.network import Network


class Data:
    """The data every run reads, converted once per kind of network
    (dtype, output, widths) and checked before any run starts, but for
    NaN and inf, which each fit finds (class labels are passed on as
    labels: each fit encodes them).  A fold's training and test rows are
    copied out when its first run starts and dropped when its last run
    ends, so a cross-validated sweep holds the data and the folds being
    trained, not every fold at once."""

    def __init__(self, X, y, cv, validation_data):
        self.X, self.y, self.validation_data = X, y, validation_data
        self.splits = None
        if cv is not None:
            self.splits = splits(cv, check.nonempty_2d("X", X), np.asarray(y))
        self.folds = (list(range(len(self.splits))) if self.splits
                      else [None])
        self.has_validation = (cv is not None
                               or validation_data is not None)
        self._whole: dict = {}   # kind -> (X, Y, validation pair or None)
        self._folds: dict = {}   # (kind, fold) -> (X, Y, test pair)
        self._readers: dict = {}  # (kind, fold) -> runs yet to end
        self._lock = threading.Lock()

    def fewest_rows(self):
        """The fewest training rows a run trains on: X's, or its smallest
        fold's."""
        if self.splits is None:  # X is not checked yet: rows of anything
            shape = getattr(self.X, "shape", None)
            return max(1, shape[0] if shape else len(self.X))
        return max(1, min(len(train) for train, _ in self.splits))

    def fold_digest(self):
        """What tells the folds apart: their rows (a splitter that shuffles
        without a seed gives each chunk of a sweep its own); None without
        cv."""
        if self.splits is None:
            return None
        digest = hashlib.sha256()
        for fold in self.splits:
            for rows in fold:  # train, then test, each after its length
                rows = np.ascontiguousarray(rows, np.int64)
                digest.update(np.int64(rows.size).tobytes() + rows.tobytes())
        return digest.hexdigest()

    @staticmethod
    def _kind(net):
        return (net.dtype, net.output, net.sizes[0], net.sizes[-1])

    def register(self, net, fold):
        """Checks the data for one more run (raising before any run
        starts) and counts it as a reader of its fold."""
        kind = self._kind(net)
        if kind not in self._whole:
            self._whole[kind] = self._convert(net)
        self._readers[kind, fold] = self._readers.get((kind, fold), 0) + 1

    def acquire(self, net, fold):
        """(X_train, Y_train, validation pair or None) for a run."""
        kind = self._kind(net)
        if fold is None:
            return self._whole[kind]
        with self._lock:
            if (kind, fold) not in self._folds:
                X, Y, _ = self._whole[kind]
                train, test = self.splits[fold]
                self._folds[kind, fold] = (X[train], Y[train],
                                           (X[test], Y[test]))
            return self._folds[kind, fold]

    def release(self, net, fold):
        """A run of the fold has ended (or will not start)."""
        key = (self._kind(net), fold)
        with self._lock:
            self._readers[key] -= 1
            if self._readers[key] == 0:
                self._folds.pop(key, None)

    def _convert(self, net):
        n_in, n_out = net.sizes[0], net.sizes[-1]

        def pair(X, y, xname, yname, scan):
            Xa = check.features(X, net.dtype, n_in, xname, finite=scan)
            Y = check.targets(y, Xa.shape[0], n_out, net.output, net.dtype,
                              yname, rows_of=xname)
            # checked here once; a fit given the class labels encodes
            # them again in less time than it checks a target matrix
            # (C1's 50,000 rows: 0.4 ms of 2.4 held under the GIL, which
            # the runs share)
            labels = np.asarray(y)
            return Xa, labels if labels.ndim == 1 else Y
        # NaN and inf are left to each fit, which finds them in the
        # training rows in its first epoch and checks the validation rows
        # itself, raising the same error (a scan of C1's 50,000 rows took
        # 20 ms, which every run waited for); but cv's test rows are X's,
        # which a fit would call X_val
        X, Y = pair(self.X, self.y, "X", "y", scan=self.splits is not None)
        validation = None
        if self.validation_data is not None:
            try:
                X_val, y_val = self.validation_data
            except (TypeError, ValueError):
                raise TypeError("validation_data must be a pair "
                                "(X_val, y_val)") from None
            validation = pair(X_val, y_val, "X_val", "y_val", scan=False)
        return X, Y, validation


class Plan:
    """One run to train: its network's template, built before any run
    starts (so a bad network setting is refused first), and its fit
    settings.  Runs with the same network settings and seed share the
    template, which each copies when it starts: the weights are drawn
    once, and not by the caller's thread while every core waits."""

    def __init__(self, index, point, params, seed, fold):
        self.index, self.point, self.params, self.seed, self.fold = \
            index, point, params, seed, fold
        self.network = None

    @property
    def epochs(self):
        """The most epochs the run trains (early stopping may end it
        sooner)."""
        return self.params.get("epochs", DEFAULTS["epochs"])

    def build(self, sizes, data, templates, varying):
        """Finds or builds the network's template (templates: {key: the
        template}) and registers the run as a reader of its fold's data
        (which checks the data: an error names the grid point where the
        grid varies a network setting, on which the check may depend)."""
        net_settings = {k: v for k, v in self.params.items()
                        if k in NETWORK_SETTINGS}
        key = repr((self.seed, sorted(net_settings.items())))
        if key not in templates:
            try:
                templates[key] = Network(sizes, seed=self.seed,
                                         **net_settings)
            except (TypeError, ValueError) as exc:
                raise self._named(exc) from None
        self.template = templates[key]
        self.data = data
        try:
            data.register(self.template, self.fold)
        except (TypeError, ValueError) as exc:
            if not set(NETWORK_SETTINGS) & set(varying):
                raise
            raise self._named(exc) from None
        self.fit_settings = {k: v for k, v in self.params.items()
                             if k in FIT_SETTINGS}
        # a fixed patience for the runs that stop early or halve, which
        # fit refuses where nothing reads it: the run's params replay
        if not reads_patience(self.fit_settings):
            self.fit_settings.pop("patience", None)
            self.params = {k: v for k, v in self.params.items()
                           if k != "patience"}
        # an EarlyStopping keeps its fit's scores: one per run, sharing
        # the user's score callable
        if isinstance(self.fit_settings.get("early_stopping"),
                      EarlyStopping):
            self.fit_settings["early_stopping"] = \
                self.fit_settings["early_stopping"]._copy()

    def _named(self, exc):
        """exc, its message prefixed with the grid point."""
        return named(exc, point_name(self.point, self.params))

    def who(self):
        """'run i (grid point p: its settings; seed s, fold f)'."""
        fold = "" if self.fold is None else f", fold {self.fold}"
        return (f"run {self.index} (grid point {self.point}: "
                f"{shown(self.params)}; seed {self.seed}{fold})")

    def train(self, n_threads, stop):
        """(History, why it ended, the divergence message or None), or
        KeyboardInterrupt once stop is set."""
        self.warnings = []
        try:
            self.network = copy.deepcopy(self.template)
            X, Y, validation = self.data.acquire(self.template, self.fold)
            with _interrupt.stop_when(stop), \
                    _warnings.collected(self.warnings):
                history = self.network.fit(
                    X, Y, validation_data=validation, n_threads=n_threads,
                    **self.fit_settings)
        except DivergenceError as exc:
            return exc.history, "diverged", str(exc)
        except (TypeError, ValueError) as exc:
            # creg's own checks (of what a callback returned, say), named
            # as the run's warnings are; a subclass is raised as it is
            if type(exc) in (TypeError, ValueError):
                # from exc: the traceback keeps the user's callback's frame
                raise named(exc, self.who()) from exc
            raise
        finally:
            self.data.release(self.template, self.fold)
        ended = "early_stopping" if history.stopped_early else "epochs"
        return history, ended, None


def run_all(plans, workers, threads_per_run, verbose):
    """Trains the plans on `workers` threads; returns ({plan.index: what
    Plan.train returned} for the runs that ended, whether Ctrl-C stopped
    it).  Each worker stores its own run in `done`, so a Ctrl-C that lands
    anywhere in this function (even inside a submit) loses no run that
    ended."""
    stop = threading.Event()
    done = {}

    def train(plan):
        if stop.is_set():
            plan.data.release(plan.template, plan.fold)
            return
        try:
            done[plan.index] = plan.train(threads_per_run, stop)
        except KeyboardInterrupt:  # stop was set: the run did not end
            pass

    progress = RunsProgress(len(plans)) if verbose else None
    pool = DaemonPool(workers, "creg-sweep")
    interrupted = False
    try:
        # fold by fold: a fold's rows are copied for its first run and
        # freed after its last (Data); in a fold, the runs of most epochs
        # first, so that short runs fill the last gaps instead of a long
        # one running alone at the end
        order = sorted(plans, key=lambda p: (p.fold or 0, -p.epochs,
                                             p.index))
        with _interrupt.deferred():
            for plan in order:
                pool.submit(train, plan)
        # an error in a run ends the sweep
        pool.wait(None if progress is None
                  else lambda: progress.update(len(done)))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        stop.set()  # what is running stops within one call into C
        pool.shutdown()
        if progress is not None:
            progress.close()
    return done, interrupted


def show_warnings(plans):
    """The warnings of the runs' fits, from the caller's thread: once per
    message, naming the run (or how many runs gave it: an input scale
    warning comes from every run).  Early stopping's, whose epochs differ
    from run to run and which most runs of a sweep give, in one."""
    runs_of: dict = {}
    restored = []
    for plan in plans:
        for message, category in getattr(plan, "warnings", ()):
            if category is _warnings.EarlyStoppingWarning:
                restored.append((plan, message))
            else:
                runs_of.setdefault((message, category), []).append(plan)
    if len(restored) > 1:
        _warnings.warn(
            f"{_runs([plan for plan, _ in restored])}: early stopping put "
            "back the weights of an earlier epoch (each run's "
            "history.restored_epoch)", _warnings.EarlyStoppingWarning)
    elif restored:
        runs_of[restored[0][1], _warnings.EarlyStoppingWarning] = [
            restored[0][0]]
    for (message, category), runs in runs_of.items():
        who = runs[0].who() if len(runs) == 1 else _runs(runs)
        _warnings.warn(f"{who}: {message}", category)


def _runs(plans):
    """'3 runs (0, 4, 7)', the first 8 named."""
    first = ", ".join(str(plan.index) for plan in plans[:8])
    return f"{len(plans)} runs ({first}{', ...' if plans[8:] else ''})"

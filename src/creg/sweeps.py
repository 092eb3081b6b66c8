"""Sweeps: one network per setting of a grid (x seed x fold), all at once.

Chapter 3 of Nielsen and the CS231n notes choose l2, lr, the dropout rate
and the epochs by training the same network many times.  `sweep` trains
every run of such a grid in one call, spread over the cores: each run is a
plain ``Network.fit`` on one thread (creg's C releases the GIL), so run i
is bitwise the fit a user would make alone, whatever runs surround it and
however many threads the sweep uses (creg's results do not depend on the
thread count).  The data are converted once per dtype and read in place
by every run; with cv, a fold's rows are copied when its first run starts
and freed after its last, the folds trained one after another.
"""
from __future__ import annotations

import concurrent.futures as futures
import copy
import inspect
import itertools
import math
import threading
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

import numpy as np
from numpy.typing import ArrayLike

from creg import _interrupt, _validation as check, _warnings
from creg._errors import DivergenceError
from creg._progress import RunsProgress
from creg.early_stopping import EarlyStopping
from creg.history import History
from creg.network import _TRAIN_METRICS as TRAIN_METRICS, Network

__all__ = ["sweep", "SweepResult", "SweepRun", "SweepBest"]

_NETWORK_SETTINGS = ("hidden", "output", "cost", "init", "dtype")
# fit's own arguments that the sweep sets itself
_SWEEP_OWNED = {"self": None, "X": None, "y": None,
                "validation_data": "validation_data=",
                "n_threads": "n_threads=", "verbose": "verbose="}
_FIT_SETTINGS = tuple(name for name in inspect.signature(Network.fit)
                      .parameters if name not in _SWEEP_OWNED)
_DEFAULTS = {name: p.default for f in (Network.__init__, Network.fit)
             for name, p in inspect.signature(f).parameters.items()
             if p.default is not inspect.Parameter.empty}
METRICS = ("train_cost", "train_accuracy", "eval_cost", "eval_accuracy")
_POLL_SECONDS = 0.05  # how often the main thread looks up from its wait


def _optional_positive(name, value):
    return None if value is None else check.positive(name, value)


def _stopping(name, value):
    if isinstance(value, EarlyStopping):
        return value
    return check.early_stopping(value)


def _one_of(allowed):
    return lambda name, value: check.choice(name, value, allowed)


# Every setting a run may take, checked before any run starts (fit checks
# them again, as it always does).  The network's are checked by building it.
_CHECKS = {
    "epochs": check.positive_int, "batch_size": check.positive_int,
    "lr": check.positive, "l2": check.non_negative,
    "l1": check.non_negative, "input_noise": check.non_negative,
    "momentum": check.rate, "dropout": check.rate,
    "max_norm": _optional_positive, "patience": check.positive_int,
    "penalty_scale": _one_of(check.PENALTY_SCALES),
    "l1_method": _one_of(check.L1_METHODS),
    "train_metrics": _one_of(TRAIN_METRICS),
    "shuffle": check.boolean, "early_stopping": _stopping,
    "lr_schedule": lambda name, value: check.lr_schedule(value),
}
assert set(_CHECKS) == set(_FIT_SETTINGS), "a fit setting lacks a check"


@dataclass
class SweepRun:
    """One run of a sweep: a grid point, a seed and a fold, and its fit.

    Attributes
    ----------
    index : int
        Position of the run in the whole sweep: grid point by grid point,
        each point's seeds in order, each seed's folds in order.
    point : int
        Index of the grid point (``SweepResult.points[point]``).
    params : dict
        The settings of the run: the grid point's and the fixed ones.
    seed : int
        The network's seed.
    fold : int or None
        The cross-validation fold, None without ``cv``.
    network : creg.Network
        The trained network.  A diverged run keeps the weights of its
        last finite epoch.
    history : creg.History
        Its fit's history (the finite epochs of a diverged run).
    ended : {"epochs", "early_stopping", "diverged"}
        Why the run ended: it ran all its epochs, early stopping (or a
        "halve_on_plateau" schedule) ended it, or training diverged.
    message : str or None
        The DivergenceError's message of a diverged run.

    Examples
    --------
    >>> import creg
    >>> X, y = creg.datasets.load_digits(dtype="float32")
    >>> run = creg.sweep(X, y, [64, 10, 10], {"lr": [0.1]}, epochs=1)[0]
    >>> run.ended, run.history.epochs
    ('epochs', 1)
    """

    index: int
    point: int
    params: dict
    seed: int
    fold: Optional[int]
    network: Network = field(repr=False)
    history: History = field(repr=False)
    ended: str
    message: Optional[str] = None

    def metric(self, name: str) -> float:
        """The last recorded epoch's value of `name` (one of METRICS), NaN
        when there is none.

        Parameters
        ----------
        name : {"train_cost", "train_accuracy", "eval_cost", "eval_accuracy"}

        Returns
        -------
        float

        Examples
        --------
        >>> import creg
        >>> X, y = creg.datasets.load_digits(dtype="float32")
        >>> run = creg.sweep(X, y, [64, 10, 10], {"lr": [0.1]}, epochs=1)[0]
        >>> 0 <= run.metric("train_accuracy") <= 1
        True
        """
        values = getattr(self.history, check.choice("metric", name, METRICS))
        return float(values[-1]) if values else math.nan


@dataclass
class SweepBest:
    """The best grid point of a sweep for one metric.

    Attributes
    ----------
    params : dict
        The point's settings.
    score : float
        The metric's mean over the point's runs (seeds x folds).
    runs : list of SweepRun
        Those runs.

    Examples
    --------
    >>> import creg
    >>> X, y = creg.datasets.load_digits(dtype="float32")
    >>> result = creg.sweep(X, y, [64, 10, 10], {"l2": [0.0, 1.0]},
    ...                     epochs=1, cv=2)
    >>> len(result.best("eval_accuracy").runs)
    2
    """

    params: dict
    score: float
    runs: list = field(repr=False)


@dataclass
class SweepResult:
    """What `sweep` returns: its runs, in the order of (point, seed, fold).

    Attributes
    ----------
    runs : list of SweepRun
        The runs that ended (all of them unless the sweep was
        interrupted).
    points : list of dict
        The grid points' settings, fixed ones included.
    planned : int
        The number of runs the sweep (or its chunk) was to train.
    interrupted : bool
        Whether Ctrl-C stopped the sweep; ``runs`` then holds the runs
        that had ended.

    Examples
    --------
    >>> import creg
    >>> X, y = creg.datasets.load_digits(dtype="float32")
    >>> result = creg.sweep(X, y, [64, 10, 10], {"lr": [0.1, 0.2]},
    ...                     epochs=1)
    >>> len(result), result.planned, result.interrupted
    (2, 2, False)
    """

    runs: list
    points: list
    planned: int
    interrupted: bool = False
    _varying: list = field(default_factory=list, repr=False)

    def __len__(self):
        return len(self.runs)

    @classmethod
    def merge(cls, parts: Sequence["SweepResult"]) -> "SweepResult":
        """One result from the results of a sweep's chunks.

        Parameters
        ----------
        parts : sequence of SweepResult
            The results of the same sweep called with ``chunk=(i, k)``,
            any subset of i in 0..k-1, in any order.

        Returns
        -------
        SweepResult
            Their runs in the order of the whole sweep: with every chunk,
            what the sweep without chunks returns.

        Examples
        --------
        >>> import creg
        >>> X, y = creg.datasets.load_digits(dtype="float32")
        >>> parts = [creg.sweep(X, y, [64, 10, 10], {"lr": [0.1, 0.2, 0.3]},
        ...                     epochs=1, chunk=(i, 2)) for i in range(2)]
        >>> [run.params["lr"] for run in creg.SweepResult.merge(parts)]
        [0.1, 0.2, 0.3]
        """
        parts = list(parts)
        if not parts or not all(isinstance(p, SweepResult) for p in parts):
            raise TypeError("merge takes a non-empty list of SweepResults")
        first = parts[0]
        for part in parts[1:]:
            if part.points != first.points:
                raise ValueError("these results come from sweeps over "
                                 "different grids")
        runs = sorted((r for p in parts for r in p.runs),
                      key=lambda r: r.index)
        if len({r.index for r in runs}) < len(runs):
            raise ValueError("two results hold the same run: merge each "
                             "chunk once")
        return cls(runs=runs, points=first.points,
                   planned=sum(p.planned for p in parts),
                   interrupted=any(p.interrupted for p in parts),
                   _varying=first._varying)

    def __iter__(self):
        return iter(self.runs)

    def __getitem__(self, index):
        return self.runs[index]

    def table(self) -> Any:
        """One row per run: point, seed, fold, the settings the grid
        varies, why it ended, its epochs, the last epoch's metrics and
        its seconds of training.

        Returns
        -------
        pandas.DataFrame or list of dict
            A DataFrame when pandas is installed, else the rows as dicts.

        Examples
        --------
        >>> import creg
        >>> X, y = creg.datasets.load_digits(dtype="float32")
        >>> rows = creg.sweep(X, y, [64, 10, 10], {"lr": [0.1, 0.2]},
        ...                   epochs=1).table()
        >>> list(rows["lr"])
        [0.1, 0.2]
        """
        rows = []
        for run in self.runs:
            row = {"point": run.point, "seed": run.seed, "fold": run.fold}
            row.update({name: run.params.get(name, _DEFAULTS.get(name))
                        for name in self._varying})
            row.update(ended=run.ended, epochs=run.history.epochs)
            row.update({name: run.metric(name) for name in METRICS})
            row["seconds"] = float(sum(run.history.seconds))
            rows.append(row)
        try:
            import pandas
        except ImportError:
            return rows
        return pandas.DataFrame(rows, columns=list(rows[0]) if rows
                                else None)

    def scores(self, metric: Optional[str] = None) -> list:
        """Each grid point's mean `metric` over its runs (seeds x folds).

        NaN for a point with a diverged run, or no run left after an
        interruption.

        Parameters
        ----------
        metric : {"eval_accuracy", "eval_cost", "train_accuracy", \
"train_cost"}, optional
            Default: eval_accuracy with validation data (or cv), else
            train_accuracy; the costs for a linear output.

        Returns
        -------
        list of float
            One per grid point, in the order of ``points``.

        Examples
        --------
        >>> import creg
        >>> X, y = creg.datasets.load_digits(dtype="float32")
        >>> result = creg.sweep(X, y, [64, 10, 10], {"l2": [0.0, 1.0]},
        ...                     epochs=1, cv=2)
        >>> len(result.scores("eval_cost"))
        2
        """
        metric = self._metric(metric)
        means = []
        for point in range(len(self.points)):
            runs = [r for r in self.runs if r.point == point]
            values = [r.metric(metric) for r in runs]
            diverged = any(r.ended == "diverged" for r in runs)
            means.append(math.nan if not runs or diverged
                         else float(np.mean(values)))
        return means

    def best(self, metric: Optional[str] = None) -> SweepBest:
        """The grid point with the best mean `metric` over its runs.

        Accuracies are maximized, costs minimized.  A point with a
        diverged run (or no run left after an interruption) is never
        chosen over one without.

        Parameters
        ----------
        metric : {"eval_accuracy", "eval_cost", "train_accuracy", \
"train_cost"}, optional
            As for `scores`.

        Returns
        -------
        SweepBest

        Examples
        --------
        >>> import creg
        >>> X, y = creg.datasets.load_digits(dtype="float32")
        >>> result = creg.sweep(X, y, [64, 10, 10],
        ...                     {"lr": [1e-4, 0.1]}, epochs=2, cv=2)
        >>> result.best().params["lr"]
        0.1
        """
        metric = self._metric(metric)
        sign = 1.0 if metric.endswith("accuracy") else -1.0
        ranks = [-math.inf if math.isnan(s) else sign * s
                 for s in self.scores(metric)]
        point = int(np.argmax(ranks))
        return SweepBest(dict(self.points[point]),
                         self.scores(metric)[point],
                         [r for r in self.runs if r.point == point])

    def _metric(self, metric):
        if not self.runs:
            raise ValueError("the sweep has no finished run to choose from")
        if metric is not None:
            return check.choice("metric", metric, METRICS)
        return self._default_metric()

    def _default_metric(self):
        run = self.runs[0]
        prefix = "eval" if run.history.eval_cost else "train"
        linear = run.network.output == "linear"
        return f"{prefix}_{'cost' if linear else 'accuracy'}"


def sweep(X: ArrayLike, y: ArrayLike, sizes: Sequence[int],
          grid: Union[Mapping[str, Sequence[Any]], Sequence[Mapping]], *,
          seeds: Iterable[int] = (0,), cv: Any = None,
          validation_data: Optional[tuple] = None,
          n_threads: Optional[int] = None, verbose: bool = False,
          chunk: Optional[tuple[int, int]] = None,
          **fixed: Any) -> SweepResult:
    """Train one network per grid point, seed and fold, on every core.

    Run i is ``Network(sizes, seed=seeds[s], **net_settings).fit(X_train,
    y_train, validation_data=..., **fit_settings)``, bitwise, whatever the
    grid around it and the thread count.  Runs are spread over n_threads
    threads, each fit on one thread; the data are converted once and
    read in place by every run (with cv, the folds are trained one after
    another, each fold's rows copied only while its runs train).  A run
    that diverges ends alone and says so (``ended="diverged"``); Ctrl-C
    stops the sweep within about 50 ms and returns the runs that had
    ended.

    Parameters
    ----------
    X, y : array-like
        Training data, as for `Network.fit`.
    sizes : sequence of int
        The architecture, as for `Network`.
    grid : dict of lists, or list of dicts
        A dict ``{name: [values...]}`` runs every combination of the
        values; a list of dicts runs each dict as one point.  Names are
        `Network.fit`'s settings (lr, l2, l1, l1_method, max_norm,
        momentum, dropout, input_noise, penalty_scale, epochs, batch_size,
        early_stopping, patience, lr_schedule, shuffle, train_metrics) or
        the network's (hidden, output, cost, init, dtype).
    seeds : iterable of int, default=(0,)
        Each point runs once per seed (the network's seed).
    cv : int, splitter or iterable of (train, test) index pairs, optional
        k-fold cross-validation: an int k gives k contiguous folds (as
        scikit-learn's ``KFold(k)``); an object with ``split(X, y)`` (a
        scikit-learn splitter) or the pairs themselves give the folds.
        Each run trains on a fold's training rows and is evaluated on its
        test rows (``eval_*`` in its history).
    validation_data : (X_val, y_val), optional
        As for `Network.fit`; not together with cv.
    n_threads : int, optional
        Threads for the whole sweep (None: the usable CPUs; -1 also);
        the runs' results do not depend on it.
    verbose : bool, default=False
        Show the runs done out of the total while the sweep runs.
    chunk : (i, k), optional
        Train only the i-th of k chunks of the runs (run r when
        r % k == i), e.g. one per machine of a Dask cluster;
        `SweepResult.merge` joins the chunks' results into what one call
        returns.
    **fixed
        Settings shared by every run, with the names grid takes.

    Returns
    -------
    SweepResult
        Its runs, ``table()`` and ``best(metric)``.

    Warns
    -----
    CregWarning
        The runs' fits' warnings (TrainingWarning, InputScaleWarning, ...),
        once per message after the runs end, each naming its run, or the
        runs that gave it.

    Raises
    ------
    TypeError
        For a name that neither Network nor fit takes (naming creg's
        name for it, as fit does) or a setting the sweep owns.
    ValueError
        For an empty grid or a bad value, naming the setting and its
        grid point, before any run starts.

    Examples
    --------
    >>> import creg
    >>> X, y = creg.datasets.load_digits(dtype="float32")
    >>> result = creg.sweep(X, y, [64, 30, 10],
    ...                     {"l2": [0.0, 5.0], "dropout": [0.0, 0.2]},
    ...                     cv=3, epochs=3, lr=0.1)
    >>> len(result.runs)
    12
    >>> sorted(result.best("eval_accuracy").params)[:3]
    ['dropout', 'epochs', 'l2']
    """
    points, varying = _grid_points(grid, fixed)
    seeds = _seeds(seeds)
    verbose = check.boolean("verbose", verbose)
    threads = check.n_threads(n_threads) or check._usable_cpus()
    if cv is not None and validation_data is not None:
        raise ValueError("give cv or validation_data, not both: each fold's "
                         "test rows are its validation data")
    data = _Data(X, y, cv, validation_data)
    for i, params in enumerate(points):
        _check_point(i, params, data.has_validation)
    index, count = _chunk(chunk)
    every = itertools.product(enumerate(points), seeds, data.folds)
    plans = [_Plan(r, point, params, seed, fold)
             for r, ((point, params), seed, fold) in enumerate(every)
             if r % count == index]
    if not plans:
        return SweepResult(runs=[], points=[dict(p) for p in points],
                           planned=0, _varying=varying)
    for plan in plans:
        plan.build(sizes, data)
    workers = min(threads, len(plans))
    runs, interrupted = _run_all(plans, workers,
                                 max(1, threads // len(plans)), verbose)
    _show_warnings(plans)
    return SweepResult(runs=runs, points=[dict(p) for p in points],
                       planned=len(plans), interrupted=interrupted,
                       _varying=varying)


def _show_warnings(plans):
    """The warnings of the runs' fits, from the caller's thread: once per
    message, naming the run (or how many runs gave it: an input scale
    warning comes from every run)."""
    runs_of: dict = {}
    for plan in plans:
        for message, category in getattr(plan, "warnings", ()):
            runs_of.setdefault((message, category), []).append(plan)
    for (message, category), runs in runs_of.items():
        if len(runs) == 1:
            plan = runs[0]
            fold = "" if plan.fold is None else f", fold {plan.fold}"
            who = (f"run {plan.index} (grid point {plan.point}: "
                   f"{_shown(plan.params)}; seed {plan.seed}{fold})")
        else:
            shown = ", ".join(str(plan.index) for plan in runs[:8])
            who = f"{len(runs)} runs ({shown}{', ...' if runs[8:] else ''})"
        _warnings.warn(f"{who}: {message}", category)


# ------------------------------------------------------------- arguments
def _check_name(name, where):
    if name in _NETWORK_SETTINGS or name in _FIT_SETTINGS:
        return
    if name == "seed":
        raise TypeError(f"creg.sweep() takes the seeds as seeds=[...], not "
                        f"seed in {where}")
    if name in _SWEEP_OWNED:
        hint = (f": it is the sweep's own argument, {_SWEEP_OWNED[name]}"
                if _SWEEP_OWNED[name] else "")
        raise TypeError(f"{name} cannot be set in {where}{hint}")
    raise TypeError(check.unexpected_keyword(name, "fit", "creg.sweep"))


def _grid_points(grid, fixed):
    """The list of grid points (dicts, fixed settings merged in) and the
    names the grid varies."""
    for name in fixed:
        _check_name(name, "the fixed settings")
    if isinstance(grid, Mapping):
        for name, values in grid.items():
            _check_name(name, "grid")
            if isinstance(values, (str, bytes)) or \
                    not isinstance(values, Iterable):
                raise TypeError(
                    f"grid[{name!r}] must be a list of values; got "
                    f"{values!r} (a single value goes in as {name}=...)")
        lists = {name: list(values) for name, values in grid.items()}
        for name, values in lists.items():
            if not values:
                raise ValueError(f"grid[{name!r}] is empty")
        points = [dict(zip(lists, combo))
                  for combo in itertools.product(*lists.values())]
    elif isinstance(grid, Sequence) and not isinstance(grid, (str, bytes)):
        if len(grid) == 0:
            raise ValueError("grid is an empty list: give at least one "
                             "point (a dict of settings)")
        for i, point in enumerate(grid):
            if not isinstance(point, Mapping):
                raise TypeError(f"grid[{i}] must be a dict of settings; "
                                f"got {point!r}")
            for name in point:
                _check_name(name, f"grid[{i}]")
        points = [dict(point) for point in grid]
    else:
        raise TypeError("grid must be a dict of lists or a list of dicts; "
                        f"got {type(grid).__name__}")
    varying = list(dict.fromkeys(name for p in points for name in p))
    for name in varying:
        if name in fixed:
            raise ValueError(f"{name} is given both in grid and as a fixed "
                             "setting")
    return [{**fixed, **point} for point in points], varying


def _check_point(index, params, has_validation):
    try:
        for name, value in params.items():
            if name in _CHECKS:
                _CHECKS[name](name, value)
        stopper = params.get("early_stopping", False)
        if not has_validation:
            check.needs_validation_data(
                stopper is True or isinstance(stopper, EarlyStopping)
                and stopper.score is None, params.get("lr_schedule"))
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"grid point {index} ({_shown(params)}): {exc}"
                        ) from None


def _shown(params):
    return ", ".join(f"{k}={v!r}" for k, v in params.items())


def _chunk(chunk):
    """(i, k) from chunk; (0, 1) for None."""
    if chunk is None:
        return 0, 1
    try:
        index, count = chunk
    except (TypeError, ValueError):
        raise TypeError(f"chunk must be a pair (i, k); got {chunk!r}"
                        ) from None
    count = check.positive_int("chunk's k", count)
    index = check.non_negative_int("chunk's i", index, below=count)
    return index, count


def _seeds(seeds):
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise TypeError(f"seeds must be a list of ints; got {seeds!r}")
    values = [check.seed(s) for s in seeds]
    if not values:
        raise ValueError("seeds is empty: give at least one seed")
    return list(dict.fromkeys(values))


# ------------------------------------------------------------------ data
class _Data:
    """The data every run reads, converted once per kind of network
    (dtype, output, widths) and checked before any run starts.  A fold's
    training and test rows are copied out when its first run starts and
    dropped when its last run ends, so a cross-validated sweep holds the
    data and the folds being trained, not every fold at once."""

    def __init__(self, X, y, cv, validation_data):
        self.X, self.y, self.validation_data = X, y, validation_data
        self.splits = None
        if cv is not None:
            self.splits = _splits(cv, np.asarray(X), np.asarray(y))
        self.folds = (list(range(len(self.splits))) if self.splits
                      else [None])
        self.has_validation = (cv is not None
                               or validation_data is not None)
        self._whole: dict = {}   # kind -> (X, Y, validation pair or None)
        self._folds: dict = {}   # (kind, fold) -> (X, Y, test pair)
        self._readers: dict = {}  # (kind, fold) -> runs yet to end
        self._lock = threading.Lock()

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

        def pair(X, y, xname, yname):
            Xa = check.features(X, net.dtype, n_in, xname)
            return Xa, check.targets(y, Xa.shape[0], n_out, net.output,
                                     net.dtype, yname)
        X, Y = pair(self.X, self.y, "X", "y")
        validation = None
        if self.validation_data is not None:
            try:
                X_val, y_val = self.validation_data
            except (TypeError, ValueError):
                raise TypeError("validation_data must be a pair "
                                "(X_val, y_val)") from None
            validation = pair(X_val, y_val, "X_val", "y_val")
        return X, Y, validation


def _splits(cv, X, y):
    """The (train, test) index arrays of cv."""
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        k, n = int(cv), X.shape[0] if X.ndim else 0
        if not 2 <= k <= n:
            raise ValueError(f"cv must be a number of folds in [2, n_rows "
                             f"= {n}]; got {cv!r}")
        bounds = np.cumsum([0] + [n // k + (i < n % k) for i in range(k)])
        rows = np.arange(n)
        return [(np.concatenate([rows[:a], rows[b:]]), rows[a:b])
                for a, b in zip(bounds, bounds[1:])]
    if hasattr(cv, "split") and not isinstance(cv, (str, bytes)):
        pairs = cv.split(X, y)
    elif isinstance(cv, Iterable) and not isinstance(cv, (str, bytes)):
        pairs = cv
    else:
        raise TypeError("cv must be a number of folds, a splitter with "
                        "split(X, y) or a list of (train, test) index "
                        f"pairs; got {cv!r}")
    splits = []
    for i, split in enumerate(pairs):
        try:
            train, test = split
        except (TypeError, ValueError):
            raise TypeError(f"cv's fold {i} must be a (train, test) pair of "
                            "index arrays") from None
        splits.append((np.asarray(train), np.asarray(test)))
    if not splits:
        raise ValueError("cv gave no fold")
    return splits


# ------------------------------------------------------------------ runs
class _Plan:
    """One run to train: its network, built before any run starts (so a
    bad network setting is refused first), and its fit settings."""

    def __init__(self, index, point, params, seed, fold):
        self.index, self.point, self.params, self.seed, self.fold = \
            index, point, params, seed, fold

    def build(self, sizes, data):
        net_settings = {k: v for k, v in self.params.items()
                        if k in _NETWORK_SETTINGS}
        try:
            self.network = Network(sizes, seed=self.seed, **net_settings)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"grid point {self.point} "
                            f"({_shown(self.params)}): {exc}") from None
        self.data = data
        data.register(self.network, self.fold)
        self.fit_settings = {k: v for k, v in self.params.items()
                             if k in _FIT_SETTINGS}
        # an EarlyStopping keeps its fit's scores: one per run
        if isinstance(self.fit_settings.get("early_stopping"),
                      EarlyStopping):
            self.fit_settings["early_stopping"] = copy.deepcopy(
                self.fit_settings["early_stopping"])

    def train(self, n_threads, stop):
        """The run (a SweepRun), or KeyboardInterrupt once stop is set."""
        self.warnings = []
        try:
            X, Y, validation = self.data.acquire(self.network, self.fold)
            with _interrupt.stop_when(stop), \
                    _warnings.collected(self.warnings):
                history = self.network.fit(
                    X, Y, validation_data=validation, n_threads=n_threads,
                    **self.fit_settings)
        except DivergenceError as exc:
            return self._run(exc.history, "diverged", str(exc))
        finally:
            self.data.release(self.network, self.fold)
        ended = "early_stopping" if history.stopped_early else "epochs"
        return self._run(history, ended)

    def _run(self, history, ended, message=None):
        return SweepRun(index=self.index, point=self.point,
                        params=dict(self.params),
                        seed=self.seed, fold=self.fold, network=self.network,
                        history=history, ended=ended, message=message)


def _run_all(plans, workers, threads_per_run, verbose):
    """Trains the plans on `workers` threads; returns (their runs in the
    sweep's order, whether Ctrl-C stopped it).  Each worker stores its own
    run in `done`, so a Ctrl-C that lands anywhere in this function (even
    inside a submit) loses no run that ended."""
    stop = threading.Event()
    done = {}

    def train(plan):
        if stop.is_set():
            plan.data.release(plan.network, plan.fold)
            return
        try:
            done[plan.index] = plan.train(threads_per_run, stop)
        except KeyboardInterrupt:  # stop was set: the run did not end
            pass

    progress = RunsProgress(len(plans)) if verbose else None
    pool = futures.ThreadPoolExecutor(workers, "creg-sweep")
    interrupted = False
    try:
        # fold by fold: a fold's rows are copied for its first run and
        # freed after its last (_Data)
        order = sorted(plans, key=lambda p: (p.fold or 0, p.index))
        pending = [pool.submit(train, plan) for plan in order]
        while pending:
            finished, left = futures.wait(pending, _POLL_SECONDS,
                                          futures.FIRST_COMPLETED)
            for future in finished:
                future.result()  # an error in a run ends the sweep
            pending = list(left)
            if progress is not None:
                progress.update(len(done))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        stop.set()  # what is running stops within one call into C
        pool.shutdown(wait=True, cancel_futures=True)
        if progress is not None:
            progress.close()
    return [done[i] for i in sorted(done)], interrupted

"""Sweeps: one network per setting of a grid (x seed x fold), all at once.

Chapter 3 of Nielsen and the CS231n notes choose l2, lr, the dropout rate
and the epochs by training the same network many times.  `sweep` trains
every run of such a grid in one call, spread over the cores: each run is a
plain ``Network.fit`` on one thread (creg's C releases the GIL), so run i
is bitwise the fit a user would make alone, whatever runs surround it and
however many threads the sweep uses (creg's results do not depend on the
thread count).  The data are converted once per dtype and read in place
by every run (class labels are checked once and each fit one-hot encodes
its own); with cv, a fold's rows are copied when its first run starts
and freed after its last, the folds trained one after another.
"""
from __future__ import annotations

import functools
import itertools
import math
import types
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

import numpy as np
from numpy.typing import ArrayLike

from creg import _sweep_arguments as arguments, _validation as check
from creg._sweep_runs import Data, Plan, run_all, show_warnings
from creg.early_stopping import EarlyStopping
from creg.history import History
from creg.network import Network

__all__ = ["sweep", "SweepResult", "SweepRun", "SweepBest"]

METRICS = ("train_cost", "train_accuracy", "eval_cost", "eval_accuracy")


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
        The settings of the run: the grid point's and the fixed ones (a
        fixed ``patience`` only where the run stops early or halves).
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
    params: dict[str, Any]
    seed: int
    fold: Optional[int]
    network: Network = field(repr=False)
    history: History = field(repr=False)
    ended: str
    message: Optional[str] = None

    def metric(self, name: str) -> float:
        """The value of `name` (one of METRICS) at the epoch whose weights
        the run's network holds: the last, or the one early stopping put
        back (``history.restored_epoch``); NaN when there is none.

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
        return self.history._kept(check.choice("metric", name, METRICS))


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

    params: dict[str, Any]
    score: float
    runs: list[SweepRun] = field(repr=False)


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
    evaluated : bool
        Whether the runs were evaluated on held-out rows (validation_data
        or cv), so that they have ``eval_*`` metrics.

    Examples
    --------
    >>> import creg
    >>> X, y = creg.datasets.load_digits(dtype="float32")
    >>> result = creg.sweep(X, y, [64, 10, 10], {"lr": [0.1, 0.2]},
    ...                     epochs=1)
    >>> len(result), result.planned, result.interrupted
    (2, 2, False)
    """

    runs: list[SweepRun]
    points: list[dict[str, Any]]
    planned: int
    interrupted: bool = False
    evaluated: bool = False
    _varying: list = field(default_factory=list, repr=False)
    # what chunks of one sweep share: seeds, folds, k, the data's shapes
    _origin: tuple = field(default=(), repr=False)

    def __len__(self):
        return len(self.runs)

    @classmethod
    def merge(cls, parts: Sequence["SweepResult"]) -> "SweepResult":
        """One result from the results of a sweep's chunks.

        Parameters
        ----------
        parts : sequence of SweepResult
            The results of the same sweep called with ``chunk=(i, k)``,
            any subset of i in 0..k-1, in any order.  Chunks of sweeps
            with other grids, seeds, folds, k or data shapes are refused
            (ValueError); the data's values are not compared.

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
            if not _same_points(part.points, first.points):
                raise ValueError("these results come from sweeps over "
                                 "different grids")
            if (part.evaluated, part._origin) != (first.evaluated,
                                                  first._origin):
                raise ValueError(
                    "these results come from different sweeps: their "
                    "seeds, folds, chunk counts, data shapes, sizes or "
                    "validation differ")
        runs = sorted((r for p in parts for r in p.runs),
                      key=lambda r: r.index)
        if len({r.index for r in runs}) < len(runs):
            raise ValueError("two results hold the same run: merge each "
                             "chunk once")
        return cls(runs=runs, points=first.points,
                   planned=sum(p.planned for p in parts),
                   interrupted=any(p.interrupted for p in parts),
                   evaluated=first.evaluated, _varying=first._varying,
                   _origin=first._origin)

    def __iter__(self):
        return iter(self.runs)

    def __getitem__(self, index):
        return self.runs[index]

    def table(self) -> Any:
        """One row per run: point, seed, fold, the settings the grid
        varies, why it ended, the epochs it ran (``epochs_run``: the
        grid may vary ``epochs``, the setting), its metrics (`metric`: of
        the weights its network holds) and its seconds of training.

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
        columns = ["point", "seed", "fold", *self._varying, "ended",
                   "epochs_run", *METRICS, "seconds"]
        rows = []
        for run in self.runs:
            row: dict[str, Any] = {"point": run.point, "seed": run.seed,
                                   "fold": run.fold}
            row.update({name: run.params.get(
                name, arguments.DEFAULTS.get(name)) for name in self._varying})
            row.update(ended=run.ended, epochs_run=run.history.epochs)
            row.update({name: run.metric(name) for name in METRICS})
            row["seconds"] = float(sum(run.history.seconds))
            rows.append(row)
        try:
            import pandas
        except ImportError:
            return rows
        # the columns even without a row (a chunk or Ctrl-C left none)
        return pandas.DataFrame(rows, columns=columns)

    def scores(self, metric: Optional[str] = None) -> list:
        """Each grid point's mean `metric` over its runs (seeds x folds).

        NaN for a point with a diverged run, or whose runs did not all
        end (Ctrl-C, or a merge of some of the chunks): a mean over some
        of its folds or seeds does not compare with the others'.

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
        # seeds x folds (a result built by hand has no origin: its runs)
        each = (len(self._origin[0]) * self._origin[1] if self._origin
                else 1)
        means = []
        for point in range(len(self.points)):
            runs = [r for r in self.runs if r.point == point]
            values = [r.metric(metric) for r in runs]
            diverged = any(r.ended == "diverged" for r in runs)
            means.append(math.nan if len(runs) < each or not runs
                         or diverged else float(np.mean(values)))
        return means

    def best(self, metric: Optional[str] = None) -> SweepBest:
        """The grid point with the best mean `metric` over its runs.

        Accuracies are maximized, costs minimized.  A point with a
        diverged run, or runs that did not all end, is never chosen over
        one without, and where every point has one there is no best
        (ValueError).

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
        if metric.endswith("accuracy") and all(
                run.network.output == "linear" for run in self.runs):
            raise ValueError(
                f"{metric} is not defined for a linear output (a "
                f"regression): rank by {metric[:-len('accuracy')]}cost")
        sign = 1.0 if metric.endswith("accuracy") else -1.0
        ranks = [-math.inf if math.isnan(s) else sign * s
                 for s in self.scores(metric)]
        if all(math.isinf(r) and r < 0 for r in ranks):
            raise ValueError(
                f"no grid point has a {metric} to rank: every point has a "
                "run that diverged or did not finish (each run's `ended` "
                "says why it stopped)")
        point = int(np.argmax(ranks))
        return SweepBest(dict(self.points[point]),
                         self.scores(metric)[point],
                         [r for r in self.runs if r.point == point])

    def _metric(self, metric):
        if not self.runs:
            raise ValueError("the sweep has no finished run to choose from")
        if metric is None:
            # the sweep's, not a run's: a run that diverged in its first
            # epoch has no metric at all
            prefix = "eval" if self.evaluated else "train"
            linear = any(r.network.output == "linear" for r in self.runs)
            return f"{prefix}_{'cost' if linear else 'accuracy'}"
        metric = check.choice("metric", metric, METRICS)
        if metric.startswith("eval") and not self.evaluated:
            raise ValueError(f"metric={metric!r} needs held-out rows: this "
                             "sweep had neither validation_data nor cv")
        return metric


def sweep(X: ArrayLike, y: ArrayLike, sizes: Sequence[int],
          grid: Union[Mapping[str, Sequence[Any]], Sequence[Mapping]], *,
          seeds: Iterable[int] = (0,), cv: Any = None,
          validation_data: Optional[tuple] = None,
          n_threads: Optional[int] = None, verbose: Union[bool, int] = False,
          chunk: Optional[tuple[int, int]] = None,
          **fixed: Any) -> SweepResult:
    """Train one network per grid point, seed and fold, on every core.

    Run i is ``Network(sizes, seed=seeds[s], **net_settings).fit(X_train,
    y_train, validation_data=..., **fit_settings)``, bitwise, whatever the
    grid around it and the thread count.  Runs are spread over n_threads
    threads, each fit on one thread; the data are converted once and
    read in place by every run (class labels are checked once and each
    fit one-hot encodes its own; with cv, the folds are trained one after
    another, each fold's rows copied only while its runs train).  In a
    fold, the runs of most epochs start first, so that the last to end
    are short ones, not a long run alone on one core.  A run that
    diverges ends alone and says so (``ended="diverged"``); Ctrl-C stops
    the sweep within about 50 ms and returns the runs that had ended.

    Parameters
    ----------
    X, y : array-like
        Training data, as for `Network.fit`.
    sizes : sequence of int
        The architecture, as for `Network`.
    grid : dict of lists, or list of dicts
        A dict ``{name: [values...]}`` runs every combination of the
        values (an empty dict is one point, the fixed settings alone, as
        in scikit-learn's ParameterGrid); a list of dicts runs each dict
        as one point.  Names are
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
        Threads for the whole sweep (None: creg's default thread count,
        ``OMP_NUM_THREADS`` or the usable CPUs, as for a fit; -1: all
        usable CPUs); the runs' results do not depend on it.
    verbose : bool or int, default=False
        Show the runs done out of the total while the sweep runs (0 is
        False, any larger int True).
    chunk : (i, k), optional
        Train only the i-th of k chunks of the runs (run r when
        r % k == i), e.g. one per machine of a Dask cluster;
        `SweepResult.merge` joins the chunks' results into what one call
        returns.
    **fixed
        Settings shared by every run, with the names grid takes.  An
        EarlyStopping (here or in the grid) gives each run one of its
        own with the same settings, whose score callable is yours,
        called from the runs' threads; yours keeps no run's scores.

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
        For an empty list (of points, or of a setting's values) or a bad
        value, naming the setting and its grid point, before any run
        starts.

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
    points, varying = arguments.grid_points(grid, fixed)
    seeds = arguments.seeds_of(seeds)
    verbose = check.verbose(verbose)
    threads = check.pool_threads(n_threads)
    if cv is not None and validation_data is not None:
        raise ValueError("give cv or validation_data, not both: each fold's "
                         "test rows are its validation data")
    data = Data(X, y, cv, validation_data)
    for i, params in enumerate(points):
        arguments.check_point(i, params, data.has_validation,
                              "patience" in varying, data.fewest_rows())
    check.patience_read(fixed.get("patience"),
                        any(map(arguments.reads_patience, points)))
    index, count = arguments.chunk_of(chunk)
    every = itertools.product(enumerate(points), seeds, data.folds)
    plans = [Plan(r, point, params, seed, fold)
             for r, ((point, params), seed, fold) in enumerate(every)
             if r % count == index]
    origin = (tuple(seeds), len(data.folds), count, _shape(X), _shape(y),
              _sizes_key(sizes), data.fold_digest())
    result = SweepResult(runs=[], points=[dict(p) for p in points],
                         planned=len(plans), evaluated=data.has_validation,
                         _varying=varying, _origin=origin)
    if not plans:
        return result
    templates: dict = {}
    for plan in plans:
        plan.build(sizes, data, templates, varying)
    outcomes, result.interrupted = run_all(
        plans, min(threads, len(plans)), max(1, threads // len(plans)),
        verbose)
    show_warnings(plans)
    result.runs = [SweepRun(index=plan.index, point=plan.point,
                            params=dict(plan.params), seed=plan.seed,
                            fold=plan.fold, network=plan.network,
                            history=history, ended=ended, message=message)
                   for plan in plans if plan.index in outcomes
                   for history, ended, message in [outcomes[plan.index]]]
    return result


def _sizes_key(sizes):
    """sizes as a tuple of ints, whatever sequence holds them (checked by
    the runs' Network; repr where they are no ints)."""
    try:
        return tuple(int(s) for s in sizes)
    except (TypeError, ValueError):
        return repr(sizes)


def _shape(values):
    shape = getattr(values, "shape", None)
    if shape is not None:
        return tuple(shape)
    try:
        return np.shape(values)
    except ValueError:  # ragged: refused by the chunks that train
        return None


def _same_points(a: Sequence[dict], b: Sequence[dict]) -> bool:
    """Whether two chunks' grid points hold the same settings.  Chunks
    come back from Dask workers as unpickled copies, so settings compare
    by what they hold (_same), not by identity."""
    return len(a) == len(b) and all(
        p.keys() == q.keys() and all(_same(p[k], q[k]) for k in p)
        for p, q in zip(a, b))


def _same(x: Any, y: Any, seen: Optional[set] = None) -> bool:
    """x and y hold the same setting: an EarlyStopping by its settings; a
    function by its name, code, defaults and the values it closes over (a
    function of __main__ comes back as another object, cloudpickle sending
    it by value; two closures of one factory share the rest); a partial,
    a bound method and an object without an __eq__ of its own by their
    parts; an array by its values; anything else by ==.  `seen`: the
    pairs being compared, met again where a setting refers to itself (a
    recursive function, an object holding itself)."""
    if x is y:
        return True
    if type(x) is not type(y):
        return False
    seen = set() if seen is None else seen
    if (id(x), id(y)) in seen:
        return True  # the same if all else is
    seen.add((id(x), id(y)))

    def same(a: Any, b: Any) -> bool:
        return _same(a, b, seen)
    if isinstance(x, EarlyStopping):
        return same(x._settings(), y._settings())
    if isinstance(x, types.FunctionType):
        return same(_function_parts(x), _function_parts(y))
    if isinstance(x, functools.partial):
        return same((x.func, x.args, x.keywords), (y.func, y.args, y.keywords))
    if isinstance(x, types.MethodType):
        return same((x.__func__, x.__self__), (y.__func__, y.__self__))
    if isinstance(x, np.ndarray):
        return x.dtype == y.dtype and np.array_equal(x, y)
    if isinstance(x, (tuple, list)):
        return len(x) == len(y) and all(map(same, x, y))
    if isinstance(x, dict):
        return x.keys() == y.keys() and all(same(x[k], y[k]) for k in x)
    if type(x).__eq__ is object.__eq__ and hasattr(x, "__dict__"):
        return same(vars(x), vars(y))
    return _equal(x, y)


_EMPTY_CELL = object()  # a closure's variable not bound yet


def _function_parts(f: Any) -> tuple:
    cells = []
    for cell in f.__closure__ or ():
        try:
            cells.append(cell.cell_contents)
        except ValueError:
            cells.append(_EMPTY_CELL)
    return (f.__module__, f.__qualname__, f.__code__, f.__defaults__,
            f.__kwdefaults__, cells)


def _equal(x: Any, y: Any) -> bool:
    """x == y as a bool; False where == gives no single truth value."""
    try:
        return bool(x == y)
    except (TypeError, ValueError):
        return False

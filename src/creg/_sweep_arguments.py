"""A sweep's arguments, checked and expanded before any run starts: the
names a run may set, the grid into its points, the seeds, the chunk and
cv into folds.  Every message names the argument (and the grid point)."""
import inspect
import itertools
from typing import Iterable, Mapping, Sequence

import numpy as np

from creg import _validation as check
from creg.early_stopping import EarlyStopping
from creg.network import _TRAIN_METRICS as TRAIN_METRICS, Network

NETWORK_SETTINGS = ("hidden", "output", "cost", "init", "dtype")
# fit's own arguments that the sweep sets itself
SWEEP_OWNED = {"self": None, "X": None, "y": None,
               "validation_data": "validation_data=",
               "n_threads": "n_threads=", "verbose": "verbose="}
FIT_SETTINGS = tuple(name for name in inspect.signature(Network.fit)
                     .parameters if name not in SWEEP_OWNED)
DEFAULTS = {name: p.default for f in (Network.__init__, Network.fit)
            for name, p in inspect.signature(f).parameters.items()
            if p.default is not inspect.Parameter.empty}


def _optional_positive(name, value):
    return None if value is None else check.positive(name, value)


def _stopping(name, value):
    if isinstance(value, EarlyStopping):
        value._check()  # set since it was made, say stop.patience = 0
        return value
    return check.early_stopping(value)


def _one_of(allowed):
    return lambda name, value: check.choice(name, value, allowed)


# Every setting a run may take, checked before any run starts (fit checks
# them again, as it always does).  The network's are checked by building it.
_CHECKS = {
    "epochs": lambda name, value: check.positive_int(
        name, value, below=check.EPOCH_LIMIT),  # a fresh network's bound
    "batch_size": check.positive_int,
    "lr": check.positive, "l2": check.non_negative,
    "l1": check.non_negative, "input_noise": check.non_negative,
    "momentum": check.rate, "dropout": check.rate,
    "max_norm": _optional_positive,
    "patience": lambda name, value: check.patience(value, False, None),
    "penalty_scale": _one_of(check.PENALTY_SCALES),
    "l1_method": _one_of(check.L1_METHODS),
    "train_metrics": _one_of(TRAIN_METRICS),
    "shuffle": check.boolean, "early_stopping": _stopping,
    "lr_schedule": lambda name, value: check.lr_schedule(value),
}
assert set(_CHECKS) == set(FIT_SETTINGS), "a fit setting lacks a check"


def _check_name(name, where):
    if not isinstance(name, str):
        raise TypeError(f"the names in {where} must be setting names "
                        f"(str); got {name!r}")
    if name in NETWORK_SETTINGS or name in FIT_SETTINGS:
        return
    if name == "seed":
        raise TypeError(f"creg.sweep() takes the seeds as seeds=[...], not "
                        f"seed in {where}")
    if name in SWEEP_OWNED:
        hint = (f": it is the sweep's own argument, {SWEEP_OWNED[name]}"
                if SWEEP_OWNED[name] else "")
        raise TypeError(f"{name} cannot be set in {where}{hint}")
    concept, note = check._concept(name)  # another library's name for it
    head = f"creg.sweep() got an unexpected keyword argument {name!r}"
    if concept == "the seed":
        raise TypeError(f"{head}: the seeds are seeds=[...]")
    if concept == "the layer sizes":
        raise TypeError(f"{head}: the layer sizes are sweep's argument "
                        "sizes, the same for every run")
    if concept is not None:
        names = check._CONCEPTS[concept]
        ours = names.get("fit", names.get("Network"))
        if ours in NETWORK_SETTINGS or ours in FIT_SETTINGS:
            raise TypeError(f"{head}: creg calls {concept} {ours!r}, a "
                            f"setting of the sweep or of its grid"
                            f"{note or ''}")
    raise TypeError(check.unexpected_keyword(
        name, "fit", "creg.sweep", NETWORK_SETTINGS + FIT_SETTINGS))


def grid_points(grid, fixed):
    """The list of grid points (dicts, fixed settings merged in) and the
    names the grid varies."""
    for name in fixed:
        _check_name(name, "the fixed settings")
    if isinstance(grid, Mapping):
        for name, values in grid.items():
            _check_name(name, "grid")
            # np.ndim would fail on a list of a None and an array
            if isinstance(values, (str, bytes)) or not isinstance(
                    values, Iterable) or getattr(values, "ndim", 1) == 0:
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


def reads_patience(params):
    """Whether a run of these settings reads fit's patience."""
    return check.reads_patience(params.get("early_stopping"),
                                params.get("lr_schedule"))


def check_point(index, params, has_validation, patience_varies, rows):
    """Refuses a bad setting of grid point `index`, naming the point; a
    patience that the grid varies must be read at every point.  `rows`:
    the fewest training rows of a run (its l2/n is the largest)."""
    try:
        if patience_varies:
            check.patience_read(params.get("patience"),
                                reads_patience(params))
        for name, value in params.items():
            if name in _CHECKS:
                _CHECKS[name](name, value)
        dtype = check.float_dtype(params.get("dtype", DEFAULTS["dtype"]))
        if "lr" in params:  # and not 0 or inf in the run's dtype
            check.learning_rate(params["lr"], dtype)
        if "input_noise" in params:  # and not inf in it
            check.input_noise(params["input_noise"], dtype)
        scale = (1 / rows if params.get("penalty_scale", "n") == "n"
                 else 1)
        for name in ("l2", "l1"):  # nor their per-step strengths
            if name in params:
                check.penalty_strength(name, params[name], scale, dtype)
        stopper = params.get("early_stopping", False)
        check.patience(params.get("patience"),
                       isinstance(stopper, EarlyStopping),
                       params.get("lr_schedule"))
        scored = isinstance(stopper, EarlyStopping) and \
            stopper.score is not None  # it drives the plateaus too
        if not (has_validation or scored):
            check.needs_validation_data(stopper, params.get("lr_schedule"))
    except (TypeError, ValueError) as exc:
        raise named(exc, point_name(index, params)) from None


def named(exc, who):
    """exc's kind, its message prefixed with `who` (a grid point, a run),
    and its notes."""
    named_exc = type(exc)(f"{who}: {exc}")
    for note in getattr(exc, "__notes__", ()):
        named_exc.add_note(note)
    return named_exc


def point_name(index, params):
    """'grid point i (its settings)'."""
    return f"grid point {index} ({shown(params)})"


def shown(params):
    return ", ".join(f"{k}={v!r}" for k, v in params.items())


def chunk_of(chunk):
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


def seeds_of(seeds):
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise TypeError(f"seeds must be a list of ints; got {seeds!r}")
    values = [check.seed(s, f"seeds[{i}]") for i, s in enumerate(seeds)]
    if not values:
        raise ValueError("seeds is empty: give at least one seed")
    return list(dict.fromkeys(values))


def splits(cv, X, y):
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
    splits, n = [], X.shape[0] if X.ndim else 0
    for i, split in enumerate(pairs):
        try:
            train, test = split
        except (TypeError, ValueError):
            raise TypeError(f"cv's fold {i} must be a (train, test) pair of "
                            "index arrays") from None
        splits.append((_fold_rows(train, "train", i, n),
                       _fold_rows(test, "test", i, n)))
    if not splits:
        raise ValueError("cv gave no fold")
    return splits


def _fold_rows(rows, part, i, n):
    """One side of cv's fold i as row indices: integers in [0, n) (or a
    boolean mask of n rows), at least one.  Negative indices are refused,
    not counted from the end as numpy would."""
    rows = np.asarray(rows)
    where = f"cv's fold {i}: its {part} rows"
    if rows.dtype == bool and rows.shape == (n,):
        rows = np.flatnonzero(rows)
    if rows.ndim != 1 or (rows.size and not np.issubdtype(rows.dtype,
                                                           np.integer)):
        raise TypeError(f"{where} must be a 1-D array of row indices; got "
                        f"shape {rows.shape} of {rows.dtype}")
    if rows.size == 0:
        raise ValueError(f"{where} are empty")
    if rows.min() < 0 or rows.max() >= n:
        raise ValueError(f"{where} must be indices in [0, {n}), the rows of "
                         f"X; got {rows.min()} to {rows.max()}")
    return rows

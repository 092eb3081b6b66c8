"""creg.sweep: every run bitwise equal to its own fit, whatever the grid
around it and the thread count; divergence, Ctrl-C, progress, table, best
and the argument checks."""
import _thread
import itertools
import math
import sys
import threading
import warnings

import numpy as np
import pytest

from conftest import noisy_problem

import creg
from creg import _sweep_arguments as arguments, _sweep_runs, sweeps

SIZES = [12, 6, 3]
N = 60


def data(dtype=np.float64, n=N, seed=1):
    """Rows whose class is the argmax of a fixed projection: learnable,
    so no run warns that it stays at chance level."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, SIZES[0])).astype(dtype)
    projection = np.random.default_rng(0).standard_normal((SIZES[0],
                                                           SIZES[-1]))
    return X, np.argmax(X @ projection, axis=1)


def same_history(a, b):
    """Every per-epoch list and flag equal (NaN equal to NaN), seconds
    aside."""
    da, db = a.to_dict(), b.to_dict()
    da.pop("seconds"), db.pop("seconds")
    assert da.keys() == db.keys()
    for key in da:
        assert np.array_equal(np.asarray(da[key], dtype=object).astype(str),
                              np.asarray(db[key], dtype=object).astype(str)
                              ), key


def alone(X, y, run, validation=None, **network_settings):
    """The run as a user would fit it alone: default threads, own network."""
    net_settings = {k: v for k, v in run.params.items()
                    if k in arguments.NETWORK_SETTINGS}
    fit_settings = {k: v for k, v in run.params.items()
                    if k in arguments.FIT_SETTINGS}
    net = creg.Network(SIZES, seed=run.seed, **net_settings,
                       **network_settings)
    try:
        history = net.fit(X, y, validation_data=validation, **fit_settings)
    except creg.DivergenceError as exc:
        history = exc.history
    return net, history


def assert_runs_alone(result, X, y, validation=None):
    assert len(result.runs) == result.planned
    for run in result.runs:
        net, history = alone(X, y, run, validation)
        assert net.params.dtype == run.network.params.dtype
        assert np.array_equal(net.params, run.network.params), run.params
        same_history(history, run.history)


# One grid per setting a run may vary (two values each, off and on).
SETTINGS = {
    "lr": [0.05, 0.5],
    "l2": [0.0, 3.0],
    "l1": [0.0, 2.0],
    "l1_method": ["prox", "subgradient"],
    "max_norm": [None, 0.5],
    "momentum": [0.0, 0.9],
    "dropout": [0.0, 0.3],
    "input_noise": [0.0, 0.2],
    "penalty_scale": ["n", "none"],
    "epochs": [1, 3],
    "batch_size": [7, 60],
    "shuffle": [True, False],
    "train_metrics": ["running", "exact"],
    "early_stopping": [False, True],
    "lr_schedule": [None, "halve_on_plateau",
                    lambda epoch, history: 0.1 / (1 + epoch)],
    "patience": [1, 2],
    "hidden": ["sigmoid", "relu"],
    "output": ["softmax", "sigmoid"],
    "init": ["glorot", "normalized"],
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_each_setting_runs_as_alone(name, dtype):
    X, y = data()
    X_val, y_val = data(n=25, seed=2)
    fixed = dict(epochs=4, lr=0.2, l1=0.5, dtype=dtype)
    fixed.pop(name, None)
    if name == "patience":  # read beside early stopping (or halving) only
        fixed["early_stopping"] = True
    result = creg.sweep(X, y, SIZES, {name: SETTINGS[name]}, n_threads=2,
                        validation_data=(X_val, y_val), **fixed)
    assert_runs_alone(result, X, y, (X_val, y_val))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n_threads", [1, 2, 3])
@pytest.mark.parametrize("k", [1, 2, 7, 33])
def test_k_runs_any_threads(k, n_threads, dtype):
    X, y = data()
    values = itertools.cycle(itertools.product(
        [0.0, 1.0, 4.0], [0.0, 0.2], [0.1, 0.4], [None, 1.0]))
    grid = [dict(zip(("l2", "dropout", "lr", "max_norm"), next(values)),
                 momentum=0.5 * (i % 2)) for i in range(k)]
    result = creg.sweep(X, y, SIZES, grid, n_threads=n_threads, epochs=2,
                        dtype=dtype)
    assert len(result) == k
    assert [r.point for r in result] == list(range(k))
    assert_runs_alone(result, X, y)


def test_seeds_and_folds_multiply_the_runs():
    X, y = data()
    result = creg.sweep(X, y, SIZES, {"l2": [0.0, 1.0]}, seeds=[3, 5], cv=3,
                        epochs=2, n_threads=3)
    assert result.planned == 2 * 2 * 3
    assert [(r.point, r.seed, r.fold) for r in result] == list(
        itertools.product([0, 1], [3, 5], [0, 1, 2]))
    folds = arguments.splits(3, X, y)
    for run in result:
        train, test = folds[run.fold]
        net, history = alone(X[train], y[train], run, (X[test], y[test]))
        assert np.array_equal(net.params, run.network.params)
        same_history(history, run.history)


def test_int_cv_is_sklearns_kfold():
    model_selection = pytest.importorskip("sklearn.model_selection")
    X, y = data(n=23)
    ours = arguments.splits(4, X, y)
    theirs = list(model_selection.KFold(4).split(X, y))
    assert len(ours) == len(theirs)
    for (a, b), (c, d) in zip(ours, theirs):
        assert np.array_equal(a, c) and np.array_equal(b, d)
    by_splitter = creg.sweep(X, y, SIZES, {"lr": [0.1]}, cv=model_selection
                             .KFold(4), epochs=1)
    by_int = creg.sweep(X, y, SIZES, {"lr": [0.1]}, cv=4, epochs=1)
    for a, b in zip(by_splitter, by_int):
        assert np.array_equal(a.network.params, b.network.params)


def test_one_diverging_run_ends_alone():
    X, y = data()
    Y = 1e6 * X[:, :3]
    sizes = [SIZES[0], 3]
    result = creg.sweep(X, Y, sizes, {"lr": [1e-9, 100.0, 2e-9]},
                        output="linear", epochs=3, n_threads=2)
    assert [r.ended for r in result] == ["epochs", "diverged", "epochs"]
    diverged = result[1]
    assert "diverged in epoch" in diverged.message
    assert diverged.history.epochs < 3
    assert np.isfinite(diverged.network.params).all()
    for run in result:
        net = creg.Network(sizes, output="linear", seed=0)
        try:
            history = net.fit(X, Y, epochs=3, lr=run.params["lr"])
        except creg.DivergenceError as exc:
            history = exc.history
        assert np.array_equal(net.params, run.network.params)
        same_history(history, run.history)
    assert result.best("train_cost").params["lr"] != 100.0
    scores = result.scores("train_cost")
    assert math.isnan(scores[1]) and scores[0] == result[0].metric(
        "train_cost")


def test_no_best_point_when_every_point_diverged():
    X, y = data()
    Y = 1e6 * X[:, :3]
    result = creg.sweep(X, Y, [SIZES[0], 3], {"lr": [300.0, 1000.0]},
                        output="linear", epochs=2, n_threads=1)
    assert [r.ended for r in result] == ["diverged", "diverged"]
    with pytest.raises(ValueError, match="no grid point has a train_cost "
                       "to rank: every point has a run that diverged"):
        result.best("train_cost")


def test_early_stopping_says_why_it_ended():
    X, y = data()
    X_val, y_val = data(n=25, seed=2)
    result = creg.sweep(X, y, SIZES, {"early_stopping": [False, True]},
                        validation_data=(X_val, y_val), epochs=40, lr=0.5,
                        patience=1)
    assert [r.ended for r in result] == ["epochs", "early_stopping"]
    assert result[1].history.epochs < 40
    # each run's params replay as its fit (fit refuses an unread patience)
    assert [r.params.get("patience") for r in result] == [None, 1]
    for run in result:
        again = creg.Network(SIZES, seed=run.seed).fit(
            X, y, validation_data=(X_val, y_val), **run.params)
        assert again.epochs == run.history.epochs


@pytest.mark.filterwarnings("ignore::creg.EarlyStoppingWarning")
def test_ctrl_c_returns_the_runs_that_ended(monkeypatch, ctrl_c):
    X, y = data()
    train = _sweep_runs.Plan.train
    started = []

    def train_interrupted(plan, n_threads, stop):
        started.append(plan)
        if plan.point == 1:  # Ctrl-C while this run's fit runs
            threading.Timer(0.2, _thread.interrupt_main).start()
        return train(plan, n_threads, stop)

    monkeypatch.setattr(_sweep_runs.Plan, "train", train_interrupted)
    # runs that only a stop request can end, but the first, which early
    # stopping ends (runs of as many epochs start in grid order)
    validation = data(n=25, seed=2)
    result = creg.sweep(X, y, SIZES, [{"early_stopping": True}, {}, {}],
                        epochs=10**6, patience=1, validation_data=validation,
                        n_threads=1)
    assert result.interrupted
    assert result.planned == 3
    assert [r.point for r in result] == [0]
    assert result[0].ended == "early_stopping"
    net, _ = alone(X, y, result[0], validation)
    assert np.array_equal(net.params, result[0].network.params)
    # the second run stopped inside its fit; the third never started
    assert len(started) == 2
    assert started[1].network.epochs_trained < 10**6


def test_a_fit_started_after_the_stop_request_trains_nothing():
    # a pool may hand a worker one more fit after Ctrl-C: it must stop
    # before its first batch, not after a chunk of training
    from creg import _interrupt
    X, y = data()
    net = creg.Network(SIZES, seed=0)
    before = net.params.copy()
    stop = threading.Event()
    stop.set()
    with _interrupt.stop_when(stop), pytest.raises(KeyboardInterrupt):
        net.fit(X, y, epochs=1, lr=0.1)
    assert np.array_equal(net.params, before)
    assert net.epochs_trained == 0


def test_progress_counts_the_runs(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # the plain line
    X, y = data()
    creg.sweep(X, y, SIZES, {"lr": [0.1, 0.2, 0.3]}, epochs=1, verbose=True)
    err = capsys.readouterr().err
    assert "sweep: 0/3 runs" in err and "sweep: 3/3 runs" in err


def test_table_and_best():
    X, y = data()
    X_val, y_val = data(n=25, seed=2)
    result = creg.sweep(X, y, SIZES, {"lr": [1e-6, 0.5], "l2": [0.0, 1.0]},
                        validation_data=(X_val, y_val), epochs=5)
    table = result.table()
    rows = (table.to_dict("records") if hasattr(table, "to_dict")
            else table)
    assert [(r["lr"], r["l2"]) for r in rows] == [
        (1e-6, 0.0), (1e-6, 1.0), (0.5, 0.0), (0.5, 1.0)]
    for row, run in zip(rows, result):
        assert row["ended"] == "epochs" and row["epochs_run"] == 5
        assert row["eval_accuracy"] == run.history.eval_accuracy[-1]
    # a grid that varies epochs keeps the setting beside what each ran
    stopped = creg.sweep(X, y, SIZES, {"epochs": [2, 60]}, lr=0.5,
                         validation_data=(X_val, y_val),
                         early_stopping=True, patience=1)
    table = stopped.table()
    rows = (table.to_dict("records") if hasattr(table, "to_dict")
            else table)
    assert [r["epochs"] for r in rows] == [2, 60]
    assert [r["epochs_run"] for r in rows] == [
        run.history.epochs for run in stopped]
    assert rows[1]["epochs_run"] < 60
    best = result.best("eval_cost")
    costs = [r.metric("eval_cost") for r in result]
    assert result.scores("eval_cost") == costs
    assert best.score == min(costs)
    assert best.params == result.points[int(np.argmin(costs))]
    assert result.best().score == max(
        r.metric("eval_accuracy") for r in result)


def test_held_out_rows_choose_even_when_the_first_run_diverged():
    # the first run ends in epoch 1 with no metric at all: the sweep's
    # validation data still make eval_accuracy the default
    X, y = data()
    X_val, y_val = data(n=25, seed=2)
    result = creg.sweep(X, y, SIZES, [{"lr": 1e30}, {"lr": 0.5}],
                        validation_data=(X_val, y_val), epochs=3)
    assert result[0].ended == "diverged" and result[0].history.epochs == 0
    assert result.evaluated
    assert result.scores() == result.scores("eval_accuracy")
    assert result.scores()[1] == result[1].history.eval_accuracy[-1]


def test_table_of_no_runs_has_the_columns():
    pandas = pytest.importorskip("pandas")
    X, y = data()
    empty = creg.sweep(X, y, SIZES, {"lr": [0.1]}, epochs=1, chunk=(1, 2))
    full = creg.sweep(X, y, SIZES, {"lr": [0.1]}, epochs=1)
    assert isinstance(empty.table(), pandas.DataFrame)
    assert list(empty.table().columns) == list(full.table().columns)
    assert len(empty.table()) == 0


def test_table_without_pandas(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    X, y = data()
    rows = creg.sweep(X, y, SIZES, {"lr": [0.1, 0.2]}, epochs=1).table()
    assert isinstance(rows, list) and [r["lr"] for r in rows] == [0.1, 0.2]
    assert math.isnan(rows[0]["eval_cost"])


def test_x_is_read_in_place_and_folds_one_at_a_time(monkeypatch):
    X, y = data(np.float32)
    seen, folds_held = [], []
    fit = creg.Network.fit
    acquire = _sweep_runs.Data.acquire

    def spy_fit(net, X_run, *args, **kwargs):
        seen.append(X_run)
        return fit(net, X_run, *args, **kwargs)

    def spy_acquire(self, net, fold):
        got = acquire(self, net, fold)
        folds_held.append(len(self._folds))
        return got

    monkeypatch.setattr(creg.Network, "fit", spy_fit)
    monkeypatch.setattr(_sweep_runs.Data, "acquire", spy_acquire)
    creg.sweep(X, y, SIZES, {"lr": [0.1, 0.2, 0.3]}, epochs=1,
               dtype="float32", n_threads=2)
    assert len(seen) == 3 and all(X_run is X for X_run in seen)
    seen.clear(), folds_held.clear()
    result = creg.sweep(X, y, SIZES, {"lr": [0.1, 0.2, 0.3]}, cv=4,
                        epochs=1, dtype="float32", n_threads=1)
    assert len(seen) == 12 and folds_held == [1] * 12
    # the runs of a fold share its rows; the sweep still returns them in
    # grid order
    assert len({id(X_run) for X_run in seen}) == 4
    assert [(r.point, r.fold) for r in result] == [
        (p, f) for p in range(3) for f in range(4)]


def test_runs_of_most_epochs_start_first_in_each_fold(monkeypatch):
    # grid order would start a fold with its 1-epoch runs and leave a
    # 4-epoch run to end alone; one worker shows the order runs start in
    X, y = data()
    started = []
    train = _sweep_runs.Plan.train

    def spy_train(plan, n_threads, stop):
        started.append((plan.fold, plan.params["epochs"], plan.index))
        return train(plan, n_threads, stop)

    monkeypatch.setattr(_sweep_runs.Plan, "train", spy_train)
    result = creg.sweep(X, y, SIZES, {"l2": [0.0, 0.1], "epochs": [1, 4]},
                        cv=2, lr=0.1, n_threads=1)
    runs = [(run.fold, run.params["epochs"], run.index) for run in result]
    assert started == sorted(runs, key=lambda r: (r[0], -r[1], r[2]))
    assert started[:2] == [(0, 4, 2), (0, 4, 6)]
    # the result keeps the grid's order
    assert [run.index for run in result] == list(range(8))


ROWS = np.arange(N)


def _stopper_changed_to(**settings):
    stopper = creg.EarlyStopping(2)
    vars(stopper).update(settings)
    return stopper


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(grid={"learning_rate": [0.1]}), TypeError, "'lr'"),
    (dict(grid={"lr": [0.1]}, alpha=1.0), TypeError, "alpha"),
    (dict(grid={"seed": [1, 2]}), TypeError, "seeds="),
    # other libraries' names: what the sweep itself calls them
    (dict(grid={"lr": [0.1]}, random_state=1), TypeError,
     "'random_state': the seeds are seeds=[...]"),
    (dict(grid={"activation": ["tanh"]}), TypeError,
     "creg calls the hidden layers' activation 'hidden', a setting of the "
     "sweep or of its grid"),
    (dict(grid={"learning_rate": [0.1]}), TypeError,
     "creg calls the learning rate 'lr'"),
    (dict(grid={"sizes": [[12, 3]]}), TypeError,
     "the layer sizes are sweep's argument sizes"),
    (dict(grid={"lr": [0.1]}, n_threads_=1), TypeError, "n_threads_"),
    (dict(grid={"X": [1]}), TypeError, "X cannot be set in grid"),
    (dict(grid={"lr": [0.1]}, verbose_=1), TypeError, "verbose_"),
    # a misspelt setting is matched against the network's and fit's names
    (dict(grid={"hiden": [0.1]}), TypeError, "did you mean 'hidden'?"),
    (dict(grid={"lr": [0.1]}, l1_methd="prox"), TypeError,
     "did you mean 'l1_method'?"),
    (dict(grid=[{"n_threads": 2}]), TypeError, "n_threads="),
    (dict(grid={"lr": 0.1}), TypeError, "grid['lr'] must be a list"),
    (dict(grid={"lr": np.array(0.1)}), TypeError,
     "grid['lr'] must be a list"),
    (dict(grid={"lr": []}), ValueError, "grid['lr'] is empty"),
    # a list numpy cannot make an array of is still a list of values
    (dict(grid={"lr_schedule": [None, np.array([0.2, 0.1])]}), TypeError,
     "grid point 1 (lr_schedule=array([0.2, 0.1])): lr_schedule must be"),
    (dict(grid=[]), ValueError, "empty list"),
    (dict(grid=[{"lr": 0.1}, 3]), TypeError, "grid[1]"),
    (dict(grid="lr"), TypeError, "dict of lists"),
    (dict(grid={"lr": [0.1, -1.0]}), ValueError, "grid point 1"),
    (dict(grid={"dropout": [1.5]}), ValueError, "dropout must be in"),
    # an lr the run's dtype holds as 0 or inf, before any run starts
    (dict(grid={"lr": [0.1, 1e-50]}, dtype="float32"), ValueError,
     "grid point 1 (dtype='float32', lr=1e-50): lr=1e-50 is 0 in float32"),
    (dict(grid={"lr": [0.1, 1e39]}), ValueError,
     "grid point 1 (lr=1e+39): lr=1e+39 is inf in float32"),
    (dict(grid={"lr": [1e39], "dtype": ["float64", "f4"]}), ValueError,
     "grid point 1 (lr=1e+39, dtype='f4'): lr=1e+39 is inf in float32"),
    (dict(grid={"epochs": [1, 2**63]}), ValueError,
     f"grid point 1 (epochs={2**63}): epochs must be < {2**63}"),
    (dict(grid={"input_noise": [0.1, 1e39]}), ValueError,
     "grid point 1 (input_noise=1e+39): input_noise=1e+39 is inf in "
     "float32"),
    # as are l1 and l2 strengths, not after the runs before them trained
    (dict(grid={"l1": [0.1, 1e39]}, penalty_scale="none"), ValueError,
     "grid point 1 (penalty_scale='none', l1=1e+39): l1=1e+39 is inf in "
     "float32"),
    (dict(grid={"l2": [0.1, 1e45]}), ValueError,
     "grid point 1 (l2=1e+45): l2=1e+45 (a per-step strength of "),
    (dict(grid={"hidden": ["swish"]}), ValueError, "hidden must be one of"),
    (dict(grid={"dtype": ["f4,("]}, lr=0.1), ValueError,
     "grid point 0 (lr=0.1, dtype='f4,('): dtype must be one of"),
    # fit's patience is not the EarlyStopping's: refused before any run
    (dict(grid=[{}, {"early_stopping": creg.EarlyStopping(3)}], patience=5),
     ValueError, "grid point 1 (patience=5, early_stopping=EarlyStopping("
     "patience=3, restore='on_stop')): patience=5 is not used with an "
     "EarlyStopping"),
    (dict(grid={"lr": [0.1]}, lr=0.2), ValueError, "both in grid"),
    # a patience no run reads (fit refuses it), varied or fixed
    (dict(grid={"patience": [2, 5]}), ValueError,
     "grid point 0 (patience=2): patience=2 is used only with "
     "early_stopping=True or lr_schedule='halve_on_plateau'"),
    (dict(grid={"lr": [0.1, 0.2]}, patience=4), ValueError,
     "patience=4 is used only with early_stopping=True"),
    (dict(grid={"early_stopping": [True]}), ValueError, "validation_data"),
    # before any run, naming the point, for numpy's True as well
    (dict(grid={"early_stopping": np.array([False, True])}), ValueError,
     f"grid point 1 (early_stopping={np.True_!r}): early_stopping=True "
     "watches"),
    (dict(grid={"lr": [0.1]}, seeds=[]), ValueError, "seeds is empty"),
    (dict(grid={"lr": [0.1]}, seeds=3), TypeError, "seeds must be a list"),
    (dict(grid={"lr": [0.1]}, seeds=[3, -1]), ValueError,
     "seeds[1] must be in [0, 2**63); got -1"),
    (dict(grid={"lr": [0.1]}, seeds=[2.0]), TypeError,
     "seeds[0] must be an integer"),
    # a name that is no str met difflib's TypeError, naming nothing
    (dict(grid={1: [0.1]}), TypeError,
     "the names in grid must be setting names (str); got 1"),
    (dict(grid=[{None: 1}]), TypeError,
     "the names in grid[0] must be setting names (str); got None"),
    # an EarlyStopping changed since it was made, named with its point
    (dict(grid={"early_stopping": [creg.EarlyStopping(3),
                                   _stopper_changed_to(patience=0)]},
          validation_data=(np.zeros((4, SIZES[0])), np.zeros(4, int))),
     ValueError, "grid point 1 (early_stopping=EarlyStopping(patience=0"),
    (dict(grid={"lr": [0.1]}, cv=1), ValueError, "cv must be a number"),
    (dict(grid={"lr": [0.1]}, cv="3"), TypeError, "cv must be"),
    (dict(grid={"lr": [0.1]}, cv=2, validation_data=(1, 2)), ValueError,
     "cv or validation_data"),
    # fold indices past X, negative (numpy would count back), not
    # integers, empty: each named, not numpy's IndexError
    (dict(grid={"lr": [0.1]}, cv=[(ROWS[:10], [10**6])]), ValueError,
     "cv's fold 0: its test rows must be indices in [0, "),
    (dict(grid={"lr": [0.1]}, cv=[(ROWS[:10], ROWS[10:20]), ([-1], [3])]),
     ValueError, "cv's fold 1: its train rows must be indices"),
    (dict(grid={"lr": [0.1]}, cv=[(ROWS[:10], [1.5])]), TypeError,
     "cv's fold 0: its test rows must be a 1-D array of row indices"),
    (dict(grid={"lr": [0.1]}, cv=[([], ROWS[:10])]), ValueError,
     "cv's fold 0: its train rows are empty"),
    (dict(grid={"lr": [0.1]}, n_threads=0), ValueError, "n_threads"),
    (dict(grid={"lr": [0.1]}, verbose="yes"), TypeError, "verbose"),
    (dict(grid={"lr": [0.1]}, chunk=3), TypeError, "chunk must be a pair"),
    (dict(grid={"lr": [0.1]}, chunk=(2, 2)), ValueError, "chunk's i"),
    (dict(grid={"lr": [0.1]}, chunk=(0, 0)), ValueError, "chunk's k"),
])
def test_bad_arguments_name_the_argument(kwargs, error, words):
    X, y = data()
    grid = kwargs.pop("grid")
    with pytest.raises(error) as info:
        creg.sweep(X, y, SIZES, grid, **kwargs)
    assert words in str(info.value)


@pytest.mark.parametrize("cv", [None, 2])
def test_x_without_rows_is_named_as_without_cv(cv):
    X, y = data()
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\) "
                       r"\(shape=\(0, 12\)\) while a minimum of 1"):
        creg.sweep(X[:0], y[:0], SIZES, {"lr": [0.1]}, cv=cv)


def _nan_after_one_epoch(epoch, history):
    return 0.1 if epoch < 1 else float("nan")


def test_an_error_inside_a_run_names_the_run():
    X, y = data()
    with pytest.raises(ValueError, match=r"^run 1 \(grid point 1: epochs=3, "
                       r"lr_schedule=<function _nan_after_one_epoch .*>; "
                       r"seed 0\): lr_schedule\(1, history\) returned nan"
                       ) as info:
        creg.sweep(X, y, SIZES, [{"lr": 0.1},
                                 {"lr_schedule": _nan_after_one_epoch}],
                   epochs=3, n_threads=1)
    # fit's own error stays attached, with its traceback
    assert isinstance(info.value.__cause__, ValueError)


def test_an_early_stopped_run_is_scored_on_the_weights_it_kept():
    """best() ranked early-stopped runs by their last epoch, whose weights
    early stopping had thrown away."""
    X, y, X_val, y_val = noisy_problem()
    result = creg.sweep(X, y, [12, 16, 2], {"lr": [0.5, 2.0]}, epochs=40,
                        early_stopping=True, patience=3,
                        validation_data=(X_val, y_val), dtype="float64")
    assert [run.ended for run in result] == ["early_stopping"] * 2
    for run in result:
        kept = run.history.restored_epoch
        assert kept == run.history.best_epoch < run.history.epochs - 1
        assert run.metric("eval_accuracy") == \
            run.history.eval_accuracy[kept] == \
            run.network.accuracy(X_val, y_val)
        assert run.metric("eval_accuracy") == max(run.history.eval_accuracy)


def test_the_default_pool_is_a_fit_s_default_team():
    """A Dask worker sets OMP_NUM_THREADS=1 (threadpoolctl's limit is the
    same setting): its sweep chunk and cv path must not start a thread
    per CPU beside the other workers."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from creg import _core, _validation as check
    assert check.pool_threads(None) == _core.default_team() <= \
        check._usable_cpus()
    assert check.pool_threads(2) == 2
    names = set()

    def schedule(epoch, history):
        names.add(threading.current_thread().name)
        return 0.1
    X, y = data()
    with threadpoolctl.threadpool_limits(1, user_api="openmp"):
        assert check.pool_threads(None) == 1
        creg.sweep(X, y, SIZES, {"lr_schedule": [schedule] * 4}, epochs=2)
        creg.regularization_path(X, y, SIZES, l2=[1.0, 0.0], cv=3,
                                 epochs=2, lr_schedule=schedule)
    assert len(names) == 2, names  # one sweep worker, one path worker


def test_patience_none_is_fit_s_default():
    X, y = data()
    result = creg.sweep(X, y, SIZES, {"patience": [None, 3]}, epochs=1,
                        early_stopping=True, validation_data=data(n=25))
    assert [r.ended for r in result] == ["epochs", "epochs"]


def test_targets_one_output_of_the_grid_cannot_fit_name_its_point():
    # a linear output takes any targets, a softmax output only [0, 1]:
    # the grid point is named where the check depends on it, and only there
    X, _ = data()
    Y = np.random.default_rng(0).random((N, SIZES[-1])) * 5
    with pytest.raises(ValueError) as info:
        creg.sweep(X, Y, SIZES, {"output": ["linear", "softmax"]}, epochs=1)
    assert str(info.value).startswith(
        "grid point 1 (epochs=1, output='softmax'): targets in y must lie "
        "in [0, 1] for a softmax output")
    with pytest.raises(ValueError) as info:
        creg.sweep(X, Y, SIZES, {"lr": [0.1, 0.2]}, output="softmax",
                   epochs=1)
    assert str(info.value).startswith("targets in y must lie in [0, 1]")


@pytest.mark.parametrize("where, cv", [("X", None), ("X_val", None),
                                       ("X", 2), ("X", 3)])
def test_bad_data_is_refused(where, cv):
    # a wrong width before any run; NaN by the runs' fits, as a fit alone
    # refuses it (without cv the sweep does not scan the rows first), not
    # taken for a divergence of the runs; with cv, named X wherever it is
    X, y = data()
    with pytest.raises(ValueError, match="features"):
        creg.sweep(X[:, :5], y, SIZES, {"lr": [0.1, 0.2]}, epochs=1, cv=cv)
    X_val, y_val = X[:20].copy(), y[:20]
    (X if where == "X" else X_val)[3, 2] = np.nan
    validation = None if cv is not None else (X_val, y_val)
    with pytest.raises(ValueError, match=f"Input {where} contains NaN"):
        creg.sweep(X, y, SIZES, {"lr": [0.1, 0.2]}, epochs=1, cv=cv,
                   validation_data=validation)


@pytest.mark.parametrize("cv", [None, 2])
def test_sparse_x_is_named_with_or_without_cv(cv):
    sparse = pytest.importorskip("scipy.sparse")
    X, y = data()
    with pytest.raises(TypeError, match="Sparse data was passed for X"):
        creg.sweep(sparse.csr_matrix(X), y, SIZES, {"lr": [0.1]}, cv=cv)


def test_best_accuracy_of_a_regression_says_why_there_is_none():
    X, _ = data()
    Y = np.random.default_rng(0).normal(size=(N, SIZES[-1]))
    result = creg.sweep(X, Y, SIZES, {"lr": [0.01, 0.02]}, output="linear",
                        cv=2, epochs=1)
    assert result.best().params == result.best("eval_cost").params
    with pytest.raises(ValueError, match="eval_accuracy is not defined for "
                       r"a linear output \(a regression\): rank by "
                       "eval_cost"):
        result.best("eval_accuracy")


def test_best_of_an_empty_result_says_why():
    result = sweeps.SweepResult(runs=[], points=[{}], planned=1,
                                interrupted=True)
    with pytest.raises(ValueError, match="no finished run"):
        result.best()
    X, y = data()
    result = creg.sweep(X, y, SIZES, {"lr": [0.1]}, epochs=1)
    for ask in (result.best, result.scores):
        with pytest.raises(ValueError, match="needs held-out rows: this "
                           "sweep had neither validation_data nor cv"):
            ask("eval_accuracy")
    with pytest.raises(ValueError, match="metric must be one of"):
        creg.sweep(*data(), SIZES, {"lr": [0.1]}, epochs=1).best("f1")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_kernel_level(level, dtype):
    X, y = data()
    grid = {"l2": [0.0, 2.0], "dropout": [0.0, 0.3], "max_norm": [None, 0.8],
            "batch_size": [1, 7]}
    result = creg.sweep(X, y, SIZES, grid, n_threads=3, epochs=2, l1=0.5,
                        momentum=0.5, dtype=dtype)
    assert_runs_alone(result, X, y)


def test_warnings_name_their_runs_once():
    X, y = data()
    with pytest.warns(creg.CregWarning) as caught:
        creg.sweep(100 * X, y, SIZES, {"batch_size": [10, 100, 20]},
                   epochs=1, lr=1e-3)
    messages = [str(w.message) for w in caught]
    scale = [w for w in caught if "3 runs (0, 1, 2): " in str(w.message)]
    assert len(scale) == 1 and scale[0].category is creg.InputScaleWarning
    clipped = [m for m in messages if m.startswith(
        "run 1 (grid point 1: epochs=1, lr=0.001, batch_size=100; seed 0): "
        "Got `batch_size`=100 larger than sample size 60")]
    assert len(clipped) == 1
    assert all(w.filename == __file__ for w in caught)


def test_early_stopping_s_restorations_make_one_warning():
    # each run's named its own epochs: one warning a run, 16 for 18 runs
    X, y = creg.datasets.load_digits()
    with pytest.warns(creg.CregWarning) as caught:
        result = creg.sweep(X, y, [64, 30, 10], {"l2": [0.0, 3.0]}, cv=3,
                            epochs=40, lr=0.5, early_stopping=True,
                            patience=2)
    restored = [r.index for r in result.runs
                if r.history.restored_epoch is not None]
    assert len(restored) > 1
    [warning] = caught
    assert warning.category is creg.EarlyStoppingWarning
    assert str(warning.message).startswith(
        f"{len(restored)} runs ({', '.join(map(str, restored))}): early "
        "stopping put back the weights of an earlier epoch")


def test_any_shape_any_grid_runs_as_alone():
    """Hypothesis draws the architecture, the rows, the grid (1 to 9
    points of lr, l2, dropout, momentum, batch size) and the thread
    count: every run stays its fit alone."""
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies
    point = st.fixed_dictionaries({
        "lr": st.sampled_from([0.01, 0.1, 0.5]),
        "l2": st.sampled_from([0.0, 1.0]),
        "dropout": st.sampled_from([0.0, 0.25]),
        "momentum": st.sampled_from([0.0, 0.9]),
        "batch_size": st.integers(1, 40)})

    @hypothesis.settings(max_examples=25, deadline=None,
                         suppress_health_check=[
                             hypothesis.HealthCheck.too_slow])
    @hypothesis.given(sizes=st.lists(st.integers(1, 33), min_size=1,
                                     max_size=3),
                      n=st.integers(1, 70), grid=st.lists(
                          point, min_size=1, max_size=9),
                      n_threads=st.integers(1, 3),
                      dtype=st.sampled_from(["float32", "float64"]))
    def check(sizes, n, grid, n_threads, dtype):
        rng = np.random.default_rng(n)
        X = rng.random((n, sizes[0]))
        y = rng.integers(0, 2, n)
        shape = [*sizes, 2]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = creg.sweep(X, y, shape, grid, epochs=2, dtype=dtype,
                                n_threads=n_threads)
            for run in result:
                net = creg.Network(shape, dtype=dtype, seed=0)
                net.fit(X, y, **{k: v for k, v in run.params.items()
                                 if k in arguments.FIT_SETTINGS})
                assert np.array_equal(net.params, run.network.params)

    check()


def test_runs_with_teams_of_their_own():
    """Fewer runs than threads: each run's fit gets a team of threads,
    and the teams run side by side; still every run is its fit alone."""
    rng = np.random.default_rng(4)
    X = rng.random((300, 64))
    y = rng.integers(0, 10, 300)
    sizes = [64, 96, 10]
    result = creg.sweep(X, y, sizes, {"l2": [0.0, 1.0]}, n_threads=4,
                        epochs=2, batch_size=100, dropout=0.2)
    for run in result:
        net = creg.Network(sizes, seed=0)
        net.fit(X, y, epochs=2, batch_size=100, dropout=0.2, n_threads=1,
                l2=run.params["l2"])
        assert np.array_equal(net.params, run.network.params)


def test_a_run_s_error_keeps_its_notes():
    # a Keras-style schedule's note named the History creg passes; the
    # sweep's error, renamed for its grid point, dropped it
    X, y = data()
    with pytest.raises(TypeError, match="grid point 0") as raised:
        creg.sweep(X, y, SIZES, {"lr": [0.1]}, epochs=1,
                   lr_schedule=lambda epoch, lr: lr * 0.9)
    assert "lr_schedule(epoch, history)" in "".join(
        getattr(raised.value, "__notes__", []))

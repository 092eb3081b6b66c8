"""CregSearchCV: GridSearchCV's results, with the fits run as threads."""
import re

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.model_selection import GridSearchCV, KFold  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import (  # noqa: E402
    parametrize_with_checks)

import creg  # noqa: E402
from creg.sklearn import (  # noqa: E402
    CregClassifier, CregRegressor, CregSearchCV)


def same_results(a, b):
    """Every entry of cv_results_ but the timings equal, bitwise."""
    keys = [k for k in b if not k.endswith("_time")]
    assert sorted(k for k in a if not k.endswith("_time")) == sorted(keys)
    for key in keys:
        if isinstance(b[key], np.ma.MaskedArray):  # param_*: unset masked
            assert np.array_equal(np.ma.getmaskarray(a[key]),
                                  np.ma.getmaskarray(b[key])), key
            a[key], b[key] = a[key].compressed(), b[key].compressed()
        assert np.array_equal(np.asarray(a[key], dtype=object).astype(str),
                              np.asarray(b[key], dtype=object).astype(str)
                              ), key
        if key.endswith("_score") and key.startswith(("split", "mean")):
            assert np.array_equal(a[key], b[key]), key


@pytest.mark.parametrize("n_jobs", [None, 1, 3])
def test_digits_scores_equal_gridsearchcv(n_jobs):
    X, y = creg.datasets.load_digits()
    estimator = CregClassifier((16,), epochs=3, random_state=0)
    grid = {"l2": [0.0, 3.0], "dropout": [0.0, 0.3], "lr": [0.05, 0.2]}
    ours = CregSearchCV(estimator, grid, cv=3, n_jobs=n_jobs,
                        return_train_score=True).fit(X, y)
    theirs = GridSearchCV(estimator, grid, cv=3, n_jobs=1,
                          return_train_score=True).fit(X, y)
    same_results(ours.cv_results_, theirs.cv_results_)
    assert ours.best_params_ == theirs.best_params_
    assert ours.best_score_ == theirs.best_score_
    assert ours.best_index_ == theirs.best_index_
    assert np.array_equal(ours.best_estimator_.network_.params,
                          theirs.best_estimator_.network_.params)
    assert np.array_equal(ours.predict(X), theirs.predict(X))
    assert ours.n_jobs == n_jobs


def test_pipeline_and_list_of_grids():
    X, y = creg.datasets.load_digits()
    pipe = make_pipeline(StandardScaler(), CregClassifier(
        (8,), epochs=2, random_state=1, n_threads=2))
    grid = [{"cregclassifier__l2": [0.0, 1.0]},
            {"cregclassifier__max_norm": [1.0], "cregclassifier__lr": [0.3]}]
    ours = CregSearchCV(pipe, grid, cv=2).fit(X, y)
    theirs = GridSearchCV(pipe, grid, cv=2).fit(X, y)
    same_results(ours.cv_results_, theirs.cv_results_)
    # the fits ran on one thread; the user's estimator and the refitted
    # one keep n_threads=2
    assert pipe[-1].n_threads == 2
    assert ours.best_estimator_[-1].n_threads == 2


@pytest.mark.parametrize("best", ["other", "creg"])
def test_a_grid_over_a_pipelines_step(best):
    # the grid puts estimators of its own in the step: the best one stays
    # as the grid gave it (a scikit-learn one, or a creg one with its own
    # n_threads), not given the pipeline's creg step's n_threads
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression
    X, y = creg.datasets.load_digits()
    pipe = make_pipeline(StandardScaler(), CregClassifier(
        (8,), epochs=1, random_state=0, n_threads=2))
    grid = {"cregclassifier": (
        [CregClassifier((8,), lr=1e-9, random_state=0), LogisticRegression()]
        if best == "other" else
        [DummyClassifier(), CregClassifier((8,), random_state=0,
                                           n_threads=3)])}
    ours = CregSearchCV(pipe, grid, cv=2).fit(X, y)
    theirs = GridSearchCV(pipe, grid, cv=2).fit(X, y)
    same_results(ours.cv_results_, theirs.cv_results_)
    assert ours.best_index_ == theirs.best_index_ == 1
    step = ours.best_estimator_[-1]
    assert type(step) is type(grid["cregclassifier"][1])
    assert getattr(step, "n_threads", None) == (None if best == "other"
                                                else 3)


def test_an_estimator_that_is_not_one_is_named():
    X, y = creg.datasets.load_digits()
    for estimator in ("abc", None, CregClassifier):
        with pytest.raises(TypeError, match="estimator must be a "
                           "scikit-learn estimator instance"):
            CregSearchCV(estimator, {"l2": [0.0]}, cv=2).fit(X, y)


def test_regressor_with_kfold_and_refit_off():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    y = X @ [1.0, -2.0, 0.5, 0.0] + 0.1 * rng.normal(size=120)
    estimator = CregRegressor((6,), epochs=3, random_state=0)
    grid = {"lr": [0.005, 0.02], "momentum": [0.0, 0.5]}
    ours = CregSearchCV(estimator, grid, cv=KFold(3), refit=False).fit(X, y)
    theirs = GridSearchCV(estimator, grid, cv=KFold(3), refit=False
                          ).fit(X, y)
    same_results(ours.cv_results_, theirs.cv_results_)
    assert not hasattr(ours, "best_estimator_")


def test_user_estimator_is_left_alone():
    X, y = creg.datasets.load_digits()
    estimator = CregClassifier((8,), epochs=1, random_state=0)
    search = CregSearchCV(estimator, {"l2": [0.0, 1.0]}, cv=2)
    search.fit(X, y)
    assert search.estimator is estimator
    assert estimator.n_threads is None and not hasattr(estimator,
                                                       "network_")
    assert search.best_estimator_.n_threads is None


def test_best_estimator_keeps_an_n_threads_the_grid_chose():
    """The search runs each fit on one thread and puts the user's
    n_threads back on best_estimator_, but not over best_params_'s."""
    from sklearn.pipeline import make_pipeline
    X, y = creg.datasets.load_digits()
    X, y = X[:200], y[:200]
    estimator = CregClassifier((8,), epochs=1, random_state=0)
    search = CregSearchCV(estimator, {"n_threads": [2]}, cv=2).fit(X, y)
    assert search.best_estimator_.n_threads == 2
    pipe = make_pipeline(estimator)
    search = CregSearchCV(pipe, {"cregclassifier__n_threads": [2]},
                          cv=2).fit(X, y)
    assert search.best_estimator_[-1].n_threads == 2
    assert GridSearchCV(pipe, {"cregclassifier__n_threads": [2]}, cv=2
                        ).fit(X, y).best_estimator_[-1].n_threads == 2


@parametrize_with_checks([
    CregSearchCV(CregClassifier(random_state=0), {"l2": [0.0, 1.0]}, cv=2),
    CregSearchCV(CregRegressor(random_state=0), {"l2": [0.0, 1.0]}, cv=2)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_ctrl_c_stops_the_fits_running_in_threads(monkeypatch, ctrl_c):
    import _thread
    import threading

    X, y = creg.datasets.load_digits()
    fit = creg.Network.fit
    stopped = []

    def recording_fit(net, *args, **kwargs):
        try:
            return fit(net, *args, **kwargs)
        except KeyboardInterrupt:
            stopped.append(threading.current_thread())
            raise

    monkeypatch.setattr(creg.Network, "fit", recording_fit)
    before = set(threading.enumerate())
    search = CregSearchCV(CregClassifier((8,), epochs=10**6, random_state=0),
                          {"l2": [0.0, 1.0]}, cv=2, n_jobs=2)
    threading.Timer(0.5, _thread.interrupt_main).start()  # Ctrl-C
    with pytest.raises(KeyboardInterrupt):
        search.fit(X, y)
    workers = [t for t in threading.enumerate() if t not in before]
    for thread in workers:
        thread.join(timeout=60)  # a fit not told to stop runs for hours
        assert not thread.is_alive()
    # both running fits saw the stop request (a worker may also start a
    # queued fit before the pool closes: that one stops before its first
    # batch, in a thread already counted)
    assert len(set(stopped)) == 2
    assert search.estimator.n_threads is None  # put back


@pytest.mark.parametrize("n_jobs, fragment", [
    (0, "n_jobs = 0 is invalid: n_jobs must be >= 1"),
    (1.5, "n_jobs must be an integer; got 1.5"),
    ("two", "n_jobs")])
def test_a_bad_n_jobs_is_named_as_such(n_jobs, fragment):
    X, y = creg.datasets.load_digits()
    search = CregSearchCV(CregClassifier((8,), epochs=1), {"l2": [0.0]},
                          cv=2, n_jobs=n_jobs)
    with pytest.raises((ValueError, TypeError),
                       match=re.escape(fragment)) as info:
        search.fit(X[:100], y[:100])
    assert "n_threads" not in str(info.value)


@pytest.mark.parametrize("n_threads, error", [
    (0, ValueError), (1.5, TypeError), (True, TypeError), (10**9, ValueError)])
@pytest.mark.parametrize("nested", [False, True])
def test_a_bad_n_threads_of_the_estimator_is_refused_before_fitting(
        n_threads, error, nested):
    # the fits run on one thread whatever it is, so it went unchecked
    # until the refitted best estimator's predict refused it
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    X, y = creg.datasets.load_digits()
    estimator = CregClassifier((8,), epochs=1, n_threads=n_threads)
    name = "n_threads"
    if nested:
        estimator = make_pipeline(StandardScaler(), estimator)
        name = "cregclassifier__n_threads"
    search = CregSearchCV(estimator, {name.replace("n_threads", "l2"):
                                      [0.0]}, cv=2)
    with pytest.raises(error, match=name):
        search.fit(X[:100], y[:100])
    assert not hasattr(search, "cv_results_")


def test_a_second_search_fit_at_once_is_refused():
    """fit swaps the search's own estimator for a one-thread clone: a
    second fit meanwhile took the clone for the user's and kept it."""
    import threading
    import time

    from creg import sklearn as creg_sklearn
    X, y = creg.datasets.load_digits()
    estimator = CregClassifier((16,), epochs=20, random_state=0)
    search = CregSearchCV(estimator, {"l2": [0.0, 1.0]}, cv=2)
    worker = threading.Thread(target=search.fit, args=(X, y))
    worker.start()
    deadline = time.time() + 30
    while search not in creg_sklearn._FITTING and time.time() < deadline:
        time.sleep(0.001)
    with pytest.raises(RuntimeError, match="CregSearchCV is already "
                       "fitting in another thread"):
        search.fit(X, y)
    worker.join()
    assert search.estimator is estimator and estimator.n_threads is None
    assert hasattr(search, "best_estimator_")

"""Scale-out through an existing engine: a GridSearchCV of creg estimators
run by joblib's Dask backend on a dask.distributed cluster gives exactly the
scores of the local sequential search (creg is deterministic), and each
worker runs creg on one thread unless told otherwise.

The cluster is two worker processes on loopback; skipped only when dask's
distributed scheduler (or scikit-learn) is not installed.
"""
import os

import numpy as np
import pytest

distributed = pytest.importorskip("dask.distributed")
pytest.importorskip("sklearn")

import joblib  # noqa: E402  (a scikit-learn dependency)
from sklearn.model_selection import GridSearchCV  # noqa: E402

import creg  # noqa: E402
from conftest import local_cluster  # noqa: E402
from creg.sklearn import CregClassifier  # noqa: E402

GRID = {"l2": [0.0, 5.0], "max_norm": [None, 2.0]}
CV = 3


@pytest.fixture(scope="module")
def client():
    with local_cluster(2) as client:
        yield client


@pytest.fixture(scope="module")
def data():
    X, y = creg.datasets.load_digits()
    order = np.random.default_rng(0).permutation(len(X))[:450]
    return X[order], y[order]


def _search(n_jobs):
    # n_threads is left at None: creg's default, which a Dask worker
    # resolves to one thread (its nanny sets OMP_NUM_THREADS=1).
    estimator = CregClassifier(hidden_layer_sizes=(32,), epochs=10,
                               random_state=0)
    return GridSearchCV(estimator, GRID, cv=CV, n_jobs=n_jobs)


def _scores(search):
    results = search.cv_results_
    keys = ["mean_test_score"] + [f"split{i}_test_score" for i in range(CV)]
    return {key: np.asarray(results[key]) for key in keys}


def test_grid_search_on_dask_equals_local_sequential_search(client, data):
    X, y = data
    local = _search(n_jobs=1).fit(X, y)

    with distributed.get_task_stream(client) as stream, \
            joblib.parallel_backend("dask"):
        remote = _search(n_jobs=-1).fit(X, y)

    for key, value in _scores(local).items():
        assert np.array_equal(_scores(remote)[key], value), key
    assert remote.best_params_ == local.best_params_
    assert np.array_equal(remote.best_estimator_.network_.params,
                          local.best_estimator_.network_.params)
    assert local.best_score_ > 0.85
    # The fits really ran on the cluster's worker processes.
    workers = {task["worker"] for task in stream.data}
    assert workers and workers <= set(client.scheduler_info()["workers"])


def _creg_threads_in_worker():
    """In a worker: creg's default thread count (what n_threads=None gives
    OpenMP) after a small fit, as threadpoolctl sees it."""
    import numpy
    import threadpoolctl

    import creg

    net = creg.Network([4, 3, 2], output="softmax", cost="log_likelihood",
                       hidden="sigmoid", init="normalized")
    net.fit(numpy.eye(4), [0, 1, 0, 1], epochs=1, lr=0.5)
    pools = [p["num_threads"] for p in threadpoolctl.threadpool_info()
             if p["user_api"] == "openmp"]
    return os.environ.get("OMP_NUM_THREADS"), pools


def test_each_dask_worker_runs_creg_on_one_thread(client):
    per_worker = client.run(_creg_threads_in_worker)
    assert len(per_worker) == 2
    for omp_env, pools in per_worker.values():
        assert omp_env == "1"
        assert pools and all(n == 1 for n in pools)

"""A sweep cut into chunks (one per process or Dask worker) and merged
gives what one call gives, bitwise."""
import functools
import pickle

import numpy as np
import pytest

import creg
from conftest import local_cluster
from creg import sweeps

SIZES = [10, 6, 3]
GRID = {"l2": [0.0, 2.0], "dropout": [0.0, 0.3], "lr": [0.1, 0.3]}


def data():
    rng = np.random.default_rng(3)
    X = rng.random((50, SIZES[0]))
    return X, np.argmax(X @ np.random.default_rng(0).standard_normal(
        (SIZES[0], SIZES[-1])), axis=1)


def same_results(a, b):
    assert sweeps._same_points(a.points, b.points)
    assert a.planned == b.planned
    assert [r.index for r in a] == [r.index for r in b] == list(
        range(a.planned))
    for x, y in zip(a, b):
        assert (x.point, x.seed, x.fold, x.ended) == \
            (y.point, y.seed, y.fold, y.ended)
        assert np.array_equal(x.network.params, y.network.params)
        assert x.history.train_cost == y.history.train_cost


def chunk(i, k):
    X, y = data()
    return creg.sweep(X, y, SIZES, GRID, seeds=[1, 2], cv=2, epochs=2,
                      n_threads=1, chunk=(i, k))


@pytest.mark.parametrize("k", [1, 3, 40])
def test_chunks_merge_into_the_whole_sweep(k):
    whole = chunk(0, 1)
    parts = [chunk(i, k) for i in reversed(range(k))]
    assert sum(len(p) for p in parts) == whole.planned == 2 * 2 * 2 * 2 * 2
    same_results(creg.SweepResult.merge(parts), whole)


def test_chunks_in_worker_processes():
    joblib = pytest.importorskip("joblib")
    parts = joblib.Parallel(n_jobs=2, backend="loky")(
        joblib.delayed(chunk)(i, 2) for i in range(2))
    same_results(creg.SweepResult.merge(parts), chunk(0, 1))


def test_chunks_on_a_dask_cluster():
    with local_cluster(2) as client:
        parts = client.gather(client.map(chunk, range(3), [3] * 3))
    same_results(creg.SweepResult.merge(parts), chunk(0, 1))


def test_pickled_chunks_with_early_stopping_merge():
    """What Dask sends back are unpickled copies: an EarlyStopping (no
    __eq__) must still match its twin."""
    X, y = data()
    grid = {"lr": [0.1, 0.3],
            "early_stopping": [creg.EarlyStopping(2),
                               creg.EarlyStopping(3, restore="always")]}
    parts = [creg.sweep(X, y, SIZES, grid, cv=2, epochs=3, n_threads=1,
                        chunk=(i, 2)) for i in range(2)]
    shipped = [pickle.loads(pickle.dumps(part)) for part in parts]
    same_results(creg.SweepResult.merge(shipped),
                 creg.SweepResult.merge(parts))
    other = dict(grid, early_stopping=[creg.EarlyStopping(2),
                                       creg.EarlyStopping(4)])
    with pytest.raises(ValueError, match="different grids"):
        creg.SweepResult.merge([parts[0], creg.sweep(
            X, y, SIZES, other, cv=2, epochs=3, n_threads=1, chunk=(1, 2))])


def test_chunks_holding_functions_sent_by_value_merge():
    """Dask's cloudpickle sends a function defined in __main__ by value:
    each chunk comes back with its own copy of an lr_schedule or score."""
    cloudpickle = pytest.importorskip("cloudpickle")
    namespace = {"__name__": "__main__"}
    exec("def halve(epoch, history):\n    return 0.5 / (1 + epoch)\n"
         "def other(epoch, history):\n    return 0.1\n"
         "def score(net):\n    return float(net.params[0])\n", namespace)
    X, y = data()

    def parts(grid):
        return [cloudpickle.loads(cloudpickle.dumps(creg.sweep(
            X, y, SIZES, grid, epochs=2, n_threads=1, chunk=(i, 2))))
            for i in range(2)]
    for grid in ({"lr_schedule": [None, namespace["halve"]]},
                 {"early_stopping": [
                     creg.EarlyStopping(2, score=namespace["score"]),
                     creg.EarlyStopping(3, score=namespace["score"])]}):
        shipped = parts(grid)
        if "lr_schedule" in grid:  # a copy, not the same function
            assert shipped[0].points[1]["lr_schedule"] is not \
                namespace["halve"]
        assert len(creg.SweepResult.merge(shipped)) == 2
    a = parts({"lr_schedule": [None, namespace["halve"]]})[0]
    b = parts({"lr_schedule": [None, namespace["other"]]})[1]
    with pytest.raises(ValueError, match="different grids"):
        creg.SweepResult.merge([a, b])
    # closures of one factory share name and code, not what they hold
    exec("def make(lr):\n    return lambda epoch, history: lr\n",
         namespace)
    make = namespace["make"]
    a = parts({"lr_schedule": [make(0.1), make(0.2)]})[0]
    b = parts({"lr_schedule": [make(0.5), make(0.9)]})[1]
    with pytest.raises(ValueError, match="different grids"):
        creg.SweepResult.merge([a, b])
    grid = {"lr_schedule": [make(0.1), make(0.2)]}
    assert len(creg.SweepResult.merge(parts(grid))) == 2


class Schedule:
    """A callable object with no __eq__ of its own."""

    def __init__(self, rates):
        self.rates = rates
        self.me = self  # refers to itself: the comparison must end

    def __call__(self, epoch, history):
        return float(self.rates[epoch])


def rate_of(epoch, history, rates):
    return float(rates[epoch])


def halving_from(rates):
    """A closure that calls itself: its cell holds the function."""
    def rate(epoch, history):
        return rates[0] if epoch == 0 else rate(epoch - 1, history) / 2
    return rate


def test_pickled_chunks_holding_partials_objects_and_methods_merge():
    # each came back from pickle as another object that == told apart
    X, y = data()
    makers = [lambda r: functools.partial(rate_of, rates=r), Schedule,
              lambda r: Schedule(r).__call__, lambda r: Schedule(np.array(r))]
    try:  # Dask's pickle, which sends a closure by value
        import cloudpickle as shipping
        makers.append(halving_from)
    except ImportError:
        shipping = pickle
    for make in makers:
        def shipped(rates):
            return [shipping.loads(shipping.dumps(creg.sweep(
                X, y, SIZES, {"lr_schedule": [make(rates)], "l2": [0, 1]},
                epochs=2, n_threads=1, chunk=(i, 2)))) for i in range(2)]
        assert len(creg.SweepResult.merge(shipped((0.1, 0.2)))) == 2
        with pytest.raises(ValueError, match="different grids"):
            creg.SweepResult.merge([shipped((0.1, 0.2))[0],
                                    shipped((0.1, 0.3))[1]])


def test_points_missing_runs_are_not_ranked():
    # each point has 2 seeds x 2 folds of consecutive runs: chunk 0 of 2
    # holds half of every point's runs, a mean not comparable with a
    # whole point's
    whole, (half, other) = chunk(0, 1), (chunk(0, 2), chunk(1, 2))
    assert all(np.isfinite(whole.scores()))
    assert all(np.isnan(half.scores()))
    with pytest.raises(ValueError, match="did not finish"):
        half.best()
    merged = creg.SweepResult.merge([half, other])
    assert merged.scores() == whole.scores()


def test_merge_refuses_what_does_not_belong_together():
    X, y = data()
    a = creg.sweep(X, y, SIZES, {"lr": [0.1, 0.2]}, epochs=1, chunk=(0, 2))
    b = creg.sweep(X, y, SIZES, {"lr": [0.1, 0.3]}, epochs=1, chunk=(1, 2))
    with pytest.raises(ValueError, match="different grids"):
        creg.SweepResult.merge([a, b])
    with pytest.raises(ValueError, match="same run"):
        creg.SweepResult.merge([a, a])
    # the same grid, but other seeds, data, held-out rows or sizes
    for other in (dict(seeds=[6]), dict(X=X[:-1], y=y[:-1]),
                  dict(cv=2), dict(sizes=[10, 7, 3])):
        kwargs = {"X": X, "y": y, "sizes": SIZES, **other}
        c = creg.sweep(kwargs.pop("X"), kwargs.pop("y"), kwargs.pop("sizes"),
                       {"lr": [0.1, 0.2]}, epochs=1, chunk=(1, 2), **kwargs)
        with pytest.raises(ValueError, match="from different sweeps"):
            creg.SweepResult.merge([a, c])
    # folds of the same count but other rows: a splitter shuffling with no
    # seed gives each worker's chunk its own
    folds = [creg.sweep(X, y, SIZES, {"lr": [0.1, 0.2]}, epochs=1,
                        chunk=(i, 2), cv=splitter)
             for i, splitter in enumerate((2, [(np.arange(10, 20),
                                                 np.arange(10)),
                                                (np.arange(10),
                                                 np.arange(10, 20))]))]
    with pytest.raises(ValueError, match="from different sweeps"):
        creg.SweepResult.merge(folds)
    with pytest.raises(TypeError, match="non-empty list"):
        creg.SweepResult.merge([])
    assert isinstance(sweeps.SweepResult.merge([a]), creg.SweepResult)

"""Regularization paths (glmnet-style warm starts) and the history extras."""
import re
import time

import numpy as np
import pytest

from conftest import noisy_problem

import creg
from creg.path import regularization_path


@pytest.fixture(scope="module")
def digits():
    X, y = creg.datasets.load_digits()
    order = np.random.default_rng(0).permutation(len(X))
    return (X[order[:600]], y[order[:600]]), (X[order[600:900]],
                                             y[order[600:900]])


def test_l1_path_runs_from_strongest_and_sparsifies(digits):
    (X, y), val = digits
    path = regularization_path(X, y, [64, 30, 10], l1=[0.01, 20.0, 2.0],
                               validation_data=val, epochs=5, lr=0.5,
                               hidden="relu", output="softmax",
                               cost="log_likelihood", init="normalized",
                               dtype="float64")
    assert [p.strength for p in path] == [20.0, 2.0, 0.01]
    assert path[0].zero_fraction > 0.9
    assert path[0].zero_fraction - path[-1].zero_fraction > 0.25
    assert path[-1].train_accuracy > path[0].train_accuracy + 0.5
    for p in path:
        zeros = sum(int((w == 0).sum()) for w in p.weights) / (64 * 30 + 300)
        assert p.zero_fraction == zeros
        assert 0 <= p.eval_accuracy <= 1


def test_each_point_is_warm_started_from_the_previous(digits):
    (X, y), val = digits
    kwargs = dict(epochs=2, lr=0.3, hidden="tanh", output="sigmoid",
                  init="normalized", dtype="float64", seed=3)
    path = regularization_path(X, y, [64, 20, 10], l2=[1.0, 10.0], **kwargs)
    net = creg.Network([64, 20, 10], hidden="tanh", dtype="float64", seed=3,
                       output="sigmoid", init="normalized")
    net.params[...] = path[0].params        # the strongest point's weights
    net.epochs_trained = 2                  # the shuffle continues where it was
    net.fit(X, y, epochs=2, lr=0.3, l2=1.0)
    assert np.array_equal(net.params, path[1].params)
    cold = creg.Network([64, 20, 10], hidden="tanh", dtype="float64", seed=3,
                        output="sigmoid", init="normalized")
    cold.fit(X, y, epochs=2, lr=0.3, l2=1.0)
    assert not np.array_equal(cold.params, path[1].params)


def test_path_converts_the_data_once(digits, monkeypatch):
    # each strength's fit copied a float64 X into the float32 network's
    # dtype, and an iterator of validation data ran dry after the first
    (X, y), (X_val, y_val) = digits
    kwargs = dict(l2=[10.0, 1.0, 0.1], epochs=2, seed=4)
    expected = regularization_path(X, y, [64, 20, 10],
                                   validation_data=(X_val, y_val), **kwargs)
    given = []
    fit = creg.Network.fit

    def fit_seeing(net, X, y, **settings):
        X_val = settings["validation_data"][0]
        given.append([a.dtype == net.dtype and a.flags.c_contiguous
                      for a in (X, X_val)])
        return fit(net, X, y, **settings)

    monkeypatch.setattr(creg.Network, "fit", fit_seeing)
    X_given = np.asfortranarray(X, np.float64)
    path = regularization_path(
        X_given, y, [64, 20, 10],
        validation_data=iter((X_val.astype(np.float64), y_val)), **kwargs)
    assert given == [[True, True]] * 3
    assert path._data[0] is X_given  # for best(refit=True): no copy held
    for point, same in zip(path, expected):
        assert point.params.tobytes() == same.params.tobytes()
        assert point.eval_accuracy == same.eval_accuracy
        # one copy of the weights a point: its layers are views
        assert all(np.shares_memory(w, point.params) for w in point.weights)
        assert np.array_equal(point.biases[-1], same.biases[-1])


@pytest.mark.parametrize("stopper", [True, creg.EarlyStopping(2)])
def test_cv_path_says_the_whole_data_s_path_needs_validation(digits,
                                                             stopper):
    # the message said "early_stopping=True" for an EarlyStopping and
    # never named cv, whose folds do have held-out rows
    (X, y), val = digits
    expected = ("with cv, each fold's path is scored on the fold's "
                "held-out rows, but the path on all of X (the points "
                f"returned) has none: early_stopping={stopper!r} watches")
    with pytest.raises(ValueError, match="^" + re.escape(expected)):
        regularization_path(X, y, [64, 10], l2=[1.0, 0.1], epochs=2, cv=2,
                            early_stopping=stopper)
    path = regularization_path(X, y, [64, 10], l2=[1.0, 0.1], epochs=2,
                               cv=2, early_stopping=stopper,
                               validation_data=val)
    assert len(path) == 2 and path.cv
    with pytest.raises(TypeError, match="early_stopping must be True, False "
                       "or a creg.EarlyStopping; got 5"):
        regularization_path(X, y, [64, 10], l2=[1.0, 0.1], cv=2,
                            early_stopping=5)


def test_path_refuses_both_or_neither_strength_lists(digits):
    (X, y), _ = digits
    with pytest.raises(ValueError, match="exactly one"):
        regularization_path(X, y, [64, 10], l1=[1.0], l2=[1.0])
    with pytest.raises(ValueError, match="exactly one"):
        regularization_path(X, y, [64, 10])
    with pytest.raises(ValueError, match="l1"):
        regularization_path(X, y, [64, 10], l1=[1.0, -2.0])
    with pytest.raises(ValueError, match="exactly one"):
        regularization_path(X, y, [64, 10], l1=1.0, l2=0.5)
    with pytest.raises(ValueError, match="l2 must be >= 0"):
        regularization_path(X, y, [64, 10], l1=[1.0], l2=-0.5, epochs=1)


@pytest.mark.parametrize("name, other", [("l1", "l2"), ("l2", "l1")])
def test_elastic_net_path_takes_the_other_penalty_fixed(digits, name,
                                                        other):
    (X, y), _ = digits
    kwargs = dict(epochs=1, lr=0.3, dtype="float64", seed=2)
    path = regularization_path(X, y, [64, 10, 10], **{name: [2.0, 0.5]},
                               **{other: 1.5}, **kwargs)
    net = creg.Network([64, 10, 10], dtype="float64", seed=2)
    for point in path:
        net.fit(X, y, epochs=1, lr=0.3, train_metrics="exact",
                **{name: point.strength, other: 1.5})
        assert np.array_equal(net.params, point.params)


def test_cv_path_names_x_for_bad_rows(digits):
    sparse = pytest.importorskip("scipy.sparse")
    (X, y), _ = digits
    with pytest.raises(TypeError, match="Sparse data was passed for X"):
        regularization_path(sparse.csr_matrix(X), y, [64, 10], l1=[1.0],
                            cv=2)
    X = X.copy()
    X[-1, 3] = np.nan  # in the last fold's test rows
    with pytest.raises(ValueError, match="Input X contains NaN"):
        regularization_path(X, y, [64, 10], l1=[1.0], cv=3, epochs=1)
    X[-1, 3] = 1e39  # inf in float32, in whichever fold: X, never X_val
    for _ in range(3):
        with pytest.raises(ValueError, match=r"Input X contains infinity "
                           r".*dtype\('float32'\)"):
            regularization_path(X, y, [64, 10], l1=[1.0], cv=3, epochs=1,
                                dtype="float32")
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\)"):
        regularization_path(X[:0], y[:0], [64, 10], l1=[1.0], cv=2)


@pytest.mark.parametrize("dtype, rel", [("float64", 1e-12),
                                        ("float32", 1e-6)])
def test_history_layer_norms_sparsity_and_clamping(digits, dtype, rel):
    (X, y), _ = digits
    net = creg.Network([64, 30, 10], dtype=dtype, **creg.NIELSEN)
    hist = net.fit(X, y, epochs=2, l1=0.5, max_norm=0.5, lr=0.5)
    norms = [float(np.linalg.norm(w.astype(np.float64))) for w in net.weights]
    assert hist.layer_norms[-1] == pytest.approx(norms, rel=rel)
    zeros = [float((w == 0).mean()) for w in net.weights]
    assert hist.layer_zero_fraction[-1] == zeros
    rows = np.concatenate([np.linalg.norm(w.astype(np.float64), axis=1)
                           for w in net.weights])
    assert np.all(rows <= 0.5 * (1 + 10 * rel))
    assert hist.clamped_fraction[-1] == np.mean(rows >= 0.5 * (1 - 1e-5)) > 0
    plain = creg.Network([64, 10], **creg.NIELSEN)
    assert plain.fit(X, y, epochs=1, lr=0.5).clamped_fraction == [0.0]


def _signal_in_k_inputs(seed, n=1500, d=30, k=4):
    """Three ordered classes from a score on k of d Gaussian inputs."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    informative = rng.choice(d, k, replace=False)
    score = X[:, informative] @ np.array([2.0, -2.0, 1.5, -1.5])
    y = (score > -1).astype(int) + (score > 1)
    return X, y, informative


# the strongest points use no input at all (glmnet's top of the path), so
# their fits sit at chance level on purpose
@pytest.mark.filterwarnings("ignore::creg.TrainingWarning")
@pytest.mark.parametrize("seed", range(5))
def test_importances_rank_the_informative_inputs_first(seed):
    X, y, informative = _signal_in_k_inputs(seed)
    path = regularization_path(
        X[:1000], y[:1000], [30, 3], l1=np.geomspace(300, 3, 24),
        validation_data=(X[1000:], y[1000:]), epochs=10, lr=0.3,
        batch_size=50, seed=seed)
    ranked = np.argsort(-path.importances, kind="stable")
    assert set(ranked[:4]) == set(informative)
    assert path.importances[ranked[3]] > path.importances[ranked[4]]
    used = [p.inputs_used for p in path]
    assert used[0] < 4 <= max(used[:12]) and used[-1] >= 25
    for p in path:
        assert p.inputs_used == int((p.weights[0] != 0).any(axis=0).sum())


@pytest.mark.parametrize("scale, width", [(1.0, 300), (1e20, 300),
                                          (1e-15, 300), (1.0, 10**6)])
def test_row_norms_match_float64_where_float32_squares_overflow(scale,
                                                                width):
    # and on wide rows, where a running float32 sum drifts: a layer of
    # 60,000 inputs, every row clamped, recorded 0.2 of them clamped
    from creg.network import row_norms_of
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((7, width)) * scale).astype(np.float32)
    if width > 300:
        w[:] = 0.05 + 0.01 * np.abs(w)  # similar magnitudes: the worst
    expected = np.linalg.norm(w.astype(np.float64), axis=1)
    got = row_norms_of(w)
    assert got.dtype == np.float64 and np.isfinite(got).all()
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_importance_is_where_an_input_stays_in_use():
    X, y, _ = _signal_in_k_inputs(0, n=200, d=5)
    path = regularization_path(X, y, [5, 3], l1=[2.0, 1.0, 0.5], epochs=1)
    for p, columns in zip(path, ([1, 2], [0, 2], [0, 2, 4])):
        p.weights[0][...] = 0
        p.weights[0][0, columns] = 1.0
    # recompute from the edited points: 2 stays from 2.0 down; 0 from 1.0;
    # 4 only at 0.5; 1 drops out at 1.0 (not still used); 3 never
    path = type(path)(list(path), penalty="l1",
                      network_args=path._network_args, data=path._data,
                      fit_args=path._fit_args)
    assert path.importances.tolist() == [1.0, 0.0, 2.0, 0.0, 0.5]


def test_best_returns_the_best_validated_point(digits):
    (X, y), val = digits
    path = regularization_path(X, y, [64, 10], l1=[20.0, 8.0, 2.0],
                               validation_data=val, epochs=4, lr=0.5,
                               dtype="float64")
    scores = [p.eval_accuracy for p in path]
    strength, net = path.best()
    assert strength == path[int(np.argmax(scores))].strength
    assert net.accuracy(*val) == max(scores)
    assert np.array_equal(net.params, path[int(np.argmax(scores))].params)
    assert np.array_equal(path.network(1).params, path[1].params)
    with pytest.raises(ValueError, match="validation_data"):
        regularization_path(X, y, [64, 10], l1=[1.0], epochs=1,
                            lr=0.5).best()
    # settings for a refit that is not asked for, or a refit that is no bool
    with pytest.raises(TypeError, match=r"fit settings \(epochs, l3\) apply "
                       "only to a refit: pass refit=True"):
        path.best(epochs=50, l3=1)
    with pytest.raises(TypeError, match="refit"):
        path.best(refit="no")


def test_best_refits_on_the_chosen_inputs(digits):
    (X, y), val = digits
    path = regularization_path(X, y, [64, 10], l1=[20.0, 8.0],
                               validation_data=val, epochs=4, lr=0.5)
    strength, net = path.best(refit=True, epochs=6)
    point = path[[p.strength for p in path].index(strength)]
    columns = np.flatnonzero((point.weights[0] != 0).any(axis=0))
    assert 0 < columns.size < 64
    assert net.input_columns.tolist() == columns.tolist()
    assert net.sizes == (columns.size, 10) and net.epochs_trained == 6
    assert net.accuracy(net.select(val[0]), val[1]) > 0.8
    with pytest.raises(ValueError, match="compressed from 64 inputs"):
        net.predict(val[0])


def test_plot_draws_score_zeros_and_inputs_used_on_log_strength(digits):
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    (X, y), val = digits
    path = regularization_path(X, y, [64, 10], l1=[20.0, 2.0, 0.0],
                               validation_data=val, epochs=2, lr=0.5)
    fig, axes = path.plot()
    assert [ax.get_xscale() for ax in axes] == ["log"] * 3
    lines = [ax.get_lines()[0] for ax in axes]
    assert list(lines[0].get_xdata()) == [20.0, 2.0]      # 0 left out
    assert list(lines[0].get_ydata()) == [p.eval_accuracy for p in path[:2]]
    assert list(lines[2].get_ydata()) == [p.inputs_used for p in path[:2]]
    assert "validation accuracy" in axes[0].get_ylabel()
    assert "1 point at strength 0" in axes[0].get_title()


def _fold_scores(X, y, folds, **path_args):
    """Per fold, the eval accuracy and cost of a plain path walked on the
    fold's training rows and scored on its test rows."""
    walks = [regularization_path(X[train], y[train],
                                 validation_data=(X[test], y[test]),
                                 **path_args) for train, test in folds]
    return ([[p.eval_accuracy for p in w] for w in walks],
            [[p.eval_cost for p in w] for w in walks])


@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_cv_path_is_the_plain_path_scored_by_its_folds(digits, n_threads):
    (X, y), _ = digits
    args = dict(sizes=[64, 12, 10], l1=[8.0, 1.0, 0.0], epochs=2, lr=0.5,
                dtype="float64")
    folds = [(np.r_[0:100, 200:600], np.r_[100:200]),
             (np.r_[0:400], np.r_[400:600]), (np.r_[50:600], np.r_[0:50])]
    path = regularization_path(X, y, cv=folds, n_threads=n_threads, **args)
    plain = regularization_path(X, y, **args)
    assert path.cv and not plain.cv
    for p, q in zip(path, plain):   # the whole data's walk: the same bits
        assert np.array_equal(p.params, q.params)
        assert np.isnan(q.cv_accuracy) and np.isnan(q.eval_accuracy)
    accuracy, cost = _fold_scores(X, y, folds, **args)
    assert [p.cv_accuracy for p in path] == list(np.mean(accuracy, axis=0))
    assert [p.cv_accuracy_sd for p in path] == list(np.std(accuracy, axis=0))
    assert [p.cv_cost for p in path] == list(np.mean(cost, axis=0))
    assert [p.cv_cost_sd for p in path] == list(np.std(cost, axis=0))


def test_cv_path_gives_each_chain_its_own_early_stopping(digits):
    """The chains run at once: one shared EarlyStopping was 'in use by a
    fit in another thread' whenever n_threads was over 1."""
    (X, y), (X_val, y_val) = digits
    args = dict(sizes=[64, 12, 10], l1=[8.0, 1.0], epochs=6, lr=0.5,
                dtype="float64", validation_data=(X_val, y_val))
    paths = [regularization_path(X, y, cv=3, n_threads=n_threads,
                                 early_stopping=creg.EarlyStopping(2),
                                 **args) for n_threads in (1, 2)]
    for p, q in zip(*paths):
        assert np.array_equal(p.params, q.params)
        assert p.cv_accuracy == q.cv_accuracy


def test_a_point_reports_the_weights_early_stopping_kept():
    """A point's metrics were its last epoch's, though its weights were
    those early stopping put back."""
    X, y, X_val, y_val = noisy_problem()
    path = regularization_path(X, y, [12, 16, 2], l2=[0.0], epochs=40,
                               lr=2.0, dtype="float64", early_stopping=True,
                               patience=3, validation_data=(X_val, y_val))
    point = path[0]
    net = path.network(point)
    assert point.eval_accuracy == net.accuracy(X_val, y_val)
    assert point.eval_cost == pytest.approx(net.cost(X_val, y_val),
                                            rel=1e-12)


def test_cv_by_a_number_of_folds_or_a_splitter(digits):
    (X, y), _ = digits
    args = dict(sizes=[64, 10], l2=[1.0, 0.1], epochs=1, lr=0.5)
    path = regularization_path(X, y, cv=3, **args)
    contiguous = [(np.r_[200:600], np.r_[0:200]),
                  (np.r_[0:200, 400:600], np.r_[200:400]),
                  (np.r_[0:400], np.r_[400:600])]
    same = regularization_path(X, y, cv=contiguous, **args)
    assert [p.cv_accuracy for p in path] == [p.cv_accuracy for p in same]
    model_selection = pytest.importorskip("sklearn.model_selection")
    splitter = model_selection.KFold(4, shuffle=True, random_state=0)
    by_splitter = regularization_path(X, y, cv=splitter, **args)
    accuracy, _ = _fold_scores(X, y, list(splitter.split(X)), **args)
    assert [p.cv_accuracy for p in by_splitter] == list(
        np.mean(accuracy, axis=0))
    for cv, error in ((1, ValueError), ("3", TypeError), ([], ValueError)):
        with pytest.raises(error, match="cv"):
            regularization_path(X, y, cv=cv, **args)


def test_best_chooses_by_the_cross_validated_score(digits):
    (X, y), val = digits
    path = regularization_path(X, y, [64, 10], l1=[6.0, 2.0, 0.5],
                               epochs=3, lr=0.5, cv=3, validation_data=val)
    scores = [p.cv_accuracy for p in path]
    assert len(set(scores)) == 3
    strength, net = path.best()
    assert strength == path[int(np.argmax(scores))].strength
    assert np.array_equal(net.params, path[int(np.argmax(scores))].params)
    linear = regularization_path(X, np.eye(10)[y], [64, 10], l2=[3.0, 0.0],
                                 output="linear", epochs=2, lr=0.05, cv=2)
    costs = [p.cv_cost for p in linear]
    assert linear.best()[0] == linear[int(np.argmin(costs))].strength
    with pytest.raises(ValueError, match="validation_data or cv"):
        regularization_path(X, y, [64, 10], l1=[1.0], epochs=1).best()


def test_cv_path_shows_each_warning_once_naming_the_paths(digits):
    (X, y), _ = digits
    with pytest.warns(creg.CregWarning) as record:   # raw 0-16 pixels
        regularization_path(X * 16, y, [64, 10], l1=[1.0], epochs=1,
                            cv=2, n_threads=2)
    scale = [str(w.message) for w in record if "Scale the" in str(w.message)]
    assert scale and all(m.startswith("path on ") for m in scale)
    assert len(set(scale)) == len(scale)      # each message once
    named = " ".join(m.split(":")[0] for m in scale)
    assert all(chain in named for chain in ("whole", "fold 0", "fold 1"))


def test_ctrl_c_stops_every_path_of_a_cv_walk(digits, ctrl_c):
    import _thread
    import threading
    (X, y), _ = digits
    threading.Timer(0.3, _thread.interrupt_main).start()
    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        regularization_path(X, y, [64, 10], l1=[1.0], epochs=10**6, cv=3,
                            n_threads=2)
    assert time.perf_counter() - started < 30

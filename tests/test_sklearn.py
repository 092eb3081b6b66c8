"""creg.sklearn: scikit-learn's own estimator checks, plus what they do not
cover (labels, partial_fit semantics, pickling, grid search, weights)."""
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.utils._param_validation import (  # noqa: E402
    InvalidParameterError)
from sklearn.utils.estimator_checks import (  # noqa: E402
    parametrize_with_checks)

import creg  # noqa: E402
from creg.sklearn import CregClassifier, CregRegressor  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    X, y = creg.datasets.load_digits()
    order = np.random.default_rng(0).permutation(len(X))
    return X[order[:600]], y[order[:600]]


def _regression(n=200, n_outputs=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    W = rng.normal(size=(5, n_outputs))
    Y = np.tanh(X @ W) * 50 + 100 + rng.normal(scale=1.0, size=(n, n_outputs))
    return X, (Y[:, 0] if n_outputs == 1 else Y)


# ------------------------------------------------------ scikit-learn's checks
# No expected failures: every check passes with the default parameters.
@parametrize_with_checks([CregClassifier(), CregRegressor()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# ------------------------------------------------------------------ labels
def test_arbitrary_labels_train_the_same_network_and_round_trip(digits):
    X, y = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six",
                      "seven", "eight", "nine"])
    # Labels whose sorted order is the digits' order, so the encoding (and
    # hence the whole training run) is the same as with the integers.
    for labels in (np.array([f"d{k}" for k in range(10)]),
                   np.arange(10) * 7 - 20,
                   np.array([f"d{k}" for k in range(10)], dtype=object)):
        ints = CregClassifier(epochs=3, random_state=0).fit(X, y)
        named = CregClassifier(epochs=3, random_state=0).fit(X, labels[y])
        assert np.array_equal(named.network_.params, ints.network_.params)
        assert list(named.classes_) == sorted(labels)
        assert np.array_equal(named.predict(X), labels[ints.predict(X)])
        assert np.array_equal(named.predict_proba(X), ints.predict_proba(X))
        assert named.predict(X).dtype == labels.dtype
    # Any labels: classes_ sorted as LabelEncoder does, predict returns them.
    clf = CregClassifier(epochs=10, random_state=0).fit(X, names[y])
    assert list(clf.classes_) == sorted(names)
    assert set(clf.predict(X)) <= set(names)
    assert clf.score(X, names[y]) > 0.9
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-12)
    assert np.array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))


def test_binary_problem_uses_two_softmax_outputs(digits):
    X, y = digits
    yes_no = np.where(y == 3, "three", "other")
    clf = CregClassifier(epochs=5, random_state=0).fit(X, yes_no)
    assert clf.network_.sizes == (64, 100, 2)
    assert clf.network_.output == "softmax"
    assert clf.predict_proba(X).shape == (len(X), 2)
    assert clf.score(X, yes_no) > 0.95


def test_one_class_is_refused_with_a_message_naming_it(digits):
    X, _ = digits
    with pytest.raises(ValueError, match="at least 2 classes.*1 class"):
        CregClassifier().fit(X, np.full(len(X), "a"))


# -------------------------------------------------------------- partial_fit
@pytest.mark.parametrize("Estimator", [CregClassifier, CregRegressor])
def test_partial_fit_over_aligned_chunks_equals_one_epoch_of_fit(
        Estimator, digits):
    X, y = digits
    if Estimator is CregRegressor:
        X, y = _regression(n=600, n_outputs=2)
    params = dict(hidden_layer_sizes=(20,), epochs=1, batch_size=8,
                  shuffle=False, momentum=0.0, penalty_scale="none",
                  l2=1e-3, l1=1e-4, max_norm=2.0, lr=0.01, random_state=3)
    if Estimator is CregRegressor:
        params["scale_y"] = False  # fit and partial_fit see the same y
    full = Estimator(**params).fit(X, y)
    chunked = Estimator(**params)
    extra = {"classes": np.arange(10)} if Estimator is CregClassifier else {}
    for start in range(0, len(X), 96):  # 96 = 12 batches of 8
        chunked.partial_fit(X[start:start + 96], y[start:start + 96],
                            **extra)
    assert np.array_equal(chunked.network_.params, full.network_.params)
    assert chunked.n_iter_ == len(range(0, len(X), 96))
    assert len(chunked.history_.train_cost) == chunked.n_iter_


def test_partial_fit_penalty_scale_n_uses_the_rows_of_each_call(digits):
    """With penalty_scale="n", each partial_fit call is a creg fit call:
    n is the number of rows in that call (here 32), not the stream's."""
    X, y = digits
    X, y = X[:64], y[:64]
    common = dict(hidden_layer_sizes=(10,), batch_size=8, shuffle=False,
                  lr=0.05, random_state=1)
    scaled = CregClassifier(l2=4.0, l1=0.5, penalty_scale="n", **common)
    plain = CregClassifier(l2=4.0 / 32, l1=0.5 / 32, penalty_scale="none",
                           **common)
    for est in (scaled, plain):
        for start in (0, 32):
            est.partial_fit(X[start:start + 32], y[start:start + 32],
                            classes=np.arange(10))
    assert np.array_equal(scaled.network_.params, plain.network_.params)


def test_partial_fit_classes_rules(digits):
    X, y = digits
    clf = CregClassifier(hidden_layer_sizes=(10,))
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X[:50], y[:50])
    assert not hasattr(clf, "network_")
    # The first chunk need not hold every class.
    few = y < 5
    clf.partial_fit(X[few][:40], y[few][:40], classes=np.arange(10))
    assert list(clf.classes_) == list(range(10))
    before = clf.network_.params.copy()
    with pytest.raises(ValueError, match="not the same"):
        clf.partial_fit(X[:40], y[:40], classes=np.arange(11))
    with pytest.raises(ValueError, match="previously unseen labels"):
        clf.partial_fit(X[:40], np.full(40, 10))
    assert np.array_equal(clf.network_.params, before)
    clf.partial_fit(X[:40], y[:40])
    assert clf.n_iter_ == 2
    # numbers are not the classes '0'..'9', nor strings the classes 0..9
    # (LabelEncoder alone matches 0 to '0')
    for classes, labels in [(np.arange(10).astype(str), y[:40]),
                            (np.arange(10), y[:40].astype(str))]:
        with pytest.raises(ValueError, match="y's labels are not of the "
                           "classes' type"):
            CregClassifier(epochs=1).partial_fit(X[:40], labels,
                                                 classes=classes)
    with pytest.raises(ValueError, match="y's labels are not of the "):
        clf.partial_fit(X[:40], y[:40].astype(str))
    assert clf.n_iter_ == 2


@pytest.mark.parametrize("Estimator", [CregClassifier, CregRegressor])
def test_partial_fit_sets_the_validation_attributes_as_fit_does(
        Estimator, digits):
    X, y = digits
    est = Estimator(epochs=1)
    est.partial_fit(X[:40], y[:40], **(
        {"classes": np.arange(10)} if Estimator is CregClassifier else {}))
    assert est.validation_scores_ is None
    assert est.best_validation_score_ is None


def test_partial_fit_after_early_stopping_holds_the_last_epoch(digits):
    """history_ said the weights were an earlier epoch's after partial_fit
    had trained on from them."""
    X, y = digits
    clf = CregClassifier(hidden_layer_sizes=(20,), epochs=40, lr=0.5,
                         early_stopping=True, n_iter_no_change=3,
                         random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", creg.EarlyStoppingWarning)
        clf.fit(X[:600], y[:600])
    fitted = clf.history_.epochs
    assert 0 <= clf.history_.restored_epoch < fitted - 1
    clf.partial_fit(X[:600], y[:600])
    assert clf.history_.epochs == fitted + 1
    assert clf.history_.restored_epoch == clf.history_.best_epoch == -1
    assert clf.history_._kept("train_cost") == clf.history_.train_cost[-1]


# -------------------------------------------------------------- invariants
def test_a_refused_fit_leaves_the_fitted_estimator_as_it_was(digits):
    X, y = digits
    clf = CregClassifier(epochs=2, random_state=0).fit(X, y)
    state = {k: v for k, v in vars(clf).items() if k.endswith("_")}
    params = clf.network_.params.copy()
    proba = clf.predict_proba(X)
    bad_X = X[:20, :5].copy()
    bad_X[0, 0] = np.nan
    attempts = [
        lambda: clf.fit(bad_X, y[:20]),                       # NaN, 5 features
        lambda: clf.fit(X[:20, :5], np.zeros(20)),            # one class
        lambda: clone(clf).set_params(lr=-1).fit(X, y),       # bad parameter
        lambda: clf.set_params(l2=-1.0).fit(X[:20, :5], y[:20]),
    ]
    for attempt in attempts:
        with pytest.raises((ValueError, TypeError)):
            attempt()
    clf.set_params(l2=0.0)
    assert clf.n_features_in_ == 64
    assert {k: v for k, v in vars(clf).items() if k.endswith("_")}.keys() \
        == state.keys()
    assert clf.network_ is state["network_"]
    assert np.array_equal(clf.network_.params, params)
    assert np.array_equal(clf.predict_proba(X), proba)


@pytest.mark.parametrize("params, match", [
    (dict(lr=-1), r"The 'lr' parameter of CregClassifier must be a float in "
                  r"the range \(0.0, inf\). Got -1 instead."),
    (dict(lr=float("nan")), "'lr' parameter"),
    (dict(l2=-0.5), "'l2' parameter"),
    (dict(dropout=1.0), "'dropout' parameter"),
    (dict(max_norm=0), "'max_norm' parameter"),
    (dict(hidden_layer_sizes=(10, 0)), "'hidden_layer_sizes' parameter"),
    (dict(hidden_layer_sizes=(10, 2.5)), "'hidden_layer_sizes' parameter"),
    (dict(n_threads=0), "'n_threads' parameter"),
    (dict(dtype="float16"), "'dtype' parameter"),
    (dict(penalty_scale="batch"), "'penalty_scale' parameter"),
    (dict(batch_size=True), "'batch_size' parameter"),
    (dict(hidden_layer_sizes={4: "a"}), "'hidden_layer_sizes' parameter"),
    (dict(hidden_layer_sizes={3, 7}), "'hidden_layer_sizes' parameter"),
])
def test_bad_parameters_are_refused_at_fit_naming_them(params, match,
                                                        digits):
    X, y = digits
    clf = CregClassifier(**params)  # no check in __init__
    with pytest.raises(InvalidParameterError, match=match):
        clf.fit(X[:30], y[:30])


# -------------------------------------------------------- pickle and state
@pytest.mark.parametrize("Estimator", [CregClassifier, CregRegressor])
def test_pickle_round_trip_predicts_identically_and_trains_on(
        Estimator, digits):
    X, y = digits
    if Estimator is CregRegressor:
        X, y = _regression()
    est = Estimator(epochs=3, dropout=0.1, random_state=0).fit(X, y)
    copy = pickle.loads(pickle.dumps(est))
    assert np.array_equal(copy.predict(X), est.predict(X))
    assert np.array_equal(copy.network_.params, est.network_.params)
    # The copy keeps the epoch counter (which keys shuffle and dropout), so
    # it continues exactly as the original does.
    est.partial_fit(X, y)
    copy.partial_fit(X, y)
    assert np.array_equal(copy.network_.params, est.network_.params)


def test_random_state_is_creg_seed(digits):
    X, y = digits
    a = CregClassifier(epochs=1, random_state=7).fit(X, y)
    b = CregClassifier(epochs=1, random_state=7).fit(X, y)
    assert a.network_.seed == 7
    assert np.array_equal(a.network_.params, b.network_.params)
    net = creg.Network([64, 100, 10], hidden="relu", output="softmax",
                       cost="log_likelihood", init="glorot", dtype="float64",
                       seed=7)
    net.fit(X, y, epochs=1, batch_size=10, lr=0.1)
    assert np.array_equal(net.params, a.network_.params)
    seeds = {CregClassifier(epochs=1).fit(X, y).network_.seed
             for _ in range(3)}
    assert len(seeds) > 1  # None draws a fresh seed
    state = np.random.RandomState(0)
    c = CregClassifier(epochs=1, random_state=state).fit(X, y)
    assert c.network_.seed == np.random.RandomState(0).randint(2**31 - 1)


def test_results_do_not_depend_on_n_threads(digits):
    X, y = digits
    one = CregClassifier(epochs=2, random_state=0, n_threads=1).fit(X, y)
    two = CregClassifier(epochs=2, random_state=0, n_threads=2).fit(X, y)
    assert np.array_equal(one.network_.params, two.network_.params)


# ------------------------------------------------------------ grid search
def test_grid_search(digits):
    X, y = digits
    grid = {"l2": [0.0, 5.0], "max_norm": [None, 2.0]}
    base = CregClassifier(hidden_layer_sizes=(32,), epochs=5, random_state=0,
                          n_threads=1)
    search = GridSearchCV(base, grid, cv=3).fit(X, y)
    assert search.cv_results_["mean_test_score"].shape == (4,)
    assert search.best_score_ > 0.85
    assert search.best_estimator_.network_.sizes == (64, 32, 10)
    assert search.score(X, y) > 0.9
    # joblib's process workers give the same numbers (creg is deterministic)
    parallel = GridSearchCV(base, grid, cv=3, n_jobs=2).fit(X, y)
    assert np.array_equal(parallel.cv_results_["mean_test_score"],
                          search.cv_results_["mean_test_score"])


# ------------------------------------------------------------------ weights
def test_coefs_and_intercepts_follow_mlp_layout(digits):
    X, y = digits
    clf = CregClassifier(hidden_layer_sizes=(30, 20), epochs=1,
                         random_state=0).fit(X, y)
    assert [w.shape for w in clf.coefs_] == [(64, 30), (30, 20), (20, 10)]
    assert [b.shape for b in clf.intercepts_] == [(30,), (20,), (10,)]
    for W, w, B, b in zip(clf.coefs_, clf.network_.weights,
                          clf.intercepts_, clf.network_.biases):
        assert np.array_equal(W, w.T) and np.array_equal(B, b)
    clf.coefs_[0][...] = 0  # copies: the network is untouched
    assert np.any(clf.network_.weights[0] != 0)
    linear = CregRegressor(hidden_layer_sizes=(), epochs=1).fit(
        *_regression(n_outputs=3))
    assert [w.shape for w in linear.coefs_] == [(5, 3)]
    assert not hasattr(CregClassifier(), "coefs_")


def _tags(y):
    """Three labels of each digit: even, above 4, a three."""
    return np.stack([y % 2 == 0, y > 4, y == 3], axis=1).astype(np.int64)


def test_multi_label_targets_train_sigmoid_outputs_as_mlp_takes_them(
        digits):
    # an indicator matrix met "y should be a 1d array", though creg.Network
    # trains multi-label targets and MLPClassifier takes them
    from sklearn.metrics import accuracy_score
    from sklearn.neural_network import MLPClassifier
    X, y = digits
    Y = _tags(y)
    clf = CregClassifier(hidden_layer_sizes=(20,), epochs=3,
                         random_state=0).fit(X, Y)
    net = creg.Network([64, 20, 3], hidden=clf.hidden, output="sigmoid",
                       cost="cross_entropy", init=clf.init, dtype=clf.dtype,
                       seed=0)
    net.fit(X, Y, epochs=3, batch_size=clf.batch_size, lr=clf.lr,
            l2=clf.l2, penalty_scale=clf.penalty_scale,
            momentum=clf.momentum, shuffle=clf.shuffle)
    assert clf.network_.params.tobytes() == net.params.tobytes()
    proba = clf.predict_proba(X)
    assert np.array_equal(proba, net.predict_proba(X))
    assert np.array_equal(clf.predict(X), (proba > 0.5).astype(np.int64))
    assert clf.score(X, Y) == accuracy_score(Y, clf.predict(X))
    assert clf.score(X, Y) < net.accuracy(X, Y)  # every label, not each
    mlp = MLPClassifier(hidden_layer_sizes=(20,), max_iter=3,
                        random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not converged in 3 iterations
        mlp.fit(X, Y)
    for name in ("classes_", "n_outputs_", "out_activation_"):
        assert np.array_equal(getattr(clf, name), getattr(mlp, name)), name
    for call in ("predict", "predict_proba"):
        got, peer = getattr(clf, call)(X), getattr(mlp, call)(X)
        assert (got.shape, got.dtype.kind) == (peer.shape, peer.dtype.kind)


def test_multi_label_partial_fit_early_stopping_and_refusals(digits):
    X, y = digits
    Y = _tags(y)
    chunks = CregClassifier(random_state=0).partial_fit(X[:300], Y[:300])
    assert chunks.partial_fit(X[300:], Y[300:]).n_iter_ == 2
    with pytest.raises(ValueError, match="fitted on multi-label targets"):
        chunks.partial_fit(X, y)
    with pytest.raises(ValueError, match="y is a 0/1 matrix of 2 columns, "
                       "but this CregClassifier was fitted on class labels"):
        CregClassifier(epochs=1).fit(X, y).partial_fit(X, Y[:, :2])
    with pytest.raises(ValueError, match="multi-label targets: a 0/1 "
                       "indicator matrix, a column per label; got "
                       "multiclass-multioutput"):
        CregClassifier(epochs=1).fit(X, np.stack([y, y], axis=1))
    # sparse, as MultiLabelBinarizer(sparse_output=True) gives it
    from scipy import sparse
    dense = CregClassifier(epochs=1, random_state=0).fit(X, Y)
    assert CregClassifier(epochs=1, random_state=0).fit(
        X, sparse.csr_matrix(Y)).network_.params.tobytes() == \
        dense.network_.params.tobytes()
    assert CregClassifier(random_state=0).partial_fit(
        X, Y, classes=[2, 0, 1]).classes_.tolist() == [0, 1, 2]
    # two values that are not 0 and 1 (type_of_target calls them labels)
    with pytest.raises(ValueError, match=r"got two-valued \(\[1, 2\], not "
                       r"0/1\) targets"):
        CregClassifier(epochs=1).fit(X, Y + 1)
    # one held-out row's 0 or 1 would choose the epoch
    with pytest.raises(ValueError, match="it leaves 1 held-out row"):
        CregClassifier(epochs=2, early_stopping=True).fit(X[:10], Y[:10])
    stopped = CregClassifier(epochs=4, early_stopping=True,
                             random_state=0).fit(X, Y)
    # held-out rows with every label right, as score counts them
    assert all(0 <= s <= 1 for s in stopped.validation_scores_)
    assert stopped.best_validation_score_ == max(stopped.validation_scores_)


def test_mlp_attribute_names_read_the_history_and_network(digits):
    # code ported from MLPClassifier plots clf.loss_curve_
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    X, y = digits
    clf = CregClassifier(hidden_layer_sizes=(20,), epochs=3,
                         random_state=0).fit(X, y)
    mlp = MLPClassifier(hidden_layer_sizes=(20,), max_iter=3,
                        random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not converged in 3 iterations
        mlp.fit(X, y)
    names = ["loss_curve_", "loss_", "best_loss_", "n_layers_",
             "n_outputs_", "out_activation_"]

    def kind(value):
        return next(t for t in (list, str, float, int)
                    if isinstance(value, t))

    assert [kind(getattr(clf, a)) for a in names] == [
        kind(getattr(mlp, a)) for a in names]
    assert clf.loss_curve_ == clf.history_.train_cost
    assert clf.loss_ == clf.history_.train_cost[-1]
    assert clf.best_loss_ == min(clf.history_.train_cost)
    assert (clf.n_layers_, clf.n_outputs_, clf.out_activation_) == (
        mlp.n_layers_, mlp.n_outputs_, mlp.out_activation_) == (3, 10,
                                                                "softmax")
    assert CregClassifier(epochs=2, early_stopping=True, random_state=0,
                          ).fit(X, y).best_loss_ is None
    reg = CregRegressor(hidden_layer_sizes=(4,), epochs=2).fit(
        *_regression(n_outputs=3))
    assert (reg.n_layers_, reg.n_outputs_, reg.out_activation_) == (
        3, 3, MLPRegressor().set_params(max_iter=1).fit(
            *_regression(n_outputs=3)).out_activation_)
    assert not hasattr(CregClassifier(), "loss_curve_")


def test_l1_prox_gives_exact_zeros_in_coefs(digits):
    X, y = digits
    clf = CregClassifier(l1=20.0, epochs=5, random_state=0).fit(X, y)
    zero = sum(int((w == 0).sum()) for w in clf.coefs_)
    assert zero / sum(w.size for w in clf.coefs_) > 0.5
    assert clf.history_.zero_fraction[-1] == pytest.approx(
        zero / sum(w.size for w in clf.coefs_))


# ---------------------------------------------------------------- regressor
def test_regressor_scales_targets_and_maps_predictions_back():
    X, y = _regression(n=300, n_outputs=2)
    reg = CregRegressor(random_state=0).fit(X, y)
    assert reg.predict(X).shape == (300, 2)
    assert reg.score(X, y) > 0.85
    np.testing.assert_allclose(reg.y_mean_, y.mean(axis=0))
    np.testing.assert_allclose(reg.y_scale_, y.std(axis=0))
    out = reg.network_.predict(X)  # the network works in standardized units
    np.testing.assert_allclose(reg.predict(X), out * reg.y_scale_
                               + reg.y_mean_, rtol=1e-12)
    one = CregRegressor(random_state=0).fit(X, y[:, :1])  # (n, 1) target
    assert one.n_outputs_ == 1 and one.predict(X).shape == (300,)
    raw = CregRegressor(scale_y=False, lr=1e-4, random_state=0).fit(
        X, y[:, 0] - 100)
    assert np.array_equal(raw.y_scale_, [1.0])
    assert np.array_equal(raw.predict(X), raw.network_.predict(X)[:, 0])


@pytest.mark.parametrize("factor", [1e160, 1e-170, 1e-300])
def test_regressor_scales_targets_near_the_float64_limits(factor):
    # y.std() of targets around 1e160 overflows: the network trained on
    # zeros and predicted inf; targets of +-1.7e308 met "y contains NaN".
    # Around 1e-170 it underflowed to 0: the targets went unscaled and
    # the network predicted about 0.1.
    X, y = _regression(n=120)
    small = CregRegressor(epochs=3, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        far = CregRegressor(epochs=3, random_state=0).fit(X, y * factor)
    np.testing.assert_allclose(far.y_scale_, small.y_scale_ * factor,
                               rtol=1e-12)
    np.testing.assert_allclose(far.predict(X), small.predict(X) * factor,
                               rtol=1e-9)
    edge = np.where(np.arange(120) % 2, 1.7e308, -1.7e308)
    top = CregRegressor(epochs=2, random_state=0).fit(X, edge)
    assert np.isfinite(top.y_scale_).all() and np.isfinite(
        top.predict(X)).all()


@pytest.mark.parametrize("Estimator", [CregClassifier, CregRegressor])
def test_estimators_refuse_times_in_x(Estimator):
    # scikit-learn's conversion took them as tick counts (NaT -9.2e18),
    # which Network refuses
    X = np.empty((20, 2), object)
    X[:, 0], X[:, 1] = np.datetime64("NaT"), np.arange(20.0)
    y = np.arange(20) % 2
    times = [X, np.zeros((20, 2), "datetime64[D]")]
    try:
        import pandas as pd
        times.append(pd.DataFrame({"a": pd.date_range("2020", periods=20),
                                   "b": np.arange(20.0)}))
    except ImportError:
        pass
    fitted = Estimator((3,), epochs=1).fit(np.zeros((20, 2)), y)
    for X_times in times:
        with pytest.raises(TypeError, match="X must be numeric"):
            Estimator((3,), epochs=1).fit(X_times, y)
        with pytest.raises(TypeError, match="X must be numeric"):
            fitted.predict(X_times)


@pytest.mark.parametrize("form", ["csr", "coo"])
@pytest.mark.parametrize("scale_y", [True, False])
def test_regressor_refuses_sparse_targets_on_every_call(form, scale_y):
    # scale_y met AttributeError ('csr_matrix' has no 'std'), and a fitted
    # regressor's partial_fit trained on the densified np.matrix
    sparse = pytest.importorskip("scipy.sparse")
    X, y = _regression(n=40, n_outputs=2)
    Y = sparse.csr_matrix(y[:, :2]) if form == "csr" else sparse.coo_array(
        y[:, 0])
    est = CregRegressor(epochs=1, scale_y=scale_y, random_state=0)
    message = "Sparse data was passed for y, but dense data is required"
    with pytest.raises(TypeError, match=message):
        est.fit(X, Y)
    est.partial_fit(X, y[:, :2] if form == "csr" else y[:, 0])
    with pytest.raises(TypeError, match=message):
        est.partial_fit(X, Y)


@pytest.mark.parametrize("y", [["a"] * 40, ["1.5"] * 40],
                         ids=["letters", "numerals"])
def test_regressor_names_targets_that_are_no_numbers(y):
    X, _ = _regression(n=40)
    with pytest.raises(ValueError, match="y must hold numbers for "
                       "CregRegressor, which regresses on them; got an array "
                       "of <U"):
        CregRegressor(epochs=1).fit(X, np.array(y))


def test_a_zero_d_array_of_hidden_layer_sizes_is_one_width(digits):
    X, y = digits
    clf = CregClassifier(hidden_layer_sizes=np.array(5), epochs=1)
    assert tuple(clf.fit(X[:100], y[:100]).network_.sizes) == (64, 5, 10)


def test_regressor_refuses_timedeltas_as_targets():
    X, _ = _regression(n=40)
    with pytest.raises(ValueError, match="y must hold numbers for "
                       "CregRegressor.*timedelta64"):
        CregRegressor(epochs=1).fit(X, np.arange(40).astype("m8[s]"))


def test_float32_regressor_refuses_targets_beyond_float32():
    # scaled, they trained, and predict returned inf and NaN
    X, y = _regression(n=40)
    for scale_y in (True, False):
        reg = CregRegressor(dtype="float32", scale_y=scale_y, epochs=1)
        with pytest.raises(ValueError, match="too large for "
                           r"dtype\('float32'\)"):
            reg.fit(X, y * 1e39)
    assert np.isfinite(CregRegressor(epochs=1).fit(X, y * 1e39).predict(X)
                       ).all()


def test_float32_estimator_predicts_float32():
    X, y = _regression()
    reg = CregRegressor(dtype="float32", random_state=0).fit(X, y)
    assert reg.network_.dtype == np.float32
    assert reg.predict(X).dtype == np.float32
    assert reg.score(X, y) > 0.8


# ----------------------------------------------------------- early stopping
@pytest.mark.parametrize("y, fraction, why", [
    ([0, 1, 0, 1, 0], 0.9, "the resulting train set will be empty"),
    ([0, 1, 2, 1, 0], 0.1, "least populated class"),
])
def test_a_hold_out_that_cannot_be_made_names_validation_fraction(
        y, fraction, why):
    """scikit-learn's split speaks of test_size, which the user never
    passed: the error names early_stopping and validation_fraction."""
    X = np.random.default_rng(0).random((5, 3))
    est = CregClassifier(3, early_stopping=True, epochs=1, batch_size=5,
                         validation_fraction=fraction)
    with pytest.raises(ValueError, match=f"validation_fraction={fraction} "
                       "of the 5 training rows") as info:
        est.fit(X, np.array(y))
    assert why in str(info.value)


@pytest.mark.parametrize("Estimator", [CregClassifier, CregRegressor])
def test_early_stopping_keeps_the_best_epoch(Estimator, digits):
    X, y = digits
    if Estimator is CregRegressor:
        X, y = _regression(n=300)
    params = dict(hidden_layer_sizes=(20,), early_stopping=True,
                  n_iter_no_change=3, epochs=200, random_state=0)
    est = Estimator(**params).fit(X, y)
    h = est.history_
    assert h.stopped_early and est.n_iter_ < 200
    assert len(est.validation_scores_) == est.n_iter_ == h.epochs
    best = int(np.argmax(est.validation_scores_))
    assert est.best_validation_score_ == est.validation_scores_[best]
    assert h.best_epoch == best
    assert est.n_iter_ == best + 1 + 3
    # The kept weights are those after epoch best + 1: a run that simply
    # ends there (patience never reached) arrives at the same weights.
    short = Estimator(**{**params, "epochs": best + 1,
                         "n_iter_no_change": 1000}).fit(X, y)
    assert not short.history_.stopped_early
    assert np.array_equal(short.network_.params, est.network_.params)


# ------------------------------------------------------------------ pandas
def test_dataframe_column_names(digits):
    pd = pytest.importorskip("pandas")
    X, y = digits
    frame = pd.DataFrame(X, columns=[f"px{i}" for i in range(64)])
    clf = CregClassifier(epochs=1, random_state=0).fit(frame, y)
    assert list(clf.feature_names_in_) == list(frame.columns)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        assert np.array_equal(clf.predict(frame), clf.predict(X))
    renamed = frame.rename(columns={"px0": "other"})
    with pytest.raises(ValueError, match="feature names should match"):
        clf.predict(renamed)


def test_batch_size_larger_than_the_data_warns_and_clips(digits):
    X, y = digits
    with pytest.warns(UserWarning, match="It is going to be clipped"):
        CregClassifier(batch_size=1000, epochs=1).fit(X[:50], y[:50])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # partial_fit: a short chunk is fine
        CregClassifier(batch_size=1000).partial_fit(X[:50], y[:50],
                                                    classes=np.arange(10))


def test_missing_scikit_learn_gives_an_install_hint():
    code = ("import sys; sys.modules['sklearn'] = None\n"
            "try:\n    import creg.sklearn\n"
            "except ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, timeout=60).stdout
    assert "pip install scikit-learn" in out


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_a_second_fit_at_once_is_refused_and_the_first_kept(method):
    """Two threads fitting one estimator left n_features_in_ and classes_
    of one fit beside network_ of the other, with no error."""
    import threading
    import time

    from creg import sklearn as creg_sklearn
    rng = np.random.default_rng(0)
    X, y = rng.random((20000, 5)), rng.integers(0, 3, 20000)
    estimator = CregClassifier(hidden_layer_sizes=(8,), epochs=3,
                               random_state=0)
    worker = threading.Thread(target=estimator.fit, args=(X, y))
    worker.start()
    deadline = time.time() + 30
    while estimator not in creg_sklearn._FITTING and \
            time.time() < deadline:
        time.sleep(0.001)
    with pytest.raises(RuntimeError, match="CregClassifier is already "
                       "fitting in another thread"):
        if method == "fit":
            estimator.fit(X[:50, :3], np.array(["a", "b"] * 25))
        else:
            estimator.partial_fit(X[:50], y[:50], classes=[0, 1, 2])
    worker.join()
    assert estimator.n_features_in_ == 5
    assert estimator.network_.sizes == (5, 8, 3)
    assert list(estimator.classes_) == [0, 1, 2]
    assert estimator not in creg_sklearn._FITTING
    estimator.fit(X[:50, :3], np.array(["a", "b"] * 25))  # free again
    assert estimator.network_.sizes == (3, 8, 2)


@pytest.mark.parametrize("classes, error, says", [
    ({0, 1}, TypeError, "classes must be a 1-D array-like"),
    (2, TypeError, "classes must be a 1-D array-like"),
    ([0, 1.5], ValueError, "classes: Unknown label type"),
    ([0.5, np.nan], ValueError, "classes: .*NaN"),
])
def test_partial_fit_names_bad_classes(classes, error, says):
    """They were blamed on y ('y should be a 1d array', 'y's labels are
    not of the classes' type')."""
    X, y = np.random.default_rng(0).random((20, 3)), np.arange(20) % 2
    with pytest.raises(error, match=says):
        CregClassifier().partial_fit(X, y, classes=classes)


@pytest.mark.parametrize("fraction", [np.float32(0.2), np.float64(0.2)])
def test_a_numpy_validation_fraction_is_taken(fraction):
    X, y = creg.datasets.load_digits()
    estimator = CregClassifier((8,), epochs=2, early_stopping=True,
                               validation_fraction=fraction, random_state=0)
    assert len(estimator.fit(X[:200], y[:200]).validation_scores_) == 2

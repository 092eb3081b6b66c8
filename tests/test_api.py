"""The public Python API: validation messages, dtypes, seeding, history,
state after refused calls, divergence, pickling."""
import pickle
import warnings

import numpy as np
import pytest

import creg


def problem(n=40, d=5, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, d)), rng.integers(0, k, n)


def softmax_net(**kw):
    return creg.Network([5, 4, 3], hidden="sigmoid", output="softmax",
                        cost="log_likelihood", init="normalized", **kw)


@pytest.mark.parametrize("kwargs,match", [
    (dict(hidden="gelu"), "hidden must be one of 'sigmoid', 'tanh', 'relu'"),
    (dict(output="tanh"), "output must be one of"),
    (dict(cost="hinge"), "cost must be one of"),
    (dict(init="zeros"), "init must be one of"),
    (dict(dtype="float16"), "dtype must be one of 'float32', 'float64'"),
    (dict(cost="cross_entropy", output="softmax"),
     "cost='cross_entropy' needs output='sigmoid'"),
    (dict(cost="log_likelihood", output="sigmoid"),
     "cost='log_likelihood' needs output='softmax'"),
    (dict(cost="quadratic", output="softmax"), "cost='quadratic' needs"),
    (dict(seed=-1), "seed"),
])
def test_constructor_refuses_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        creg.Network([5, 4, 3], **kwargs)


def test_one_softmax_unit_is_refused_with_the_alternatives():
    with pytest.raises(ValueError, match="a softmax output needs at least 2 "
                       "units.*output='sigmoid'"):
        creg.Network([5, 4, 1])
    assert creg.Network([5, 4, 1], output="sigmoid").cost_name == \
        "cross_entropy"


@pytest.mark.parametrize("sizes,error", [
    ([5], ValueError), ([5, 0, 3], ValueError), ([5, 2.5, 3], TypeError),
    (5, TypeError), ([5, -1], ValueError)])
def test_constructor_refuses_bad_sizes(sizes, error):
    with pytest.raises(error, match="sizes"):
        creg.Network(sizes, **creg.NIELSEN)


BAD_FIT = [
    (dict(epochs=0), ValueError, "epochs"),
    (dict(epochs=1.5), TypeError, "epochs"),
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(lr=0), ValueError, "lr must be > 0"),
    (dict(lr=-1), ValueError, "lr"),
    (dict(lr=float("nan")), ValueError, "lr must be finite"),
    (dict(lr="fast"), TypeError, "lr"),
    (dict(l2=-1), ValueError, "l2 must be >= 0"),
    (dict(l1=float("inf")), ValueError, "l1"),
    (dict(penalty_scale="batch"), ValueError, "penalty_scale must be one of"),
    (dict(l1_method="lasso"), ValueError, "l1_method must be one of"),
    (dict(max_norm=0), ValueError, "max_norm"),
    (dict(momentum=1.0), ValueError, "momentum must be in"),
    (dict(dropout=1.0), ValueError, "dropout must be in"),
    (dict(dropout=-0.1), ValueError, "dropout"),
    (dict(input_noise=-1), ValueError, "input_noise"),
    (dict(n_threads=0), ValueError, "n_threads"),
    (dict(early_stopping=True), ValueError,
     "cannot run without validation_data"),
    (dict(early_stopping=True, lr_schedule="halve_on_plateau"), ValueError,
     "early_stopping=True and lr_schedule='halve_on_plateau' watch"),
    (dict(early_stopping=3), TypeError, r"patience=3\)"),
    (dict(lr_schedule="cosine"), ValueError, "lr_schedule"),
    (dict(validation_data=np.zeros((3, 5))), TypeError, "validation_data"),
]


@pytest.mark.parametrize("kwargs,error,match", BAD_FIT)
def test_fit_refuses_bad_hyperparameters_and_changes_nothing(kwargs, error,
                                                             match):
    X, y = problem()
    net = softmax_net()
    before = net.params.copy()
    X_before = X.copy()
    with pytest.raises(error, match=match):
        net.fit(X, y, epochs=kwargs.pop("epochs", 1), **kwargs)
    assert np.array_equal(net.params, before)
    assert net.epochs_trained == 0
    assert np.array_equal(X, X_before)


@pytest.mark.parametrize("X,y,match", [
    (np.zeros((0, 5)), np.zeros(0, int), "0 sample"),
    (np.zeros(5), np.zeros(1, int), "Expected 2D array"),
    (np.zeros((4, 6)), np.zeros(4, int), "6 features, but the network is "
                                          "expecting 5"),
    (np.full((4, 5), np.nan), np.zeros(4, int), "contains NaN"),
    (np.full((4, 5), np.inf), np.zeros(4, int), "contains infinity"),
    (np.full((4, 5), 1e39), np.zeros(4, int), "contains infinity"),
    (np.zeros((4, 5), complex), np.zeros(4, int), "Complex data"),
    (np.zeros((4, 5)), np.zeros(3, int), "inconsistent numbers of samples"),
    (np.zeros((4, 5)), np.array([0, 1, 2, 3]), r"must be in \[0, 3\)"),
    (np.zeros((4, 5)), np.array([0, 1, -1, 2]), r"must be in \[0, 3\)"),
    (np.zeros((4, 5)), np.array([0, 1, 0.5, 2]), "integer class labels"),
    (np.zeros((4, 5)), np.array([0, 1, np.nan, 2]), "NaN"),
    (np.zeros((4, 5)), np.zeros((4, 2)), "2 columns"),
])
def test_fit_refuses_bad_data(X, y, match):
    net = softmax_net()
    before = net.params.copy()
    with pytest.raises(ValueError, match=match):
        net.fit(X, y, epochs=1, lr=0.5)
    assert np.array_equal(net.params, before)


def test_float32_overflow_is_refused_but_float64_accepts_it():
    X = np.full((4, 5), 1e39)
    with pytest.raises(ValueError, match="infinity"):
        softmax_net(dtype="float32").predict(X)
    assert softmax_net(dtype="float64").predict(X).shape == (4,)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype_is_kept_everywhere(dtype):
    X, y = problem()
    net = softmax_net(dtype=dtype)
    net.fit(X.astype(np.float32), y, epochs=1, lr=0.5)
    assert net.params.dtype == dtype
    assert all(w.dtype == dtype for w in net.weights)
    assert net.predict_proba(X).dtype == dtype
    assert net.predict(X).dtype == np.int64


@pytest.mark.parametrize("spelling, dtype", [
    ("f8", np.float64), ("double", np.float64), (np.dtype("=f8"), np.float64),
    (float, np.float64), ("f4", np.float32), ("single", np.float32),
    (np.float32, np.float32)])
def test_numpy_spellings_of_the_dtype_are_taken(spelling, dtype):
    net = creg.Network([3, 2, 2], dtype=spelling)
    assert net.dtype == dtype and net.params.dtype == dtype
    assert isinstance(net.dtype, np.dtype)


@pytest.mark.parametrize("spelling", [">f8", np.dtype(">f4"), "f2", None])
def test_other_dtypes_are_refused_by_name(spelling):
    with pytest.raises(ValueError, match="dtype must be one of 'float32', "
                       "'float64'; got "):
        creg.Network([3, 2, 2], dtype=spelling)


def test_integer_and_fortran_inputs_give_the_same_result():
    X, y = problem()
    Xi = (X * 10).astype(np.int32)
    a, b = softmax_net(dtype="float64"), softmax_net(dtype="float64")
    a.fit(Xi, y, epochs=2, lr=0.5)
    b.fit(np.asfortranarray(Xi.astype(np.float64)), y.astype(float), epochs=2,
          lr=0.5)
    assert np.array_equal(a.params, b.params)


def test_same_seed_same_weights_different_seed_different():
    X, y = problem()
    nets = []
    for s in (1, 1, 2):
        net = softmax_net(seed=s)
        net.fit(X, y, epochs=2, lr=0.5)
        nets.append(net.params)
    assert np.array_equal(nets[0], nets[1])
    assert not np.array_equal(nets[0], nets[2])


def test_shuffle_changes_the_order_and_is_reproducible():
    X, y = problem()
    a, b, c = softmax_net(), softmax_net(), softmax_net()
    a.fit(X, y, epochs=1, shuffle=False, lr=0.5)
    b.fit(X, y, epochs=1, shuffle=True, lr=0.5)
    c.fit(X, y, epochs=1, shuffle=True, lr=0.5)
    assert not np.array_equal(a.params, b.params)
    assert np.array_equal(b.params, c.params)


def test_weights_are_writable_views_and_training_starts_from_them():
    X, y = problem()
    net = softmax_net(dtype="float64")
    net.weights[0][...] = 0.0
    net.weights[1] = np.ones((3, 4))
    assert np.all(net.params[:20] == 0)
    assert np.array_equal(net.weights[1], np.ones((3, 4)))
    with pytest.raises(ValueError, match="shape"):
        net.weights[1] = np.ones((4, 3))
    other = softmax_net(dtype="float64", seed=5)
    other.params[...] = net.params
    net.fit(X, y, epochs=1, shuffle=False, lr=0.5)
    other.fit(X, y, epochs=1, shuffle=False, lr=0.5)
    assert np.array_equal(net.params, other.params)


def test_history_records_every_epoch():
    X, y = problem()
    Xv, yv = problem(seed=1)
    hist = softmax_net().fit(X, y, epochs=3, validation_data=(Xv, yv), l1=5.0,
                             lr=0.5)
    for name in ("train_cost", "train_accuracy", "eval_cost",
                 "eval_accuracy", "lr", "seconds", "zero_fraction"):
        assert len(getattr(hist, name)) == 3, name
    assert all(0 <= a <= 1 for a in hist.train_accuracy + hist.eval_accuracy)


def test_history_values_match_the_network_after_fit():
    X, y = problem()
    Xv, yv = problem(seed=1)
    net = softmax_net(dtype="float64")
    hist = net.fit(X, y, epochs=2, l2=3.0, validation_data=(Xv, yv), lr=0.5,
                   train_metrics="exact")
    assert hist.train_metrics == "exact"
    assert hist.train_cost[-1] == pytest.approx(net.cost(X, y, l2=3.0),
                                                rel=1e-12)
    # eval_cost carries the same penalty as train_cost (training n = 40)
    assert hist.eval_cost[-1] == pytest.approx(
        net.cost(Xv, yv, l2=3.0 / 40, penalty_scale="none"), rel=1e-12)
    assert hist.train_accuracy[-1] == net.accuracy(X, y)
    assert hist.eval_accuracy[-1] == net.accuracy(Xv, yv)
    zeros = sum(int((w == 0).sum()) for w in net.weights) / (5 * 4 + 4 * 3)
    assert hist.zero_fraction[-1] == zeros


def test_fit_continues_where_it_stopped():
    X, y = problem()
    a, b = softmax_net(), softmax_net()
    a.fit(X, y, epochs=4, shuffle=False, lr=0.5)
    b.fit(X, y, epochs=2, shuffle=False, lr=0.5)
    b.fit(X, y, epochs=2, shuffle=False, lr=0.5)
    assert np.array_equal(a.params, b.params)
    assert b.epochs_trained == 4


def test_predict_and_accuracy():
    X, y = problem()
    net = softmax_net(dtype="float64")
    P = net.predict_proba(X)
    assert P.shape == (40, 3)
    assert np.allclose(P.sum(axis=1), 1)
    assert np.array_equal(net.predict(X), P.argmax(axis=1))
    assert net.accuracy(X, y) == np.mean(P.argmax(axis=1) == y)
    assert net.accuracy(X, np.eye(3)[y]) == net.accuracy(X, y)


def test_linear_output_predicts_values_and_has_no_accuracy():
    X, _ = problem()
    t = X.sum(axis=1)
    net = creg.Network([5, 8, 1], output="linear", cost="quadratic",
                       dtype="float64", hidden="sigmoid", init="normalized")
    hist = net.fit(X, t, epochs=30, lr=0.05)
    assert hist.train_cost[-1] < hist.train_cost[0]
    assert net.predict(X).shape == (40, 1)
    assert np.isnan(hist.train_accuracy[-1])
    with pytest.raises(ValueError, match="linear"):
        net.accuracy(X, t)


def test_cost_adds_the_penalty_terms():
    X, y = problem()
    net = softmax_net(dtype="float64")
    sq = sum(float((w ** 2).sum()) for w in net.weights)
    ab = sum(float(np.abs(w).sum()) for w in net.weights)
    base = net.cost(X, y)
    assert net.cost(X, y, l2=2.0) == pytest.approx(base + 2.0 / 40 / 2 * sq)
    assert net.cost(X, y, l1=3.0, penalty_scale="none") == pytest.approx(
        base + 3.0 * ab)


def test_divergence_raises_and_keeps_last_finite_weights():
    X, _ = problem()
    t = X.sum(axis=1) * 1e3
    net = creg.Network([5, 8, 1], hidden="relu", output="linear",
                       cost="quadratic", dtype="float64", init="normalized")
    with pytest.raises(creg.DivergenceError, match=r"diverged in epoch \d+") as info:
        net.fit(X, t, epochs=50, lr=10.0)
    assert isinstance(info.value, ArithmeticError)
    assert "Lower lr" in str(info.value)
    assert np.isfinite(net.params).all()


def test_object_arrays_of_numbers_train_as_numbers():
    # 0-d arrays and numpy scalars in an object array are numbers, not the
    # ragged sequences numpy 1.x made object arrays of
    X, y = problem(n=20)
    held = np.empty(X.shape, dtype=object)
    for index, value in np.ndenumerate(X):
        held[index] = np.array(value) if index[1] % 2 else np.float64(value)
    a, b = softmax_net(dtype="float64"), softmax_net(dtype="float64")
    a.fit(X, y, epochs=1, shuffle=False)
    b.fit(held, y, epochs=1, shuffle=False)
    assert np.array_equal(a.params, b.params)


@pytest.mark.parametrize("targets, hinted", [(300.0, True), (1.0, False)])
def test_divergence_of_a_regression_names_large_targets(targets, hinted):
    # X standardized and y around 300: the advice on the inputs alone sent
    # the user the wrong way
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    y = X @ rng.normal(size=5) + targets
    net = creg.Network([5, 20, 1], output="linear", dtype="float64")
    with pytest.raises(creg.DivergenceError) as info:
        net.fit(X, y, epochs=5, lr=30.0 if hinted else 300.0)
    assert ("standardize the targets: a column of y has a root-mean-square "
            "of 300 (creg.sklearn.CregRegressor does, with scale_y=True)"
            in str(info.value)) == hinted
    # the inputs are on unit scale: no advice to scale them
    assert "inputs far from unit scale" not in str(info.value)


def test_divergence_of_unscaled_inputs_names_them():
    rng = np.random.default_rng(0)
    X = 100 * rng.normal(size=(300, 5))
    net = creg.Network([5, 20, 3], dtype="float64")
    with pytest.raises(creg.DivergenceError,
                       match="Lower lr, or mind the inputs far from unit "
                             "scale [(]a column of X has a root-mean-square "
                             "of 1[0-9][0-9]; scale it with StandardScaler"):
        net.fit(X, rng.integers(0, 3, 300), epochs=5, lr=1e3)


@pytest.mark.parametrize("train_metrics", ["running", "exact"])
def test_a_last_step_that_overflows_the_outputs_is_divergence(
        train_metrics):
    # the weights stay finite and only the pass after the epoch sees
    # the outputs overflow: fit returned a history holding inf, and
    # predict refused the network afterwards
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 200)).astype(np.float32)
    Y = rng.normal(size=(20, 2)).astype(np.float32)
    net = creg.Network([200, 2], output="linear", cost="quadratic",
                       dtype="float32", seed=0)
    start = net.params.copy()
    with pytest.raises(creg.DivergenceError, match="epoch 1 of this fit "
                       r"\(a non-finite (training|validation) cost after "
                       r"the epoch\)") as info:
        net.fit(X, Y, epochs=1, batch_size=20, lr=1e37,
                train_metrics=train_metrics, validation_data=(X, Y))
    assert np.array_equal(net.params, start) and net.epochs_trained == 0
    assert info.value.history.epochs == 0


def test_validation_rows_that_overflow_untrained_are_named_not_divergence():
    rng = np.random.default_rng(0)
    X = rng.random((200, 4)).astype(np.float32)
    y = rng.integers(0, 3, 200)
    X_val = X[:50].copy()
    X_val[0] = 3e38  # finite, but no float32 output holds its sums
    net = creg.Network([4, 8, 3], dtype="float32")
    with pytest.raises(ValueError, match="X_val: the network's outputs "
                       "overflow float32 for these rows with the weights "
                       "that began epoch 1 of this fit"):
        net.fit(X, y, epochs=2, validation_data=(X_val, y[:50]))
    assert net.epochs_trained == 0


def test_divergence_names_the_epoch_of_the_fit_and_of_the_network():
    X, y = problem()
    net = creg.Network([5, 8, 3], dtype="float64", seed=0)
    net.fit(X, y, epochs=2)
    rates = [0.1, 1e300]
    with pytest.raises(creg.DivergenceError, match="diverged in epoch 2 of "
                       "this fit, the network's epoch 4 ") as info:
        net.fit(X, y, epochs=2, lr_schedule=lambda epoch, _: rates[epoch])
    assert info.value.history.epochs == 1 and net.epochs_trained == 3


def test_saturated_units_give_finite_costs():
    X, y = problem()
    for output in ("sigmoid", "softmax"):
        net = creg.Network([5, 4, 3], hidden="sigmoid", output=output,
                           init="large", dtype="float32")
        net.weights[-1][...] = 500.0 * np.sign(net.weights[-1])
        assert np.isfinite(net.cost(X, y))
        hist = net.fit(X, y, epochs=1, lr=0.5)
        assert np.isfinite(hist.train_cost[-1])


def test_pickle_round_trip():
    X, y = problem()
    net = softmax_net()
    net.fit(X, y, epochs=1, lr=0.5)
    again = pickle.loads(pickle.dumps(net))
    assert np.array_equal(again.params, net.params)
    assert np.array_equal(again.predict_proba(X), net.predict_proba(X))
    again.weights[0][0, 0] = 9.0
    assert again.params[0] == 9.0 and net.params[0] != 9.0


def test_dtype_is_the_parameters_and_cannot_be_set():
    net = softmax_net(dtype="float32")
    with pytest.raises(AttributeError, match="dtype is its parameters' and "
                       "cannot be set"):
        net.dtype = np.dtype("float64")
    assert net.dtype == net.params.dtype == np.float32
    X, _ = problem()
    assert net.predict_proba(X).dtype == np.float32


def test_a_pickled_state_holds_a_copy_of_the_parameters():
    """pickle writes the state after __getstate__ returns, when a fit in
    another thread may be stepping the weights."""
    net = softmax_net()
    state = net.__getstate__()
    assert np.array_equal(state["params"], net.params)
    assert not np.shares_memory(state["params"], net.params)


def test_a_pickled_state_that_holds_dtype_loads():
    """Pickles from before dtype was a property hold it in the state."""
    net = softmax_net(dtype="float64")
    state = net.__getstate__()
    assert "dtype" not in state
    state["dtype"] = np.dtype("float32")
    again = creg.Network.__new__(creg.Network)
    again.__setstate__(state)
    assert again.dtype == np.float64
    assert np.array_equal(again.params, net.params)


def test_sizes_are_the_parameters_and_cannot_be_set():
    """A plain attribute before: sizes of the same parameter count were
    taken by compress with the weights' old shapes."""
    net = softmax_net()
    sizes = net.sizes
    with pytest.raises(AttributeError, match="sizes are its parameters' "
                       "shapes and cannot be set"):
        net.sizes = tuple(reversed(sizes))
    assert net.sizes == sizes
    state = net.__getstate__()  # as pickled before it was a property
    state["sizes"] = state.pop("_sizes")
    again = creg.Network.__new__(creg.Network)
    again.__setstate__(state)
    assert again.sizes == sizes
    X, _ = problem()
    assert np.array_equal(again.predict_proba(X), net.predict_proba(X))


def test_early_stopping_restores_the_best_weights():
    X, y = problem(n=60)
    Xv, yv = problem(n=30, seed=3)
    net = softmax_net(dtype="float64")
    with pytest.warns(creg.EarlyStoppingWarning, match="restored the weights"):
        hist = net.fit(X, y, epochs=200, lr=2.0, early_stopping=True,
                       patience=3, validation_data=(Xv, yv))
    assert hist.stopped_early and hist.epochs < 200
    assert net.accuracy(Xv, yv) == max(hist.eval_accuracy)


def test_lr_schedules():
    X, y = problem(n=60)
    Xv, yv = problem(n=30, seed=3)
    hist = softmax_net().fit(X, y, epochs=5, lr_schedule=lambda e, h: 0.1 / (e + 1))
    assert hist.lr == pytest.approx([0.1 / (e + 1) for e in range(5)])
    hist = softmax_net().fit(X, y, epochs=500, lr=1.0, patience=2,
                             lr_schedule="halve_on_plateau",
                             validation_data=(Xv, yv))
    assert hist.stopped_early
    assert min(hist.lr) == 1.0 / 128  # stops once halving falls below lr0/128
    assert all(b in (a, a / 2) for a, b in zip(hist.lr, hist.lr[1:]))


@pytest.mark.parametrize("keras_style", [
    lambda epoch, lr: lr * 0.9, lambda epoch, lr: float(lr),
    lambda epoch, lr: min(lr, 0.1),
    # Keras's own example: the lr (here the History) back as it came
    lambda epoch, lr: lr if epoch < 10 else lr * 0.9])
def test_a_keras_style_schedule_is_told_what_creg_passes(keras_style):
    # Keras's LearningRateScheduler passes (epoch, lr); creg the History
    X, y = problem(n=60)
    with pytest.raises(TypeError, match="History") as raised:
        softmax_net().fit(X, y, epochs=2, lr_schedule=keras_style)
    [note] = raised.value.__notes__
    assert "lr_schedule(epoch, history)" in note and "history.lr[-1]" in note

    def broken(epoch, history):
        return None + 1  # the user's own TypeError gets no note

    with pytest.raises(TypeError) as raised:
        softmax_net().fit(X, y, epochs=2, lr_schedule=broken)
    assert not getattr(raised.value, "__notes__", [])


def test_early_stopping_beside_halving_restores_when_the_schedule_ends():
    # both wait the same patience: early stopping ended the fit at the
    # first plateau, and the lr was never halved
    X, y = problem(n=60)
    Xv, yv = problem(n=30, seed=3)
    net = softmax_net(dtype="float64")
    with pytest.warns(creg.EarlyStoppingWarning, match="restored the weights"):
        hist = net.fit(X, y, epochs=500, lr=1.0, patience=2,
                       early_stopping=True, lr_schedule="halve_on_plateau",
                       validation_data=(Xv, yv))
    assert hist.stopped_early and min(hist.lr) == 1.0 / 128
    assert net.accuracy(Xv, yv) == max(hist.eval_accuracy)


def test_parameters_start_on_a_cache_line_however_the_network_was_made(
        tmp_path):
    # The kernels' vector loads of 784-float rows straddle cache lines
    # unless the buffers start on one (20% of a small-batch step).
    net = creg.Network([784, 30, 10], seed=1, **creg.NIELSEN)
    path = net.save(tmp_path / "net.creg")
    for made in (net, creg.load(path), pickle.loads(pickle.dumps(net)),
                 net.__class__([5, 3, 2], dtype="float64")):
        assert made.params.ctypes.data % 64 == 0
        assert made._workspace(7).ctypes.data % 64 == 0
    again = pickle.loads(pickle.dumps(net))
    assert np.array_equal(again.params, net.params)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cost_penalty_of_large_float32_weights_is_finite(dtype):
    # 2e19 is finite in float32; its square is not: the penalty sums in
    # float64 for either dtype, so both give the same finite cost
    net = creg.Network([3, 2], output="linear", dtype=dtype, seed=0)
    net.weights[0][...] = 2e19
    net.biases[0][...] = 0
    X, Y = np.zeros((2, 3), dtype), np.zeros((2, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cost = net.cost(X, Y, l2=1.0, l1=1.0, penalty_scale="none")
    w = float(np.dtype(dtype).type(2e19))
    assert cost == pytest.approx(0.5 * 6 * w * w + 6 * w, rel=1e-12)


@pytest.mark.parametrize("penalty, big, exact", [
    # sum w^2 of weights 1e160 overflows float64, and sum |w| of 1e308s
    ("l2", 1e160, 0.5 * (9 + 5) * 1e-300 * 1e160 * 1e160),
    ("l1", 1e308, (1.5 + 5) * 1e-300 * 1e308)])
def test_cost_penalty_is_finite_where_its_sums_overflow(penalty, big, exact):
    net = creg.Network([3, 2], output="linear", dtype="float64", seed=0)
    net.weights[0][...] = big
    net.weights[0][0, 0] = 3 * big if penalty == "l2" else 1.5 * big
    net.biases[0][...] = 0
    X, Y = np.zeros((2, 3)), np.zeros((2, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cost = net.cost(X, Y, **{penalty: 1e-300}, penalty_scale="none")
    assert cost == pytest.approx(exact, rel=1e-14)
    # and fit, whose running cost adds it, trains instead of diverging
    net.fit(np.zeros((4, 3)), np.zeros((4, 2)), epochs=1, batch_size=4,
            lr=1e-200, **{penalty: 1e-300}, penalty_scale="none")


def test_halving_stops_when_the_lr_halves_to_zero():
    # 5e-324 halves to 0, and lr0 / 128 is 0 too: the epochs ran at lr 0
    X, y = problem(n=60)
    Xv, yv = problem(n=30, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hist = softmax_net(dtype="float64").fit(
            X, y, epochs=50, lr=5e-324, patience=1,
            lr_schedule="halve_on_plateau", validation_data=(Xv, yv))
    assert hist.stopped_early and min(hist.lr) == 5e-324


@pytest.mark.parametrize("history, says", [
    (creg.History(eval_cost=[0.3], seconds=[0.1], best_epoch=0),
     "1 epoch, last eval_cost=0.3, best_epoch=0 (eval_cost=0.3)"),
    (creg.History(train_cost=[0.9, 0.5]), "2 epochs, last train_cost=0.5"),
    (creg.History(eval_accuracy=[0.5], best_epoch=0.0), "1 epoch"),
    (creg.History(eval_cost=[None], best_epoch=None), "1 epoch"),
    (creg.History(train_cost=["x"], best_epoch=7), "1 epoch"),
    (creg.History(train_cost={}), "0 epochs, train_metrics"),
    (creg.History(**{name: None for name in (
        "train_cost", "train_accuracy", "eval_cost", "eval_accuracy", "lr",
        "seconds", "zero_fraction", "clamped_fraction", "layer_norms",
        "layer_zero_fraction")}), "0 epochs, train_metrics"),
    (creg.History(train_cost=[10**400]), "1 epoch, train_metrics"),
    (creg.History(train_cost=[1], stopped_early=np.array([True, False])),
     "1 epoch, last train_cost=1, train_metrics"),
])
def test_repr_of_any_history_built_by_hand(history, says):
    assert repr(history).startswith(f"<History: {says}")


def _evaluation_results(net, X, y):
    return (net.predict_proba(X).tobytes(), net.cost(X, y),
            net.accuracy(X, y))


def test_evaluation_in_calls_of_any_size_gives_the_same_bits(monkeypatch):
    """Evaluation runs in calls of about 50 ms (so Ctrl-C is seen between
    them); however many chunks each call takes, the bits are the same."""
    from creg import network as network_module
    rng = np.random.default_rng(0)
    X, y = rng.random((5000, 20)), rng.integers(0, 3, 5000)
    net = creg.Network([20, 16, 3], output="softmax", dtype="float64",
                       seed=0)
    results = set()
    for chunks in (1, 2, 3, 100):
        monkeypatch.setattr(network_module, "_next_chunk",
                            lambda count, seconds, k=chunks: k)
        results.add(_evaluation_results(net, X, y))
    assert len(results) == 1


def test_a_stop_request_ends_a_long_evaluation_between_calls(monkeypatch):
    import threading

    from creg import _core, _interrupt
    from creg import network as network_module
    rng = np.random.default_rng(0)
    X = rng.random((5000, 20))
    net = creg.Network([20, 16, 3], seed=0)
    stop, calls = threading.Event(), []
    evaluate = _core.evaluate

    def evaluate_then_stop(*args, **kwargs):
        calls.append(1)
        stop.set()  # as a sweep's Ctrl-C sets it
        return evaluate(*args, **kwargs)
    monkeypatch.setattr(network_module._core, "evaluate", evaluate_then_stop)
    monkeypatch.setattr(network_module, "_next_chunk", lambda c, s: 1)
    with _interrupt.stop_when(stop), pytest.raises(KeyboardInterrupt):
        net.predict_proba(X)
    assert len(calls) == 1

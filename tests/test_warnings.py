"""Training that runs but fails quietly gets a warning that says what to
do (issue 17): inputs on a bad scale, a cost that explodes, an epoch stuck
at chance level, early stopping that put back earlier weights.  Each
warning is provoked here, and a healthy run gives none."""
import warnings

import numpy as np
import pytest

import creg
from creg import History
from creg._warnings import TrainingWatch
from conftest import outcome_only

sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import load_digits as sklearn_digits  # noqa: E402
from sklearn.model_selection import cross_val_score  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

from creg.sklearn import CregClassifier  # noqa: E402

WARNINGS = (creg.InputScaleWarning, creg.TrainingWarning,
            creg.EarlyStoppingWarning)


@pytest.fixture(scope="module")
def digits():
    """creg's digits, scaled to [0, 1]."""
    return creg.datasets.load_digits(dtype="float64")


def caught(call):
    """(result, the CregWarnings `call` gave)."""
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        result = call()
    return result, [w for w in got if issubclass(w.category,
                                                 creg.CregWarning)]


def test_every_warning_is_a_public_creg_user_warning():
    for kind in WARNINGS:
        assert issubclass(kind, creg.CregWarning)
        assert kind.__name__ in creg.__all__
    assert issubclass(creg.CregWarning, UserWarning)
    assert "CregWarning" in creg.__all__


# ------------------------------------------------------- healthy: silent

@pytest.mark.parametrize("settings", [{}, dict(creg.NIELSEN, lr=0.5),
                                      dict(hidden="tanh", lr=0.1)],
                         ids=["defaults", "nielsen", "tanh"])
def test_scaled_digits_train_without_a_warning(digits, settings):
    X, y = digits
    settings = dict(settings)
    lr = settings.pop("lr", 0.1)
    net = creg.Network([64, 100, 10], seed=0, **settings)
    with warnings.catch_warnings():
        warnings.simplefilter("error", creg.CregWarning)
        hist = net.fit(X[:1300], y[:1300], epochs=30, lr=lr,
                       validation_data=(X[1300:], y[1300:]))
    assert hist.eval_accuracy[-1] > 0.9


@outcome_only
def test_scaled_digits_cross_validate_without_a_warning(digits):
    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("error", creg.CregWarning)
        scores = cross_val_score(CregClassifier(random_state=0), X, y)
    assert scores.mean() > 0.9


def test_standardized_data_with_outliers_is_not_called_unscaled():
    # StandardScaler's output: every column has root-mean-square 1, while
    # heavy tails put single values far out
    rng = np.random.default_rng(0)
    X = rng.standard_t(2, size=(2000, 20))
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    assert np.abs(X).max() > 20
    y = (X[:, 0] > 0).astype(int)
    _, got = caught(lambda: creg.Network([20, 10, 2]).fit(X, y, epochs=2))
    assert not [w for w in got if w.category is creg.InputScaleWarning]


# ------------------------------------------------------------ input scale

@pytest.mark.parametrize("hidden", ["relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("top", [16, 255])
def test_inputs_far_from_unit_scale_warn_with_the_fix(digits, hidden, top):
    X, y = digits
    net = creg.Network([64, 30, 10], hidden=hidden, seed=0)
    _, got = caught(lambda: net.fit(top * X, y, epochs=1))
    scale = [w for w in got if w.category is creg.InputScaleWarning]
    assert len(scale) == 1
    message = str(scale[0].message)
    assert "StandardScaler" in message and f"X / {top} " in message
    assert scale[0].filename == __file__  # points at the user's call


def test_the_scale_warning_comes_once_a_network(digits):
    # partial_fit's every chunk warned, each with its own numbers
    X, y = digits
    clf = CregClassifier(hidden_layer_sizes=(30,))
    _, got = caught(lambda: [clf.partial_fit(16 * X[i:i + 100],
                                             y[i:i + 100],
                                             classes=np.arange(10))
                             for i in range(0, 1000, 100)])
    assert [w.category for w in got] == [creg.InputScaleWarning]
    net = creg.Network([64, 10, 10], seed=0)
    _, got = caught(lambda: [net.fit(16 * X, y, epochs=1) for _ in range(3)])
    assert [w.category for w in got] == [creg.InputScaleWarning]


def test_the_scale_warning_quotes_the_column_it_names():
    rng = np.random.default_rng(0)
    X = rng.random((400, 3))
    X[:, 0] += 50      # root-mean-square 50, values up to 51
    X[7, 2] = 900.0    # another column's outlier
    _, got = caught(lambda: creg.Network([3, 4, 2], seed=0).fit(
        X, (X[:, 1] > 0.5).astype(int), epochs=1))
    [scale] = [w for w in got if w.category is creg.InputScaleWarning]
    message = str(scale.message)
    assert message.startswith("column 0 of X has a root-mean-square of ")
    assert "(values up to 51)" in message
    assert "X / 51 for values in [0, 1]" in message


def test_a_rare_value_the_sample_holds_is_no_scale():
    # standardized: every column's root-mean-square is 1, and the sample
    # of 512 rows, which holds row 0, put column 5's at 6.2
    rng = np.random.default_rng(0)
    X = np.c_[rng.standard_normal((20000, 5)), np.zeros(20000)]
    X[0, 5] = 1
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    _, got = caught(lambda: creg.Network([6, 10, 2], seed=0).fit(
        X, (X[:, 0] > 0).astype(int), epochs=1))
    assert not [w for w in got if w.category is creg.InputScaleWarning]
    # beside a column that is wide in every row, which the sample ranks
    # second: that one is named
    X[:, 1] *= 5
    _, got = caught(lambda: creg.Network([6, 10, 2], seed=0).fit(
        X, (X[:, 0] > 0).astype(int), epochs=1))
    [scale] = [w for w in got if w.category is creg.InputScaleWarning]
    assert str(scale.message).startswith("column 1 of X has a "
                                         "root-mean-square of 5 ")


def test_float32_inputs_near_the_limit_are_measured_in_float64():
    # their float32 squares overflowed: "a root-mean-square of inf", for
    # the first column that did
    rng = np.random.default_rng(0)
    X = (rng.random((400, 3)) * [1e18, 1e20, 1e19]).astype(np.float32)
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        with pytest.raises(creg.DivergenceError):  # as it should
            creg.Network([3, 4, 2], seed=0).fit(X, np.arange(400) % 2,
                                                epochs=1)
    scale = [w for w in got if w.category is creg.InputScaleWarning]
    assert str(scale[0].message).startswith(
        "column 1 of X has a root-mean-square of 5.9e+19")


def test_the_watch_reads_rows_from_all_of_x():
    # 1,000 rows: the sample was the first 512, before column 3 grew
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 8))
    X[600:, 3] *= 100
    y = np.repeat([0, 1], 500)
    _, got = caught(lambda: creg.Network([8, 10, 2], seed=0).fit(
        X, y, epochs=1, lr=1e-4))
    [scale] = [w for w in got if w.category is creg.InputScaleWarning]
    assert str(scale.message).startswith("column 3 of X")


@outcome_only
def test_unscaled_sklearn_digits_warn_or_score_like_mlp():
    """On scikit-learn's own digits (pixels 0-16), cross_val_score either
    warns with the fix or scores within 2 points of MLPClassifier."""
    X, y = sklearn_digits(return_X_y=True)
    assert X.max() == 16
    scores, got = caught(lambda: cross_val_score(CregClassifier(), X, y))
    scale = [w for w in got if w.category is creg.InputScaleWarning]
    if scale:
        assert "StandardScaler" in str(scale[0].message)
        assert len(scale) == 5  # once per fold
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp = cross_val_score(MLPClassifier(random_state=0), X, y)
    assert scores.mean() >= mlp.mean() - 0.02


# ---------------------------------------------------- explosion and chance

def test_exploding_cost_warns_and_suggests_a_smaller_lr(digits):
    # issue 17's case: a sigmoid network with lr=1000, whose cost ran to
    # thousands without a word
    X, y = digits
    net = creg.Network([64, 30, 10], seed=0, **creg.NIELSEN)
    hist, got = caught(lambda: net.fit(X, y, epochs=3, lr=1000.0))
    assert hist.train_cost[0] > 100
    [warning] = got
    assert warning.category is creg.TrainingWarning
    assert "diverging" in str(warning.message)
    assert "lr=100, a tenth of 1000" in str(warning.message)


def test_cost_that_falls_then_climbs_warns(digits):
    X, y = digits
    net = creg.Network([64, 30, 10], seed=0, **creg.NIELSEN)
    hist, got = caught(lambda: net.fit(
        X, y, epochs=6, lr_schedule=lambda e, h: 0.5 if e < 3 else 10.0))
    assert [w.category for w in got] == [creg.TrainingWarning]
    assert "climbed" in str(got[0].message)


def test_epoch_at_chance_level_warns(digits):
    X, y = digits
    net = creg.Network([64, 100, 10], seed=0)
    hist, got = caught(lambda: net.fit(X, y, epochs=5, lr=3.0))
    assert max(hist.train_accuracy) < 0.15
    [warning] = got
    assert warning.category is creg.TrainingWarning
    assert "chance level" in str(warning.message)
    assert "lr=0.3" in str(warning.message)


def test_chance_level_with_a_creeping_cost_suggests_a_larger_lr(digits):
    # lr 1e-4: the cost falls, but by less than 1% an epoch; the message
    # must not call that cost "not below" the one before, nor the
    # learning rate too large
    X, y = digits
    net = creg.Network([64, 10, 10], seed=0)
    hist, got = caught(lambda: net.fit(X, y, epochs=2, lr=1e-4))
    assert hist.train_cost[1] < hist.train_cost[0]
    [warning] = got
    message = str(warning.message)
    assert "less than 1% below" in message and "not below" not in message
    assert "too small (try lr=0.001, ten times 0.0001)" in message
    assert "too large" not in message


def history_of(costs, accuracies, lr=0.1):
    return History(train_cost=list(costs), train_accuracy=list(accuracies),
                   lr=[lr] * len(costs))


def watched(watch, costs, accuracies):
    """The epochs (1-based) after which `watch` warned."""
    warned = []
    for epoch in range(1, len(costs) + 1):
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            watch.epoch_ended(history_of(costs[:epoch],
                                         accuracies[:epoch]))
        warned += [epoch] * len(got)
    return warned


@pytest.mark.parametrize("costs, accuracies, chance, warned", [
    # a cost that falls, above chance: silent
    ([2.0, 1.0, 0.5, 0.3], [0.5, 0.8, 0.9, 0.95], 0.1, []),
    # over ten times the cost before training: warns once, at once
    ([25.0, 30.0, 40.0], [0.5, 0.5, 0.5], 0.1, [1]),
    # fell to 0.5, then climbed past three times that and the start
    ([1.0, 0.5, 1.2, 2.5], [0.6, 0.8, 0.7, 0.5], 0.1, [4]),
    # tripled, but from a tiny cost and by little: noise
    ([0.01, 0.002, 0.009], [0.99, 1.0, 0.99], 0.1, []),
    # tripled by much, though still below the start: warns
    ([1.0, 0.5, 2.0], [0.6, 0.8, 0.7], 0.1, [3]),
    # at chance, and not below the start: warns from the second epoch
    ([2.3, 2.3, 2.3], [0.1, 0.1, 0.1], 0.1, [2]),
    # a fit of one epoch (partial_fit) is never called stuck
    ([2.3], [0.1], 0.1, []),
    # at chance but the cost still falls: a plateau being left, silent
    ([2.0, 1.8, 1.6], [0.1, 0.11, 0.12], 0.1, []),
    # no chance level (a linear output): only the cost counts
    ([2.0, 1.9, 1.8], [float("nan")] * 3, None, []),
    # one class 98% of the rows: a converged network above it by less
    # than the margin but with a quarter of its errors is no chance level
    ([0.05, 0.05, 0.05], [0.995] * 3, 0.98, []),
    ([2.3, 2.3, 2.3], [0.98] * 3, 0.98, [2]),
])
def test_training_watch_rules(costs, accuracies, chance, warned):
    watch = TrainingWatch(initial_cost=2.3, chance=chance, scale=0.5)
    assert watched(watch, costs, accuracies) == warned


class _ReadLastOnly(list):
    """A history list that refuses to be scanned: only its length and its
    last items may be read."""

    def __iter__(self):
        raise AssertionError("the watch scanned the history")

    def __getitem__(self, index):
        if isinstance(index, slice) or not -2 <= index < 0:
            raise AssertionError(f"the watch read history[{index!r}]")
        return list.__getitem__(self, index)


@pytest.mark.parametrize("costs, lrs, accuracy, warned, says", [
    # creeping down at chance: "barely learning"
    ([2.3 * (1 - 0.001 * e) for e in range(300)], [0.1] * 300, 0.1, 2,
     "barely learning"),
    # warm restarts every 50 epochs, then a climb from the lowest cost
    ([1.0 - 0.002 * e for e in range(299)] + [5.0],
     [0.1 * (50 - e % 50) for e in range(300)], 0.9, 300,
     "from 0.404 in epoch 299"),
    ([1.0 - 0.002 * e for e in range(300)], [0.1 * (50 - e % 50)
                                              for e in range(300)], 0.9,
     300, None),
])
def test_the_watch_reads_each_epoch_once(costs, lrs, accuracy, warned, says):
    # it rescanned the history after every epoch: a fit of 16,000 short
    # epochs took 8 times its training
    watch = TrainingWatch(initial_cost=2.3, chance=0.1, scale=0.5)
    history = History(train_cost=_ReadLastOnly(), lr=_ReadLastOnly(),
                      train_accuracy=_ReadLastOnly())
    for epoch, (cost, lr) in enumerate(zip(costs, lrs), 1):
        history.train_cost.append(cost)
        history.lr.append(lr)
        history.train_accuracy.append(accuracy)
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            watch.epoch_ended(history)
        if got:
            break
    assert epoch == warned
    if says:
        assert len(got) == 1 and says in str(got[0].message)
    else:
        assert not got
    # the same verdict from histories handed whole, epoch by epoch
    again = TrainingWatch(initial_cost=2.3, chance=0.1, scale=0.5)
    assert watched(again, costs[:epoch], [accuracy] * epoch) == (
        [epoch] if says else [])


def test_a_running_cost_above_the_start_that_falls_is_creeping():
    # the first epoch's running cost averages its batches: above the cost
    # measured before the fit while it falls every epoch, it was advice to
    # lower an lr that is far too small
    watch = TrainingWatch(initial_cost=2.594, chance=0.1113, scale=0.5)
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        watch.epoch_ended(history_of([2.5984, 2.5877], [0.11, 0.1102],
                                     lr=1e-4))
    [warning] = got
    assert "less than 1% below the 2.594 before this fit: the network is " \
        "barely learning" in str(warning.message)
    assert "a learning rate too small (try lr=0.001" in str(warning.message)


def test_chance_is_counted_over_all_rows_before_it_is_named():
    # the watch's rows come in a stride that cycles with the digits'
    # classes: a sample said 0.1426 for the largest share, all rows 0.1018
    # and the 15% accuracy of a slow fit is above chance
    X, y = creg.datasets.load_digits()
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        creg.Network([64, 30, 10], seed=0).fit(X, y, epochs=3, lr=1e-4)
    assert not [w for w in got if "chance level" in str(w.message)]
    asked = []
    watch = TrainingWatch(initial_cost=2.3, chance=0.14, scale=0.5,
                          exact_chance=lambda: asked.append(1) or 0.1)
    assert watched(watch, [2.3, 2.3, 2.3], [0.15] * 3) == []
    assert asked == [1]  # once, where the sample said chance


@pytest.mark.parametrize("penalty, named", [
    (dict(l1=0.5), "an l1 that has set every weight to exactly 0 (a "
     "threshold of lr*l1' = 0.05 a step): lower l1"),
    (dict(l2=10), "an l2 so strong that each step multiplies the weights by "
     "1 - lr*l2' = 0 (lr=0.1, l2'=10): lower l2")])
def test_a_penalty_that_zeroes_the_weights_is_named_not_the_lr(penalty,
                                                               named):
    # a larger lr, which the warning advised, only zeroes them harder
    X, y = creg.datasets.load_digits()
    with pytest.warns(creg.TrainingWarning, match="chance level") as got:
        creg.Network([64, 20, 10], seed=0).fit(
            X[:200], y[:200], epochs=3, penalty_scale="none", **penalty)
    [message] = [str(w.message) for w in got
                 if "chance level" in str(w.message)]
    assert named in message and "lr=1" not in message


@pytest.mark.parametrize("scale, hinted", [(1.9, False), (5.0, True)])
def test_the_scale_hint_waits_for_the_scale_warning_s_limit(scale, hinted):
    # standardized data's sample often has a column a little above 1
    watch = TrainingWatch(initial_cost=2.3, chance=0.1, scale=scale)
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        watch.epoch_ended(history_of([40.0], [0.1]))
    [warning] = got
    assert ("StandardScaler" in str(warning.message)) == hinted


@pytest.mark.parametrize("constant_cost, warned", [(2.3, []), (0.0, [1])])
def test_a_fit_that_goes_on_from_a_tiny_cost_is_not_diverging(
        constant_cost, warned):
    # a network trained to 0.0006 goes on with dropout: 0.4 is far above
    # its start, but below what predicting the class shares costs (ln 10)
    watch = TrainingWatch(initial_cost=0.0006, chance=0.1, scale=0.5,
                          constant_cost=constant_cost)
    costs = [0.4067, 0.0963, 0.0993, 0.0712, 0.1535]
    assert watched(watch, costs, [0.9] * 5) == warned
    # nor is a rise by less than a tenth of that cost a climb
    watch = TrainingWatch(initial_cost=0.0006, chance=0.1, scale=0.5,
                          constant_cost=constant_cost)
    costs = [0.031, 0.0187, 0.0122, 0.0253, 0.0437]
    assert watched(watch, costs, [0.99] * 5) == ([] if warned == [] else [1])


def test_a_validation_cost_that_explodes_warns():
    watch = TrainingWatch(initial_cost=2.3, chance=0.1, scale=0.5,
                          constant_cost=2.3, initial_eval_cost=2.4)
    history = history_of([2.0], [0.5])
    history.eval_cost.append(5.6e62)
    with pytest.warns(creg.TrainingWarning, match="the validation cost "
                      "reached 5.6e[+]62 in epoch 1, over 10 times the "
                      "validation cost's 2.4 before this fit"):
        watch.epoch_ended(history)


def _wine_split():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler
    X, y = sklearn_datasets.load_wine(return_X_y=True)
    Xt, Xv, yt, yv = train_test_split(X, y, random_state=0, stratify=y)
    return StandardScaler().fit(Xt), Xt, Xv, yt, yv


def test_validation_rows_scaled_unlike_x_are_named_not_divergence():
    # X_val not transformed: "training is diverging, lower lr", and each
    # tenth of the lr trained worse (accuracy 0.99 -> 0.21)
    scaler, Xt, Xv, yt, yv = _wine_split()
    hist, got = caught(lambda: creg.Network([13, 30, 3], seed=0).fit(
        scaler.transform(Xt), yt, epochs=10, lr=0.1,
        validation_data=(Xv, yv)))
    assert [w.category for w in got] == [creg.InputScaleWarning]
    assert "column 12 of X_val has a root-mean-square of 778, where X's " \
        "columns have at most 1: scale X_val as X was scaled" \
        in str(got[0].message)
    # and scaled, nothing is said
    hist, got = caught(lambda: creg.Network([13, 30, 3], seed=0).fit(
        scaler.transform(Xt), yt, epochs=10, lr=0.1,
        validation_data=(scaler.transform(Xv), yv)))
    assert got == [] and hist.eval_accuracy[-1] > 0.9


def test_going_on_from_an_overfit_is_not_divergence():
    # the validation cost far above the training cost before the fit
    watch = TrainingWatch(initial_cost=0.024, chance=0.1, scale=0.5,
                          constant_cost=2.3, initial_eval_cost=3.28)
    history = history_of([0.02], [1.0])
    history.eval_cost.append(3.282)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        watch.epoch_ended(history)


@pytest.mark.parametrize("costs, accuracies, warned", [
    # a majority class of 95% and a cost below what predicting the shares
    # costs (0.199): a converged network, not chance level
    ([0.19, 0.188, 0.188], [0.949, 0.949, 0.949], []),
    ([0.199, 0.199, 0.199], [0.95, 0.95, 0.95], [2])])
def test_a_cost_below_the_class_shares_is_no_chance_level(costs, accuracies,
                                                          warned):
    watch = TrainingWatch(initial_cost=0.7, chance=0.95, scale=0.5,
                          constant_cost=0.199)
    assert watched(watch, costs, accuracies) == warned


def test_a_regression_at_the_targets_mean_warns():
    # dead ReLUs: the cost of predicting the mean, every epoch, and no
    # warning, as a linear output has no chance level
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 10))
    y = X @ rng.normal(size=10)
    net = creg.Network([10, 20, 1], output="linear", seed=0)
    for b in net.biases[:-1]:
        b[...] = -100.0  # every hidden unit dead
    hist, got = caught(lambda: net.fit(X, y, epochs=4, lr=0.01))
    [warning] = got
    assert "no better than predicting the targets' mean (whose cost is" \
        in str(warning.message)


def test_a_collapse_in_the_first_epoch_is_no_creeping():
    # 6.5 -> 2.31 in epoch 1, then creeping to the class shares' 2.30: the
    # step was too large, and ten times it diverged
    watch = TrainingWatch(initial_cost=6.5, chance=0.1, scale=0.5,
                          constant_cost=2.303)
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        watch.epoch_ended(history_of([2.31, 2.309], [0.1, 0.1]))
    [warning] = got
    assert "a learning rate too large (try lr=0.01" in str(warning.message)


def test_targets_without_a_chance_level_past_the_sample_are_no_error(
        digits):
    # a row of no label, outside the sampled rows: the sample had a chance
    # level, all the rows none (a TypeError on None + 0.02)
    X, y = digits
    Y = np.eye(10)[y]
    sampled = set(np.linspace(0, len(X) - 1, 512).astype(int))
    Y[next(i for i in range(len(X)) if i not in sampled)] = 0
    net = creg.Network([64, 30, 10], output="sigmoid", cost="cross_entropy",
                       seed=0)
    hist, got = caught(lambda: net.fit(X, Y, epochs=3, lr=1e-6))
    assert hist.epochs == 3 and "chance level" not in str(
        [str(w.message) for w in got])


def test_a_stuck_network_is_told_where_the_sample_hid_the_majority():
    # the sample said the largest share was 0.178 (all rows: 0.588), so an
    # accuracy of 0.588 looked far above chance
    watch = TrainingWatch(initial_cost=0.68, chance=0.178, scale=0.5,
                          exact_chance=lambda: 0.588)
    assert watched(watch, [0.678, 0.678, 0.678], [0.588] * 3) == [2]


def test_a_penalty_is_named_beside_the_lr_at_chance(digits):
    # l2=1000 flattened the network: the advice moved lr up and down
    X, y = digits
    hist, got = caught(lambda: creg.Network([64, 30, 10], seed=0).fit(
        X, y, epochs=10, lr=0.1, l2=1000.0))
    [warning] = got
    assert "Usual causes: a penalty too strong (l2'=0.556 a step: try a " \
        "smaller one); a learning rate" in str(warning.message)


def test_a_warm_restart_of_the_lr_is_no_divergence():
    # SGDR: back to lr0 after a decay; the cost rises for a while
    watch = TrainingWatch(initial_cost=2.3, chance=0.1, scale=0.5,
                          constant_cost=2.3)
    history = History(train_cost=[0.5, 0.1, 0.05, 0.6],
                      train_accuracy=[0.8, 0.95, 0.98, 0.85],
                      lr=[1.0, 0.5, 0.1, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        watch.epoch_ended(history)
    # a schedule that jumps past every lr it ran at is still diverging
    history.lr[-1] = 10.0
    with pytest.warns(creg.TrainingWarning, match="climbed"):
        watch.epoch_ended(history)


# ---------------------------------------------------------- early stopping

def test_network_early_stopping_names_the_epoch_it_restored(digits):
    X, y = digits
    net = creg.Network([64, 30, 10], seed=0)
    hist, got = caught(lambda: net.fit(
        X[:400], y[:400], epochs=200, lr=0.5, early_stopping=True,
        patience=3, validation_data=(X[400:], y[400:])))
    assert hist.stopped_early
    [warning] = got
    assert warning.category is creg.EarlyStoppingWarning
    assert (f"after epoch {hist.best_epoch + 1} of {hist.epochs} "
            f"(history.best_epoch = {hist.best_epoch}") in str(warning.message)
    assert warning.filename == __file__
    # a fit that goes on names the network's epoch too, as the verbose
    # table numbers it
    hist, got = caught(lambda: net.fit(
        X[:400], y[:400], epochs=200, lr=0.5, early_stopping=True,
        patience=3, validation_data=(X[400:], y[400:])))
    before = net.epochs_trained - hist.epochs
    assert (f"after epoch {hist.best_epoch + 1} of {hist.epochs} of this "
            f"fit (the network's epoch {before + hist.best_epoch + 1})"
            ) in str(got[0].message)


def test_a_fit_that_goes_on_names_the_network_s_epoch_too(digits):
    X, y = digits
    net = creg.Network([64, 10, 10], hidden="sigmoid", output="sigmoid",
                       seed=0)
    net.fit(X, y, epochs=5, lr=0.5)
    _, got = caught(lambda: net.fit(X, y, epochs=2, lr=1000.0))
    [warning] = got
    assert "in epoch 1 of this fit (the network's epoch 6)" in str(
        warning.message)


def test_estimator_early_stopping_names_the_epoch_it_restored(digits):
    X, y = digits
    clf = CregClassifier(early_stopping=True, n_iter_no_change=3,
                         epochs=200, lr=0.5, random_state=0)
    _, got = caught(lambda: clf.fit(X, y))
    [warning] = got
    assert warning.category is creg.EarlyStoppingWarning
    best = clf.history_.best_epoch
    assert f"after epoch {best + 1} of {clf.n_iter_}" in str(warning.message)
    assert f"score {clf.best_validation_score_:.4g}" in str(warning.message)


def test_early_stopping_that_keeps_the_last_epoch_is_silent(digits):
    X, y = digits
    clf = CregClassifier(early_stopping=True, epochs=3, random_state=0)
    _, got = caught(lambda: clf.fit(X, y))
    assert clf.history_.best_epoch == clf.n_iter_ - 1
    assert got == []


def test_early_stopping_without_validation_data_says_how_to_get_it(digits):
    X, y = digits
    with pytest.raises(ValueError, match=r"validation_data=\(X_val, y_val\)"
                       r".*train_test_split"):
        creg.Network([64, 10]).fit(X, y, early_stopping=True)


# ---------------------------------------------- creg's other warnings too

def test_batch_size_clipping_is_a_creg_warning(digits):
    X, y = digits
    with pytest.warns(creg.CregWarning, match="It is going to be clipped"):
        creg.Network([64, 10]).fit(X[:5], y[:5], epochs=1, batch_size=50)
    with pytest.warns(creg.CregWarning, match="It is going to be clipped"):
        CregClassifier(batch_size=50, epochs=1).fit(X[:30], y[:30])

"""creg.EarlyStopping: the one early-stopping mechanism of Network.fit and
the estimators (whose own tests are in test_sklearn.py)."""
import copy
import threading

import numpy as np
import pytest

import creg


def _problem(n, seed):
    rng = np.random.default_rng(seed)
    return rng.random((n, 5)), rng.integers(0, 3, n)


TRAIN, VAL = _problem(60, 0), _problem(30, 3)


def _net():
    return creg.Network([5, 4, 3], hidden="sigmoid", output="softmax",
                        init="normalized", dtype="float64")


def _fit(net, early_stopping, epochs=200, validation=True, **kwargs):
    return net.fit(*TRAIN, epochs=epochs, lr=2.0,
                   early_stopping=early_stopping,
                   validation_data=VAL if validation else None, **kwargs)


def test_true_is_short_for_the_object_with_fit_s_patience():
    a, b = _net(), _net()
    stop = creg.EarlyStopping(3)
    with pytest.warns(creg.EarlyStoppingWarning):
        ha = _fit(a, True, patience=3)
    with pytest.warns(creg.EarlyStoppingWarning):
        hb = _fit(b, stop)
    assert ha.stopped_early and ha.to_dict() | {"seconds": 0} == \
        hb.to_dict() | {"seconds": 0}
    assert np.array_equal(a.params, b.params)
    assert stop.scores == hb.eval_accuracy
    assert stop.best_epoch == hb.best_epoch
    assert stop.best_score == max(hb.eval_accuracy)
    assert a.accuracy(*VAL) == stop.best_score  # best weights are back


def _weights_after(epochs):
    net = _net()
    _fit(net, None, epochs=epochs)
    return net.params


@pytest.mark.parametrize("returned", ["x", "0.5", None, [1.0, 2.0],
                                      10**400],
                         ids=["x", "str", "None", "list", "10**400"])
def test_a_score_that_is_no_number_is_named(returned):
    stop = creg.EarlyStopping(2, score=lambda net: returned)
    with pytest.raises(TypeError, match=r"EarlyStopping's score\(network\) "
                       "must return a number"):
        _fit(_net(), stop, validation=False)


def test_a_score_of_your_own_needs_no_validation_data():
    X_val, y_val = VAL
    stop = creg.EarlyStopping(4, score=lambda net: -net.cost(X_val, y_val))
    net = _net()
    hist = _fit(net, stop, validation=False)
    assert hist.eval_cost == [] and hist.stopped_early
    assert len(stop.scores) == hist.epochs == stop.best_epoch + 1 + 4
    assert stop.scores[stop.best_epoch] == max(stop.scores)
    assert hist.best_epoch == stop.best_epoch
    # the weights kept are those after the best epoch
    assert np.array_equal(net.params, _weights_after(stop.best_epoch + 1))


@pytest.mark.parametrize("restore", ["on_stop", "always"])
def test_restore_decides_the_weights_of_a_fit_that_was_not_stopped(restore):
    net = _net()
    stop = creg.EarlyStopping(1000, restore=restore)
    hist = _fit(net, stop, epochs=40)
    assert not hist.stopped_early and hist.epochs == 40
    assert stop.best_epoch < 39  # the last epoch was not the best one
    kept = stop.best_epoch + 1 if restore == "always" else 40
    assert np.array_equal(net.params, _weights_after(kept))
    assert hist.restored_epoch == (stop.best_epoch if restore == "always"
                                   else -1)


def test_patience_none_never_stops_but_finds_the_best_epoch():
    stop = creg.EarlyStopping(None, restore="always")
    net = _net()
    hist = _fit(net, stop, epochs=30)
    assert hist.epochs == 30 and not hist.stopped_early
    assert hist.best_epoch == int(np.argmax(hist.eval_accuracy))
    assert net.accuracy(*VAL) == max(hist.eval_accuracy)


def test_a_reused_object_forgets_the_last_fit():
    stop = creg.EarlyStopping(3)
    _fit(_net(), stop, epochs=5)
    _fit(_net(), stop, epochs=2)
    assert len(stop.scores) == 2 and stop.best_epoch in (0, 1)


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(patience=0), ValueError, "patience must be >= 1"),
    (dict(patience=2.5), TypeError, "patience must be an integer"),
    (dict(restore="end"), ValueError, "restore must be one of 'on_stop'"),
    (dict(score="accuracy"), TypeError, "score must be None or a callable"),
])
def test_bad_arguments_are_refused_by_name(kwargs, error, match):
    with pytest.raises(error, match=match):
        creg.EarlyStopping(**kwargs)
    # set on the object since: refused by the fit, before it trains
    stop = creg.EarlyStopping(score=lambda net: 0.0)
    for name, value in kwargs.items():
        setattr(stop, name, value)
    net = _net()
    with pytest.raises(error, match=match):
        _fit(net, stop, epochs=2)
    assert net.epochs_trained == 0


def test_fit_s_patience_beside_an_early_stopping_is_refused():
    # it was ignored: the object's own patience (10) ran
    net = _net()
    with pytest.raises(ValueError, match=r"patience=2 is not used with an "
                       r"EarlyStopping.*creg.EarlyStopping\(2\)"):
        _fit(net, creg.EarlyStopping(), epochs=20, patience=2)
    assert net.epochs_trained == 0
    # "halve_on_plateau" waits fit's patience
    history = _fit(_net(), creg.EarlyStopping(), epochs=2, patience=2,
                   lr_schedule="halve_on_plateau")
    assert history.epochs == 2


def test_an_int_says_how_to_ask_for_that_patience():
    with pytest.raises(TypeError, match=r"early_stopping=True, patience=3\)"
                       r", or creg.EarlyStopping\(3\)"):
        _fit(_net(), 3)


def test_the_default_score_needs_validation_data():
    with pytest.raises(ValueError, match="cannot run without "
                                         "validation_data"):
        _fit(_net(), creg.EarlyStopping(3), validation=False)


def test_repr_shows_the_settings():
    assert repr(creg.EarlyStopping(3, restore="always")) == \
        "EarlyStopping(patience=3, restore='always')"


def test_one_object_serves_one_fit_at_a_time():
    # its scores and best weights are one fit's: a second fit at the same
    # time is refused before it trains; copies are free to use
    entered, release = threading.Event(), threading.Event()

    def score(net):
        entered.set()
        release.wait(10)
        return 0.0
    stop = creg.EarlyStopping(2, score=score)
    first = threading.Thread(target=_fit, args=(_net(), stop, 3))
    first.start()
    try:
        assert entered.wait(10)
        second = _net()
        before = second.params.copy()
        with pytest.raises(RuntimeError, match="in use by a fit in "
                           "another thread"):
            _fit(second, stop, epochs=3)
        assert np.array_equal(second.params, before)
        assert second.epochs_trained == 0
        _fit(_net(), copy.deepcopy(stop)._copy(), epochs=1)
    finally:
        release.set()
        first.join()
    assert len(stop.scores) == 3  # the first fit's own
    _fit(_net(), stop, epochs=1)   # free again


def test_a_patience_nothing_reads_is_refused():
    # it was ignored: the fit ran all its epochs
    net = _net()
    with pytest.raises(ValueError, match=r"patience=1 is used only with "
                       "early_stopping=True or lr_schedule="):
        _fit(net, False, epochs=3, patience=1)
    assert net.epochs_trained == 0


def test_a_fit_in_its_own_callback_is_told_the_object_is_its_own():
    refused = []

    def score(net):
        try:
            _fit(_net(), stop, epochs=1)
        except RuntimeError as exc:
            refused.append(str(exc))
        return 0.0
    stop = creg.EarlyStopping(2, score=score)
    _fit(_net(), stop, epochs=2)
    assert len(refused) == 2
    assert "in use by the fit whose callback this is" in refused[0]


class _CountingScore:
    """A score object with state, and a lock, which cannot be copied."""

    def __init__(self):
        self.lock, self.networks = threading.Lock(), []

    def __call__(self, net):
        with self.lock:
            self.networks.append(net)
        return 0.0


def test_a_sweep_shares_the_score_callable_not_a_copy_of_it():
    score = _CountingScore()
    stop = creg.EarlyStopping(5, score=score)
    result = creg.sweep(*TRAIN, [5, 4, 3], {"lr": [0.5, 1.0]}, epochs=2,
                        early_stopping=stop, n_threads=2)
    assert len(score.networks) == 4
    assert {id(r.network) for r in result} == {id(n) for n in score.networks}
    assert stop.scores == []  # the user's object kept no run's scores


def test_halve_on_plateau_follows_a_score_callable_without_validation():
    """The schedule reads the same score as the EarlyStopping: with a score
    callable it needs no validation data (it was refused)."""
    X, y = creg.datasets.load_digits(dtype="float32")
    scores = iter([1.0, 0.5, 0.4, 0.3, 0.2, 0.1])  # never better again
    stop = creg.EarlyStopping(None, score=lambda net: next(scores))
    hist = creg.Network([64, 8, 10], seed=0).fit(
        X[:200], y[:200], epochs=6, lr=0.4, patience=2,
        lr_schedule="halve_on_plateau", early_stopping=stop)
    assert hist.lr == [0.4, 0.4, 0.4, 0.2, 0.2, 0.1]

"""Probabilities and labels that mean what they say: a multi-unit sigmoid
output gives independent per-unit probabilities, and targets with a row
of no 1s or several are multi-label, scored per label (not by argmax) in
net.accuracy, the history and the verbose table -- all against numpy."""
import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

import creg


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _numpy_forward(net, X):
    """The outputs of a sigmoid -> sigmoid network, in float64 numpy."""
    A = np.asarray(X, np.float64)
    for W, b in zip(net.weights, net.biases):
        A = _sigmoid(A @ W.T.astype(np.float64) + b)
    return A


def per_label_accuracy(P, Y):
    """The numpy reference: mean over all entries of (p > 0.5) == y."""
    return np.mean((P > 0.5) == (Y == 1))


def argmax_accuracy(P, Y):
    return np.mean(P.argmax(axis=1) == Y.argmax(axis=1))


def _multi_hot(rng, n, k):
    """0/1 targets, about half of the rows with two or more 1s."""
    Y = (rng.random((n, k)) < 0.4).astype(np.float64)
    Y[0, :2] = 1  # at least one row with several labels
    return Y


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 80), d=st.integers(1, 8), k=st.integers(2, 6),
       seed=st.integers(0, 2**16))
def test_accuracy_of_multi_label_targets_is_per_label(n, d, k, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    Y = _multi_hot(rng, n, k)
    net = creg.Network([d, 5, k], dtype="float64", seed=seed, **creg.NIELSEN)
    P = net.predict_proba(X)
    np.testing.assert_allclose(P, _numpy_forward(net, X), rtol=1e-10)
    assert net.accuracy(X, Y) == pytest.approx(per_label_accuracy(P, Y),
                                               abs=1e-12)


def test_per_label_and_argmax_accuracy_differ_here_and_creg_gives_per_label():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 4))
    Y = _multi_hot(rng, 50, 5)
    net = creg.Network([4, 6, 5], dtype="float64", seed=3, **creg.NIELSEN)
    P = net.predict_proba(X)
    assert per_label_accuracy(P, Y) != pytest.approx(argmax_accuracy(P, Y))
    assert net.accuracy(X, Y) == pytest.approx(per_label_accuracy(P, Y))


def test_one_label_per_row_keeps_the_argmax_accuracy():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(60, 4))
    labels = rng.integers(0, 5, 60)
    Y = np.eye(5)[labels]
    net = creg.Network([4, 6, 5], dtype="float64", seed=3, **creg.NIELSEN)
    P = net.predict_proba(X)
    assert net.accuracy(X, Y) == net.accuracy(X, labels) == pytest.approx(
        argmax_accuracy(P, Y))
    # softmax rows are one distribution: they sum to 1, sigmoid rows need not
    soft = creg.Network([4, 6, 5], output="softmax", cost="log_likelihood",
                        dtype="float64", hidden="sigmoid", init="normalized")
    np.testing.assert_allclose(soft.predict_proba(X).sum(axis=1), 1.0)
    assert not np.allclose(P.sum(axis=1), 1.0)


def test_rows_with_no_label_make_the_targets_multi_label():
    # sparse tags: rows with no tag or one, none with two, were scored
    # by argmax, an empty row as class 0
    rng = np.random.default_rng(7)
    X = rng.normal(size=(80, 4))
    Y = np.zeros((80, 5))
    Y[np.arange(0, 80, 2), rng.integers(0, 5, 40)] = 1  # every other row
    net = creg.Network([4, 6, 5], dtype="float64", seed=3, **creg.NIELSEN)
    P = net.predict_proba(X)
    assert per_label_accuracy(P, Y) != pytest.approx(argmax_accuracy(P, Y))
    assert net.accuracy(X, Y) == pytest.approx(per_label_accuracy(P, Y))
    hist = net.fit(X, Y, epochs=1, train_metrics="exact")
    assert hist.train_accuracy[-1] == pytest.approx(
        per_label_accuracy(net.predict_proba(X), Y))


def _multi_label_fit(capsys, validation_targets=None):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(120, 4))
    Y = _multi_hot(rng, 120, 5)
    X_val, Y_val = X[:40] + 0.1, Y[:40]
    if validation_targets is not None:
        Y_val = validation_targets
    net = creg.Network([4, 8, 5], dtype="float64", seed=0, **creg.NIELSEN)
    hist = net.fit(X, Y, epochs=3, lr=0.5, verbose=True,
                   validation_data=(X_val, Y_val), train_metrics="exact")
    rows = capsys.readouterr().out.splitlines()[2:]
    return net, hist, rows, (X, Y), (X_val, Y_val)


def test_history_and_verbose_table_score_multi_label_targets_per_label(
        capsys):
    net, hist, rows, (X, Y), (X_val, Y_val) = _multi_label_fit(capsys)
    train = per_label_accuracy(net.predict_proba(X), Y)
    val = per_label_accuracy(net.predict_proba(X_val), Y_val)
    assert train != pytest.approx(argmax_accuracy(net.predict_proba(X), Y))
    assert hist.train_accuracy[-1] == pytest.approx(train)
    assert hist.eval_accuracy[-1] == pytest.approx(val)
    # columns: epoch, train cost, train acc, val cost, val acc, lr, time
    cells = rows[-1].split()
    assert cells[2] == f"{train:.4f}" and cells[4] == f"{val:.4f}"


def test_validation_rows_with_one_label_are_scored_per_label_like_training(
        capsys):
    # the training targets make the fit multi-label: one meaning of
    # accuracy for every column of the history
    one_label = np.eye(5)[np.arange(40) % 5]
    net, hist, _, _, (X_val, Y_val) = _multi_label_fit(capsys, one_label)
    P = net.predict_proba(X_val)
    assert hist.eval_accuracy[-1] == pytest.approx(
        per_label_accuracy(P, Y_val))
    assert per_label_accuracy(P, Y_val) != pytest.approx(
        argmax_accuracy(P, Y_val))


def test_multi_label_validation_makes_class_label_training_per_label():
    # training labels as classes (1-D, never several in a row) and a
    # validation pair given as a two-item iterator: its multi-label rows
    # still decide the one meaning of accuracy
    rng = np.random.default_rng(6)
    X = rng.normal(size=(120, 4))
    labels = rng.integers(0, 5, 120)
    X_val, Y_val = X[:40] + 0.1, _multi_hot(rng, 40, 5)
    net = creg.Network([4, 8, 5], dtype="float64", seed=0, **creg.NIELSEN)
    hist = net.fit(X, labels, epochs=2, lr=0.5, train_metrics="exact",
                   validation_data=iter((X_val, Y_val)))
    assert hist.train_accuracy[-1] == pytest.approx(
        per_label_accuracy(net.predict_proba(X), np.eye(5)[labels]))
    assert hist.eval_accuracy[-1] == pytest.approx(
        per_label_accuracy(net.predict_proba(X_val), Y_val))


def test_running_train_accuracy_of_multi_label_targets_is_per_label():
    # one batch per epoch: each epoch's running metrics are the forward
    # pass of the weights the epoch started from, so epoch e's running
    # accuracy is the per-label accuracy of the weights after epoch e - 1
    rng = np.random.default_rng(5)
    X = rng.normal(size=(64, 4))
    Y = _multi_hot(rng, 64, 5)
    net = creg.Network([4, 8, 5], dtype="float64", seed=1, **creg.NIELSEN)
    expected = []
    for _ in range(3):
        expected.append(per_label_accuracy(net.predict_proba(X), Y))
        net.fit(X, Y, epochs=1, lr=2.0, batch_size=64, shuffle=False)
    fresh = creg.Network([4, 8, 5], dtype="float64", seed=1, **creg.NIELSEN)
    hist = fresh.fit(X, Y, epochs=3, lr=2.0, batch_size=64, shuffle=False)
    assert hist.train_metrics == "running"
    assert len(set(expected)) > 1  # the weights moved between epochs
    assert hist.train_accuracy == pytest.approx(expected, abs=1e-12)
    P = fresh.predict_proba(X)
    assert per_label_accuracy(P, Y) != pytest.approx(argmax_accuracy(P, Y))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), k=st.sampled_from([1, 2, 3, 10, 255, 256, 300]),
       row=st.integers(0, 39), above=st.integers(0, 300),
       seed=st.integers(0, 2**16))
@example(n=3, k=300, row=1, above=256, seed=0)  # a uint8 count wraps to 0
def test_multi_label_test_counts_entries_above_one_half_per_row(
        n, k, row, above, seed):
    """creg's column-at-a-time count against count_nonzero per row, with
    up to 300 entries above 0.5 in one row (past a uint8 count)."""
    from creg import _accuracy
    rng = np.random.default_rng(seed)
    Y = rng.random((n, k)).astype(np.float32) * 0.5  # all <= 0.5
    Y[row % n, rng.permutation(k)[:above]] = 0.75
    expected = k >= 2 and bool((np.count_nonzero(Y > 0.5, axis=1) != 1).any())
    assert _accuracy.is_multi_label(Y, "sigmoid") == expected
    assert not _accuracy.is_multi_label(Y, "softmax")

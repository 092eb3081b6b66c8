"""Real data: the bundled UCI digits, with and without regularizers."""
import numpy as np
from conftest import outcome_only

import creg

EPOCHS = 60


def split_digits(n_test=500):
    """A fixed split: ((X_train, y_train), (X_test, y_test))."""
    X, y = creg.datasets.load_digits(dtype="float32")
    order = np.random.default_rng(0).permutation(len(X))
    train, test = order[:-n_test], order[-n_test:]
    return (X[train], y[train]), (X[test], y[test])


def train_one(fit_args, expanded, train, seed):
    """Expanded data has 5x the rows, so it runs a fifth of the epochs:
    the same number of steps."""
    X, y = train
    epochs = EPOCHS
    if expanded:
        X, y = creg.expand(X, (8, 8), y=y)
        epochs //= 5
    net = creg.Network([64, 100, 10], hidden="relu", output="softmax",
                       cost="log_likelihood", init="normalized", seed=seed)
    net.fit(X, y, epochs=epochs, batch_size=10, lr=0.1, **fit_args)
    return net


def test_softmax_network_with_l2_reaches_97_percent_on_digits():
    X, y = creg.datasets.load_digits()
    order = np.random.default_rng(0).permutation(len(X))
    train, test = order[:1297], order[1297:]
    net = creg.Network([64, 100, 10], hidden="relu", output="softmax",
                       cost="log_likelihood", dtype="float32", seed=0,
                       init="normalized")
    hist = net.fit(X[train], y[train], epochs=30, batch_size=10, lr=0.1,
                   l2=1.0, validation_data=(X[test], y[test]))
    assert hist.eval_accuracy[-1] == net.accuracy(X[test], y[test])
    assert net.accuracy(X[test], y[test]) >= 0.97


@outcome_only
def test_l2_dropout_and_expanded_data_each_shrink_the_overfitting_gap():
    train, test = split_digits()
    runs = {"none": ({}, False), "L2": ({"l2": 5.0}, False),
            "dropout": ({"dropout": 0.5}, False), "expanded": ({}, True)}
    gaps, train_acc = {}, {}
    for name, (fit_args, expanded) in runs.items():
        results = []
        for seed in range(4):
            net = train_one(fit_args, expanded, train, seed)
            results.append((net.accuracy(*train), net.accuracy(*test)))
        train_acc[name] = np.mean([r[0] for r in results])
        gaps[name] = np.mean([r[0] - r[1] for r in results])
    report = ", ".join(f"{k}: train {train_acc[k]:.4f} gap {gaps[k]:.4f}"
                       for k in gaps)
    assert train_acc["none"] >= 0.999, report  # the network overfits
    for name in ("L2", "dropout", "expanded"):
        assert gaps[name] < gaps["none"] * 0.9, report

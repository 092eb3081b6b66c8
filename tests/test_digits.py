"""Real data: the bundled UCI digits, and the demo that trains on them."""
import io

import numpy as np

import creg
from creg import demo


def test_softmax_network_with_l2_reaches_97_percent_on_digits():
    X, y = creg.datasets.load_digits()
    order = np.random.default_rng(0).permutation(len(X))
    train, test = order[:1297], order[1297:]
    net = creg.Network([64, 100, 10], hidden="relu", output="softmax",
                       cost="log_likelihood", dtype="float32", seed=0)
    hist = net.fit(X[train], y[train], epochs=30, batch_size=10, lr=0.1,
                   l2=1.0, validation_data=(X[test], y[test]))
    assert hist.eval_accuracy[-1] == net.accuracy(X[test], y[test])
    assert net.accuracy(X[test], y[test]) >= 0.97


def test_demo_prints_epochs_and_compares_regularizers():
    out = io.StringIO()
    rows = demo.main(["--epochs", "3"], out=out)
    text = out.getvalue()
    assert [r[0].split()[0] for r in rows] == ["none", "L2", "L1"]
    assert text.count("\n    3  ") == 3  # one line for epoch 3 of each run
    zeros = {r[0].split()[0]: r[3] for r in rows}
    assert zeros["L1"] > 0.05 and zeros["none"] == 0 and zeros["L2"] == 0
    assert all(0.5 < r[2] <= 1 for r in rows)  # test accuracies
    assert "summary" in text

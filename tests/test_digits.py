"""Real data: the bundled UCI digits, and the demo that trains on them."""
import importlib.util
import io

import numpy as np
import pytest

import creg
from creg import demo


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


def test_demo_prints_epochs_and_the_regularizer_table():
    out = io.StringIO()
    rows = demo.main(["--epochs", "5"], out=out)
    text = out.getvalue()
    names = [r[0].split()[0] for r in rows]
    assert names == ["none", "L2", "L1", "elastic", "max-norm", "dropout",
                     "input", "expanded"]
    assert "\n    5  " in text  # the per-epoch lines of the first run
    zeros = dict(zip(names, (r[4] for r in rows)))
    assert zeros["L1"] > 0.05 and zeros["elastic"] > 0.05
    assert zeros["none"] == zeros["L2"] == zeros["dropout"] == 0
    for name, train_acc, test_acc, gap, _, _ in rows:
        assert 0.5 < test_acc <= 1 and gap == train_acc - test_acc, name
        assert f"{test_acc:9.4f}" in text


def test_l2_dropout_and_expanded_data_each_shrink_the_overfitting_gap():
    train, test = demo.split_digits()
    runs = {"none": ({}, False), "L2": ({"l2": 5.0}, False),
            "dropout": ({"dropout": 0.5}, False), "expanded": ({}, True)}
    gaps, train_acc = {}, {}
    for name, (fit_args, expanded) in runs.items():
        results = []
        for seed in range(4):
            net, _ = demo.train_one(fit_args, expanded, train, test,
                                    demo.EPOCHS, seed)
            results.append((net.accuracy(*train), net.accuracy(*test)))
        train_acc[name] = np.mean([r[0] for r in results])
        gaps[name] = np.mean([r[0] - r[1] for r in results])
    report = ", ".join(f"{k}: train {train_acc[k]:.4f} gap {gaps[k]:.4f}"
                       for k in gaps)
    assert train_acc["none"] >= 0.999, report  # the network overfits
    for name in ("L2", "dropout", "expanded"):
        assert gaps[name] < gaps["none"] * 0.9, report


def test_demo_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    target = tmp_path / "accuracy.png"
    out = io.StringIO()
    demo.main(["--epochs", "2", "--plot", str(target)], out=out)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {target}" in out.getvalue()


def test_demo_plot_without_matplotlib_says_how_to_get_it(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib"
                        else real(name, *a))
    with pytest.raises(SystemExit):
        demo.main(["--epochs", "1", "--plot", "x.png"])
    assert "pip install" in capsys.readouterr().err

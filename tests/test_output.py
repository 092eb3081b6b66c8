"""What a user reads: the verbose table of fit, repr(history), history.plot()
and the layer summary of print(net)."""
import io
import pickle
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import creg
from creg._epoch_table import EpochTable


def _classification(n=60, d=6, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, d)).astype(np.float32), rng.integers(0, k, n)


def _regression(n=60, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, d)).astype(np.float32)
    return X, (X @ rng.normal(size=(d, 2))).astype(np.float32)


def _fit_verbose(capsys, task, regularize, validation, epochs=3):
    if task == "classification":
        X, y = _classification()
        net = creg.Network([6, 5, 3], output="softmax", cost="log_likelihood",
                           hidden="sigmoid", init="normalized")
    else:
        X, y = _regression()
        net = creg.Network([6, 5, 2], output="linear", cost="quadratic",
                           hidden="sigmoid", init="normalized")
    extra = dict(l1=0.5, max_norm=1.0) if regularize else {}
    if validation:
        extra["validation_data"] = (X[:20], y[:20])
    hist = net.fit(X, y, epochs=epochs, lr=0.05, verbose=True, **extra)
    return capsys.readouterr().out.splitlines(), hist


@pytest.mark.parametrize("validation", [False, True])
@pytest.mark.parametrize("regularize", [False, True])
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_verbose_table_fits_80_columns_and_says_only_what_applies(
        capsys, task, regularize, validation):
    lines, hist = _fit_verbose(capsys, task, regularize, validation)
    assert len(lines) == 2 + hist.epochs  # two header lines, one per epoch
    assert all(len(line) <= 80 for line in lines), lines
    top, bottom, *rows = lines
    # aligned: every row ends where the header's last column ends
    assert {len(row) for row in rows} == {len(bottom)}
    assert bottom.split()[:2] == ["epoch", "cost"]
    assert "train" in top and ("val" in top) == validation
    assert ("acc" in bottom) == (task == "classification")
    assert ("zero" in bottom) == regularize
    assert ("clamped" in bottom) == regularize
    assert "nan" not in "\n".join(lines)
    for epoch, row in enumerate(rows, start=1):
        cells = row.split()
        assert cells[0] == str(epoch)
        assert float(cells[1]) == pytest.approx(hist.train_cost[epoch - 1],
                                                rel=1e-4, abs=5e-5)


def test_verbose_header_is_printed_once_per_fit(capsys):
    X, y = _classification()
    net = creg.Network([6, 5, 3], output="softmax", cost="log_likelihood",
                       hidden="sigmoid", init="normalized")
    net.fit(X, y, epochs=2, verbose=True, lr=0.5)
    net.fit(X, y, epochs=2, verbose=True, lr=0.5)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [
        "train", "epoch", "1", "2", "train", "epoch", "3", "4"]


def test_one_epoch_fits_in_a_row_print_one_table(capsys):
    # partial_fit printed two header lines above every row
    estimators = pytest.importorskip("creg.sklearn")
    X, y = _classification()
    clf = estimators.CregClassifier(hidden_layer_sizes=(5,), verbose=1)
    for _ in range(3):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    net = clf.network_
    net.fit(X, y, epochs=1, verbose=1, validation_data=(X, y))  # new columns
    net.fit(X, y, epochs=1, verbose=1, validation_data=(X, y))
    net.fit(X, y, epochs=1)  # a quiet epoch between: the table is stale
    net.fit(X, y, epochs=1, verbose=1, validation_data=(X, y))
    pickle.loads(pickle.dumps(net)).fit(X, y, epochs=1, verbose=1,
                                        validation_data=(X, y))
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [
        "train", "epoch", "1", "2", "3", "train", "epoch", "4", "5",
        "train", "epoch", "7", "train", "epoch", "8"]
    # two networks in turn: each row under its own network's header
    other = creg.Network([6, 5, 3])
    for _ in range(2):
        net.fit(X, y, epochs=1, verbose=1)
        other.fit(X, y, epochs=1, verbose=1, l1=0.01)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [
        "train", "epoch", "8", "train", "epoch", "1",
        "train", "epoch", "9", "train", "epoch", "2"]


@pytest.mark.parametrize("verbose, prints", [(0, False), (1, True),
                                             (2, True), (True, True)])
def test_verbose_takes_keras_and_sklearn_levels(capsys, verbose, prints):
    X, y = _classification()
    net = creg.Network([6, 5, 3], hidden="sigmoid")
    net.fit(X, y, epochs=1, verbose=verbose)
    creg.sweep(X, y, [6, 5, 3], {"lr": [0.1]}, epochs=1, verbose=verbose)
    captured = capsys.readouterr()
    assert bool(captured.out) == prints and bool(captured.err) == prints


def test_epochs_past_99999_keep_the_rows_aligned(capsys):
    # the epoch column was 5 wide: epoch 100000 pushed every cell right
    X, y = _classification()
    net = creg.Network([6, 5, 3], output="softmax", cost="log_likelihood",
                       hidden="sigmoid", init="normalized")
    net.epochs_trained = 99998
    net.fit(X, y, epochs=3, verbose=True, lr=0.5)
    lines = capsys.readouterr().out.splitlines()
    assert lines[2].split()[0] == "99999" and lines[4].split()[0] == "100001"
    assert len({len(line) for line in lines[1:]}) == 1


_costs = st.floats(0, 1e300) | st.floats(0, 10)
_fractions = st.floats(0, 1)


@settings(max_examples=200, deadline=None)
@given(epoch=st.integers(1, 99_999), train_cost=_costs, eval_cost=_costs,
       train_accuracy=_fractions, eval_accuracy=_fractions,
       lr=st.floats(1e-300, 1e300), zero_fraction=_fractions,
       clamped_fraction=_fractions, seconds=st.floats(0, 99_999))
def test_every_row_is_aligned_under_its_header_within_80_columns(**values):
    table = EpochTable(accuracy=True, validation=True, zero=True,
                       clamped=True)
    row = table.row(**values)
    bottom = table.header().splitlines()[1]
    assert len(row) == len(bottom) <= 80
    # each value ends under its own header word
    ends = [i + 1 for i, (a, b) in enumerate(zip(bottom, bottom[1:] + " "))
            if a != " " and b == " "]
    assert [i + 1 for i, (a, b) in enumerate(zip(row, row[1:] + " "))
            if a != " " and b == " "] == ends


# ------------------------------------------------------------------ history
def test_history_repr_is_a_one_line_summary():
    X, y = _classification()
    hist = creg.Network([6, 5, 3], output="softmax",
                        cost="log_likelihood",
                        hidden="sigmoid", init="normalized").fit(
        X, y, epochs=40, lr=0.05, validation_data=(X[:20], y[:20]))
    text = repr(hist)
    assert "\n" not in text and len(text) < 250
    assert text.startswith("<History: 40 epochs, ")
    assert f"train_cost={hist.train_cost[-1]:.4g}" in text
    assert f"eval_accuracy={hist.eval_accuracy[-1]:.4g}" in text
    best = hist.best_epoch
    assert best == int(np.argmax(hist.eval_accuracy))
    assert f"best_epoch={best} (eval_accuracy=" \
           f"{hist.eval_accuracy[best]:.4g})" in text


def test_history_repr_of_a_regression_names_no_accuracy():
    X, y = _regression()
    hist = creg.Network([6, 5, 2], output="linear", cost="quadratic",
                        hidden="sigmoid", init="normalized").fit(
        X, y, epochs=3, lr=0.05, validation_data=(X[:20], y[:20]))
    text = repr(hist)
    assert "accuracy" not in text and "nan" not in text
    assert f"best_epoch={hist.best_epoch} (eval_cost=" in text


def test_history_plot_draws_train_and_validation_curves():
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    X, y = _classification()
    hist = creg.Network([6, 5, 3], output="softmax",
                        cost="log_likelihood",
                        hidden="sigmoid", init="normalized").fit(
        X, y, epochs=4, lr=0.05, validation_data=(X[:20], y[:20]))
    fig, axes = hist.plot()
    try:
        assert [ax.get_ylabel() for ax in axes] == ["cost", "accuracy"]
        for ax, train, validation in zip(
                axes, (hist.train_cost, hist.train_accuracy),
                (hist.eval_cost, hist.eval_accuracy)):
            curves = {line.get_label(): line for line in ax.get_lines()}
            assert list(curves["train"].get_xdata()) == [1, 2, 3, 4]
            assert list(curves["train"].get_ydata()) == train
            assert list(curves["validation"].get_ydata()) == validation
            assert list(curves["best epoch"].get_xdata()) == \
                [hist.best_epoch + 1] * 2
    finally:
        plt.close(fig)
    X, y = _regression()
    hist = creg.Network([6, 5, 2], output="linear", cost="quadratic",
                        hidden="sigmoid", init="normalized").fit(
        X, y, epochs=2, lr=0.05)
    fig, axes = hist.plot()
    plt.close(fig)
    assert [ax.get_ylabel() for ax in axes] == ["cost"]  # no NaN accuracy
    # a history of no epochs (a DivergenceError's in epoch 1) draws no
    # line: no legend, and none of matplotlib's warnings about it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig, axes = creg.History().plot()
    plt.close(fig)


def test_history_plot_without_matplotlib_names_the_extra(monkeypatch):
    # None in sys.modules makes the import fail as if it were not installed
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"creg\[plot\]"):
        creg.History(train_cost=[1.0], seconds=[0.1]).plot()


# ------------------------------------------------------------------ summary
@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(1, 3000), min_size=2, max_size=5),
       dtype=st.sampled_from(["float32", "float64"]))
def test_summary_counts_every_parameter_of_every_layer(sizes, dtype):
    output = "softmax" if sizes[-1] > 1 else "sigmoid"  # 1 softmax unit: no
    net = creg.Network(sizes, hidden="tanh", output=output, dtype=dtype,
                       seed=0, init="normalized")
    lines = str(net).splitlines()
    assert net.cost_name in lines[0] and dtype in lines[0]
    layer_rows = lines[3:3 + len(sizes) - 1]
    counts = [int(row.split()[-1].replace(",", "")) for row in layer_rows]
    assert counts == [o * i + o for i, o in zip(sizes, sizes[1:])]
    assert [row.split()[-5] for row in layer_rows] == \
        ["tanh"] * (len(sizes) - 2) + [output]
    assert lines[-1].startswith(f"total: {sum(counts):,} parameters")
    assert sum(counts) == net.params.size
    assert len(lines) == 3 + len(counts) + 1


def test_print_net_and_summary_show_the_same_table(capsys):
    net = creg.Network([4, 3, 2], **creg.NIELSEN)
    out = io.StringIO()
    net.summary(file=out)
    print(net)
    assert capsys.readouterr().out == out.getvalue() == str(net) + "\n"
    assert repr(net).startswith("Network([4, 3, 2], ")  # repr stays short

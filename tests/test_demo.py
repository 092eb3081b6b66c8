"""`python -m creg demo`: Nielsen's chapter-3 overfitting experiment on the
bundled MNIST images, and the output/cost comparison of `--costs`."""
import importlib.util
import io
import re
import threading

import numpy as np
import pytest
from conftest import outcome_only

from creg import demo

NONE, L2 = demo.REGULARIZERS[:2]


def _row_line(text, name):
    lines = [line for line in text.splitlines() if line.startswith(name)]
    assert len(lines) == 1, (name, text)
    return lines[0][len(name):].split()


@outcome_only
def test_without_a_regularizer_mnist_overfits_and_l2_lifts_the_test_peak():
    """Nielsen's experiment, 3 seeds at his settings: the training images
    are all learnt while the test accuracy peaks at least 3 points under
    the L2 run's peak."""
    assert NONE.fit_args == {} and L2.fit_args == {"l2": 0.1}
    train, test = demo.split_mnist()
    results, _ = demo._run_all(demo.train_regularized, [NONE, L2], range(3),
                               train, test, demo.EPOCHS)
    assert [r.train_accuracy for r in results[NONE]] == [1.0] * 3
    peaks = {row.name: np.mean([r.test_peak for r in runs])
             for row, runs in results.items()}
    assert peaks[L2.name] - peaks[NONE.name] >= 0.03, peaks


def test_the_split_is_1000_balanced_training_images_and_1000_others():
    (X, y), (X_test, y_test) = demo.split_mnist()
    assert X.shape == X_test.shape == (1000, 784)
    assert np.bincount(y).tolist() == [100] * 10
    assert not any(np.array_equal(X[i], X_test[j])
                   for i in range(0, 1000, 97) for j in range(1000))


def test_demo_prints_one_row_per_regularizer_with_its_seeds():
    out = io.StringIO()
    results = demo.main(["--epochs", "5", "--seeds", "2", "--seed", "7"],
                        out=out)
    text = out.getvalue()
    assert list(results) == list(demo.REGULARIZERS)
    assert "5 epochs, seeds 7..8" in text
    for word in ("train", "test peak", "test end", "gap", "w = 0", "s/run",
                 "Nielsen"):
        assert word in text.split("\nnone")[0], word
    for row, runs in results.items():
        assert len(runs) == 2
        train = [r.train_accuracy for r in runs]
        peaks = [r.test_peak for r in runs]
        cells = _row_line(text, row.name)
        assert cells[0] == demo._mean_sd(train)
        assert cells[1] == demo._mean_sd(peaks)
        assert re.fullmatch(r"\d+\.\d±\d+\.\d", cells[2]), cells
        assert (cells[-1] == row.nielsen_peak) == (row.nielsen_peak
                                                   is not None)
        expected_points = 1 if row.expanded else 5
        assert all(len(r.test_curve) == expected_points for r in runs)
    zeros = {row.name: np.mean([r.zero_fraction for r in runs])
             for row, runs in results.items()}
    assert zeros["none"] == 0 and zeros["L1 (l1=0.5, prox)"] > 0.05
    assert _row_line(text, "none")[-1] == "82.27"
    assert _row_line(text, "L2 (l2=0.1)")[-1] == "87.1"
    assert "18 runs in" in text


def test_runs_side_by_side_equal_runs_alone():
    results = demo.main(["--epochs", "3", "--seeds", "2"], out=io.StringIO())
    train, test = demo.split_mnist()
    for row in (demo.REGULARIZERS[3], demo.REGULARIZERS[-2]):
        for seed, run in zip((0, 1), results[row]):
            alone = demo.train_regularized(row, train, test, 3, seed)
            assert alone.test_curve == run.test_curve
            assert alone.train_accuracy == run.train_accuracy
            assert alone.zero_fraction == run.zero_fraction


def test_costs_prints_each_output_and_cost_beside_the_others():
    out = io.StringIO()
    results = demo.main(["--costs", "--epochs", "4", "--seeds", "1"],
                        out=out)
    text = out.getvalue()
    assert list(results) == list(demo.OUTPUT_COSTS)
    assert [row.output for row in results] == ["softmax", "sigmoid",
                                               "linear", "linear"]
    assert len(text.split("linear + quadratic (L2)")) == 3
    for row, (run,) in results.items():
        assert len(run.test_curve) == len(run.train_curve) == 4
        assert run.train_curve[-1] < run.train_curve[0], row  # it learns
    # One epoch at a time, sigmoid + cross-entropy is the "none" run.
    sigmoid = results[demo.OUTPUT_COSTS[1]][0]
    train, test = demo.split_mnist()
    none = demo.train_regularized(NONE, train, test, 4, 0)
    assert sigmoid.test_curve == none.test_curve
    assert sigmoid.train_accuracy == none.train_accuracy


@pytest.mark.parametrize("costs", [[], ["--costs"]])
def test_demo_plot_writes_a_png(tmp_path, costs):
    matplotlib = pytest.importorskip("matplotlib")
    backend = matplotlib.get_backend()
    matplotlib.use("svg")  # the caller's, which the demo switched to Agg
    target = tmp_path / "curves.png"
    out = io.StringIO()
    try:
        demo.main([*costs, "--epochs", "2", "--seeds", "2", "--plot",
                   str(target)], out=out)
        assert matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use(backend)
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


def test_a_stopped_run_ends_before_its_next_epoch():
    stop = threading.Event()
    stop.set()
    train, test = demo.split_mnist()
    with pytest.raises(demo._Stopped):
        demo.train_regularized(NONE, train, test, demo.EPOCHS, 0, stop)
    with pytest.raises(demo._Stopped):
        demo.train_output_cost(demo.OUTPUT_COSTS[0], train, test,
                               demo.EPOCHS, 0, stop)


def test_when_one_run_fails_the_runs_under_way_are_told_to_stop():
    told = []

    def train_one(row, train, test, epochs, seed, stop):
        if seed == 0:
            raise RuntimeError("run 0 failed")
        told.append(stop.wait(timeout=60))

    with pytest.raises(RuntimeError, match="run 0 failed"):
        demo._run_all(train_one, [NONE], range(2), None, None, 1)
    assert all(told)

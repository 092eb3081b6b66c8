"""Progress inside an epoch for fit(verbose=True) (issue 17): drawn once an
epoch has run for about a second, through tqdm or as a plain line, erased
before the epoch's own line; drawing never changes what is trained."""
import sys
import time

import numpy as np
import pytest

import creg
from creg import _progress, network
from conftest import make_problem

SIZES = [8, 6, 3]


@pytest.fixture
def always_shown(monkeypatch):
    """Progress from the first call on, a cost every call, and calls of one
    batch (fit sizes its calls by elapsed time)."""
    monkeypatch.setattr(_progress, "SHOW_AFTER", 0.0)
    monkeypatch.setattr(_progress, "REDRAW_EVERY", 0.0)
    monkeypatch.setattr(network, "_next_chunk", lambda count, seconds: 1)


def _fit(verbose):
    X, y, _ = make_problem(SIZES, 50, "softmax", seed=1)
    net = creg.Network(SIZES, output="softmax", cost="log_likelihood",
                       seed=2, hidden="sigmoid", init="normalized")
    hist = net.fit(X, y, epochs=2, batch_size=10, lr=0.2, dropout=0.2,
                   l2=0.5, verbose=verbose)
    return net, hist


def test_plain_progress_line_without_tqdm(always_shown, monkeypatch,
                                          capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import fails
    net, hist = _fit(verbose=True)
    err = capsys.readouterr().err
    for epoch in (1, 2):
        for done in range(1, 5):  # the last batch ends the epoch unshown
            assert f"\repoch {epoch}: {done}/5 batches ({20 * done}%)" in err
    assert "  cost " in err
    # each epoch's line is rubbed out (spaces, then back to the start)
    assert err.count(" \r") == 2 and err.endswith(" \r")
    quiet_net, quiet_hist = _fit(verbose=False)
    assert np.array_equal(net.params, quiet_net.params)
    assert hist.train_cost == quiet_hist.train_cost
    assert hist.train_accuracy == quiet_hist.train_accuracy


def test_tqdm_bar_when_installed(always_shown, capsys):
    pytest.importorskip("tqdm")
    net, hist = _fit(verbose=True)
    err = capsys.readouterr().err
    assert "epoch 1:" in err and "epoch 2:" in err  # tqdm's desc
    assert "/5 [" in err and "batch" in err and "cost=" not in err
    assert "cost " in err  # set_postfix_str
    quiet_net, quiet_hist = _fit(verbose=False)
    assert np.array_equal(net.params, quiet_net.params)
    assert hist.train_cost == quiet_hist.train_cost


def test_nothing_is_drawn_before_show_after(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    asked = []
    # an epoch that began now has not run SHOW_AFTER (1 s) yet
    progress = _progress.EpochProgress(1, 10, time.perf_counter() + 60)
    for done in range(1, 11):
        progress.update(done, lambda d: asked.append(d) or 0.5)
    progress.close()
    assert capsys.readouterr().err == "" and asked == []


def test_long_epoch_shows_its_progress_and_erases_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    progress = _progress.EpochProgress(3, 10, time.perf_counter() - 60)
    progress.update(4, lambda done: 0.25 + done)
    progress.update(5, lambda done: 0.25 + done)  # too soon to redraw
    err = capsys.readouterr().err
    assert err.startswith("\repoch 3: 4/10 batches (40%)  cost 4.2500  60s")
    assert "5/10" not in err and "~90s left" in err
    progress.close()
    assert capsys.readouterr().err == "\r" + " " * (len(err) - 1) + "\r"


class _WriteOnly:
    """A stream with write() and nothing else (no flush, no encoding)."""

    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text


@pytest.mark.parametrize("tqdm", ["installed", "missing"])
@pytest.mark.parametrize("stderr", [None, _WriteOnly])
def test_verbose_fits_and_sweeps_run_without_a_usable_stderr(
        always_shown, monkeypatch, tqdm, stderr):
    """pythonw and 2>&- leave sys.stderr None: the display raised
    AttributeError mid-epoch, losing the fit (and its history)."""
    if tqdm == "missing":
        monkeypatch.setitem(sys.modules, "tqdm", None)
    else:
        pytest.importorskip("tqdm")
    monkeypatch.setattr(sys, "stderr", stderr and stderr())
    monkeypatch.setattr(sys, "stdout", _WriteOnly())  # the epoch table's
    net, hist = _fit(verbose=True)
    assert hist.epochs == 2 and "epoch" in sys.stdout.text
    X, y, _ = make_problem(SIZES, 50, "softmax", seed=1)
    result = creg.sweep(X, y, SIZES, {"l2": [0.0, 1.0]}, epochs=1,
                        verbose=True)
    assert [r.ended for r in result] == ["epochs", "epochs"]


def test_show_config_as_a_dict_needs_no_stdout(monkeypatch):
    monkeypatch.setattr(sys, "stdout", None)
    assert "threads" in creg.show_config(as_dict=True)
    assert creg.show_config() is None  # prints nowhere, as print does


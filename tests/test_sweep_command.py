"""python -m creg sweep: the table of a cross-validated (l2, dropout) grid
and its best pair; bad options are usage errors."""
import _thread
import io
import subprocess
import sys
import threading

import numpy as np
import pytest

from creg import __main__ as cli
from creg import _sweep_runs


def test_sweep_command_prints_each_pair_and_the_best():
    done = subprocess.run(
        [sys.executable, "-m", "creg", "sweep", "--epochs", "2", "--l2",
         "0,3", "--dropout", "0,0.5", "--cv", "2"],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("digits: 1797 rows, network [64, 30, 10], "
                               "2-fold cross-validation, 8 of 8 runs")
    assert len(lines) == 2 + 4 + 1 and lines[-1].startswith("best: l2=")


def test_sweep_command_table_is_the_results_mean():
    args = cli.build_parser().parse_args(
        ["sweep", "--epochs", "1", "--l2", "0,1", "--dropout", "0.1",
         "--cv", "3", "--hidden", "8"])
    out = io.StringIO()
    result = args.run(args, out)
    rows = out.getvalue().splitlines()[2:4]
    for point, row in enumerate(rows):
        runs = [r for r in result.runs if r.point == point]
        assert len(runs) == 3
        accuracy = np.mean([r.metric("eval_accuracy") for r in runs])
        assert row.split()[2] == f"{accuracy:.4f}"
    assert out.getvalue().splitlines()[-1].endswith(
        f"(mean validation accuracy {result.best().score:.4f})")


@pytest.mark.parametrize("options, says", [
    (["--cv", "1"], "--cv must be >= 2"),
    (["--epochs", "0"], "--epochs must be >= 1"),
    (["--epochs", str(2**63)], "--epochs must be >= 1 and <= " + str(
        2**63 - 1)),
    (["--cv", "1798"], "--cv must be >= 2 and <= 1797"),
    (["--l2", "-1"], "--l2 takes finite strengths >= 0"),
    (["--l2", "nan"], "--l2 takes finite strengths >= 0"),
    (["--l2", "inf"], "--l2 takes finite strengths >= 0"),
    (["--dropout", "1"], "--dropout takes rates in [0, 1); got [1.0]"),
    (["--dropout", "0,nan"], "--dropout takes rates in [0, 1); got [0.0, nan]"),
    (["--lr", "0"], "--lr must be > 0"),
    (["--lr", "inf"], "--lr must be finite"),
    (["--lr", "1e-50"], "--lr=1e-50 is 0 in float32"),
    (["--threads", "0"], "--threads = 0 is invalid"),
    (["--threads", "5000"], "--threads must be at most"),
    (["--l2", "a"], "argument --l2: expected numbers separated by commas, "
                    "got 'a'"),
    (["--dropout", ""], "argument --dropout: expected numbers separated by "
                        "commas, got ''"),
    (["--data", "mnist"], "invalid choice: 'mnist'"),
])
def test_bad_sweep_options_are_usage_errors(options, says, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["sweep", *options])
    assert info.value.code == 2
    assert says in capsys.readouterr().err


@pytest.mark.filterwarnings("ignore::creg.CregWarning")
def test_a_sweep_where_every_pair_diverged_prints_its_table():
    args = cli.build_parser().parse_args(
        ["sweep", "--lr", "1e30", "--epochs", "1", "--l2", "0,1",
         "--dropout", "0", "--cv", "2", "--hidden", "8"])
    out = io.StringIO()
    result = args.run(args, out)
    assert {r.point for r in result.runs if r.ended == "diverged"} == {0, 1}
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 + 2 + 1
    for row in lines[2:4]:
        assert row.split()[2] == "nan" and "diverged" in row.split()[-1]
    assert lines[-1].startswith("best: none")


def test_a_sweep_cut_short_by_ctrl_c_does_not_blame_divergence(
        monkeypatch, ctrl_c):
    train = _sweep_runs.Plan.train

    def second_fold_waits_for_ctrl_c(plan, n_threads, stop):
        if plan.fold == 1:  # trains until Ctrl-C comes
            plan.fit_settings = dict(plan.fit_settings, epochs=10**6)
            threading.Timer(0.2, _thread.interrupt_main).start()
        return train(plan, n_threads, stop)

    monkeypatch.setattr(_sweep_runs.Plan, "train",
                        second_fold_waits_for_ctrl_c)
    args = cli.build_parser().parse_args(
        ["sweep", "--epochs", "1", "--l2", "0", "--dropout", "0",
         "--cv", "2", "--hidden", "8", "--threads", "1"])
    out = io.StringIO()
    result = args.run(args, out)
    assert result.interrupted and [r.ended for r in result.runs] == ["epochs"]
    lines = out.getvalue().splitlines()
    assert lines[0].endswith("1 of 2 runs (interrupted)")
    assert lines[-1] == ("best: none (no pair finished all its folds "
                         "before Ctrl-C)")


def test_a_sweep_cut_short_by_ctrl_c_exits_130(monkeypatch, ctrl_c, capsys):
    """It printed its table and exited 0: `sweep && next` went on."""
    train = _sweep_runs.Plan.train

    def waits_for_ctrl_c(plan, n_threads, stop):
        plan.fit_settings = dict(plan.fit_settings, epochs=10**6)
        threading.Timer(0.2, _thread.interrupt_main).start()
        return train(plan, n_threads, stop)

    monkeypatch.setattr(_sweep_runs.Plan, "train", waits_for_ctrl_c)
    status = cli.main(["sweep", "--l2", "0", "--dropout", "0", "--cv", "2",
                       "--hidden", "8", "--threads", "1"])
    out, err = capsys.readouterr()
    assert status == 130
    assert "(interrupted)" in out and err.splitlines()[-1] == "interrupted"


def test_ctrl_c_during_the_checks_is_status_130(monkeypatch, capsys):
    def interrupted(parser, args):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli._sweep_command, "check_arguments", interrupted)
    assert cli.main(["sweep"]) == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_minus_zero_is_zero_in_the_options():
    assert [str(v) for v in cli._sweep_command._floats("-0,0.5")] == \
        ["0.0", "0.5"]


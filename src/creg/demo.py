# The command's help is text, not the docstring: python -OO strips those.
HELP = "Nielsen's chapter 3 on real MNIST images."
DESCRIPTION = """\
Nielsen's overfitting experiment on the 5,000 MNIST images that ship with
creg: a [784, 30, 10] sigmoid network (cross-entropy, "large" N(0, 1)
initial weights, batch 10, lr 0.5) trained for 400 epochs on 1,000 images
and tested every epoch on 1,000 others, without a regularizer and with L2,
L1, elastic net, max-norm, dropout, input noise and expanded data, each
over 3 seeds.  Prints one table: train accuracy, the test accuracy's peak
and its last value (mean +- sd over the seeds), the gap, % weights
exactly zero, seconds per run, beside the numbers Nielsen's book gives.
`--costs` instead trains the same network with three output/cost pairs
(Karpathy's tip: softmax over L2 regression).  `--plot out.png` draws the
curves (needs matplotlib)."""
__doc__ = f"`python -m creg demo`: {HELP}\n\n{DESCRIPTION}\n"

import argparse
import importlib.util
import io
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import numpy.typing as npt

from creg import _progress, _validation as check
from creg.datasets import Labelled, load_mnist_sample
from creg.expand import expand
from creg.network import NIELSEN, Network

SIZES = [784, 30, 10]
# Nielsen's overfitting runs call network2's large_weight_initializer.
NETWORK = {**NIELSEN, "init": "large"}
LR = 0.5
BATCH_SIZE = 10
EPOCHS = 400
SEEDS = 3
N_TRAIN = 1000
N_TEST = 1000  # enough to see the gap; each epoch's test pass stays cheap
EXPANSION = 5  # creg.expand: the originals and four one-pixel shifts


@dataclass(frozen=True, eq=False)  # rows key dicts by identity
class Regularizer:
    """One row of the table: `fit` arguments, and Nielsen's test peak (%)
    for the same experiment where his chapter 3 gives one."""
    name: str
    fit_args: dict = field(default_factory=dict)
    expanded: bool = False
    nielsen_peak: Optional[str] = None


# Strengths chosen so each one lifts the test peak over "none" on these
# images (mean of 3 seeds), with the default penalty_scale="n".
REGULARIZERS = (
    Regularizer("none", nielsen_peak="82.27"),
    Regularizer("L2 (l2=0.1)", {"l2": 0.1}, nielsen_peak="87.1"),
    Regularizer("L2 (l2=1)", {"l2": 1.0}),
    Regularizer("L1 (l1=0.5, prox)", {"l1": 0.5}),
    Regularizer("elastic (0.2 + 1)", {"l1": 0.2, "l2": 1.0}),
    Regularizer("max-norm (c=4)", {"max_norm": 4.0}),
    Regularizer("dropout (0.2)", {"dropout": 0.2}),
    Regularizer("input noise (0.3)", {"input_noise": 0.3}),
    Regularizer("expanded data", expanded=True),
)


@dataclass(frozen=True)
class OutputCost:
    """One row of `--costs`: the output layer, its cost and the lr."""
    name: str
    output: str
    cost: str
    lr: float = LR


# The linear output gets a second row at lr 0.1, its best of 0.05, 0.1,
# 0.2, 0.3 and 0.5 on these images: the tip should hold against the L2
# loss at its best, not only at an lr chosen for the others.
OUTPUT_COSTS = (
    OutputCost("softmax + log-likelihood", "softmax", "log_likelihood"),
    OutputCost("sigmoid + cross-entropy", "sigmoid", "cross_entropy"),
    OutputCost("linear + quadratic (L2)", "linear", "quadratic"),
    OutputCost("linear + quadratic (L2)", "linear", "quadratic", lr=0.1),
)


@dataclass
class Run:
    """What one seed of one row measured.  Curves have one point per
    epoch; an epoch of expanded data counts as EXPANSION epochs."""
    train_accuracy: float   # on the training images, after the last epoch
    test_curve: list        # test accuracy per epoch
    train_curve: list       # running training accuracy (or cost) per epoch
    epochs_per_point: int
    zero_fraction: float    # of all weights, after the last epoch
    seconds: float

    @property
    def test_peak(self):
        return max(self.test_curve)

    @property
    def test_end(self):
        return self.test_curve[-1]


def split_mnist(dtype: npt.DTypeLike = "float32",
                ) -> tuple[Labelled, Labelled]:
    """The demo's fixed split: ((X_train, y_train), (X_test, y_test)), the
    first 1,000 bundled MNIST images (100 per digit) and the next 1,000."""
    X, y = load_mnist_sample(dtype=dtype)
    train = slice(0, N_TRAIN)
    test = slice(N_TRAIN, N_TRAIN + N_TEST)
    return (X[train], y[train]), (X[test], y[test])


class _Stopped(Exception):
    """A run ended at an epoch's end because the demo was interrupted."""


def _lr_until(lr, stop):
    """A constant lr schedule that ends the fit before its next epoch once
    `stop` (a threading.Event, or None) is set: Ctrl-C reaches only the
    main thread, and the schedule is what fit calls once per epoch."""
    def schedule(epoch, history):
        if stop is not None and stop.is_set():
            raise _Stopped
        return lr
    return schedule


def train_regularized(regularizer, train, test, epochs, seed, stop=None):
    """One seed of one regularizer; returns a Run.  Expanded data has
    EXPANSION times the rows, so it runs that fraction of the epochs: the
    same number of steps.  `stop`: see _lr_until."""
    X, y = train
    per_point = 1
    if regularizer.expanded:
        X, y = expand(X, (28, 28), y=y)
        per_point = EXPANSION
    net = Network(SIZES, **NETWORK, seed=seed)
    start = time.perf_counter()
    # one thread per run: runs go side by side instead (see _run_all)
    hist = net.fit(X, y, epochs=max(1, epochs // per_point),
                   batch_size=BATCH_SIZE, lr=LR,
                   lr_schedule=_lr_until(LR, stop), validation_data=test,
                   n_threads=1, **regularizer.fit_args)
    seconds = time.perf_counter() - start
    return Run(net.accuracy(*train), hist.eval_accuracy,
               hist.train_accuracy, per_point, hist.zero_fraction[-1],
               seconds)


def train_output_cost(output_cost, train, test, epochs, seed, stop=None):
    """One seed of one output/cost pair; returns a Run whose train_curve is
    the running training cost.  A linear output has no accuracy of its own,
    so every one is measured the same way: the argmax of the outputs,
    after each epoch.  `stop`: see _lr_until."""
    (X, y), (X_test, y_test) = train, test
    targets = np.eye(SIZES[-1], dtype=X.dtype)[y]  # one-hot, for "linear"
    net = Network(SIZES, **{**NETWORK, "output": output_cost.output,
                            "cost": output_cost.cost}, seed=seed)
    test_curve, cost_curve = [], []
    start = time.perf_counter()
    for _ in range(epochs):
        # fit continues epoch by epoch exactly as one long fit would
        hist = net.fit(X, targets, epochs=1, batch_size=BATCH_SIZE,
                       lr=output_cost.lr,
                       lr_schedule=_lr_until(output_cost.lr, stop),
                       n_threads=1)
        cost_curve.append(hist.train_cost[-1])
        test_curve.append(_argmax_accuracy(net, X_test, y_test))
    seconds = time.perf_counter() - start
    return Run(_argmax_accuracy(net, X, y), test_curve, cost_curve, 1, 0.0,
               seconds)


def _argmax_accuracy(net, X, y):
    return float(np.mean(net.predict_proba(X, n_threads=1).argmax(1) == y))


def _run_all(train_one, rows, seeds, train, test, epochs):
    """({row: [Run per seed]}, how many runs trained at once).  Each run
    trains on one thread, and as many runs train at once as there are
    usable cores: at Nielsen's batch of 10 that beats threads inside one
    run, and every run stays bitwise what it would be alone."""
    jobs = [(row, seed) for row in rows for seed in seeds]
    # the slowest runs first, so no core idles at the end: input noise
    # draws a Gaussian per input pixel per step
    jobs.sort(key=lambda job: not getattr(job[0], "fit_args", {}).get(
        "input_noise"))
    workers = min(len(jobs), check._usable_cpus())
    stop = threading.Event()
    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(train_one, row, train, test, epochs, seed,
                               stop) for row, seed in jobs]
        try:
            done = [future.result() for future in futures]
        except BaseException:  # Ctrl-C, or a run failed
            stop.set()  # the runs under way end with their epoch
            pool.shutdown(cancel_futures=True)
            raise
    results = {row: [] for row in rows}
    for (row, _), run in sorted(zip(jobs, done),
                                key=lambda pair: pair[0][1]):
        results[row].append(run)
    return results, workers


def _mean_sd(values):
    """'mean±sd' in percent; the sd is the sample sd over the seeds."""
    values = 100 * np.asarray(values, dtype=float)
    sd = values.std(ddof=1) if len(values) > 1 else 0.0
    return f"{values.mean():.1f}±{sd:.1f}"


_ROW = "{:<20} {:>10} {:>10} {:>10} {:>5} {:>5} {:>5} {:>7}"
_COST_ROW = "{:<24} {:>4} {:>10} {:>10} {:>10} {:>5}"


def _print_regularizer_table(results, out):
    print(_ROW.format("", "train", "test peak", "test end", "gap", "w = 0",
                      "s/run", "Nielsen"), file=out)
    print(_ROW.format("regularizer", "%", "%", "%", "%", "%", "", "peak %"),
          file=out)
    for row, runs in results.items():
        train = [r.train_accuracy for r in runs]
        end = [r.test_end for r in runs]
        gap = 100 * (np.mean(train) - np.mean(end))
        zeros = 100 * np.mean([r.zero_fraction for r in runs])
        seconds = np.mean([r.seconds for r in runs])
        print(_ROW.format(
            row.name, _mean_sd(train), _mean_sd([r.test_peak for r in runs]),
            _mean_sd(end), f"{gap:.1f}", f"{zeros:.1f}", f"{seconds:.1f}",
            row.nielsen_peak or "").rstrip(), file=out)
    print("\ngap: train - test end.  Nielsen: the test peaks his chapter 3 "
          "reports for the\nsame experiment (one seed, tested on MNIST's "
          "10,000 test images).", file=out)


def _print_cost_table(results, out):
    print(_COST_ROW.format("", "", "train", "test peak", "test end", "s/run"),
          file=out)
    print(_COST_ROW.format("output + cost", "lr", "%", "%", "%",
                           "").rstrip(), file=out)
    for row, runs in results.items():
        print(_COST_ROW.format(
            row.name, f"{row.lr:g}",
            _mean_sd([r.train_accuracy for r in runs]),
            _mean_sd([r.test_peak for r in runs]),
            _mean_sd([r.test_end for r in runs]),
            f"{np.mean([r.seconds for r in runs]):.1f}"), file=out)


def _whole_number(text, low, high):
    """An argparse type: an int in [low, high)."""
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not low <= value < high:
        raise argparse.ArgumentTypeError(
            f"expected a whole number in [{low}, {high}), got {text!r}")
    return value


def _epochs(text):
    return _whole_number(text, 1, 10**6)


def _seed(text):
    return _whole_number(text, 0, 2**63)


def _seeds(text):
    return _whole_number(text, 1, 1000)


def add_arguments(parser):
    """The demo's options, on `parser` (its own or a subcommand's)."""
    parser.add_argument("--epochs", type=_epochs, default=EPOCHS,
                        metavar="N",
                        help=f"epochs per run (default {EPOCHS}, as Nielsen)")
    parser.add_argument("--seed", type=_seed, default=0, metavar="S",
                        help="the first seed of the initial weights, the "
                             "shuffles and the noise (default 0)")
    parser.add_argument("--seeds", type=_seeds, default=SEEDS, metavar="K",
                        help=f"runs per row, seeds S to S+K-1, averaged "
                             f"(default {SEEDS})")
    parser.add_argument("--costs", action="store_true",
                        help="compare softmax + log-likelihood, sigmoid + "
                             "cross-entropy and linear + quadratic instead "
                             "of the regularizers")
    parser.add_argument("--plot", metavar="PNG",
                        help="also draw the curves per epoch into PNG "
                             "(needs matplotlib)")


def check_arguments(parser, args):
    """What argparse cannot check alone: refused with a usage error before
    any training, not with a traceback after it."""
    if args.seed + args.seeds - 1 >= 2**63:
        parser.error(f"--seed {args.seed} and --seeds {args.seeds}: the "
                     "last seed, S+K-1, must be below 2**63")
    if args.plot is None:
        return
    if importlib.util.find_spec("matplotlib") is None:
        parser.error("--plot needs matplotlib: pip install 'creg[plot]' "
                     "(or pip install matplotlib)")
    from matplotlib.figure import Figure
    formats = Figure().canvas.get_supported_filetypes()
    extension = os.path.splitext(args.plot)[1].lower().lstrip(".")
    if extension not in formats:
        parser.error(f"--plot: name a file ending in one of "
                     f"{', '.join('.' + f for f in sorted(formats))}; got "
                     f"{args.plot!r}")
    if os.path.isdir(args.plot):
        parser.error(f"--plot: {args.plot!r} is a directory")
    folder = os.path.dirname(os.path.abspath(args.plot))
    if not os.path.isdir(folder):
        parser.error(f"--plot: the folder {folder!r} does not exist")
    try:  # a file can be made there (not /proc, not read-only)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        parser.error(f"--plot: cannot write in {folder!r}: {exc.strerror}")
    name = os.fsencode(os.path.basename(args.plot))
    try:
        longest = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        longest = len(name)
    if len(name) > longest:
        parser.error(f"--plot: the file name is longer than the {longest} "
                     "bytes this folder takes")
    try:  # a format may need more than matplotlib (.pgf: LaTeX for text)
        trial = Figure()
        trial.text(0.5, 0.5, "creg")
        trial.savefig(io.BytesIO(), format=extension)
    except Exception as exc:  # whatever the backend raises
        parser.error(f"--plot: matplotlib cannot write .{extension} files "
                     f"here: {exc}")


def main(argv=None, out=None):
    """Parse `argv` (sys.argv[1:] by default) and run the demo."""
    parser = argparse.ArgumentParser(prog="python -m creg demo",
                                     description=HELP)
    add_arguments(parser)
    args = parser.parse_args(argv)
    check_arguments(parser, args)
    return run(args, out)


def _plus_minus_written(out):
    """`out`, or for a stream whose encoding has no "±" (an ASCII locale)
    one that writes it as "+-"."""
    stream = sys.stdout if out is None else out
    try:
        "±".encode(getattr(stream, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return _PlusMinusAsText(stream)
    return out


class _PlusMinusAsText:
    """A text stream's write() and flush(), with "±" written as "+-"."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text):
        return self.stream.write(text.replace("±", "+-"))

    def flush(self):
        _progress.flush(self.stream)


def run(args, out=None):
    """Train and print, for parsed and checked `args`; returns
    {row: [Run per seed]} (rows from REGULARIZERS, or OUTPUT_COSTS with
    --costs)."""
    out = _plus_minus_written(out)
    train, test = split_mnist()
    seeds = range(args.seed, args.seed + args.seeds)
    rows, train_one = REGULARIZERS, train_regularized
    what = f"sigmoid -> sigmoid, cross-entropy, lr {LR}"
    if args.costs:
        rows, train_one = OUTPUT_COSTS, train_output_cost
        what = "sigmoid hidden layer"
    print(f"MNIST sample: {N_TRAIN:,} train / {N_TEST:,} test images, "
          f"{SIZES} network\n{what}, \"large\" init, batch {BATCH_SIZE}\n"
          f"{args.epochs} epochs, seeds {seeds[0]}..{seeds[-1]} (mean±sd "
          "over the seeds)\n", file=out, flush=True)
    start = time.perf_counter()
    results, workers = _run_all(train_one, rows, seeds, train, test,
                                args.epochs)
    wall = time.perf_counter() - start
    if args.costs:
        _print_cost_table(results, out)
    else:
        _print_regularizer_table(results, out)
    print(f"\n{len(rows) * len(seeds)} runs in {wall:.1f} s, {workers} at a "
          f"time (one thread each)", file=out)
    if args.plot:
        from creg import _demo_plot
        draw = _demo_plot.costs if args.costs else _demo_plot.regularizers
        try:
            draw(args.plot, results)
        except OSError as exc:  # a full disk: name the file
            raise OSError(exc.errno, exc.strerror, args.plot) from exc
        print(f"wrote {args.plot}", file=out)
    return results


if __name__ == "__main__":  # python -m creg.demo: python -m creg demo
    from creg.__main__ import main as _command_line
    sys.exit(_command_line(["demo", *sys.argv[1:]]))

"""`python -m creg demo`: Nielsen's chapter 3 on real digits.

Trains the same [64, 100, 10] relu -> softmax network on the bundled UCI
digits (a fixed 1,297 / 500 split) with each regularizer in turn: none, L2,
L1, elastic net, max-norm, dropout, input noise and expanded data.  Prints
one line per epoch of the unregularized run, then one table: train and test
accuracy, the gap between them, % weights exactly zero, seconds.
`--plot out.png` also draws test accuracy per epoch (needs matplotlib).
"""
import argparse
import importlib.util
import os
import time

import numpy as np

from creg._epoch_table import EpochTable
from creg.datasets import load_digits
from creg.expand import expand
from creg.network import Network

EPOCHS = 60
LR = 0.1

# name, fit arguments, whether the training set is expanded (5x rows).
RUNS: tuple[tuple[str, dict[str, float], bool], ...] = (
    ("none", {}, False),
    ("L2 (l2=5)", {"l2": 5.0}, False),
    ("L1 (l1=2, prox)", {"l1": 2.0}, False),
    ("elastic net", {"l1": 1.0, "l2": 2.5}, False),
    ("max-norm (c=2)", {"max_norm": 2.0}, False),
    ("dropout (0.5)", {"dropout": 0.5}, False),
    ("input noise (0.3)", {"input_noise": 0.3}, False),
    ("expanded data", {}, True),
)


def split_digits(seed=0, n_test=500, dtype="float32"):
    """The demo's fixed split: ((X_train, y_train), (X_test, y_test))."""
    X, y = load_digits(dtype=dtype)
    order = np.random.default_rng(seed).permutation(len(X))
    train, test = order[:-n_test], order[-n_test:]
    return (X[train], y[train]), (X[test], y[test])


def train_one(fit_args, expanded, train, test, epochs, seed):
    """Fit one network; returns (network, history).  Expanded data has 5x the
    rows, so it runs a fifth of the epochs: the same number of steps."""
    X, y = train
    if expanded:
        X, y = expand(X, (8, 8), y=y)
        epochs = max(1, epochs // 5)
    net = Network([64, 100, 10], hidden="relu", output="softmax",
                  cost="log_likelihood", init="normalized", seed=seed)
    hist = net.fit(X, y, epochs=epochs, batch_size=10, lr=LR,
                   validation_data=test, **fit_args)
    return net, hist


def _print_epochs(hist, out):
    table = EpochTable(accuracy=True, validation=True, zero=False,
                       clamped=False, validation_label="test")
    print(table.header(), file=out)
    for e in range(hist.epochs):
        print(table.row_of(e + 1, hist, e), file=out)


def _plot(path, curves):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 5))
    for name, steps, accuracy in curves:
        ax.plot(steps, accuracy, label=name)
    ax.set_xlabel("epochs (of the 1,297-image training set)")
    ax.set_ylabel("test accuracy")
    ax.set_title("creg on UCI digits: regularizers side by side")
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=100)
    plt.close(fig)


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


def add_arguments(parser):
    """The demo's options, on `parser` (its own or a subcommand's)."""
    parser.add_argument("--epochs", type=_epochs, default=EPOCHS,
                        metavar="N",
                        help=f"epochs per regularizer (default {EPOCHS})")
    parser.add_argument("--seed", type=_seed, default=0, metavar="S",
                        help="seed of the split, the initial weights and "
                             "the shuffles (default 0)")
    parser.add_argument("--plot", metavar="PNG",
                        help="also draw test accuracy per epoch into PNG "
                             "(needs matplotlib)")


def check_arguments(parser, args):
    """What argparse cannot check alone: refused with a usage error before
    any training, not with a traceback after it."""
    if not args.plot:
        return
    if importlib.util.find_spec("matplotlib") is None:
        parser.error("--plot needs matplotlib: pip install 'creg[plot]' "
                     "(or pip install matplotlib)")
    folder = os.path.dirname(os.path.abspath(args.plot))
    if not os.path.isdir(folder):
        parser.error(f"--plot: the folder {folder!r} does not exist")


def main(argv=None, out=None):
    """Parse `argv` (sys.argv[1:] by default) and run the demo."""
    parser = argparse.ArgumentParser(prog="python -m creg demo",
                                     description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    check_arguments(parser, args)
    return run(args, out)


def run(args, out=None):
    """Train and print, for parsed and checked `args`; returns the rows of
    the table."""
    train, test = split_digits(args.seed)
    print(f"UCI digits: {len(train[0])} train / {len(test[0])} test, "
          f"[64, 100, 10] relu -> softmax, log-likelihood, batch 10, "
          f"lr {LR}, {args.epochs} epochs", file=out)
    rows, curves = [], []
    for name, fit_args, expanded in RUNS:
        start = time.perf_counter()
        net, hist = train_one(fit_args, expanded, train, test, args.epochs,
                              args.seed)
        seconds = time.perf_counter() - start
        if not rows:
            print(f"\n== {name}", file=out)
            _print_epochs(hist, out)
        train_acc = net.accuracy(*train)
        test_acc = hist.eval_accuracy[-1]
        rows.append((name, train_acc, test_acc, train_acc - test_acc,
                     hist.zero_fraction[-1], seconds))
        per_epoch = 5 if expanded else 1
        curves.append((name, [per_epoch * (e + 1) for e in range(hist.epochs)],
                       hist.eval_accuracy))
    print(f"\n{'regularizer':<20} {'train acc':>9} {'test acc':>9} "
          f"{'gap':>7} {'weights == 0':>12} {'seconds':>8}", file=out)
    for name, train_acc, test_acc, gap, zeros, seconds in rows:
        print(f"{name:<20} {train_acc:9.4f} {test_acc:9.4f} {gap:7.4f} "
              f"{100 * zeros:11.1f}% {seconds:8.2f}", file=out)
    if args.plot:
        _plot(args.plot, curves)
        print(f"\nwrote {args.plot}", file=out)
    return rows

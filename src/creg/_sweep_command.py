# The command's help is text, not the docstring: python -OO strips those.
HELP = "choose l2 and the dropout rate by cross-validation."
DESCRIPTION = """\
Trains one network per (l2, dropout) pair and fold on the bundled data with
creg.sweep, all runs at once on every core, then prints one row per pair
(mean validation accuracy over the folds, why the runs ended) and the best
pair."""
__doc__ = f"python -m creg sweep: {HELP}\n\n{DESCRIPTION}\n"

import argparse
import functools
import math

from creg import _validation as check, datasets
from creg.sweeps import sweep

_DATA = {"digits": lambda: datasets.load_digits(dtype="float32"),
         "mnist-sample": lambda: datasets.load_mnist_sample()}


@functools.lru_cache(maxsize=None)
def _load(name):
    """The data set, read once for the checks and the run (the sweep
    only reads it)."""
    return _DATA[name]()


def _floats(text):
    """"0,1,5" -> [0.0, 1.0, 5.0]."""
    try:
        return [float(v) + 0.0 for v in text.split(",")]  # -0 is 0
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas, got {text!r}") from None


def add_arguments(parser):
    """The command's options."""
    parser.add_argument("--data", choices=sorted(_DATA), default="digits",
                        help="the bundled data set (default: digits)")
    parser.add_argument("--l2", type=_floats, default=[0.0, 1.0, 5.0],
                        metavar="L2,...",
                        help="l2 strengths to try (default: 0,1,5)")
    parser.add_argument("--dropout", type=_floats, default=[0.0, 0.2],
                        metavar="RATE,...",
                        help="dropout rates to try (default: 0,0.2)")
    parser.add_argument("--cv", type=int, default=3,
                        help="folds (default: 3)")
    parser.add_argument("--epochs", type=int, default=10,
                        help="epochs of each run (default: 10)")
    parser.add_argument("--lr", type=float, default=0.1,
                        help="learning rate (default: 0.1)")
    parser.add_argument("--hidden", type=int, default=30,
                        help="units of the hidden layer (default: 30)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for the whole sweep (default: "
                             "OMP_NUM_THREADS, else all usable cores)")


def check_arguments(parser, args):
    """Usage errors, before any work."""
    rows = len(_load(args.data)[1])
    for name, least, most in (("cv", 2, rows),
                              ("epochs", 1, check.EPOCH_LIMIT - 1),
                              ("hidden", 1, None)):
        value = getattr(args, name)
        if value < least or most is not None and value > most:
            parser.error(f"--{name} must be >= {least}"
                         + (f" and <= {most}" if most is not None else ""))
    if not all(0 <= v < math.inf for v in args.l2):
        parser.error(f"--l2 takes finite strengths >= 0; got {args.l2}")
    if not all(0 <= r < 1 for r in args.dropout):
        parser.error(f"--dropout takes rates in [0, 1); got {args.dropout}")
    try:
        check.learning_rate(args.lr, "float32")  # the command's dtype
        check.n_threads(args.threads, "threads")
    except ValueError as exc:
        parser.error(f"--{exc}")


def run(args, out=None):
    """Run the sweep and print its table and the best pair."""
    X, y = _load(args.data)
    sizes = [X.shape[1], args.hidden, int(y.max()) + 1]
    result = sweep(X, y, sizes, {"l2": args.l2, "dropout": args.dropout},
                   cv=args.cv, epochs=args.epochs, lr=args.lr,
                   dtype="float32", n_threads=args.threads, verbose=True)
    lines = [f"{args.data}: {X.shape[0]} rows, network {sizes}, "
             f"{args.cv}-fold cross-validation, {len(result.runs)} of "
             f"{result.planned} runs"
             + (" (interrupted)" if result.interrupted else ""),
             f"{'l2':>8} {'dropout':>8} {'accuracy':>9} {'cost':>8}  ended"]
    accuracies = result.scores("eval_accuracy") if result.runs else []
    costs = result.scores("eval_cost") if result.runs else []
    for point, params in enumerate(result.points):
        runs = [r for r in result.runs if r.point == point]
        if not runs:
            continue
        accuracy, cost = accuracies[point], costs[point]
        ended = ",".join(sorted({r.ended for r in runs}))
        lines.append(f"{params['l2']:8g} {params['dropout']:8g} "
                     f"{accuracy:9.4f} {cost:8.4f}  {ended}")
    if any(not math.isnan(a) for a in accuracies):
        best = result.best("eval_accuracy")
        lines.append(f"best: l2={best.params['l2']:g}, "
                     f"dropout={best.params['dropout']:g} (mean validation "
                     f"accuracy {best.score:.4f})")
    elif result.runs:
        lines.append(_no_best(result))
    print("\n".join(lines), file=out)
    return result


def _no_best(result):
    """Why no pair has a score: a run diverged, or Ctrl-C came first."""
    diverged = any(r.ended == "diverged" for r in result.runs)
    if diverged and result.interrupted:
        return ("best: none (every pair has a run that diverged or did not "
                "finish; try a smaller --lr)")
    if diverged:
        return "best: none (every pair has a run that diverged; try a " \
               "smaller --lr)"
    return "best: none (no pair finished all its folds before Ctrl-C)"

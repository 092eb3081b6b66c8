"""`python -m creg demo`: the regularizers side by side on real digits.

Trains the same [64, 100, 10] softmax network on the bundled UCI digits
(a fixed 1,297 / 500 split) with no penalty, with L2 and with L1, printing
one line per epoch and then a comparison table.
"""
import argparse
import time

import numpy as np

from creg.datasets import load_digits
from creg.network import Network

RUNS = (
    ("none", {}),
    ("L2 (l2=1.0)", {"l2": 1.0}),
    ("L1 (l1=0.5, prox)", {"l1": 0.5}),
)


def split_digits(seed, n_test=500):
    X, y = load_digits(dtype="float32")
    order = np.random.default_rng(seed).permutation(len(X))
    train, test = order[n_test:], order[:n_test]
    return (X[train], y[train]), (X[test], y[test])


def run(name, penalty, train, test, epochs, seed, out):
    net = Network([64, 100, 10], hidden="sigmoid", output="softmax",
                  cost="log_likelihood", seed=seed)
    print(f"\n== {name}", file=out)
    print("epoch  train cost  train acc  test acc  seconds", file=out)
    start = time.perf_counter()
    hist = net.fit(*train, epochs=epochs, batch_size=10, lr=0.5,
                   validation_data=test, **penalty)
    for e in range(hist.epochs):
        print(f"{e + 1:5d}  {hist.train_cost[e]:10.4f}  "
              f"{hist.train_accuracy[e]:9.4f}  {hist.eval_accuracy[e]:8.4f}  "
              f"{hist.seconds[e]:7.3f}", file=out)
    return (name, hist.train_accuracy[-1], hist.eval_accuracy[-1],
            hist.zero_fraction[-1], time.perf_counter() - start)


def main(argv=None, out=None):
    parser = argparse.ArgumentParser(prog="python -m creg demo",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    train, test = split_digits(args.seed)
    print(f"UCI digits: {len(train[0])} train / {len(test[0])} test, "
          "[64, 100, 10] sigmoid -> softmax, log-likelihood, batch 10, "
          "lr 0.5", file=out)
    rows = [run(name, penalty, train, test, args.epochs, args.seed, out)
            for name, penalty in RUNS]
    print("\nsummary", file=out)
    print(f"{'regularizer':<20} {'train acc':>9} {'test acc':>9} "
          f"{'weights == 0':>12} {'seconds':>8}", file=out)
    for name, train_acc, test_acc, zeros, seconds in rows:
        print(f"{name:<20} {train_acc:9.4f} {test_acc:9.4f} "
              f"{100 * zeros:11.1f}% {seconds:8.2f}", file=out)
    return rows

#!/usr/bin/env python
"""How much of a network's work creg skips as exact zeros.

    python benchmarks/zeros.py                   # C3 on its synthetic data
    python benchmarks/zeros.py --mnist           # C3 on the MNIST sample
    python benchmarks/zeros.py --config C1 --mnist

Trains a configuration's network with its rule for a few epochs, then
measures, over batches of the training data, the share of the products
that creg's kernels skip (benchmarks/README.md, "Zeros skipped"):

- a layer's forward and input gradient run the packed GEMM with the batch
  as A, whose micro-panels of MR rows skip each k (an input of the
  forward, a neuron of the input gradient) that is zero in all MR rows;
- a layer's fused step skips each batch row whose deltas are zero for all
  six neurons of a panel;
- at batches of 2-15 rows the first layer runs in columns: its step skips
  each input that is zero in every row of the batch, its forward each
  input zero in every row of a group (up to 6 rows at AVX2, 10 at
  AVX-512, the batch cut into equal groups).

A hidden layer's delta is zero exactly where its output is (ReLU's
derivative or the dropout mask is zero), so the deltas' zeros are read
from the outputs. The dropout masks here are drawn by numpy, not creg's,
with the same rate. Prints a markdown table.
"""
import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from configs import CONFIGS, make_data  # noqa: E402

STEP_PANEL = 6  # CREG_STEP_MR
MR = (6, 12)  # CREG_PACKED_MR at levels 2-3 and at level 4
GROUPS = (6, 10)  # CREG_COLUMNS_GROUP at levels 2-3 and at level 4
COLUMN_BATCHES = range(2, 16)  # batches whose first layer runs in columns


def all_zero_columns(M, rows):
    """The share of the (group of `rows` consecutive rows, column) pairs of
    M that are zero in every row of the group (whole groups only)."""
    whole = M.shape[0] // rows * rows
    groups = M[:whole].reshape(-1, rows, M.shape[1])
    return float((groups == 0).all(axis=1).mean())


def all_zero_panel_rows(M):
    """The share of the (row, panel of STEP_PANEL columns) pairs of M that
    are zero in every column of the panel (whole panels only)."""
    whole = M.shape[1] // STEP_PANEL * STEP_PANEL
    panels = M[:, :whole].reshape(M.shape[0], -1, STEP_PANEL)
    return float((panels == 0).all(axis=2).mean())


def all_zero_in_groups(M, most):
    """The share of the (group, column) pairs of M that are zero in every
    row of the group, M cut into the fewest equal groups of at most `most`
    rows (10 rows as 5 + 5), as the columns forward cuts a batch."""
    groups = -(-M.shape[0] // most)
    bounds = [M.shape[0] * i // groups for i in range(groups + 1)]
    return float(np.mean([(M[a:b] == 0).all(axis=0).mean()
                          for a, b in zip(bounds, bounds[1:])]))


def first_layer_shares(X, batch_size, batches=10):
    """{(0, what): share skipped} of the first layer in columns, averaged
    over the first `batches` whole batches of X."""
    batches = min(batches, len(X) // batch_size)
    sums = {}
    for start in range(0, batches * batch_size, batch_size):
        Xb = X[start:start + batch_size]
        shares = {"step inputs": all_zero_in_groups(Xb, batch_size)}
        for most in GROUPS:
            shares[f"forward inputs, groups of {most}"] = \
                all_zero_in_groups(Xb, most)
        for what, share in shares.items():
            sums[0, what] = sums.get((0, what), 0.0) + share
    return {key: total / batches for key, total in sums.items()}


def hidden_outputs(weights, biases, X, dropout, rng):
    """The hidden layers' outputs (ReLU, then inverted dropout) for X."""
    outputs, A = [], X
    for W, b in zip(weights[:-1], biases[:-1]):
        A = np.maximum(A @ W.T + b, 0)
        if dropout:
            A = A * (rng.random(A.shape) >= dropout) / (1 - dropout)
        outputs.append(A)
    return outputs


def skipped_shares(net, X, batch_size, dropout, batches=10, seed=1):
    """{(layer, what): share skipped}, averaged over the first `batches`
    whole batches of X (fewer if X holds fewer)."""
    batches = min(batches, len(X) // batch_size)
    if batches == 0:
        raise ValueError(f"X has fewer rows than a batch ({batch_size})")
    weights = [np.asarray(W, np.float64) for W in net.weights]
    biases = [np.asarray(b, np.float64) for b in net.biases]
    rng = np.random.default_rng(seed)
    sums = {}
    for start in range(0, batches * batch_size, batch_size):
        Xb = np.asarray(X[start:start + batch_size], np.float64)
        outputs = hidden_outputs(weights, biases, Xb, dropout, rng)
        inputs = [Xb] + outputs
        for layer in range(len(outputs)):
            shares = {"step rows": all_zero_panel_rows(outputs[layer])}
            for mr in MR:
                shares[f"forward, MR {mr}"] = all_zero_columns(
                    inputs[layer], mr)
                if layer > 0:  # nothing needs the data's gradient
                    shares[f"input gradient, MR {mr}"] = all_zero_columns(
                        outputs[layer], mr)
            for what, share in shares.items():
                sums[layer, what] = sums.get((layer, what), 0.0) + share
    return {key: total / batches for key, total in sums.items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    p.add_argument("--config", default="C3")
    p.add_argument("--mnist", action="store_true",
                   help="the bundled 5,000 MNIST images instead of the "
                        "configuration's synthetic data")
    p.add_argument("--rows", type=int, default=3840)
    p.add_argument("--epochs", type=int, default=1)
    args = p.parse_args(argv)

    import creg
    config = CONFIGS[args.config]
    relu = config.net.get("hidden") == "relu"
    columns = config.batch_size in COLUMN_BATCHES
    if not relu and not columns:
        sys.exit(f"{args.config} has no ReLU layers and batches of "
                 f"{config.batch_size}: creg skips nothing there")
    if args.mnist:
        from creg.datasets import load_mnist_sample
        X, y = load_mnist_sample()
        X, y = X[:args.rows], y[:args.rows]
    else:
        X, y = make_data(args.rows, config.sizes)
    net = creg.Network(list(config.sizes), dtype="float32", seed=0,
                       **config.net)
    net.fit(X, y, epochs=args.epochs, **config.rule)
    shares = {}
    if relu:
        shares.update(skipped_shares(net, X, config.batch_size,
                                     config.rule.get("dropout", 0.0)))
    if columns:
        shares.update(first_layer_shares(X, config.batch_size))
    data = "MNIST" if args.mnist else "synthetic"
    print(f"{args.config}, {data} data, {len(X)} rows, after "
          f"{args.epochs} epoch(s): shares of the work skipped\n")
    print("| layer | kernel | skipped |")
    print("|---|---|---|")
    for (layer, what), share in shares.items():
        print(f"| {layer} | {what} | {share:.0%} |")
    for mr, most in zip(MR, GROUPS):
        print(f"\nAt MR {mr} (groups of {most}), of all the epoch's "
              f"multiply-adds: "
              f"{epoch_share(shares, config.sizes, mr, most):.0%} skipped")


def epoch_share(shares, sizes, mr, most=GROUPS[0]):
    """The share of a training step's multiply-adds (forward, input
    gradient but the first layer's, weight gradient: I x O each a row)
    skipped at micro-panels of `mr` rows (the first layer in columns: at
    groups of at most `most` rows); the output layer's skip nothing (its
    deltas are dense, its forward is not the packed GEMM's)."""
    total = skipped = 0.0
    for layer, (inputs, outputs) in enumerate(zip(sizes[:-1], sizes[1:])):
        work = inputs * outputs
        total += work * (3 if layer > 0 else 2)
        skipped += work * sum(shares.get((layer, what), 0.0) for what in (
            f"forward, MR {mr}", f"input gradient, MR {mr}", "step rows",
            f"forward inputs, groups of {most}", "step inputs"))
    return skipped / total

if __name__ == "__main__":
    main()

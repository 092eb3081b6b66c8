"""The benchmark grid of issue 4, as data: four networks and their data.

Every benchmark (the pytest-benchmark files and ``report.py``) reads its
networks, step rules and data from here, so the numbers of one place can be
compared with the numbers of another.

The data are synthetic and MNIST-shaped: uniform [0, 1] float32 pixels and
random labels from a fixed seed. The work of an epoch does not depend on
the pixel values (no branch of any contender looks at them), so no
download is needed.
"""
from dataclasses import dataclass, field

import numpy as np

DATA_SEED = 12345
THREADS = (1, 2)


@dataclass(frozen=True)
class Config:
    """One network, its step rule and its training-set size.

    ``net`` holds the keyword arguments of ``creg.Network`` besides the
    sizes; ``rule`` those of ``Network.fit`` besides the data, epochs,
    shuffle and threads. ``penalty_scale`` is part of ``rule``.
    """
    name: str
    sizes: tuple
    n: int
    net: dict = field(default_factory=dict)
    rule: dict = field(default_factory=dict)
    summary: str = ""

    @property
    def batch_size(self):
        return self.rule["batch_size"]

    def scaled_rule(self, n):
        """The rule with l2/l1 as the per-step lambda' of DESIGN.md."""
        scale = 1.0 / n if self.rule.get("penalty_scale", "n") == "n" else 1.0
        rule = dict(self.rule)
        rule["l2"] = rule.get("l2", 0.0) * scale
        rule["l1"] = rule.get("l1", 0.0) * scale
        rule.pop("penalty_scale", None)
        return rule

    def steps(self, n=None):
        n = self.n if n is None else n
        return -(-n // self.batch_size)


NIELSEN = dict(hidden="sigmoid", output="sigmoid", cost="cross_entropy",
               init="normalized")
NIELSEN_RULE = dict(batch_size=10, lr=0.5, l2=5.0, penalty_scale="n")

CONFIGS = {
    "C1": Config(
        "C1", (784, 30, 10), 50_000, NIELSEN, NIELSEN_RULE,
        "[784,30,10] sigmoid + cross-entropy, L2 5.0 (n-scaled), batch 10, "
        "lr 0.5"),
    "C2": Config(
        "C2", (784, 100, 10), 50_000, NIELSEN, NIELSEN_RULE,
        "[784,100,10], same rule as C1"),
    "C3": Config(
        "C3", (784, 1024, 1024, 10), 60_000,
        dict(hidden="relu", output="softmax", cost="log_likelihood",
             init="normalized"),
        dict(batch_size=128, lr=0.01, momentum=0.9, l2=1e-4, l1=1e-5,
             penalty_scale="none", max_norm=3.0, dropout=0.5),
        "[784,1024,1024,10] ReLU + softmax/log-likelihood, momentum 0.9, "
        "L2 1e-4 + L1 1e-5 prox (unscaled), max-norm 3, dropout 0.5, "
        "batch 128, lr 0.01"),
    "C4": Config(
        "C4", (784, 100, 10), 50_000, NIELSEN, dict(NIELSEN_RULE,
                                                     batch_size=1),
        "C2 with batch 1 (online SGD)"),
}


def make_data(n, sizes, seed=DATA_SEED):
    """X (n, sizes[0]) float32 uniform [0, 1]; y (n,) int64 labels."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, sizes[0]), dtype=np.float32)
    y = rng.integers(0, sizes[-1], n)
    return X, y


def one_hot(y, n_classes, dtype=np.float32):
    """Integer labels (n,) -> targets (n, n_classes)."""
    Y = np.zeros((y.shape[0], n_classes), dtype)
    Y[np.arange(y.shape[0]), y] = 1
    return Y


# ------------------------------------------------------- GEMMs of an epoch


def layer_gemms(sizes, m):
    """The GEMMs of one training step on a batch of m rows, as
    (layer, kind, M, N, K) with C (M, N) = A (M, K) . B (K, N):

    - forward  Z  (m, O) = X (m, I) . W^T (I, O)   for every layer;
    - weights  dW (O, I) = dZ^T (O, m) . X (m, I)  for every layer;
    - inputs   dX (m, I) = dZ (m, O) . W (O, I)    for every layer but the
      first (nothing needs the gradient of the data).
    """
    gemms = []
    for layer, (I, O) in enumerate(zip(sizes[:-1], sizes[1:])):
        gemms.append((layer, "forward", m, O, I))
        gemms.append((layer, "dW", O, I, m))
        if layer > 0:
            gemms.append((layer, "dX", m, I, O))
    return gemms


def epoch_batches(n, batch_size):
    """{rows: count} of the mini-batches of one epoch."""
    full, rest = divmod(n, batch_size)
    batches = {batch_size: full} if full else {}
    if rest:
        batches[rest] = batches.get(rest, 0) + 1
    return batches


def epoch_gemm_flops(config, n=None):
    """2 M N K summed over every GEMM of one epoch (no monitor pass)."""
    n = config.n if n is None else n
    return sum(count * sum(2 * M * N * K for _, _, M, N, K
                           in layer_gemms(config.sizes, m))
               for m, count in epoch_batches(n, config.batch_size).items())

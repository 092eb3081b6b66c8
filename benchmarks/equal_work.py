"""Equal work: each peer is shown to compute creg's epoch before it is timed.

For a configuration, every check starts the peer from creg's initial
weights, runs one unshuffled epoch on a small slice of data with creg's
rule, and requires creg's weights and biases to float32 accuracy. Dropout
masks are the ones creg drew (``creg._core.dropout_forward`` regenerates
them from (seed, epoch, step, layer)), fed to the numpy peer and, through a
stand-in for ``nn.Dropout``, to PyTorch; the timed runs draw their own.

C3's check makes every term of the rule act within a few steps: a larger
lr and L1 (so the prox step makes exact zeros) and a max-norm below the
initial row norms (so rows are clamped); the checks assert both happened.
scikit-learn has no L1, max-norm or dropout, so its C3 check runs creg
without them, exactly as its timed C3 runs.

Used by bench_epoch.py (as tests) and report.py (before timing).
"""
import warnings
from dataclasses import replace

import numpy as np

from configs import make_data, one_hot
from numpy_mlp import NumpyMLP

# C4 (online SGD, lr 0.5) amplifies rounding: float32 implementations
# drift apart by ~3e-6 per step (in float64 creg and numpy still agree to
# 1e-12 after 100 steps), so its check takes 10 steps.
CHECK_N = {"C1": 1000, "C2": 1000, "C3": 512, "C4": 10}
CHECK_SEED = 777
RTOL, ATOL = 1e-4, 2e-5  # float32 after up to 100 steps: errors ~1e-6
C3_CHECK_RULE = dict(lr=0.05, l1=1e-3, max_norm=0.9)


def check_rule(config, contender):
    rule = dict(config.rule)
    if config.name == "C3":
        rule.update(C3_CHECK_RULE)
    if contender == "sklearn":
        rule.update(l1=0.0, max_norm=None, dropout=0.0)
    return rule


def _creg_epoch(config, rule, X, y, dtype="float32"):
    """(initial net copy, trained net) after one unshuffled creg epoch."""
    import creg
    net = creg.Network(config.sizes, dtype=dtype, seed=0, **config.net)
    start = [(np.array(W), np.array(b))
             for W, b in zip(net.weights, net.biases)]
    net.fit(X, y, epochs=1, shuffle=False, n_threads=1, **rule)
    return start, net


def creg_masks(config, rule, net_seed=0, epoch=0):
    """mask_source(step, m) -> creg's dropout masks of that step, one
    (m, O) array per hidden layer (0 or 1/(1 - rate))."""
    from creg import _core
    from creg._descriptors import Noise
    noise = Noise(dropout=rule.get("dropout", 0.0), seed=net_seed,
                  epoch=epoch)

    def source(step, m):
        masks = []
        for layer, units in enumerate(config.sizes[1:-1]):
            ones = np.ones(m * units, np.float32)
            H, M = np.empty_like(ones), np.empty_like(ones)
            _core.dropout_forward(H, M, ones, noise, step, layer)
            masks.append(M.reshape(m, units))
        return masks
    return source


def _compare(config, net, start, weights, biases, who):
    for layer, (W, b) in enumerate(zip(weights, biases)):
        W0 = start[layer][0]
        # The check could fail: the epoch moved the weights by far more
        # than the tolerance.
        assert np.abs(net.weights[layer] - W0).max() > 100 * ATOL, \
            f"{config.name} layer {layer} is untrained"
        np.testing.assert_allclose(
            W, net.weights[layer], rtol=RTOL, atol=ATOL,
            err_msg=f"{who} {config.name}: weights of layer {layer}")
        np.testing.assert_allclose(
            b, net.biases[layer], rtol=RTOL, atol=ATOL,
            err_msg=f"{who} {config.name}: biases of layer {layer}")


def _rule_acted(config, net, rule):
    """C3's check must exercise the prox step and the max-norm clamp."""
    if rule.get("l1"):
        assert sum(int((W == 0).sum()) for W in net.weights) > 0, \
            "the L1 prox step made no exact zero"
    if rule.get("max_norm"):
        c = rule["max_norm"]
        clamped = sum(int(np.sum(np.abs(np.linalg.norm(W, axis=1) - c)
                                 < 1e-4 * c)) for W in net.weights)
        assert clamped > 0, "max-norm clamped no row"


def check_numpy(config):
    n = CHECK_N[config.name]
    X, y = make_data(n, config.sizes, CHECK_SEED)
    rule = check_rule(config, "numpy")
    start, net = _creg_epoch(config, rule, X, y)
    twin = NumpyMLP(config.sizes, np.float32, hidden=config.net["hidden"],
                    output=config.net["output"])
    twin.weights = [W.copy() for W, _ in start]
    twin.biases = [b.copy() for _, b in start]
    rule = dict(rule)
    rule.pop("dropout", None)
    batch_size = rule.pop("batch_size")
    twin.fit_epoch(X, one_hot(y, config.sizes[-1]), batch_size=batch_size,
                   dropout=config.rule.get("dropout", 0.0),
                   mask_source=creg_masks(config, check_rule(config,
                                                             "numpy")),
                   **rule)
    _compare(config, net, start, twin.weights, twin.biases, "numpy")
    _rule_acted(config, net, check_rule(config, "numpy"))


def check_torch(config):
    import torch

    from peers import TorchEpoch, torch_model

    n = CHECK_N[config.name]
    X, y = make_data(n, config.sizes, CHECK_SEED)
    # In float64: MKL's and creg's float32 roundings differ, and over an
    # epoch with relu and the L1 threshold that can flip a unit's branch.
    X = X.astype(np.float64)
    rule = check_rule(config, "torch")
    start, net = _creg_epoch(config, rule, X, y, dtype="float64")
    masks_of = creg_masks(config, rule)

    class Masks:
        current = None

    class FixedMask(torch.nn.Module):
        """nn.Dropout's place: multiply by creg's mask of this step."""

        def __init__(self, layer):
            super().__init__()
            self.layer = layer

        def forward(self, x):
            return x * torch.from_numpy(Masks.current[self.layer])

    model = torch_model(config, FixedMask if rule.get("dropout") else None)
    model = model.double()
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for lin, (W, b) in zip(linears, start):
            lin.weight.copy_(torch.from_numpy(W))
            lin.bias.copy_(torch.from_numpy(b))
    runner = TorchEpoch(replace(config, rule=rule), X, y, 1)
    runner.prepare(model)

    def on_step(step):
        if rule.get("dropout"):
            Masks.current = masks_of(step, min(rule["batch_size"],
                                               n - step * rule["batch_size"]))

    runner.epoch(order=torch.arange(n), on_step=on_step)
    _compare(config, net, start,
             [lin.weight.detach().numpy() for lin in linears],
             [lin.bias.detach().numpy() for lin in linears], "torch")
    _rule_acted(config, net, rule)


def check_sklearn(config):
    from sklearn.exceptions import ConvergenceWarning

    from peers import sklearn_model, sklearn_targets

    warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter=1

    n = CHECK_N[config.name]
    X, y = make_data(n, config.sizes, CHECK_SEED)
    rule = check_rule(config, "sklearn")
    start, net = _creg_epoch(config, rule, X, y)
    T = sklearn_targets(config, y)
    checked = replace(config, rule=rule)
    model = sklearn_model(checked, n, shuffle=False, warm_start=True)
    model.fit(X, T)  # creates coefs_ (and the classes) to replace
    # sklearn stores W transposed; a new fit call starts a new optimizer,
    # so the velocity starts at zero as in creg's fit.
    model.coefs_ = [np.array(W.T) for W, _ in start]
    model.intercepts_ = [np.array(b) for _, b in start]
    model.fit(X, T)
    _compare(config, net, start, [W.T for W in model.coefs_],
             model.intercepts_, "sklearn")


CHECKS = {"numpy": check_numpy, "torch": check_torch,
          "sklearn": check_sklearn}


def check_gemm(kind, M, N, K, threads=1):
    """creg's gemm equals numpy.matmul on the operands it is timed on."""
    from creg import _core

    from peers import gemm_operands

    C, A, B = gemm_operands(kind, M, N, K, np.random.default_rng(M + N + K))
    _core.gemm(C, A, B, np.float32(1), np.float32(0), threads)
    want = np.matmul(A.astype(np.float64), B.astype(np.float64))
    # Entries are sums of K products of uniform [0, 1) numbers: positive,
    # so the float32 error is relative, at most about K * 2^-24.
    np.testing.assert_allclose(C, want, rtol=max(1e-5, 4 * K * 2.0**-24))

"""Time one training epoch of issue 4's configurations against the peers.

The grid (configs.py): C1 [784,30,10] and C2 [784,100,10] Nielsen networks
(sigmoid + cross-entropy, L2 n-scaled, batch 10, lr 0.5), C3
[784,1024,1024,10] ReLU + softmax with momentum, L2 + L1 prox, max-norm and
dropout (batch 128), C4 = C2 with batch 1; x contenders creg, numpy,
torch, sklearn, blas (the bare OpenBLAS GEMMs of the epoch; peers.py) x
1 and 2 threads. Synthetic MNIST-shaped float32 data, fixed seed.

Equal work first: before a peer is timed on a configuration,
``equal_work.py`` shows that one unshuffled epoch of it, from creg's
initial weights and with creg's dropout masks, lands on creg's weights to
float32 accuracy (``test_equal_work``). The numpy peer itself is checked
against central finite differences and ``Network.gradient`` below.

The data size is set by the ``bench_n`` fixture (conftest.py): a tenth of
n by default, a few batches under ``--benchmark-disable`` (CI's smoke
run), ``CREG_BENCH_SCALE=1`` for the full n. ``extra_info`` holds n, the
time per epoch scaled to the full n, and for creg the training part
(``sum(history.seconds)``) besides fit's wall time. ``python
benchmarks/report.py`` is the
interleaved, multi-process version that produces the README table.
"""
import numpy as np
import pytest

import creg
import equal_work
import peers
from configs import CONFIGS, THREADS, make_data, one_hot
from numpy_mlp import NumpyMLP

ROUNDS, WARMUP_ROUNDS = 3, 1

# ------------------------------------------- the numpy peer, checked first


def numpy_twin(net):
    """A NumpyMLP holding copies of a creg network's parameters."""
    twin = NumpyMLP(net.sizes, dtype=net.dtype, hidden=net.hidden,
                    output=net.output)
    twin.weights = [np.array(W) for W in net.weights]
    twin.biases = [np.array(b) for b in net.biases]
    return twin


def data_cost(model, X, Y):
    A = model.forward(X)[-1]
    if model.output == "softmax":
        return -np.mean(np.log(A[Y.astype(bool)]))
    return -np.mean(np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A), 1))


def numerical_gradient(model, X, Y, h=1e-6):
    """Central differences of the mean data cost, every parameter."""
    grads = []
    for p in [*model.weights, *model.biases]:
        g = np.empty_like(p)
        for i in np.ndindex(p.shape):
            keep = p[i]
            p[i] = keep + h
            up = data_cost(model, X, Y)
            p[i] = keep - h
            down = data_cost(model, X, Y)
            p[i] = keep
            g[i] = (up - down) / (2 * h)
        grads.append(g)
    return grads


FAMILIES = [("sigmoid", "sigmoid"), ("relu", "softmax")]


@pytest.mark.parametrize("hidden,output", FAMILIES)
def test_numpy_gradient_matches_finite_differences(hidden, output):
    rng = np.random.default_rng(1)
    model = NumpyMLP([5, 4, 4, 3], dtype=np.float64, seed=2, hidden=hidden,
                     output=output)
    X = rng.random((7, 5))
    Y = one_hot(rng.integers(0, 3, 7), 3, np.float64)
    dWs, dbs = model.gradient(X, Y)
    for got, want in zip([*dWs, *dbs], numerical_gradient(model, X, Y)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("hidden,output", FAMILIES)
@pytest.mark.parametrize("rows", [9, 1])
def test_numpy_gradient_matches_creg_gradient(hidden, output, rows):
    rng = np.random.default_rng(3)
    cost = "cross_entropy" if output == "sigmoid" else "log_likelihood"
    net = creg.Network([6, 5, 5, 4], dtype="float64", seed=4, hidden=hidden,
                       output=output, cost=cost)
    X = rng.random((rows, 6))
    y = rng.integers(0, 4, rows)
    dWs, dbs = numpy_twin(net).gradient(X, one_hot(y, 4, np.float64))
    dWs_c, dbs_c = net.gradient(X, y)
    for got, want in zip([*dWs, *dbs], [*dWs_c, *dbs_c]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_numpy_step_is_the_l2_rule():
    """W <- W - lr (G + l2/n W), b <- b - lr db on one full batch."""
    rng = np.random.default_rng(5)
    model = NumpyMLP([4, 3, 2], dtype=np.float64, seed=6)
    X = rng.random((8, 4))
    Y = one_hot(rng.integers(0, 2, 8), 2, np.float64)
    W0 = [W.copy() for W in model.weights]
    b0 = [b.copy() for b in model.biases]
    dWs, dbs = model.gradient(X, Y)
    model.fit_epoch(X, Y, batch_size=8, lr=0.3, l2=2.0)
    for W, W_old, dW in zip(model.weights, W0, dWs):
        np.testing.assert_allclose(W, W_old - 0.3 * (dW + 2.0 / 8 * W_old),
                                   rtol=1e-14)
    for b, b_old, db in zip(model.biases, b0, dbs):
        np.testing.assert_allclose(b, b_old - 0.3 * db, rtol=1e-14)


def test_numpy_steps_are_the_full_rule():
    """Two steps of DESIGN.md's rule written out: momentum, L2, L1 prox,
    max-norm (dropout's mask is checked against creg in equal_work)."""
    rng = np.random.default_rng(7)
    model = NumpyMLP([4, 6, 3], dtype=np.float64, seed=8, hidden="relu",
                     output="softmax")
    X = rng.random((8, 4))
    Y = one_hot(rng.integers(0, 3, 8), 3, np.float64)
    lr, mu, l2, l1, c = 0.3, 0.9, 0.1, 0.3, 0.6
    want = NumpyMLP([4, 6, 3], dtype=np.float64, seed=8, hidden="relu",
                    output="softmax")
    V = [np.zeros_like(W) for W in want.weights]
    Vb = [np.zeros_like(b) for b in want.biases]
    for first in (0, 4):
        dWs, dbs = want.gradient(X[first:first + 4], Y[first:first + 4])
        for i, (W, b) in enumerate(zip(want.weights, want.biases)):
            V[i] = mu * V[i] - lr * (dWs[i] + l2 * W)
            W = W + V[i]
            W = np.sign(W) * np.maximum(np.abs(W) - lr * l1, 0)
            norms = np.linalg.norm(W, axis=1, keepdims=True)
            want.weights[i] = np.where(norms > c, W * c / norms, W)
            Vb[i] = mu * Vb[i] - lr * dbs[i]
            want.biases[i] = b + Vb[i]
    model.fit_epoch(X, Y, batch_size=4, lr=lr, momentum=mu, l2=l2, l1=l1,
                    penalty_scale="none", max_norm=c)
    assert any((W == 0).any() for W in want.weights)       # prox acted
    assert any((np.linalg.norm(W, axis=1) > c - 1e-12).any()
               for W in want.weights)                       # clamp acted
    for got, expected in zip([*model.weights, *model.biases],
                             [*want.weights, *want.biases]):
        np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)


# -------------------------------------------- every peer does creg's epoch

_CHECKED = {}


def checked(contender, config):
    """Run the equal-work check of (contender, config) once per session;
    timing a peer that failed it is an error, not a number."""
    if contender in ("creg", "blas"):
        return
    key = (contender, config.name)
    if key not in _CHECKED:
        try:
            equal_work.CHECKS[contender](config)
            _CHECKED[key] = None
        except AssertionError as exc:
            _CHECKED[key] = exc
    if _CHECKED[key] is not None:
        pytest.fail(f"{contender} does not do creg's {config.name} epoch: "
                    f"{_CHECKED[key]}")


@pytest.mark.parametrize("contender", ["numpy", "torch", "sklearn"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_equal_work(name, contender):
    ok, why = peers.available(contender)
    if not ok:
        pytest.skip(why)
    checked(contender, CONFIGS[name])


# ------------------------------------------------------------ benchmarks

_DATA = {}


def data(config, n):
    if config.name not in _DATA:
        _DATA[config.name] = make_data(config.n, config.sizes)
    X, y = _DATA[config.name]
    return X[:n], y[:n]


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("contender", peers.CONTENDERS)
@pytest.mark.parametrize("name", list(CONFIGS))
def test_epoch(benchmark, bench_n, name, contender, threads):
    config = CONFIGS[name]
    ok, why = peers.available(contender)
    if not ok:
        pytest.skip(why)
    if (threads > 1 and contender in ("numpy", "sklearn", "blas")
            and not peers.HAVE_THREADPOOLCTL):
        pytest.skip("numpy's BLAS threads need threadpoolctl")
    checked(contender, config)
    n = bench_n(config)
    benchmark.group = f"{name} {threads}T epoch n={n:,}"
    runner = peers.RUNNERS[contender](config, *data(config, n), threads)
    results = []

    def epoch():
        results.append(runner.epoch())

    benchmark.pedantic(epoch, setup=runner.prepare, rounds=ROUNDS,
                       warmup_rounds=WARMUP_ROUNDS)
    best = min(results, key=lambda r: r["seconds"])
    benchmark.extra_info.update(
        n=n, threads=threads,
        seconds_full_n=round(best["seconds"] * config.n / n, 4))
    if "train_seconds" in best:  # creg: the training inside fit
        benchmark.extra_info["train_seconds_full_n"] = round(
            min(r["train_seconds"] for r in results) * config.n / n, 4)
    limitation = peers.LIMITATIONS.get((contender, name))
    if limitation:
        benchmark.extra_info["left_out"] = limitation

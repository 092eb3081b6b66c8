"""Time one training epoch of Nielsen's network against its peers.

The network is network2.py's MNIST setup: sizes [784, 30, 10], sigmoid
hidden and output layers, cross-entropy cost, mini-batches of 10, lr 0.5,
L2 5.0 scaled by 1/n. The data are synthetic and MNIST-shaped (uniform
[0, 1] float32 pixels, random labels, fixed seed): the work per epoch does
not depend on the pixel values, and no download is needed.

One epoch of creg's ``fit`` is: shuffle, n/10 SGD steps, then the cost and
accuracy over the whole training set that ``fit`` always records (network2's
monitor). Every peer is timed doing the same: an epoch plus that monitor.

Before anything is timed, ``checked`` runs creg and the numpy peer for one
epoch from identical weights in the same order and requires the same
weights to float32 accuracy: both sides provably do the same work.

Run with ``python -m pytest benchmarks``; see benchmarks/README.md.
"""
import os
import time
import warnings

import numpy as np
import pytest
from numpy_mlp import NumpyMLP, one_hot

import creg

# The grid, asv-style: the network, the data, the step rule, the threads.
SIZES = (784, 30, 10)
N_SAMPLES = 10_000
BATCH_SIZE, LR, L2 = 10, 0.5, 5.0
# Add 2 to see threading. With batches of 10 there is little to gain, and
# on a loaded 2-core machine n_threads=2 epochs took 2-23 s instead of
# about 0.3 s, which would blow the time budget of a benchmark run.
CREG_N_THREADS = (1,)
DATA_SEED = 12345

ROUNDS, WARMUP_ROUNDS = 5, 1
GROUP = f"epoch {list(SIZES)} n={N_SAMPLES} batch={BATCH_SIZE}"


@pytest.fixture(scope="module")
def data():
    """X (n, 784) float32 uniform [0, 1]; y (n,) int64; Y one-hot float32."""
    rng = np.random.default_rng(DATA_SEED)
    X = rng.random((N_SAMPLES, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], N_SAMPLES)
    return X, y, one_hot(y, SIZES[-1], np.float32)


def numpy_twin(net):
    """A NumpyMLP holding copies of a creg network's parameters."""
    twin = NumpyMLP(net.sizes, dtype=net.dtype)
    twin.weights = [np.array(W) for W in net.weights]
    twin.biases = [np.array(b) for b in net.biases]
    return twin


@pytest.fixture(scope="module")
def checked(data):
    """The data, once creg and numpy are shown to do the same epoch."""
    X, y, Y = data
    net = creg.Network(SIZES, dtype="float32", seed=0)
    twin = numpy_twin(net)
    start = [W.copy() for W in twin.weights]
    hist = net.fit(X, y, epochs=1, batch_size=BATCH_SIZE, lr=LR, l2=L2,
                   shuffle=False, n_threads=1)
    twin.fit_epoch(X, Y, batch_size=BATCH_SIZE, lr=LR, l2=L2)
    cost, accuracy = twin.monitor(X, Y, l2=L2)
    for layer, (W, W_np, W0) in enumerate(zip(net.weights, twin.weights,
                                              start)):
        # The check could fail: the epoch moved the weights by far more
        # than the tolerance (about 1e-6 here after 1,000 float32 steps).
        assert np.abs(W_np - W0).max() > 1e-2, f"layer {layer} is untrained"
        np.testing.assert_allclose(W, W_np, rtol=1e-4, atol=2e-5,
                                   err_msg=f"weights of layer {layer}")
        np.testing.assert_allclose(net.biases[layer], twin.biases[layer],
                                   rtol=1e-4, atol=2e-5,
                                   err_msg=f"biases of layer {layer}")
    assert hist.train_cost[0] == pytest.approx(cost, rel=1e-5)
    assert hist.train_accuracy[0] == pytest.approx(accuracy, abs=2 / len(X))
    return data


# ------------------------------------------- the numpy peer, checked first


def numerical_gradient(model, X, Y, h=1e-6):
    """Central differences of the mean cross-entropy, every parameter."""
    def cost():
        A = model.forward(X)[-1]
        return -np.mean(np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A), 1))

    grads = []
    for p in [*model.weights, *model.biases]:
        g = np.empty_like(p)
        for i in np.ndindex(p.shape):
            keep = p[i]
            p[i] = keep + h
            up = cost()
            p[i] = keep - h
            down = cost()
            p[i] = keep
            g[i] = (up - down) / (2 * h)
        grads.append(g)
    return grads


def test_numpy_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    model = NumpyMLP([5, 4, 3], dtype=np.float64, seed=2)
    X = rng.random((7, 5))
    Y = one_hot(rng.integers(0, 3, 7), 3, np.float64)
    dWs, dbs = model.gradient(X, Y)
    for got, want in zip([*dWs, *dbs], numerical_gradient(model, X, Y)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)


def test_numpy_gradient_matches_creg_gradient():
    rng = np.random.default_rng(3)
    net = creg.Network([6, 5, 4], dtype="float64", seed=4)
    X = rng.random((9, 6))
    y = rng.integers(0, 4, 9)
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


# ------------------------------------------------------------ benchmarks


@pytest.mark.benchmark(group=GROUP)
@pytest.mark.parametrize("n_threads", CREG_N_THREADS)
def test_epoch_creg(benchmark, checked, n_threads):
    X, y, _ = checked
    train_seconds = []

    def setup():
        return (creg.Network(SIZES, dtype="float32", seed=0),), {}

    def epoch(net):
        hist = net.fit(X, y, epochs=1, batch_size=BATCH_SIZE, lr=LR, l2=L2,
                       shuffle=True, n_threads=n_threads)
        train_seconds.append(hist.seconds[0])

    benchmark.pedantic(epoch, setup=setup, rounds=ROUNDS,
                       warmup_rounds=WARMUP_ROUNDS)
    benchmark.extra_info.update(
        n_threads=n_threads,
        # fit's own clock: the SGD steps without the train-set monitor.
        sgd_only_min_ms=round(1e3 * min(train_seconds), 2))


@pytest.mark.benchmark(group=GROUP)
def test_epoch_numpy(benchmark, checked):
    X, _, Y = checked
    limit = blas_single_thread()
    rng = np.random.default_rng(0)
    sgd_seconds = []

    def setup():
        return (NumpyMLP(SIZES, dtype=np.float32, seed=0),), {}

    def epoch(model):
        start = time.perf_counter()
        model.fit_epoch(X, Y, batch_size=BATCH_SIZE, lr=LR, l2=L2, rng=rng)
        sgd_seconds.append(time.perf_counter() - start)
        model.monitor(X, Y, l2=L2)

    with limit:
        benchmark.pedantic(epoch, setup=setup, rounds=ROUNDS,
                           warmup_rounds=WARMUP_ROUNDS)
    benchmark.extra_info.update(
        numpy=np.__version__, blas_threads=limit.description,
        sgd_only_min_ms=round(1e3 * min(sgd_seconds), 2))


@pytest.mark.benchmark(group=GROUP)
def test_epoch_torch(benchmark, checked):
    torch = pytest.importorskip("torch")
    X, _, Y = checked
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    n, lam = len(X), L2 / len(X)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)

    def setup():
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(SIZES[0], SIZES[1]),
                                    torch.nn.Sigmoid(),
                                    torch.nn.Linear(SIZES[1], SIZES[2]))
        weights = [model[0].weight, model[2].weight]
        biases = [model[0].bias, model[2].bias]
        # Coupled L2 on weights only, as in creg: g = G + l2/n W.
        opt = torch.optim.SGD([{"params": weights, "weight_decay": lam},
                               {"params": biases, "weight_decay": 0.0}],
                              lr=LR)
        return (model, opt), {}

    def epoch(model, opt):
        order = torch.randperm(n)
        Xs, Ys = Xt[order], Yt[order]
        for first in range(0, n, BATCH_SIZE):
            xb, yb = Xs[first:first + BATCH_SIZE], Ys[first:first + BATCH_SIZE]
            opt.zero_grad(set_to_none=True)
            # Sigmoid output + cross-entropy summed over outputs, batch mean.
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                model(xb), yb, reduction="sum") / xb.shape[0]
            loss.backward()
            opt.step()
        with torch.no_grad():  # the train-set monitor
            z = model(Xt)
            torch.nn.functional.binary_cross_entropy_with_logits(
                z, Yt, reduction="sum").item()
            (z.argmax(1) == Yt.argmax(1)).float().mean().item()

    try:
        benchmark.pedantic(epoch, setup=setup, rounds=ROUNDS,
                           warmup_rounds=WARMUP_ROUNDS)
    finally:
        torch.set_num_threads(threads)
    benchmark.extra_info.update(torch=torch.__version__, n_threads=1)


def sklearn_mlp(n, **overrides):
    """MLPClassifier set up as Nielsen's network, for a one-hot Y.

    A one-hot Y makes sklearn fit a multilabel net: sigmoid outputs and the
    summed binary log-loss, i.e. Nielsen's cross-entropy. sklearn's L2 is
    alpha/(2m) sum W^2 per batch of m, so alpha = l2 m / n gives creg's
    per-step decay lr l2 / n.
    """
    from sklearn.neural_network import MLPClassifier

    settings = {
        "hidden_layer_sizes": SIZES[1:-1], "activation": "logistic",
        "solver": "sgd", "alpha": L2 * BATCH_SIZE / n,
        "batch_size": BATCH_SIZE, "learning_rate": "constant",
        "learning_rate_init": LR, "momentum": 0.0,
        "nesterovs_momentum": False, "max_iter": 1, "shuffle": True,
        "random_state": 0, "tol": 0.0}
    return MLPClassifier(**{**settings, **overrides})


@pytest.mark.benchmark(group=GROUP)
def test_epoch_sklearn(benchmark, checked):
    pytest.importorskip("sklearn")
    from sklearn.exceptions import ConvergenceWarning

    X, y, Y = checked
    limit = blas_single_thread()
    warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter=1
    # Same work as creg: one unshuffled epoch from creg's initial weights
    # (sklearn stores W transposed) lands on the same weights.
    net = creg.Network(SIZES, dtype="float32", seed=0)
    model = sklearn_mlp(len(X), shuffle=False, warm_start=True)
    model.fit(X[:BATCH_SIZE], Y[:BATCH_SIZE])  # creates coefs_ to replace
    model.coefs_ = [np.array(W.T) for W in net.weights]
    model.intercepts_ = [np.array(b) for b in net.biases]
    model.fit(X, Y)
    net.fit(X, y, epochs=1, batch_size=BATCH_SIZE, lr=LR, l2=L2,
            shuffle=False, n_threads=1)
    for layer, (W, b) in enumerate(zip(net.weights, net.biases)):
        np.testing.assert_allclose(model.coefs_[layer].T, W, rtol=1e-4,
                                   atol=2e-5, err_msg=f"sklearn layer {layer}")
        np.testing.assert_allclose(model.intercepts_[layer], b, rtol=1e-4,
                                   atol=2e-5, err_msg=f"sklearn layer {layer}")

    def epoch(model):
        model.fit(X, Y)
        model.score(X, Y)  # the train-set monitor (subset accuracy)

    with limit:
        benchmark.pedantic(epoch, setup=lambda: ((sklearn_mlp(len(X)),), {}),
                           rounds=ROUNDS, warmup_rounds=WARMUP_ROUNDS)
    benchmark.extra_info.update(blas_threads=limit.description)


class blas_single_thread:
    """Hold numpy's BLAS to one thread, so the peers run on one core like
    creg with n_threads=1: through threadpoolctl when it is installed,
    otherwise through OPENBLAS_NUM_THREADS, which benchmarks/conftest.py
    sets to 1 (unless exported) before numpy is imported."""

    def __init__(self):
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            self.limits = None
            self.description = ("OPENBLAS_NUM_THREADS=" +
                                os.environ.get("OPENBLAS_NUM_THREADS",
                                               "unset"))
        else:
            self.limits = threadpool_limits
            self.description = "1 (threadpoolctl)"

    def __enter__(self):
        if self.limits is not None:
            self.context = self.limits(limits=1, user_api="blas")
            self.context.__enter__()
        return self

    def __exit__(self, *exc):
        if self.limits is not None:
            self.context.__exit__(*exc)

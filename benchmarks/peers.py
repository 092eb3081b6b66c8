"""One training epoch of a configuration, for creg and each of its peers.

Each contender is a class built from (config, X, y, threads) that prepares
its data once (one-hot targets, tensors: never timed) and then offers

- ``prepare()``: a fresh model (initial weights are not timed);
- ``epoch()``: one shuffled epoch on that model, timed inside with
  ``time.perf_counter``; returns ``{"seconds": ...}`` and, for creg,
  ``"train_seconds"`` (``sum(history.seconds)``: the training inside
  fit, without its argument checks and history).

Contenders (see benchmarks/README.md for the equal-work argument):

creg      ``creg.Network(...).fit(X, y, epochs=1, n_threads=t, **rule)``,
          wall time: argument checks, the epoch, its history (running
          training metrics from the training pass, no second pass over X);
          ``sum(history.seconds)`` is the training part alone.
numpy     ``numpy_mlp.NumpyMLP.fit_epoch`` with BLAS held to t threads.
torch     ``torch.nn.Sequential`` + ``torch.optim.SGD`` (weight decay on the
          weights only, momentum), L1 prox (``softshrink``, the exact
          proximal step) and max-norm by hand after ``step()`` under
          ``torch.no_grad()``, ``nn.Dropout``; ``torch.set_num_threads(t)``;
          a plain loop over pre-made tensors with ``randperm`` shuffling.
sklearn   ``MLPClassifier(solver="sgd", max_iter=1)`` with the closest
          settings; it has no L1, max-norm or dropout (C3 runs without
          them) and the BLAS is held to t threads.
blas      Not a trainer: exactly the GEMMs of one epoch (per step the
          forward of every layer, dW of every layer, dX of every layer but
          the first) as ``numpy.matmul`` into preallocated outputs, i.e.
          what OpenBLAS alone needs for the epoch's matrix products.
"""
import importlib
import time
import warnings

import numpy as np

from configs import epoch_batches, layer_gemms, one_hot
from numpy_mlp import NumpyMLP

CONTENDERS = ("creg", "numpy", "torch", "sklearn", "blas")


def _importable(module):
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


HAVE_THREADPOOLCTL = _importable("threadpoolctl")
PEER_MODULES = {"torch": "torch", "sklearn": "sklearn"}
# What each peer leaves out of a configuration's rule (reported).
LIMITATIONS = {
    ("sklearn", "C3"): "no L1, max-norm or dropout in MLPClassifier",
}


def available(contender):
    """(True, "") or (False, why): peers are skipped when not installed."""
    module = PEER_MODULES.get(contender)
    if module and not _importable(module):
        return False, f"{module} is not installed"
    return True, ""


class blas_threads:
    """Hold numpy's BLAS (and so scikit-learn's) to `threads` threads.

    With threadpoolctl this is exact; without it the BLAS keeps whatever
    OPENBLAS_NUM_THREADS said when numpy was imported, and ``exact`` is
    False (benchmarks/conftest.py then pins it to 1 and skips 2-thread
    numpy rows)."""

    def __init__(self, threads):
        self.threads = threads
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            self.limits, self.exact = None, False
        else:
            self.limits, self.exact = threadpool_limits, True

    def __enter__(self):
        if self.limits is not None:
            self.context = self.limits(limits=self.threads, user_api="blas")
            self.context.__enter__()
        return self

    def __exit__(self, *exc):
        if self.limits is not None:
            self.context.__exit__(*exc)


# ----------------------------------------------------------------- creg


class CregEpoch:
    name = "creg"

    def __init__(self, config, X, y, threads):
        import creg
        self.creg, self.config, self.X, self.y = creg, config, X, y
        self.threads = threads

    def prepare(self):
        self.net = self.creg.Network(self.config.sizes, dtype="float32",
                                     seed=0, **self.config.net)

    def epoch(self):
        start = time.perf_counter()
        hist = self.net.fit(self.X, self.y, epochs=1, shuffle=True,
                            n_threads=self.threads, **self.config.rule)
        seconds = time.perf_counter() - start
        return {"seconds": seconds, "train_seconds": float(sum(hist.seconds))}


# ---------------------------------------------------------------- numpy


class NumpyEpoch:
    name = "numpy"

    def __init__(self, config, X, y, threads):
        self.config, self.X, self.threads = config, X, threads
        self.Y = one_hot(y, config.sizes[-1], np.float32)
        self.rng = np.random.default_rng(0)
        rule = dict(config.rule)
        self.batch_size = rule.pop("batch_size")
        self.rule = rule

    def prepare(self):
        self.model = NumpyMLP(self.config.sizes, np.float32, seed=0,
                              hidden=self.config.net["hidden"],
                              output=self.config.net["output"])

    def epoch(self):
        with blas_threads(self.threads):
            start = time.perf_counter()
            self.model.fit_epoch(self.X, self.Y, batch_size=self.batch_size,
                                 rng=self.rng, **self.rule)
            return {"seconds": time.perf_counter() - start}


# ---------------------------------------------------------------- torch


def torch_model(config, dropout_layer=None):
    """nn.Sequential of Linear + activation (+ dropout) layers.

    dropout_layer(hidden_index) returns the dropout module; by default
    nn.Dropout(rate) when the rule has dropout."""
    import torch
    nn = torch.nn
    act = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}[config.net["hidden"]]
    rate = config.rule.get("dropout", 0.0)
    layers = []
    pairs = list(zip(config.sizes[:-1], config.sizes[1:]))
    for index, (n_in, n_out) in enumerate(pairs):
        layers.append(nn.Linear(n_in, n_out))
        if index < len(pairs) - 1:
            layers.append(act())
            if dropout_layer is not None:
                layers.append(dropout_layer(index))
            elif rate:
                layers.append(nn.Dropout(rate))
    return nn.Sequential(*layers)


class TorchEpoch:
    """The fair, fast way a PyTorch user writes the epoch."""
    name = "torch"

    def __init__(self, config, X, y, threads, n=None):
        import torch
        self.torch, self.config, self.threads = torch, config, threads
        self.X = torch.from_numpy(X)
        if config.net["output"] == "softmax":
            self.T = torch.from_numpy(y)                 # class indices
            self.loss = torch.nn.functional.cross_entropy  # batch mean
        else:
            self.T = torch.from_numpy(one_hot(y, config.sizes[-1]))
            bce = torch.nn.functional.binary_cross_entropy_with_logits

            def loss(z, t):  # sigmoid + cross-entropy summed over outputs
                return bce(z, t, reduction="sum") / z.shape[0]
            self.loss = loss
        self.rule = config.scaled_rule(len(X) if n is None else n)

    def prepare(self, model=None):
        torch = self.torch
        torch.manual_seed(0)
        self.model = model if model is not None else torch_model(self.config)
        self.model.train()
        linears = [m for m in self.model if isinstance(m, torch.nn.Linear)]
        self.weights = [m.weight for m in linears]
        biases = [m.bias for m in linears]
        r = self.rule
        # Coupled L2 on the weights only, as in creg: g = G + l2' W.
        self.opt = torch.optim.SGD(
            [{"params": self.weights, "weight_decay": r["l2"]},
             {"params": biases, "weight_decay": 0.0}],
            lr=r["lr"], momentum=r.get("momentum", 0.0))

    def epoch(self, order=None, on_step=None):
        torch, model, opt, loss_fn = (self.torch, self.model, self.opt,
                                      self.loss)
        r = self.rule
        shrink = r["lr"] * r["l1"]
        max_norm = r.get("max_norm")
        bs, n = r["batch_size"], len(self.X)
        torch.set_num_threads(self.threads)
        start = time.perf_counter()
        if order is None:
            order = torch.randperm(n)
        X, T = self.X[order], self.T[order]
        for step, first in enumerate(range(0, n, bs)):
            if on_step is not None:
                on_step(step)
            xb, tb = X[first:first + bs], T[first:first + bs]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(xb), tb).backward()
            opt.step()
            if shrink or max_norm:
                with torch.no_grad():
                    for W in self.weights:
                        if shrink:  # W = sign(W) max(|W| - lr l1', 0)
                            W.copy_(torch.nn.functional.softshrink(W, shrink))
                        if max_norm:  # rows with norm > c scaled to c
                            W.mul_(max_norm / W.norm(dim=1, keepdim=True)
                                   .clamp_min(max_norm))
        return {"seconds": time.perf_counter() - start}


# -------------------------------------------------------------- sklearn


def sklearn_model(config, n, **overrides):
    """MLPClassifier set up as close to the configuration as it goes.

    Sigmoid configurations are fitted on the one-hot Y: sklearn then fits a
    multilabel net with sigmoid outputs and the summed binary log-loss,
    i.e. Nielsen's cross-entropy. Softmax configurations are fitted on the
    labels (softmax + log-loss). sklearn's L2 is alpha/(2m) sum W^2 per
    batch of m rows, so alpha = l2' m gives creg's per-step decay l2'.
    No L1, max-norm or dropout: those are left out (LIMITATIONS).
    """
    from sklearn.neural_network import MLPClassifier

    rule = config.scaled_rule(n)
    settings = {
        "hidden_layer_sizes": config.sizes[1:-1],
        "activation": {"sigmoid": "logistic", "relu": "relu"}[
            config.net["hidden"]],
        "solver": "sgd", "alpha": rule["l2"] * rule["batch_size"],
        "batch_size": rule["batch_size"], "learning_rate": "constant",
        "learning_rate_init": rule["lr"],
        "momentum": rule.get("momentum", 0.0), "nesterovs_momentum": False,
        "max_iter": 1, "shuffle": True, "random_state": 0, "tol": 0.0}
    return MLPClassifier(**{**settings, **overrides})


def sklearn_targets(config, y):
    if config.net["output"] == "softmax":
        return y
    return one_hot(y, config.sizes[-1], np.float32)


class SklearnEpoch:
    name = "sklearn"

    def __init__(self, config, X, y, threads):
        from sklearn.exceptions import ConvergenceWarning
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter=1
        self.config, self.X, self.threads = config, X, threads
        self.T = sklearn_targets(config, y)

    def prepare(self):
        self.model = sklearn_model(self.config, len(self.X))

    def epoch(self):
        with blas_threads(self.threads):
            start = time.perf_counter()
            self.model.fit(self.X, self.T)
            return {"seconds": time.perf_counter() - start}


# ----------------------------------------------- the bare GEMMs of an epoch


class BlasEpoch:
    """numpy.matmul into preallocated outputs for exactly the GEMMs of one
    epoch, with the operands laid out as in training: Z = X . W^T,
    dW = dZ^T . X, dX = dZ . W (transposes are views; numpy passes them to
    BLAS as transpose flags). Includes numpy's per-call overhead
    (about a microsecond), nothing else."""
    name = "blas"

    def __init__(self, config, X, y, threads):
        self.config, self.n, self.threads = config, len(X), threads
        rng = np.random.default_rng(0)
        m = config.batch_size
        sizes = config.sizes

        def rand(*shape):
            return rng.random(shape, dtype=np.float32)

        # Per layer: input X (m, I), W (O, I), Z and dZ (m, O), dW (O, I),
        # dX (m, I).
        self.layers = [dict(X=rand(m, I), W=rand(O, I), Z=rand(m, O),
                            dZ=rand(m, O), dW=rand(O, I), dX=rand(m, I))
                       for I, O in zip(sizes[:-1], sizes[1:])]
        assert len(layer_gemms(sizes, m)) == 3 * len(self.layers) - 1

    def prepare(self):
        pass

    def _steps(self, m, count):
        matmul = np.matmul
        ops = []  # (A, B, out) in the order of a training step
        for L in self.layers:
            ops.append((L["X"][:m], L["W"].T, L["Z"][:m]))
        for index in range(len(self.layers) - 1, -1, -1):
            L = self.layers[index]
            ops.append((L["dZ"][:m].T, L["X"][:m], L["dW"]))
            if index > 0:
                ops.append((L["dZ"][:m], L["W"], L["dX"][:m]))
        for _ in range(count):
            for A, B, out in ops:
                matmul(A, B, out=out)

    def epoch(self):
        with blas_threads(self.threads):
            start = time.perf_counter()
            for m, count in epoch_batches(self.n, self.config.batch_size
                                          ).items():
                self._steps(m, count)
            return {"seconds": time.perf_counter() - start}


RUNNERS = {"creg": CregEpoch, "numpy": NumpyEpoch, "torch": TorchEpoch,
           "sklearn": SklearnEpoch, "blas": BlasEpoch}


# ------------------------------------------------------------ GEMM alone


def gemm_operands(kind, M, N, K, rng):
    """(C, A, B) float32 for C (M, N) = A (M, K) . B (K, N), with A and B
    the strided views training uses for this kind of GEMM:
    forward Z = X . W^T (B a transposed view), dW = dZ^T . X (A a
    transposed view), dX = dZ . W and "square" (both contiguous)."""
    def rand(*shape):
        return rng.random(shape, dtype=np.float32)

    if kind == "forward":
        A, B = rand(M, K), rand(N, K).T
    elif kind == "dW":
        A, B = rand(K, M).T, rand(K, N)
    else:
        A, B = rand(M, K), rand(K, N)
    return np.zeros((M, N), np.float32), A, B


def time_gemm(call, min_seconds=0.05, repeats=3):
    """Best seconds per call over `repeats` timings of as many calls as
    last about `min_seconds` (after one warm-up call)."""
    call()
    start = time.perf_counter()
    call()
    once = max(time.perf_counter() - start, 1e-7)
    reps = max(1, int(min_seconds / once))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(reps):
            call()
        best = min(best, (time.perf_counter() - start) / reps)
    return best


def gemm_call(contender, C, A, B, threads):
    """A zero-argument callable computing C = A . B."""
    if contender == "creg":
        from creg import _core
        one, zero = np.float32(1), np.float32(0)
        return lambda: _core.gemm(C, A, B, one, zero, threads)
    matmul = np.matmul
    return lambda: matmul(A, B, out=C)

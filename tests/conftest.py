"""Shared fixtures and helpers for the exactness tests (STYLE.md 6.10).

The tolerance is relative over a whole array: max|a - b| <= tol * max|b|,
with b the float64 reference. No "tol + |ref|" forms.
"""

import contextlib
import os
import signal
import sys

import numpy as np
import pytest

try:
    import fcntl
except ImportError:  # Windows: no flock; tests run as without xdist
    fcntl = None

# Make `import reference` work whatever pytest's import mode is.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import reference  # noqa: E402
from creg import _core  # noqa: E402
from creg._descriptors import Noise  # noqa: E402
from creg._validation import _usable_cpus  # noqa: E402

DTYPES = [np.float32, np.float64]

# tools/sanitize.sh preloads ASan into every process it tests.
UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")
# For a test whose subject is an outcome of long training (a statistic) or
# a CPU-time ratio: 30x slower under the sanitizers, it runs no code the
# faster tests do not, so only the suite's other runs (plain, python -O,
# every kernel level, the wheel) run it.
outcome_only = pytest.mark.skipif(
    UNDER_ASAN, reason="checks an outcome (a statistic of long training "
    "or a CPU-time ratio), not memory: left to the runs without sanitizers")

# For a test that measures the machine (the cores other processes hold,
# CPU time against wall time, processes spinning on every core but one):
# under pytest-xdist (-n N) no other worker's test runs beside it, since it
# would be part of what the test measures, or be slowed by its spinners.
alone = pytest.mark.alone


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: it may be absent
def pytest_xdist_auto_num_workers(config):
    """`-n auto`: a worker per CPU this process may use, the count creg's
    own default team takes.  xdist's default asks psutil for physical
    cores, which counts a core's two hardware threads once and ignores
    the affinity mask (`taskset -c 0` still gave two workers here)."""
    return _usable_cpus()


# The variables that set creg's kernels and the thread counts of creg and
# its peers' runtimes (libgomp, OpenBLAS, MKL).  Not KMP_: scikit-learn
# sets two for Intel's OpenMP when first imported, in whichever test.
_RUNTIME_VARIABLES = ("CREG_", "OMP_", "GOMP_", "OPENBLAS_", "MKL_")


@pytest.fixture(autouse=True)
def _runtime_environment_kept():
    """A test that leaves such a variable changed changes every later test
    in its pytest worker (OMP_NUM_THREADS=1 left by Dask made a threading
    test skip now and then, depending on which tests shared its worker)."""
    def runtime():
        return {k: v for k, v in os.environ.items()
                if k.startswith(_RUNTIME_VARIABLES)}
    before = runtime()
    yield
    after = runtime()
    if after != before:
        for name in after.keys() - before.keys():
            del os.environ[name]
        os.environ.update(before)
        changed = sorted(k for k in before.keys() | after.keys()
                         if before.get(k) != after.get(k))
        pytest.fail(f"the test left these variables changed: {changed}")


@pytest.fixture(autouse=True)
def _alone_when_marked(request, tmp_path_factory):
    if fcntl is None or "PYTEST_XDIST_WORKER" not in os.environ:
        yield
        return
    # the workers' base directories share their parent: the run's
    shared = tmp_path_factory.getbasetemp().parent
    with _room(shared, request.node.get_closest_marker("alone") is not None):
        yield


@contextlib.contextmanager
def _room(directory, alone):
    """A readers-writer lock between processes from two flocks: every
    test holds the room shared, an `alone` test exclusively; the door,
    held by a test waiting to be alone, keeps new tests from entering
    meanwhile (else a steady stream of shared holders could keep it
    waiting for ever).  Closing the files releases what is held."""
    with open(directory / "creg-door.lock", "a") as door, \
            open(directory / "creg-room.lock", "a") as room:
        fcntl.flock(door, fcntl.LOCK_EX)
        fcntl.flock(room, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        if not alone:
            fcntl.flock(door, fcntl.LOCK_UN)
        yield


# Relative tolerance per dtype, for comparisons against the float64 oracle.
TOL = {np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-10}

# The cost/output pairs DESIGN.md allows, and the hidden activations.
COST_OUTPUT = [
    ("cross_entropy", "sigmoid"),
    ("log_likelihood", "softmax"),
    ("quadratic", "sigmoid"),
    ("quadratic", "linear"),
]
HIDDEN = ["sigmoid", "tanh", "relu"]


@contextlib.contextmanager
def local_cluster(n_workers):
    """A dask.distributed LocalCluster of one-thread worker processes on
    loopback, and its Client.  LocalCluster sets OMP_NUM_THREADS=1 (and the
    BLAS variables) in this process's environment for its workers and
    leaves them there: PyTorch, which shares a source build's libgomp, then
    sets OpenMP's default to 1 thread for every later test in this pytest
    worker.  The environment is put back."""
    import logging
    distributed = pytest.importorskip("dask.distributed")
    environ = dict(os.environ)
    try:
        with distributed.LocalCluster(
                n_workers=n_workers, threads_per_worker=1, processes=True,
                host="127.0.0.1", dashboard_address=None,
                silence_logs=logging.ERROR) as cluster, \
                distributed.Client(cluster) as client:
            client.wait_for_workers(n_workers, timeout=60)
            yield client
    finally:
        os.environ.clear()
        os.environ.update(environ)


def noisy_problem():
    """(X, y, X_val, y_val) of 12 columns whose labels are column 0's sign,
    the training ones with noise: a network on it overfits within a few
    epochs at a large lr, so early stopping restores an earlier epoch."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 12))
    y = (X[:, 0] + 0.8 * rng.normal(size=200) > 0).astype(int)
    X_val = rng.normal(size=(100, 12))
    return X, y, X_val, (X_val[:, 0] > 0).astype(int)


def tol_for(dtype):
    return TOL[np.dtype(dtype)]


def rel_err(a, b):
    """max|a - b| / max|b| over the arrays (b is the reference, b != 0)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = np.max(np.abs(b))
    assert scale > 0, "reference array is all zeros; relative error undefined"
    return np.max(np.abs(a - b)) / scale


def assert_close(a, b, tol, what="array"):
    """Fails unless max|a - b| <= tol * max|b| (b is the reference)."""
    err = rel_err(a, b)
    assert err <= tol, f"{what}: relative error {err:.3e} > {tol:.1e}"


def assert_params_close(net, Ws, bs, tol):
    """Every layer's weights and biases of `net` against reference lists."""
    assert len(net.weights) == len(Ws) and len(net.biases) == len(bs)
    for l, (W, W_ref) in enumerate(zip(net.weights, Ws)):
        assert_close(W, W_ref, tol, f"weights[{l}]")
    for l, (b, b_ref) in enumerate(zip(net.biases, bs)):
        assert_close(b, b_ref, tol, f"biases[{l}]")


def params64(net):
    """float64 copies of the network's weights and biases."""
    return ([np.array(W, dtype=np.float64) for W in net.weights],
            [np.array(b, dtype=np.float64) for b in net.biases])


def make_problem(sizes, n, output, seed=0, dtype=np.float64):
    """A small random problem for a network with the given sizes.

    Returns (X, y, Y): X (n, sizes[0]) in `dtype` with values exactly
    representable in float32 (so both dtypes see the same inputs); y is
    what goes to creg's fit (integer labels for sigmoid/softmax outputs,
    float targets (n, n_out) for a linear output); Y is the float64 target
    matrix the reference uses.
    """
    rng = np.random.default_rng(seed)
    n_out = sizes[-1]
    X = rng.normal(size=(n, sizes[0])).astype(np.float32).astype(dtype)
    if output == "linear":
        y = rng.normal(size=(n, n_out)).astype(np.float32).astype(dtype)
        Y = np.asarray(y, dtype=np.float64)
    else:
        y = rng.integers(0, n_out, size=n)
        y[:n_out] = np.arange(n_out)  # every class present
        Y = reference.one_hot(y, n_out)
    return X, y, Y


@pytest.fixture(params=DTYPES, ids=["float32", "float64"])
def dtype(request):
    return np.dtype(request.param)


@pytest.fixture
def tol(dtype):
    return tol_for(dtype)


KERNEL_LEVELS = list(range(_core.best_kernel_level() + 1))


@pytest.fixture(params=KERNEL_LEVELS,
                ids=[_core.kernel_name(v) for v in KERNEL_LEVELS])
def level(request):
    """Runs the test at each GEMM/step kernel level this CPU has."""
    before = _core.kernel_level()
    assert _core.set_kernel_level(request.param) == request.param
    yield request.param
    _core.set_kernel_level(before)


def repeated_phrases(message, words=4):
    """The runs of `words` words that a message says twice (a message
    that repeats itself in other words is not caught, one that pastes
    the same clause twice is)."""
    tokens = [t.strip("()[]{},.;:'\"") for t in message.lower().split()]
    runs = [" ".join(tokens[i:i + words])
            for i in range(len(tokens) - words + 1)]
    return sorted({r for r in runs if runs.count(r) > 1})


@pytest.fixture
def ctrl_c():
    """SIGINT as a terminal's Ctrl-C delivers it, for the tests that send
    one: KeyboardInterrupt in this process and the default action in the
    children it starts. A shell that runs the suite in the background
    without job control (nohup, `&` in a script) starts it with SIGINT
    ignored, and those tests would wait for an interrupt that never
    comes."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


# ---- creg's random draws, for the oracle (reference.train_running)


def dropout_masks(net, rate):
    """masks(epoch, step, shapes) -> creg's dropout masks of that batch,
    for reference.train_running."""
    def source(epoch, step, shapes):
        masks = []
        for layer, shape in enumerate(shapes):
            ones = np.ones(shape[0] * shape[1])
            H, M = np.empty_like(ones), np.empty_like(ones)
            _core.dropout_forward(H, M, ones, Noise(dropout=rate,
                                                    seed=net.seed,
                                                    epoch=epoch),
                                  step, layer)
            masks.append(M.reshape(shape))
        return masks
    return source


def input_noise_draws(net, sigma):
    """noise(epoch, step, shape) -> creg's input noise of that batch."""
    def source(epoch, step, shape):
        zeros = np.zeros(shape[0] * shape[1])
        out = np.empty_like(zeros)
        _core.input_noise(out, zeros, Noise(input_noise=sigma,
                                            seed=net.seed, epoch=epoch),
                          step)
        return out.reshape(shape)
    return source


def shuffle_order(net, n):
    """order(epoch) -> creg's shuffled row order of that epoch."""
    def source(epoch):
        order = np.empty(n, np.int64)
        _core.shuffle(order, net.seed, epoch)
        return order
    return source


@pytest.fixture
def python_s_sigint_handler():
    """Python's own SIGINT handler, whatever the test runner set (a test
    that sends itself SIGINT)."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)

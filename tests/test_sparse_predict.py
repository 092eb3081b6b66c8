"""Sparse predict (csrc/sparse.c, creg._sparse): layers with few nonzero
weights computed through those only, against numpy and the dense pass."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import reference
from conftest import COST_OUTPUT, DTYPES, HIDDEN, rel_err

import creg
from creg import _core, _sparse

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# Sparse against dense and the float64 reference (issue 19's bounds).
# At each kernel level (conftest's `level`): 0 runs sparse.c's reference
# rows, 1 and up sparse_kernel.c's tiles in that level's vectors.
TOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}


def _sparse_net(sizes, density, dtype, hidden="relu", output="softmax",
                cost=None, seed=0):
    # normalized: pre-activations of order 1 at any width, so float32
    # outputs do not underflow where the float64 reference does not
    net = creg.Network(sizes, hidden=hidden, output=output, cost=cost,
                       init="normalized", dtype=dtype, seed=seed)
    rng = np.random.default_rng(seed)
    for W in net.weights:
        W[rng.random(W.shape) >= density] = 0
    return net


def _reference(net, X):
    weights = [np.array(W, np.float64) for W in net.weights]
    biases = [np.array(b, np.float64) for b in net.biases]
    return reference.forward(weights, biases, np.array(X, np.float64),
                             net.hidden, net.output)[-1][-1]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow,
                                 HealthCheck.function_scoped_fixture])
@given(inputs=st.integers(1, 300),   # past SPARSE_BLOCK_INPUTS: blocks
       sizes=st.lists(st.integers(1, 40), min_size=1, max_size=3),
       rows=st.integers(1, 100), density=st.sampled_from([0.0, 0.05, 0.3,
                                                          1.0]),
       activations=st.sampled_from([(h, c, o) for h in HIDDEN
                                    for c, o in COST_OUTPUT]),
       dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**16))
def test_sparse_layers_match_numpy_and_dense(level, inputs, sizes,
                                             rows, density, activations,
                                             dtype, seed):
    hidden, cost, output = activations
    sizes = [inputs, *sizes]
    if output == "softmax":
        sizes[-1] = max(sizes[-1], 2)
    net = _sparse_net(sizes, density, dtype, hidden, output, cost, seed)
    X = np.random.default_rng(seed).normal(size=(rows, sizes[0]))
    X = X.astype(dtype)
    ref = _reference(net, X)
    dense = _sparse.forward(net, X, 1, layers=0)
    assert dense is None
    dense = net._evaluate(X, None, net._workspace(rows), 1)[0]
    for layers in range(1, len(sizes)):
        out = _sparse.forward(net, X, 1, layers=layers)
        assert out.dtype == net.dtype and out.shape == dense.shape
        if np.abs(ref).max() > 0:
            assert rel_err(out, ref) <= TOL[net.dtype]
            assert rel_err(out, dense) <= TOL[net.dtype]
        else:
            assert np.array_equal(out, dense)


@pytest.mark.parametrize("dtype", DTYPES)
def test_threads_give_the_same_bits(level, dtype):
    # rows x (nnz + used inputs) several times CREG_SHARE_MIN: a real team
    net = _sparse_net([300, 200, 10], 0.1, dtype, hidden="tanh")
    X = np.random.default_rng(1).random((1000, 300)).astype(dtype)
    one = _sparse.forward(net, X, 1, layers=1)
    for n_threads in (2, 3):
        assert np.array_equal(_sparse.forward(net, X, n_threads, layers=1),
                              one)
    assert rel_err(one, _reference(net, X)) <= TOL[net.dtype]


def test_vector_tiles_match_the_reference_rows(level):
    net = _sparse_net([130, 70, 5], 0.07, "float64", hidden="sigmoid",
                      output="linear")
    X = np.random.default_rng(2).normal(size=(77, 130))
    tiles = _sparse.forward(net, X, 1, layers=2)
    before = _core.kernel_level()
    try:
        _core.set_kernel_level(0)
        plain = _sparse.forward(net, X, 1, layers=2)
    finally:
        _core.set_kernel_level(before)
    # the same sums in the same order; FMA (levels 2 and up) rounds once
    # where the baseline rounds twice
    assert rel_err(tiles, plain) <= (1e-15 if level <= 1 else 1e-14)


def test_predict_picks_sparse_layers_by_density(monkeypatch):
    net = _sparse_net([784, 100, 10], 0.05, "float32")
    net.weights[1][...] = creg.Network([100, 10], seed=3).weights[0]
    X = np.random.default_rng(0).random((200, 784)).astype(np.float32)
    assert _sparse.sparse_prefix(net, len(X)) == 1
    assert _sparse.sparse_prefix(net, _sparse.MIN_ROWS - 1) == 0
    calls = []
    original = _sparse.Pattern.forward
    monkeypatch.setattr(_sparse.Pattern, "forward",
                        lambda self, *a, **k: calls.append(1)
                        or original(self, *a, **k))
    sparse = net.predict_proba(X)
    assert calls == [1]
    monkeypatch.setattr(_sparse, "MAX_DENSITY",
                        {k: -1.0 for k in _sparse.MAX_DENSITY})
    dense = net.predict_proba(X)
    assert calls == [1]
    assert rel_err(sparse, dense) <= 1e-5
    assert np.array_equal(net.predict(X), dense.argmax(axis=1))
    dense_enough = _sparse_net([784, 100, 10], 0.7, "float32")
    assert _sparse.sparse_prefix(dense_enough, len(X)) == 0


@pytest.mark.parametrize("when", ["built", "set"])
def test_settings_given_as_numpy_strings(when):
    # np.str_ is a str to Python, not to Cython's typed arguments
    hidden, output = np.array(["tanh", "sigmoid"])
    net = _sparse_net([50, 20, 3], 0.05, "float64", output="sigmoid",
                      hidden=hidden if when == "built" else "relu")
    if when == "set":
        net.hidden, net.output = hidden, output
    X = np.random.default_rng(4).random((2 * _sparse.MIN_ROWS, 50))
    assert _sparse.sparse_prefix(net, len(X)) >= 1
    assert net.hidden == "tanh"
    assert rel_err(net.predict_proba(X), _reference(net, X)) <= 1e-12


def test_changed_weights_are_seen(monkeypatch):
    monkeypatch.setattr(_sparse, "MIN_ROWS", 1)
    net = _sparse_net([50, 20, 3], 0.05, "float64", hidden="tanh",
                      output="sigmoid")
    net.weights[1][...] = 1.0
    X = np.random.default_rng(4).random((40, 50))
    before = net.predict_proba(X)
    net.weights[0][3, 7] = 2.5        # in place: the kept pattern is stale
    after = net.predict_proba(X)
    assert not np.array_equal(before, after)
    assert rel_err(after, _reference(net, X)) <= 1e-12
    net.fit(X, np.arange(40) % 3, epochs=1, l1=50.0, lr=0.1)
    assert rel_err(net.predict_proba(X), _reference(net, X)) <= 1e-12


def _pattern_args(dtype=np.float64):
    W = np.array([[0, 1.5, 0], [2, 0, -1]], dtype)
    p = _sparse.Pattern(W)
    A = np.empty((4, 2), dtype)
    X = np.ones((4, 3), dtype)
    scratch = np.empty(_core.sparse_slots(1) * _core.sparse_slot_size(3, 2),
                       dtype)
    return dict(A=A, scratch=scratch, X=X, values=p.values,
                b=np.zeros(2, dtype), row_start=p.row_start, cols=p.cols,
                used=p.used, splits=p.splits, activation="linear",
                n_threads=1)


def test_rows_whose_first_sums_overflow_into_a_saturated_unit():
    """tanh of a first-layer sum past float32's range is 1: both passes
    answer (the dense one refused 31 such rows where the sparse one, from
    32 rows, answered)."""
    net = creg.Network([4, 3, 2], hidden="tanh", dtype="float32", seed=0)
    net.weights[0][...] = [[1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
    X = np.full((32, 4), 3e38, np.float32)
    assert _sparse.sparse_prefix(net, 32) > 0 == _sparse.sparse_prefix(net, 31)
    both = net.predict_proba(X)
    np.testing.assert_allclose(net.predict_proba(X[:31]), both[:31],
                               rtol=1e-6)
    # outputs that overflow still raise, whichever pass
    net.weights[1][...] = [[3e38, 3e38, 0], [-3e38, -3e38, 0]]
    for rows in (31, 32):
        with pytest.raises(ValueError, match="outputs overflow"):
            net.predict_proba(X[:rows])


def test_all_zero_layer_runs_sparse(monkeypatch):
    """No used input: act(b) for every row, without a scratch slot."""
    monkeypatch.setattr(_sparse, "MIN_ROWS", 1)
    net = _sparse_net([3, 2], 0.0, "float32", output="sigmoid")
    X = np.ones((40, 3), np.float32)
    assert _sparse.sparse_prefix(net, len(X)) == 1
    out = net.predict_proba(X, n_threads=2)
    expected = 1 / (1 + np.exp(-net.biases[0].astype(np.float64)))
    assert rel_err(out, np.tile(expected, (40, 1))) <= 1e-6


def test_core_computes_the_pattern():
    args = _pattern_args()
    _core.sparse_forward(**args)
    assert args["A"].tolist() == [[1.5, 1.0]] * 4


@pytest.mark.parametrize("change, message", [
    (dict(cols=np.array([1, 0, 3], np.int32)), "out of range"),
    (dict(cols=np.array([1, 0, -1], np.int32)), "out of range"),
    (dict(row_start=np.array([0, 2, 1], np.int64)), "row_start"),
    (dict(row_start=np.array([1, 1, 3], np.int64)), "out of range"),
    (dict(used=np.array([0, 0, 2], np.int64)), "out of range"),
    (dict(used=np.array([0, 1, 3], np.int64)), "out of range"),
    (dict(A=np.empty((4, 3))), "A \\(B, O\\)"),
    (dict(X=np.ones((3, 3))), "A \\(B, O\\)"),
    (dict(scratch=np.empty(3)), "fewer slots"),
    (dict(splits=np.array([[0, 1], [1, 2]], np.int64)), "out of range"),
    (dict(splits=np.array([[0, 9], [1, 3]], np.int64)), "out of range"),
    (dict(splits=np.array([[0, 1, 1], [1, 3, 3]], np.int64)), "splits"),
    (dict(values=np.ones(2)), "row_start\\[O\\]"),
    (dict(n_threads=-1), "n_threads"),
])
def test_core_refuses_a_bad_pattern(change, message):
    """Real checks at the C boundary (they hold under python -O too)."""
    args = _pattern_args()
    args.update(change)
    before = args["A"].copy()
    with pytest.raises(ValueError, match=message):
        _core.sparse_forward(**args)
    assert np.array_equal(args["A"], before, equal_nan=True)


def _same_error(net, X, monkeypatch):
    """The ValueError predict_proba raises for X, with every layer sparse
    and then dense: both must raise, with the same message."""
    errors = []
    for limit in (1.0, -1.0):
        with monkeypatch.context() as m:
            m.setattr(_sparse, "MAX_DENSITY",
                      {k: limit for k in _sparse.MAX_DENSITY})
            assert (_sparse.sparse_prefix(net, len(X)) > 0) == (limit > 0)
            with pytest.raises(ValueError) as error:
                net.predict_proba(X)
            errors.append(str(error.value))
    assert errors[0] == errors[1]
    return errors[0]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow,
                                 HealthCheck.function_scoped_fixture])
@given(inputs=st.integers(1, 300), rows=st.integers(32, 150),
       density=st.sampled_from([0.01, 0.1, 0.3]),
       bad=st.sampled_from([np.nan, np.inf, -np.inf]),
       at=st.tuples(st.floats(0, 1, exclude_max=True),
                    st.floats(0, 1, exclude_max=True)),
       dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**16))
def test_sparse_predict_finds_nan_and_inf_anywhere(level, monkeypatch,
                                                   inputs, rows, density,
                                                   bad, at, dtype, seed):
    """The sparse pass checks X on the way: in the inputs its tiles read,
    in those no neuron uses (never read), in a short last tile."""
    net = _sparse_net([inputs, 6, 3], density, dtype, seed=seed)
    X = np.random.default_rng(seed).normal(size=(rows, inputs)).astype(dtype)
    X[int(at[0] * rows), int(at[1] * inputs)] = bad
    message = _same_error(net, X, monkeypatch)
    assert ("NaN" in message) == np.isnan(bad)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("column", [3, 20, 47, 60])
def test_sparse_predict_finds_nan_in_unread_inputs(level, monkeypatch,
                                                   dtype, column):
    """Inputs 16-47 are used by no neuron (whole groups the tiles skip),
    input 3 by none either but inside a group they read; 60 is used."""
    net = _sparse_net([64, 9, 2], 0.3, dtype, seed=5)
    W = net.weights[0]
    W[:, 16:48] = 0
    W[:, 3] = 0
    W[0, 60] = 1.0
    X = np.random.default_rng(6).random((70, 64)).astype(dtype)
    X[69, column] = np.nan
    assert "NaN" in _same_error(net, X, monkeypatch)
    assert np.isfinite(net.predict_proba(X[:69])).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_sparse_predict_refuses_bad_weights_on_zero_inputs(monkeypatch,
                                                           dtype, bad):
    """A weight set to NaN or inf whose input is 0: the dense pass's
    bad * 0 is NaN, the sparse pass skips the zero."""
    net = _sparse_net([64, 9, 2], 0.3, dtype, seed=5)
    net.weights[0][0, 2] = bad
    X = np.random.default_rng(6).random((70, 64)).astype(dtype)
    X[:, 2] = 0
    assert _same_error(net, X, monkeypatch) == (
        "net.weights[0] contains NaN or infinity; set finite values first")
    y = np.zeros(len(X), np.int64)
    for call in (net.accuracy, net.cost):  # the dense pass skips zeros too
        with pytest.raises(ValueError, match=r"net.weights\[0\] contains "
                           "NaN or infinity"):
            call(X, y)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sparse_predict_takes_huge_finite_values(dtype):
    """The check sees x * 0, never a sum of X: values near the largest
    float are finite input, as for the dense predict."""
    net = _sparse_net([40, 5, 3], 0.1, dtype, seed=7)
    X = np.full((64, 40), np.finfo(dtype).max / 2, dtype)
    assert _sparse.sparse_prefix(net, len(X)) >= 1
    with np.errstate(all="ignore"):
        net.predict_proba(X)  # does not raise


SPARSE_UNDER_LIMIT = """
    import resource
    import numpy as np
    import creg
    from creg import _validation
    rng = np.random.default_rng(0)
    net = creg.Network([2048, 12800, 10], output="softmax",
                       cost="log_likelihood", dtype="float32", seed=0)
    W = net.weights[0]
    W[rng.random(W.shape, dtype=np.float32) < 0.6] = 0  # as L1 leaves it
    X = rng.standard_normal((64, 2048)).astype(np.float32)
    used = _validation._read_kib("/proc/self/status", "VmSize")
    # room for the dense pass, not for building the 100 MB layer's pattern
    limit = used + 256 * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    dense = net.predict_proba(X[:31], n_threads=1)
    assert np.allclose(net.predict_proba(X, n_threads=1)[:31], dense,
                       rtol=1e-4, atol=1e-6)
    print("ok")
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="RLIMIT_AS and /proc")
def test_without_memory_for_the_sparse_pass_predict_goes_dense():
    """The sparse pass's pattern, scratch and buffers were never checked
    against the memory left: 64 rows met numpy's MemoryError (or, without
    a limit, the OOM killer) where 31 rows predicted."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SPARSE_UNDER_LIMIT)],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ok\n"


def test_a_layer_of_more_inputs_than_int32_numbers_goes_dense():
    """Pattern numbers a layer's inputs in int32: past 2**31 - 1 of them
    the C pass refused its own pattern ("an index of the pattern is out
    of range") where the dense pass predicts."""
    from types import SimpleNamespace
    zeros = np.broadcast_to(np.zeros(1, np.float32), (1, 2**31))
    net = SimpleNamespace(weights=[zeros], dtype=np.dtype(np.float32))
    assert _sparse.sparse_prefix(net, 64) == 0  # the width, not a count


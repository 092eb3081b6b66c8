"""Regressions for the Python -> C boundary (issue 15): every pass sizes its
buffers, the checks in _core.pyx are real (they hold under python -O), and
the counters and thread counts a user passes are bounded."""
import copy
import os
import pickle
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import creg
from creg import _core
from creg._descriptors import NetSpec, Noise, StepRule
from conftest import assert_close, reference, tol_for


def _run_python(code, *args, flags=(), timeout=60, env=None):
    return subprocess.run(
        [sys.executable, *flags, "-c", textwrap.dedent(code), *args],
        capture_output=True, text=True, timeout=timeout, env=env)


def _without_asan_quarantine():
    """The environment, where ASan runs with freed blocks reused at once:
    its quarantine (256 MB) would fill a memory limit's margin."""
    env = dict(os.environ)
    if "ASAN_OPTIONS" in env:
        env["ASAN_OPTIONS"] += ":quarantine_size_mb=0"
    return env


# ------------------------------------ a validation set larger than training

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n_train, n_val", [(50, 3000), (1, 1025), (7, 64)])
def test_validation_set_larger_than_training_set(dtype, n_train, n_val):
    rng = np.random.default_rng(0)
    X, y = rng.random((n_train, 20)), rng.integers(0, 3, n_train)
    Xv, yv = rng.random((n_val, 20)), rng.integers(0, 3, n_val)
    net = creg.Network([20, 200, 3], dtype=dtype, **creg.NIELSEN)
    history = net.fit(X, y, epochs=2, batch_size=min(10, n_train),
                      validation_data=(Xv, yv), lr=0.5)
    # the outputs of every row of Xv agree with the float64 oracle, and the
    # monitor pass with predict's and cost's passes
    Ws = [np.asarray(W, np.float64) for W in net.weights]
    bs = [np.asarray(b, np.float64) for b in net.biases]
    _, As = reference.forward(Ws, bs, Xv, "sigmoid", "sigmoid")
    assert_close(net.predict_proba(Xv), As[-1], tol_for(dtype), "outputs")
    assert history.eval_cost[-1] == pytest.approx(net.cost(Xv, yv), rel=1e-12)
    assert history.eval_accuracy[-1] == net.accuracy(Xv, yv)


REPRO = """
    import numpy as np, creg
    rng = np.random.default_rng(0)
    X, y = rng.random((50, 20)), rng.integers(0, 3, 50)
    Xv, yv = rng.random((3000, 20)), rng.integers(0, 3, 3000)
    h = creg.Network([20, 200, 3], **creg.NIELSEN).fit(
        X, y, epochs=3, lr=0.5, validation_data=(Xv, yv))
    print(len(h.eval_accuracy))
"""


def test_validation_set_larger_than_training_set_under_python_O():
    done = _run_python(REPRO, flags=["-O"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "3"


# ----------------------------------------------- _core checks are real

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows", [4, 32])  # scalar and vector step paths
def test_the_prox_step_keeps_a_nan_weight_nan(dtype, rows):
    """The soft-threshold's comparisons are false for NaN: it made a NaN
    weight an exact zero the epoch's finiteness check never saw.  A NaN
    velocity is a way in that no forward pass refuses first."""
    spec = NetSpec((30, 20, 2), "relu", "sigmoid", "cross_entropy")
    rng = np.random.default_rng(0)
    params = rng.normal(0, 0.1, _core.param_count(spec)).astype(dtype)
    velocity = np.zeros_like(params)
    velocity[5] = np.nan
    X = rng.random((rows, 30)).astype(dtype)
    Y = np.zeros((rows, 2), dtype)
    rule = StepRule(lr=0.1, momentum=0.9, l1=1.0, l1_prox=True)
    _core.train_batches(
        params, velocity,
        np.zeros(_core.train_scratch_size(spec, rows, rule, params.dtype),
                 dtype),
        np.zeros(_core.workspace_size(spec, rows), dtype), X, Y, None,
        batch_size=rows, first_batch=0, n_batches=1, net=spec, rule=rule,
        noise=Noise(), n_threads=1)
    assert np.isnan(params[5])
    zeros = params[np.flatnonzero(params == 0)]
    assert zeros.size > 100 and not np.signbit(zeros).any()  # +0 as before


def _core_calls(dtype):
    """(name, call) pairs that each hand _core a buffer too small or a shape
    that does not match; each must raise ValueError."""
    spec = NetSpec((4, 3, 2), "sigmoid", "sigmoid", "cross_entropy")
    P = _core.param_count(spec)
    per_row = _core.workspace_size(spec, 1)
    params, grads = np.zeros(P, dtype), np.zeros(P, dtype)
    X, Y = np.zeros((8, 4), dtype), np.zeros((8, 2), dtype)
    out = np.zeros((8, 2), dtype)
    ws_small = np.zeros(per_row * 3, dtype)     # 3 rows
    ws = np.zeros(per_row * 8, dtype)
    rule, noise, sums = StepRule(lr=0.1), Noise(), _core.PassSums()
    order = np.arange(8, dtype=np.int64)
    scratch = np.zeros(
        _core.train_scratch_size(spec, 4, rule, np.dtype(dtype)), dtype)
    return [
        ("evaluate: chunk larger than the workspace", lambda: _core.evaluate(
            ws_small, params, X, None, out=out, chunk_rows=4, net=spec,
            n_threads=1)),
        ("evaluate: short params", lambda: _core.evaluate(
            ws, params[:-1], X, None, out=out, chunk_rows=4, net=spec,
            n_threads=1)),
        ("evaluate: out rows", lambda: _core.evaluate(
            ws, params, X, None, out=out[:7], chunk_rows=4, net=spec,
            n_threads=1)),
        ("evaluate: Y rows", lambda: _core.evaluate(
            ws, params, X, Y[:5], out=out, chunk_rows=4, net=spec,
            n_threads=1, sums=sums)),
        ("evaluate: targets without sums", lambda: _core.evaluate(
            ws, params, X, Y, chunk_rows=4, net=spec, n_threads=1)),
        ("evaluate: X columns", lambda: _core.evaluate(
            ws, params, np.zeros((8, 5), dtype), None, out=out,
            chunk_rows=4, net=spec, n_threads=1)),
        ("evaluate: too many threads", lambda: _core.evaluate(
            ws, params, X, None, out=out, chunk_rows=4, net=spec,
            n_threads=_core.MAX_THREADS + 1)),
        ("gradient: workspace for fewer rows", lambda: _core.gradient(
            grads, ws_small, params, X, Y, spec, 1)),
        ("gradient: short grads", lambda: _core.gradient(
            grads[:-1], ws, params, X, Y, spec, 1)),
        ("train: batch larger than the workspace", lambda: _core.train_batches(
            params, grads[:1], scratch, ws_small, X, Y, order, batch_size=4,
            first_batch=0, n_batches=2, net=spec, rule=rule, noise=noise,
            n_threads=1)),
        ("train: batches past the epoch", lambda: _core.train_batches(
            params, grads[:1], scratch, ws, X, Y, order, batch_size=4,
            first_batch=1, n_batches=2, net=spec, rule=rule, noise=noise,
            n_threads=1)),
        ("train: short scratch", lambda:
            _core.train_batches(params, grads[:1], scratch[:-1], ws, X, Y,
                                order,
                                batch_size=4, first_batch=0, n_batches=2,
                                net=spec, rule=rule, noise=noise,
                                n_threads=1)),
        ("train: short order", lambda: _core.train_batches(
            params, grads[:1], scratch, ws, X, Y, order[:5], batch_size=4,
            first_batch=0, n_batches=2, net=spec, rule=rule, noise=noise,
            n_threads=1)),
        ("train: momentum without a velocity buffer", lambda:
            _core.train_batches(params, grads[:1], scratch, ws, X, Y, order,
                                batch_size=4, first_batch=0, n_batches=2,
                                net=spec, rule=StepRule(lr=0.1, momentum=0.9),
                                noise=noise, n_threads=1)),
        ("gemm: inner sizes differ", lambda: _core.gemm(
            np.zeros((3, 3), dtype), np.zeros((3, 2), dtype),
            np.zeros((4, 3), dtype), 1.0, 0.0, 1)),
        ("dropout: lengths differ", lambda: _core.dropout_forward(
            np.zeros(4, dtype), np.zeros(3, dtype), np.zeros(4, dtype),
            noise, 0, 0)),
        ("input noise: lengths differ", lambda: _core.input_noise(
            np.zeros(4, dtype), np.zeros(5, dtype), noise, 0)),
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_core_refuses_mismatched_buffers_with_value_error(dtype):
    for name, call in _core_calls(dtype):
        with pytest.raises(ValueError, match="creg._core"):
            call()
            pytest.fail(name)


def test_core_checks_hold_under_python_O():
    code = """
        import sys
        sys.path.insert(0, sys.argv[1])
        import numpy as np
        from test_c_boundary import _core_calls
        assert not __debug__
        for name, call in _core_calls(np.float32):
            try:
                call()
            except ValueError:
                continue
            print("not refused:", name)
        print("done")
    """
    done = _run_python(code, os.path.dirname(__file__), flags=["-O"])
    assert done.returncode == 0, done.stderr
    assert done.stdout == "done\n"


# --------------------------------------------------- bounded thread counts

def test_n_threads_beyond_the_cap_is_a_value_error_before_any_work():
    # a subprocess: before the cap, 10**6 crashed libgomp
    code = f"""
        import numpy as np, creg
        rng = np.random.default_rng(0)
        X, y = rng.random((30, 5)), rng.integers(0, 2, 30)
        net = creg.Network([5, 4, 2])
        before = net.params.copy()
        for n in (10**6, 2**31 - 1, 2**31, 2**64, {_core.MAX_THREADS + 1}):
            for call in (lambda: net.predict(X, n_threads=n),
                         lambda: net.fit(X, y, epochs=1, n_threads=n)):
                try:
                    call()
                except ValueError as e:
                    assert "n_threads" in str(e), e
                else:
                    raise SystemExit(f"n_threads={{n}} accepted")
        assert np.array_equal(net.params, before)
        net.predict(X, n_threads={_core.MAX_THREADS})
        print("ok")
    """
    done = _run_python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ok\n"


# -------------------------------------------------- bounded epoch counter

def test_epochs_trained_is_bounded_and_overflow_is_not_divergence():
    rng = np.random.default_rng(0)
    X, y = rng.random((30, 5)), rng.integers(0, 2, 30)
    net = creg.Network([5, 4, 2], **creg.NIELSEN)
    for bad in (2**63, 2**64):
        with pytest.raises(ValueError, match="epochs_trained"):
            net.epochs_trained = bad
    net.epochs_trained = 2**63 - 1
    before = net.params.copy()
    with pytest.raises(ValueError, match="epochs_trained") as info:
        net.fit(X, y, epochs=1, lr=0.5)
    assert not isinstance(info.value, creg.DivergenceError)
    assert np.array_equal(net.params, before)
    net.epochs_trained = 2**63 - 2
    net.fit(X, y, epochs=1, lr=0.5)
    assert net.epochs_trained == 2**63 - 1


# ---------------------------------------------- weights a user broke

@pytest.mark.parametrize("where", ["weights", "biases"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_parameters_are_refused_before_fit(where, bad):
    rng = np.random.default_rng(0)
    X, y = rng.random((30, 5)), rng.integers(0, 2, 30)
    net = creg.Network([5, 4, 3, 2], **creg.NIELSEN)
    getattr(net, where)[1][0] = bad
    before = net.params.copy()
    with pytest.raises(ValueError, match=rf"net\.{where}\[1\]") as info:
        net.fit(X, y, epochs=1, lr=0.5)
    assert not isinstance(info.value, creg.DivergenceError)
    np.testing.assert_array_equal(net.params, before)
    assert net.epochs_trained == 0


# ------------------------------------------------------ the layer lists

def test_assigning_params_copies_into_the_one_buffer():
    # the layer views stay views of what predict, save and the exporters
    # read; a replacement of another dtype or layout is converted, a bad
    # one named
    net = creg.Network([4, 3, 2], seed=0)
    other = creg.Network([4, 3, 2], seed=1, dtype="float64")
    buffer = net.params
    net.params = other.params[::-1][::-1]  # float64, a view
    assert net.params is buffer and net.params.dtype == np.float32
    assert np.array_equal(net.weights[0], other.weights[0].astype(np.float32))
    X = np.random.default_rng(0).random((5, 4))
    assert np.array_equal(net.predict_proba(X), creg.Network(
        [4, 3, 2], seed=1).predict_proba(X))
    for bad, error, words in ((np.zeros(3), ValueError, "params must have "
                               "shape (23,)"),
                              (np.full(23, np.nan), ValueError, "NaN"),
                              (np.full(23, 1e39), ValueError, "params"),
                              ("abc", TypeError, "params")):
        with pytest.raises(error, match=re.escape(words)):
            net.params = bad
    assert np.array_equal(net.weights[0], other.weights[0].astype(np.float32))


def test_copies_and_pickles_of_the_layer_lists_are_plain_lists():
    net = creg.Network([4, 3, 2], seed=0)
    shallow = copy.copy(net.biases)
    deep = copy.deepcopy(net.weights)
    pickled = pickle.loads(pickle.dumps(net.weights))
    assert [type(x) for x in (shallow, deep, pickled)] == [list] * 3
    assert all(np.shares_memory(b, net.params) for b in shallow)
    for copies in (deep, pickled):
        assert not any(np.shares_memory(w, net.params) for w in copies)
        assert all(np.array_equal(a, b) for a, b in zip(copies, net.weights))

def test_slices_of_the_layer_lists_assign_into_the_network():
    net = creg.Network([4, 3, 2], dtype="float64", **creg.NIELSEN)
    W0, W1 = np.full((3, 4), 0.25), np.full((2, 3), -0.5)
    net.weights[0:2] = [W0, W1]
    net.biases[-1:] = [np.array([1.0, 2.0])]
    assert np.array_equal(net.params[:12], W0.ravel())
    assert np.array_equal(net.params[15:21], W1.ravel())
    assert np.array_equal(net.params[21:], [1.0, 2.0])
    before = net.params.copy()
    with pytest.raises(ValueError, match="layer 1"):  # checked before any
        net.weights[0:2] = [W0 * 2, np.zeros((3, 3))]
    with pytest.raises(ValueError, match="length"):
        net.weights[0:2] = [W0]
    for change in (lambda: net.weights.append(W0), lambda: net.weights.pop(),
                   lambda: net.biases.clear()):
        with pytest.raises(TypeError, match="length"):
            change()
    del_item = net.weights.__delitem__
    with pytest.raises(TypeError):
        del_item(0)
    assert np.array_equal(net.params, before)
    assert len(net.weights) == len(net.biases) == 2


def test_layers_assigned_from_each_other_swap_as_numpy_would():
    net = creg.Network([3, 3, 3], seed=0)
    net.biases[:] = [np.arange(3.0), np.arange(3.0, 6.0)]
    W0, W1 = net.weights[0].copy(), net.weights[1].copy()
    b0, b1 = net.biases[0].copy(), net.biases[1].copy()
    net.weights[:] = [net.weights[1], net.weights[0]]
    net.biases[::-1] = net.biases
    assert np.array_equal(net.weights[0], W1)
    assert np.array_equal(net.weights[1], W0)
    assert np.array_equal(net.biases[0], b1)
    assert np.array_equal(net.biases[1], b0)


def test_an_in_place_operator_s_bad_values_are_said_to_be_written():
    # the operator writes before the list's assignment can check
    net = creg.Network([3, 3, 3], seed=0)
    with pytest.raises(ValueError, match="contains NaN. An in-place "
                       "operator wrote them into the network already"):
        net.weights[0] += np.nan
    assert np.isnan(net.weights[0]).all()
    with pytest.raises(ValueError) as info:
        net.weights[1] = net.weights[1] + np.nan
    assert "in-place" not in str(info.value)
    assert np.isfinite(net.weights[1]).all()


# ------------------------------------------------------ penalty conversion

@pytest.mark.parametrize("value, frm, to", [(1e308, "keras", "creg_none"),
                                            (1e308, "creg_none", "creg_n")])
def test_convert_penalty_refuses_results_beyond_the_float_range(value, frm,
                                                                to):
    with pytest.raises(ValueError, match="float range"):
        creg.convert_penalty(value, frm, to, n=10)


def test_convert_penalty_refuses_an_int_beyond_the_float_range():
    with pytest.raises(ValueError, match="finite"):
        creg.convert_penalty(10**400, "creg_none", "pytorch")


# ------------------------------------------------- memory of initializing

INIT_UNDER_LIMIT = """
    import resource, sys
    import numpy as np
    import creg
    from creg import _validation
    used = _validation._read_kib("/proc/self/status", "VmSize")
    # room for the float32 parameters and some scratch, not for a float64
    # copy of a layer
    params = 4 * 48_000_000
    limit = used + params + 160 * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    net = creg.Network([6000, 8000, 2], init=sys.argv[1])
    W = net.weights[0]
    assert np.isfinite(W[::97]).all() and W[-1, -1] != 0
    print("built")
    try:
        creg.Network([6000, 16000, 2])
    except MemoryError as e:
        assert "bytes" in str(e), e
        print("refused")
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="RLIMIT_AS and /proc")
@pytest.mark.parametrize("init", ["normalized", "glorot"])
def test_initializing_needs_little_more_than_the_parameters(init):
    done = _run_python(INIT_UNDER_LIMIT, init, timeout=120,
                       env=_without_asan_quarantine())
    assert done.returncode == 0, done.stderr
    assert done.stdout == "built\nrefused\n"


NAN_UNDER_LIMIT = """
    import resource
    import numpy as np
    import creg
    from creg import _validation
    net = creg.Network([1000, 2], dtype="float32", seed=0)
    X = np.zeros((500_000, 1000), np.float32)  # 2 GB, pages untouched
    X[-1, -1] = np.nan
    used = _validation._read_kib("/proc/self/status", "VmSize")
    # no room for a 500 MB mask of X; some for ASan's allocator
    limit = used + 160 * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        net.predict(X)
    except ValueError as e:
        print(e)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="RLIMIT_AS and /proc")
def test_a_nan_in_an_x_near_the_memory_s_size_is_named():
    """Telling NaN from inf took a boolean mask of the whole X."""
    done = _run_python(NAN_UNDER_LIMIT, timeout=120,
                       env=_without_asan_quarantine())
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Input X contains NaN.\n"


WIDE_UNDER_LIMIT = """
    import resource
    import numpy as np
    import creg
    from creg import _validation
    net = creg.Network([16, 1 << 16, 2], output="softmax",
                       cost="log_likelihood", dtype="float32", seed=0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1500, 16)).astype(np.float32)
    y = rng.integers(0, 2, 1500)
    used = _validation._read_kib("/proc/self/status", "VmSize")
    # room for the network's fit, not for a 1.5 GB workspace of 1,024 rows
    limit = used + 400 * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    first = net.predict_proba(X[:8])
    assert np.allclose(net.predict_proba(X)[:8], first, rtol=1e-5)
    assert net.accuracy(X, y) == np.mean(net.predict(X) == y)
    net.fit(X[:600], y[:600], epochs=1, batch_size=10, lr=0.01,
            validation_data=(X, y))
    print("ok")
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="RLIMIT_AS and /proc")
def test_passes_over_a_wide_layer_take_the_rows_memory_holds():
    """predict, accuracy and fit's watch and validation passes asked for
    a workspace of 1,024 (or 512) rows whatever a row took."""
    done = _run_python(WIDE_UNDER_LIMIT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ok\n"


def test_many_classes_are_one_hot_without_an_identity_matrix():
    """Labels were one-hot encoded as rows of np.eye(classes): 40 GB for
    the 100,000 classes of a 1.6 MB network."""
    rng = np.random.default_rng(0)
    X = rng.random((20, 4), dtype=np.float32)
    y = rng.integers(0, 100_000, 20)
    Y = np.zeros((20, 100_000), np.float32)
    Y[np.arange(20), y] = 1
    nets = [creg.Network([4, 100_000], output="softmax",
                         cost="log_likelihood", dtype="float32", seed=0)
            for _ in range(2)]
    assert nets[0].cost(X, y) == nets[0].cost(X, Y)
    for net, targets in zip(nets, (y, Y)):
        net.fit(X, targets, epochs=1, batch_size=10, lr=0.1, n_threads=1)
    assert np.array_equal(nets[0].params, nets[1].params)


def test_initial_weights_are_those_of_drawing_whole_layers():
    # the block-wise fill draws the same numbers as one draw per array
    from creg import _initializers
    rng = np.random.default_rng(7)
    W, b = np.empty((3, _initializers._BLOCK // 2 + 5)), np.empty(3)
    _initializers.initialize_layer(rng, "normalized", W, b)
    ref = np.random.default_rng(7)
    W_ref = ref.standard_normal(W.shape) / np.sqrt(W.shape[1])
    b_ref = ref.standard_normal(3)
    assert np.array_equal(W, W_ref) and np.array_equal(b, b_ref)


def test_loaders_and_converters_draw_no_weights_they_overwrite(
        tmp_path, monkeypatch):
    net = creg.Network([5, 4, 3], hidden="tanh", dtype="float64", seed=3,
                       output="sigmoid", init="normalized")
    sigmoid = creg.Network([5, 4, 3], dtype="float64", seed=4, **creg.NIELSEN)
    path, path2 = net.save(tmp_path / "n.creg"), sigmoid.save_network2(
        tmp_path / "n2.json")

    def no_draw(*args):
        raise AssertionError("random weights drawn only to be overwritten")

    monkeypatch.setattr("creg.network.initialize_layer", no_draw)
    for loaded, source in (
            (creg.load(path), net), (creg.load_network2(path2), sigmoid),
            (creg.Network.from_keras_weights(
                net.to_keras_weights(), hidden="tanh", output="sigmoid"),
             net)):
        assert np.array_equal(loaded.params, source.params)
    with pytest.raises(AssertionError, match="overwritten"):
        creg.Network([5, 4, 3])  # the constructor does draw

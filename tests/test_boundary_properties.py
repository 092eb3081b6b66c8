"""Property-based tests of the Python -> C boundary (issue 15).

Hypothesis draws layer sizes, training / validation / predict row counts
around every chunk and tile edge (1, 15, 16, 17, 63, 64, 65, 127-129,
1023-1025), batch sizes, thread counts, dtypes and memory layouts, and each
case is compared with the float64 numpy oracle (tests/reference.py).  A
fixed example list missed the validation-set crash; these draw the shapes
no one thought of.  The suite also runs under python -O and the sanitizers
(.ci/run), where an out-of-bounds write is a report, not luck.
"""
import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import creg  # noqa: E402
from conftest import assert_close, reference, tol_for  # noqa: E402

EDGES = [1, 2, 15, 16, 17, 63, 64, 65, 127, 128, 129, 1023, 1024, 1025]

rows = st.one_of(st.sampled_from(EDGES), st.integers(1, 300))
widths = st.one_of(st.sampled_from([1, 2, 15, 16, 17, 31, 33, 127, 128, 129]),
                   st.integers(1, 40))
layouts = st.sampled_from(["C", "F", "row-step", "col-step"])
CASES = settings(max_examples=150, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])


def _laid_out(X, layout):
    """X as a view of the given layout; the gaps around it hold NaN, so a
    read outside the view would poison the result (PyTorch's trick)."""
    if layout == "F":
        return np.asfortranarray(X)
    n, d = X.shape
    if layout == "row-step":
        buffer = np.full((2 * n, d), np.nan, X.dtype)
        buffer[::2] = X
        return buffer[::2]
    if layout == "col-step":
        buffer = np.full((n, 2 * d), np.nan, X.dtype)
        buffer[:, 1::2] = X
        return buffer[:, 1::2]
    return X


def _problem(draw_sizes, n, seed, output):
    rng = np.random.default_rng(seed)
    # rows of norm ~1 keep one epoch of SGD at lr 0.01 from diverging
    X = (rng.normal(size=(n, draw_sizes[0])) / np.sqrt(draw_sizes[0])
         ).astype(np.float32)
    if output == "linear":
        y = rng.normal(size=(n, draw_sizes[-1])).astype(np.float32)
        return X, y, y.astype(np.float64)
    if draw_sizes[-1] == 1:  # one sigmoid unit: 0/1 labels are targets
        y = rng.integers(0, 2, n)
        return X, y, y[:, None].astype(np.float64)
    y = rng.integers(0, draw_sizes[-1], n)
    return X, y, reference.one_hot(y, draw_sizes[-1])


@st.composite
def networks(draw):
    hidden = draw(st.lists(widths, min_size=0, max_size=2))
    n_in = draw(widths)
    output, cost = draw(st.sampled_from([
        ("sigmoid", "cross_entropy"), ("softmax", "log_likelihood"),
        ("linear", "quadratic")]))
    n_out = draw(st.integers(2 if output == "softmax" else 1, 12))
    return dict(sizes=[n_in, *hidden, n_out], output=output, cost=cost,
                hidden=draw(st.sampled_from(["sigmoid", "tanh", "relu"])),
                dtype=draw(st.sampled_from(["float32", "float64"])))


@CASES
@given(spec=networks(), n=rows, n_val=rows, batch=st.integers(1, 40),
       threads=st.integers(1, 3), layout=layouts, seed=st.integers(0, 99))
def test_one_epoch_with_validation_matches_the_reference(
        spec, n, n_val, batch, threads, layout, seed):
    sizes, output = spec["sizes"], spec["output"]
    X, y, Y = _problem(sizes, n, seed, output)
    Xv, yv, Yv = _problem(sizes, n_val, seed + 1, output)
    net = creg.Network(sizes, hidden=spec["hidden"], output=output,
                       cost=spec["cost"], dtype=spec["dtype"], seed=seed,
                       init="normalized")
    W0 = [np.array(W, np.float64) for W in net.weights]
    b0 = [np.array(b, np.float64) for b in net.biases]
    batch = min(batch, n)
    history = net.fit(_laid_out(X, layout), y, epochs=1, batch_size=batch,
                      lr=0.01, l2=0.1, shuffle=False, n_threads=threads,
                      validation_data=(_laid_out(Xv, layout), yv))
    tol = tol_for(spec["dtype"])
    Ws, bs = reference.train(W0, b0, X, Y, hidden=spec["hidden"],
                             output=output, cost=spec["cost"], epochs=1,
                             batch_size=batch, lr=0.01, l2=0.1)
    for l in range(len(Ws)):
        assert_close(net.weights[l], Ws[l], 50 * tol, f"weights[{l}]")
        assert_close(net.biases[l], bs[l], 50 * tol, f"biases[{l}]")
    # the validation pass is the network's own evaluation of Xv
    Wt = [np.asarray(W, np.float64) for W in net.weights]
    bt = [np.asarray(b, np.float64) for b in net.biases]
    expected = reference.cost(Wt, bt, Xv, Yv, hidden=spec["hidden"],
                              output=output, cost=spec["cost"], l2=0.1 * n_val / n)
    assert history.eval_cost[-1] == pytest.approx(expected, rel=1e-3 if
                                                  spec["dtype"] == "float32"
                                                  else 1e-8, abs=1e-9)


@CASES
@given(spec=networks(), n=rows, threads=st.integers(1, 3), layout=layouts,
       seed=st.integers(0, 99))
def test_predict_matches_the_reference_and_every_thread_count(
        spec, n, threads, layout, seed):
    sizes, output = spec["sizes"], spec["output"]
    X, _, _ = _problem(sizes, n, seed, output)
    net = creg.Network(sizes, hidden=spec["hidden"], output=output,
                       cost=spec["cost"], dtype=spec["dtype"], seed=seed,
                       init="normalized")
    got = net.predict_proba(_laid_out(X, layout), n_threads=threads)
    Ws = [np.asarray(W, np.float64) for W in net.weights]
    bs = [np.asarray(b, np.float64) for b in net.biases]
    _, As = reference.forward(Ws, bs, X, spec["hidden"], output)
    assert_close(got, As[-1], tol_for(spec["dtype"]), "outputs")
    assert np.array_equal(got, net.predict_proba(X, n_threads=1))


@CASES
@given(spec=networks(), n=rows, threads=st.integers(1, 3),
       seed=st.integers(0, 99))
def test_gradient_matches_the_reference(spec, n, threads, seed):
    sizes, output = spec["sizes"], spec["output"]
    X, y, Y = _problem(sizes, n, seed, output)
    net = creg.Network(sizes, hidden=spec["hidden"], output=output,
                       cost=spec["cost"], dtype=spec["dtype"], seed=seed,
                       init="normalized")
    dW, db = net.gradient(X, y)
    Ws = [np.asarray(W, np.float64) for W in net.weights]
    bs = [np.asarray(b, np.float64) for b in net.biases]
    dW_ref, db_ref = reference.backprop(Ws, bs, X, Y, hidden=spec["hidden"],
                                        output=output, cost=spec["cost"])
    tol = 50 * tol_for(spec["dtype"])
    # A layer's gradient far below the others' is a difference of rounded
    # values (a saturated tanh's 1 - a^2 in float32), so its error is
    # measured against a thousandth of the largest gradient at least.
    largest = max(max(np.abs(g).max() for g in dW_ref),
                  max(np.abs(g).max() for g in db_ref))
    for l in range(len(dW)):
        scale = max(np.abs(dW_ref[l]).max(), np.abs(db_ref[l]).max(),
                    1e-3 * largest, 1e-12)
        assert np.abs(dW[l] - dW_ref[l]).max() <= tol * scale
        assert np.abs(db[l] - db_ref[l]).max() <= tol * scale


# ------------------------------------------------ arbitrary arrays as X, y

from hypothesis.extra import numpy as hnp  # noqa: E402

ARRAY_DTYPES = st.sampled_from(
    ["float16", "float32", "float64", "longdouble", "int8", "int64",
     "uint8", "bool", "complex64", ">f8", "<f4"])
any_arrays = hnp.arrays(
    ARRAY_DTYPES, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0,
                                   max_side=6),
    elements=None)
HOSTILE = settings(max_examples=4000, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow])
NET = creg.Network([6, 5, 3], output="softmax", cost="log_likelihood",
                   hidden="sigmoid", init="normalized")


@HOSTILE
@given(X=any_arrays)
def test_any_array_is_predicted_or_refused_cleanly(X):
    """NaN, inf, huge, subnormal, complex, 0-d, empty, 3-D: predict returns
    finite probabilities or raises ValueError/TypeError; it never crashes,
    returns garbage, or touches X or the network."""
    before, X_bytes = NET.params.copy(), X.tobytes()
    try:
        P = NET.predict_proba(X)
    except (ValueError, TypeError):
        pass
    else:
        assert P.shape == (X.shape[0], 3) and np.isfinite(P).all()
    assert X.tobytes() == X_bytes
    assert np.array_equal(NET.params, before)


@settings(max_examples=1500, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(X=hnp.arrays("float64", st.tuples(st.integers(1, 5), st.just(6)),
                    elements=st.floats(allow_nan=True, allow_infinity=True,
                                       width=64)),
       y=hnp.arrays(st.sampled_from(["int64", "float64", "int8", "bool"]),
                    hnp.array_shapes(min_dims=1, max_dims=2, max_side=6)))
def test_any_fit_input_trains_finitely_or_is_refused_cleanly(X, y):
    net = creg.Network([6, 5, 3], output="softmax", cost="log_likelihood",
                       hidden="sigmoid", init="normalized")
    before = net.params.copy()
    try:
        net.fit(X, y, epochs=1, batch_size=1, lr=0.1)
    except creg.DivergenceError:
        pass  # the weights of the last finite epoch: checked below
    except (ValueError, TypeError):
        assert np.array_equal(net.params, before)  # refused before any work
    assert np.isfinite(net.params).all()


QUERY_NETS = [creg.Network([6, 5, 3], output=output, cost=cost, dtype=dtype,
                           hidden="relu", seed=2)
              for output, cost in [("softmax", "log_likelihood"),
                                   ("sigmoid", "cross_entropy"),
                                   ("linear", "quadratic")]
              for dtype in ("float32", "float64")]


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(X=hnp.arrays("float64", st.tuples(st.integers(1, 5), st.just(6)),
                    elements=st.floats(-3e38, 3e38, width=64)),
       labels=st.lists(st.integers(0, 2), min_size=5, max_size=5))
def test_queries_on_any_finite_rows_answer_or_refuse_cleanly(X, labels):
    """cost, gradient and accuracy of finite rows, however large: an
    answer (inf or NaN where the sums overflow: accuracy NaN exactly where
    predict_proba finds the outputs overflow), or ValueError for a value
    the network's dtype cannot hold; never training's FloatingPointError,
    and never a change to the network."""
    y = np.array(labels[:X.shape[0]])
    for net in QUERY_NETS:
        before = net.params.copy()
        Y = np.eye(3)[y] if net.output == "linear" else y
        try:
            cost = net.cost(X, Y)
            dW, db = net.gradient(X, Y)
            assert [g.shape for g in dW] == [w.shape for w in net.weights]
            if net.output != "linear":
                accuracy = net.accuracy(X, y)
                try:
                    net.predict_proba(X)
                    assert 0 <= accuracy <= 1
                except ValueError as exc:
                    assert "outputs overflow" in str(exc)
                    assert np.isnan(accuracy) and not np.isfinite(cost)
        except ValueError as exc:  # float32 cannot hold some float64 rows
            assert "too large" in str(exc)
        assert np.array_equal(net.params, before)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 1100), at=st.floats(0, 1, exclude_max=True),
       column=st.integers(0, 5),
       bad=st.sampled_from([np.nan, np.inf, -np.inf]),
       scale=st.sampled_from([1.0, 1e30, 3e38]))
def test_queries_refuse_a_non_finite_value_anywhere(n, at, column, bad,
                                                    scale):
    """predict_proba, cost and accuracy find NaN or inf in any row of any
    1,024-row chunk from their first layer's sums instead of scanning X
    first; finite rows, however large (their sums may overflow), get an
    answer, or from predict_proba a ValueError that says so (never rows of
    NaN)."""
    rng = np.random.default_rng(n)
    X = rng.uniform(-scale, scale, (n, 6))
    y = rng.integers(0, 3, n)
    poisoned = X.copy()
    poisoned[int(at * n), column] = bad
    for net in QUERY_NETS:
        Y = np.eye(3)[y] if net.output == "linear" else y
        queries = [net.predict_proba, lambda X: net.cost(X, Y)]
        if net.output != "linear":
            queries.append(lambda X: net.accuracy(X, y))
        for query in queries:
            try:
                out = query(X)
            except ValueError as exc:  # float32 cannot hold 3e38 * 1.x,
                # or the sums of such rows overflow
                assert "too large" in str(exc) and scale == 3e38
            else:
                if query is net.predict_proba:
                    assert np.isfinite(out).all()
            with pytest.raises(ValueError, match="X contains"):
                query(poisoned)

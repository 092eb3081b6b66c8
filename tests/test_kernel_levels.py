"""Training at every kernel level equals the float64 oracle.

At level 0 a step stores dW and runs update.c's row loop; at the vector
levels it runs step_kernel.c, which sums each gradient tile in registers and
applies the step to it. The layers here are wide enough for whole tiles and
a ragged edge at every vector width (37 inputs = 2 x 16 + 5 at AVX2, 4 x 8 +
5 at the baseline width; 21 neurons = 3 panels of 6 + 3); batches of 40
take the packed-batch path, 1 and 7 the direct one, and one batch is larger
than the fused kernels take, so each level also runs its fallback.
"""
import numpy as np
import pytest

import creg
import reference
from conftest import assert_close, assert_params_close, make_problem, params64
from creg import _core
from creg._descriptors import Noise, StepRule

SIZES = [37, 21, 3]
N = 40
EPOCHS = 2
MAX_NORM = 0.3
# batch size -> learning rate; 600 > CREG_STEP_MAX_BATCH (512); from level 2
# batches of 2-15 rows take the first layer in columns (step_columns.c:
# at level 4 7 has the batch a constant, 13 read from memory), 1 the row
# kernels
RATES = {1: 0.02, 7: 0.1, 13: 0.2, N: 0.5, 600: 0.5}

RULES = {
    "l2": dict(l2=0.5, penalty_scale="none"),
    "l1_prox": dict(l1=0.05, penalty_scale="none", l1_method="prox"),
    "l1_subgradient": dict(l1=0.02, penalty_scale="none",
                           l1_method="subgradient"),
    "elastic_max_norm": dict(l1=0.02, l2=0.3, penalty_scale="none",
                             max_norm=MAX_NORM),
}


def run_reference(W0, b0, X, Y, rule_kw, common):
    return reference.train(W0, b0, X, Y, hidden="tanh", output="sigmoid",
                           cost="cross_entropy", **common, **rule_kw)


def train_both(rule, momentum, batch_size, dtype, n=N, n_threads=1):
    """creg's run at the active level and the oracle's; also returns the
    oracle's run without max-norm."""
    net = creg.Network(SIZES, hidden="tanh", dtype=dtype.name, seed=4,
                       output="sigmoid", init="normalized")
    W0, b0 = params64(net)
    X, y, Y = make_problem(SIZES, n, "sigmoid", seed=5, dtype=dtype)
    common = dict(epochs=EPOCHS, batch_size=batch_size,
                  lr=RATES[batch_size], momentum=momentum)
    net.fit(X, y, shuffle=False, n_threads=n_threads, **common, **RULES[rule])
    Ws, bs = run_reference(W0, b0, X, Y, RULES[rule], common)
    Ws_free, _ = run_reference(W0, b0, X, Y,
                               dict(RULES[rule], max_norm=None), common)
    return net, Ws, bs, Ws_free


@pytest.mark.parametrize("batch_size", [1, 7, 13, N])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("rule", sorted(RULES))
def test_every_level_matches_reference(level, rule, momentum, batch_size,
                                       dtype, tol):
    net, Ws, bs, Ws_free = train_both(rule, momentum, batch_size, dtype)
    assert_params_close(net, Ws, bs, tol)
    if rule == "l1_prox":
        assert sum(np.count_nonzero(W == 0.0) for W in net.weights) > 0
    if rule == "elastic_max_norm":
        # the clamp fired: without it the oracle ends elsewhere
        assert np.abs(Ws_free[0] - Ws[0]).max() > 1e-3


@pytest.mark.parametrize("width", [1, 4, 5, 8, 9, 17])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_small_batches_match_reference_at_any_first_layer_width(
        level, width, momentum, dtype, tol):
    # a first layer of half a panel or less keeps the row kernels at
    # batches of 2-15 (columns.c), one of more trains in columns
    sizes = [37, width, 3]
    net = creg.Network(sizes, hidden="tanh", dtype=dtype.name, seed=4,
                       output="sigmoid", init="normalized")
    W0, b0 = params64(net)
    X, y, Y = make_problem(sizes, N, "sigmoid", seed=5, dtype=dtype)
    common = dict(epochs=EPOCHS, batch_size=7, lr=0.1, momentum=momentum)
    net.fit(X, y, shuffle=False, **common, **RULES["l2"])
    Ws, bs = run_reference(W0, b0, X, Y, RULES["l2"], common)
    assert_params_close(net, Ws, bs, tol)


def test_train_scratch_holds_only_what_the_first_layer_uses(level, dtype):
    """The scratch past the parameters: none for a first layer too narrow
    for columns, and room for V0^T only under momentum."""
    def extra(sizes, momentum):
        spec = creg.Network(sizes, dtype=dtype.name, output="sigmoid")._spec
        rule = StepRule(lr=0.1, momentum=momentum)
        return (_core.train_scratch_size(spec, 10, rule, dtype)
                - _core.param_count(spec))
    align = 16  # the parameters' place is rounded up to 16 elements
    assert extra([784, 1], 0.9) < align
    assert extra([784, 4, 2], 0.9) < align
    with_velocity, without = extra(SIZES, 0.9), extra(SIZES, 0.0)
    assert without <= with_velocity / 2 + align
    assert (with_velocity > without) == (level >= 2)


def test_batch_above_the_fused_kernels_matches_reference(level, dtype, tol):
    net, Ws, bs, _ = train_both("elastic_max_norm", 0.9, 600, dtype, n=600)
    assert_params_close(net, Ws, bs, tol)


@pytest.mark.parametrize("sizes, batch_size, rule", [
    ([300, 200, 3], 48, "elastic_max_norm"),  # packed batch
    ([700, 300, 3], 10, "l1_prox"),           # look-ahead, copy, prefetch
    ([700, 300, 3], 10, "elastic_max_norm"),  # look-ahead after the clamp
    ([700, 300, 3], 13, "l1_subgradient"),    # level 4: the batch from memory
])
def test_every_level_is_bitwise_same_for_any_thread_count(level, sizes,
                                                          batch_size, rule):
    # layer 0's multiply-adds (inputs x neurons x batch) are many threads'
    # shares (CREG_SHARE_MIN, 250K each), so the panels really are split
    # over threads; the batch of 10 also runs the next batch's forward,
    # copies its shuffled rows and prefetches the batch after, per panel
    X, y, _ = make_problem(sizes, 96, "sigmoid", seed=6,
                           dtype=np.float32)
    results = []
    for n_threads in (1, 2, 3):
        net = creg.Network(sizes, hidden="relu", seed=7,
                           output="sigmoid", init="normalized")
        net.fit(X, y, epochs=2, batch_size=batch_size, lr=0.1, momentum=0.9,
                n_threads=n_threads, **RULES[rule])
        results.append(net.weights + net.biases)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert np.array_equal(a, b)


def at_offset(X, offset):
    """A copy of X whose data start `offset` elements past a 64-byte
    boundary (numpy's large arrays start 16 bytes past one)."""
    buf = np.empty(X.size + 64, X.dtype)
    first = (-buf.ctypes.data % 64) // X.itemsize + offset
    out = buf[first:first + X.size].reshape(X.shape)
    out[...] = X
    assert out.ctypes.data % 64 == offset * X.itemsize
    return out


@pytest.mark.parametrize("batch_size", [1, 10])
@pytest.mark.parametrize("n_threads", [1, 3])
def test_training_does_not_depend_on_where_the_rows_lie(level, dtype,
                                                       batch_size, n_threads):
    # The look-ahead reads a shuffled row where it lies in the first panel
    # that copies it and from its aligned copy in the later ones; every
    # path must sum the same values in the same order wherever X starts.
    sizes = [100, 40, 3]
    X, y, _ = make_problem(sizes, 60, "sigmoid", seed=15, dtype=dtype)
    results = []
    for offset in (0, 1, 4, 7):
        net = creg.Network(sizes, hidden="sigmoid", dtype=dtype.name,
                           seed=16, output="sigmoid", init="normalized")
        start = net.params.copy()
        net.fit(at_offset(X, offset), y, epochs=2, batch_size=batch_size,
                lr=0.3, n_threads=n_threads, l1=0.01, l1_method="prox")
        results.append(net.params.copy())
    assert not np.array_equal(results[0], start)
    for other in results[1:]:
        assert np.array_equal(results[0], other)


@pytest.mark.parametrize("sizes", [[100, 130, 37, 3], [200, 20]])
def test_every_level_evaluates_large_batches_like_the_reference(level, sizes,
                                                                dtype, tol):
    # Evaluation runs up to 1,024 rows per forward: layers of at most 128
    # neurons through forward_rows in 64-row blocks split over threads,
    # wider ones through the packed GEMM.  1,037 rows end in a ragged block
    # and a 13-row chunk; all but [100, 130, 37, 3]'s last layer are worth
    # a team (more than two threads' shares of multiply-adds).
    net = creg.Network(sizes, hidden="tanh", output="softmax",
                       cost="log_likelihood", dtype=dtype.name, seed=13,
                       init="normalized")
    X, _, _ = make_problem(sizes, 1037, "softmax", seed=14, dtype=dtype)
    Ws, bs = params64(net)
    _, As = reference.forward(Ws, bs, X, "tanh", "softmax")
    outputs = [net.predict_proba(X, n_threads=t) for t in (1, 2, 3)]
    assert_close(outputs[0], As[-1], tol, "outputs")
    for other in outputs[1:]:
        assert np.array_equal(outputs[0], other)


def run_chunks(level, chunk_sizes, rule, batch_size, input_noise, shuffled,
               nan_row=None):
    """One epoch through train_batches, cut into calls of the given numbers
    of batches (fit cuts by elapsed time).  The last batch is 3 rows short,
    so the look-ahead also runs into a shorter batch.  With nan_row, that
    row of X is NaN, and the calls stop at the one its step refuses.
    Returns the parameters and the velocity."""
    sizes = [37, 21, 3]
    net = creg.Network(sizes, hidden="tanh", dtype="float32", seed=8,
                       output="sigmoid", init="normalized")
    n = sum(chunk_sizes) * batch_size - (3 if batch_size > 3 else 0)
    X, y, Y = make_problem(sizes, n, "sigmoid", seed=9, dtype=np.float32)
    Y = Y.astype(np.float32)
    if nan_row is not None:
        X[nan_row] = np.nan
    order = None
    if shuffled:
        order = np.empty(len(X), np.int64)
        _core.shuffle(order, 1, 0)
    ws = net._workspace(batch_size)
    grads = net._train_scratch(batch_size, rule)
    velocity = np.zeros_like(net.params)
    noise = Noise(input_noise=input_noise, seed=5, epoch=0)
    first = 0
    for count in chunk_sizes:
        try:
            _core.train_batches(net.params, velocity, grads, ws, X, Y, order,
                                batch_size=batch_size, first_batch=first,
                                n_batches=count, net=net._spec, rule=rule,
                                noise=noise, n_threads=1)
        except FloatingPointError:
            assert nan_row is not None
            break
        first += count
    return net.params.copy(), velocity


@pytest.mark.parametrize("input_noise, shuffled",
                         [(0.0, True), (0.3, True), (0.0, False)])
@pytest.mark.parametrize("batch_size", [1, 10, 13])
@pytest.mark.parametrize("max_norm", [0.0, 0.5])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("l1_prox", [True, False], ids=["prox", "subgrad"])
def test_look_ahead_gives_the_same_bits_for_any_chunking(
        level, l1_prox, momentum, max_norm, batch_size, input_noise,
        shuffled):
    # At the vector levels each small-batch step also runs the next batch's
    # first-layer forward (after the clamp, with max-norm), reading shuffled
    # rows where they lie and copying them for the next step (or reading the
    # noised copy); a chunk's first step gathers and runs it itself.  Both
    # must sum alike, or results would depend on fit's timing.  At batch 1
    # without max-norm, at the 64-byte level, every other step also holds
    # its stores for the next step's pass to apply (net.c), but not in a
    # call's last two steps, so calls of one or two steps never hold and
    # longer ones do.
    rule = StepRule(lr=0.05, momentum=momentum, l2=1e-3, l1=1e-3,
                    l1_prox=l1_prox, max_norm=max_norm)
    args = (rule, batch_size, input_noise, shuffled)
    whole = run_chunks(level, [30], *args)
    for cuts in ([1] * 30, [7, 1, 13, 9], [2, 28]):
        for got, want in zip(run_chunks(level, cuts, *args), whole):
            assert np.array_equal(got, want)


@pytest.mark.parametrize("nan_row", [5, 6])
@pytest.mark.parametrize("rule", [
    StepRule(lr=0.05, l2=1e-3),
    StepRule(lr=0.05, momentum=0.9, l2=1e-3, l1=1e-3, l1_prox=True),
    StepRule(lr=0.05, l1=1e-3, l1_prox=False)],
    ids=["plain", "momentum_prox", "subgradient"])
def test_a_refused_online_step_keeps_the_step_held_before_it(
        level, rule, nan_row):
    # Online SGD at the 64-byte level holds the stores of steps 0, 2, 4,
    # ... for the pass of the step after each to apply (at the other levels
    # no step is held and the two runs agree as well); a NaN row refuses
    # its step (6: after a
    # stored step; 5: after a held one, which must then be stored on its
    # own), leaving the weights of every step before it, as calls of one
    # step each, which never hold, leave them.
    whole = run_chunks(level, [30], rule, 1, 0.0, False, nan_row=nan_row)
    steps = run_chunks(level, [1] * 30, rule, 1, 0.0, False,
                       nan_row=nan_row)
    for got, want in zip(steps, whole):
        assert np.array_equal(got, want)
    start = creg.Network([37, 21, 3], hidden="tanh", dtype="float32",
                         seed=8, output="sigmoid", init="normalized").params
    assert np.all(np.isfinite(whole[0]))
    assert not np.array_equal(whole[0], start)


AVX512VL = 3


@pytest.mark.skipif(_core.best_kernel_level() < AVX512VL,
                    reason="the CPU has no AVX-512VL")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_size", [1, 7, 9, 10, 40])
@pytest.mark.parametrize("rule", ["l2", "elastic_max_norm", "l1_prox"])
def test_avx512vl_level_gives_the_avx2_bits(rule, batch_size, dtype):
    # Level 3 builds the step kernels with 32 vector registers, for wider
    # forward tiles (6 neurons instead of 3: 21 as 6 + 6 + 6 + 3 instead of
    # seven 3s, 3 as one partial tile), over the same vectors in the same
    # order: the same bits as level 2.  Batches 7, 9 and 10 exercise every
    # group of rows (4 + 3, 3 + 3 + 3, 4 + 3 + 3).
    sizes = [300, 21, 3]
    X, y, _ = make_problem(sizes, 120, "sigmoid", seed=11, dtype=dtype)
    results = []
    before = _core.kernel_level()
    try:
        for level in (2, AVX512VL):
            assert _core.set_kernel_level(level) == level
            net = creg.Network(sizes, hidden="sigmoid", dtype=dtype.__name__,
                               seed=12, output="sigmoid", init="normalized")
            net.fit(X, y, epochs=2, batch_size=batch_size, lr=0.2,
                    momentum=0.5 if rule == "l1_prox" else 0.0, n_threads=1,
                    **RULES[rule])
            results.append(net.params.copy())
    finally:
        _core.set_kernel_level(before)
    assert np.array_equal(results[0], results[1])
    # and the run really trained (a wrong level would not show otherwise)
    start = creg.Network(sizes, hidden="sigmoid", dtype=dtype.__name__,
                         seed=12, output="sigmoid", init="normalized").params
    assert not np.array_equal(results[0], start)

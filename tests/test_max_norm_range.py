"""The max-norm clamp holds over the whole finite range of each dtype.

Layer 0 of the network gets rows from the subnormals to near the largest
finite value and the input is all zeros, so its data gradient is zero and,
with no decay, a step only clamps: the rows above c must end on the sphere of
radius c, the others untouched. The oracle is the clamp in float64 on rows
scaled by their largest element (so neither their norms nor the factors
overflow or underflow), which a correctly summed norm at every kernel level
must match. A float32 square overflows from |w| ~ 1.8e19 and underflows
below ~1e-19; a float64 one beyond ~1e154 and below ~1e-154. The batch
sizes take each path of the step: the batch-1 look-ahead after the clamp,
a direct batch, a packed one, and one larger than the fused kernels take.
"""
import math
import warnings

import numpy as np
import pytest

import creg

SIZES = [37, 21, 3]  # 37 inputs: whole tiles and a ragged edge; 21 = 6+6+6+3

# dtype -> cases of (c, row scales): every scale is the largest |w| of one
# row; scales 0 and the subnormal rows are below every c here.
TINY = {np.float32: 1e-40, np.float64: 1e-310}  # subnormal
CASES = {
    np.float32: [
        (3.0, [2e19, 3e38, 5e19, 30.0, 4.0, 2.0, 0.0, TINY[np.float32]]),
        (1e-30, [2e19, 1e-29, 3e-30, 1.2e-30, 1e-31, 0.0,
                 TINY[np.float32]]),
        (1e30, [3e38, 1e36, 2e19, 1e29, 1.0, 0.0, TINY[np.float32]]),
    ],
    np.float64: [
        (3.0, [1e200, 1.7e308, 1e160, 30.0, 4.0, 2.0, 0.0,
               TINY[np.float64]]),
        (1e-30, [1e200, 1e-29, 3e-30, 1.2e-30, 1e-31, 0.0,
                 TINY[np.float64]]),
        (1e-170, [1.0, 1e-165, 3e-170, 1e-171, 0.0, TINY[np.float64]]),
        (1e300, [1.7e308, 1e302, 1e299, 1.0, 0.0, TINY[np.float64]]),
    ],
}
CASE_IDS = {np.float32: ["3", "1e-30", "1e30"],
            np.float64: ["3", "1e-30", "1e-170", "1e300"]}
# relative: the float32 result rounds each element once; the float64 one
# a few times, and sums 37 squares
SLACK = {np.float32: 1e-6, np.float64: 1e-13}


def rows_of(scales, dtype, I, O, seed):
    """O x I weights: row j has largest |w| scales[j % len(scales)] and
    elements of both signs between a tenth of that and it."""
    rng = np.random.default_rng(seed)
    W = np.empty((O, I), np.float64)
    for j in range(O):
        s = scales[j % len(scales)]
        pattern = rng.uniform(0.1, 1.0, I) * rng.choice([-1.0, 1.0], I)
        pattern[rng.integers(I)] = 1.0
        W[j] = s * pattern
    W = W.astype(dtype)
    assert np.isfinite(W).all()
    return W


def scaled_row_norm(w):
    """(norm / s, s) for a row, s its largest |w|, as Python floats (whose
    arithmetic goes to inf or 0 without numpy's warnings)."""
    w = np.asarray(w, np.float64)
    s = float(np.abs(w).max())
    if s == 0:
        return 0.0, 0.0
    return math.hypot(*(w / s)), s


def norm_over(w, c):
    """||w|| / c, without overflow where it is near 1."""
    m, s = scaled_row_norm(w)
    return m * (s / c) if s < c else (m / c) * s


def oracle_clamp(W, c):
    """DESIGN.md step 5 in float64, overflow- and underflow-free."""
    out = np.array(W, np.float64)
    for j, w in enumerate(out):
        if norm_over(w, c) > 1:
            m, s = scaled_row_norm(w)
            out[j] = (w / s / m) * c
    return out


def step_once(W0, c, batch_size, dtype, momentum):
    net = creg.Network(SIZES, hidden="tanh", dtype=np.dtype(dtype).name,
                       seed=3, output="sigmoid", init="normalized")
    net.weights[0][...] = W0
    n = 3 if batch_size == 1 else batch_size
    X = np.zeros((n, SIZES[0]), dtype)
    y = np.arange(n) % SIZES[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net.fit(X, y, epochs=1, batch_size=batch_size, lr=0.1, l2=0.0,
                momentum=momentum, max_norm=c, shuffle=False, n_threads=1)
    return np.asarray(net.weights[0])


def all_cases():
    for dtype, cases in CASES.items():
        for (c, scales), name in zip(cases, CASE_IDS[dtype]):
            yield pytest.param(dtype, c, scales,
                               id=f"{np.dtype(dtype).name}-c{name}")


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("batch_size", [1, 7, 40, 600])
@pytest.mark.parametrize("dtype, c, scales", list(all_cases()))
def test_clamp_holds_over_the_whole_range(level, dtype, c, scales,
                                          batch_size, momentum):
    O, I = SIZES[1], SIZES[0]
    W0 = rows_of(scales, dtype, I, O, seed=len(scales))
    got = step_once(W0, c, batch_size, dtype, momentum)
    expected = oracle_clamp(W0, c)
    slack = SLACK[dtype]
    clamped = 0
    for j in range(O):
        ratio = norm_over(W0[j], c)
        if ratio > 1:
            clamped += 1
            # on the sphere, never outside it, and the oracle's row
            assert 1 - slack <= norm_over(got[j], c) <= 1 + slack, j
            err = np.abs(got[j] - expected[j]).max() / np.abs(expected[j]).max()
            assert err <= slack, (j, err)
        else:
            # zero, subnormal and other rows inside: untouched
            assert np.array_equal(got[j], W0[j]), j
    assert 0 < clamped < O


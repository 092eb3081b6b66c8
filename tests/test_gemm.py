"""The strided GEMM every dense layer uses, at every kernel level, against
numpy (float64 oracle): tile edges, K tails, strides, beta, threads."""
import os
import subprocess
import sys

import numpy as np
import pytest

from creg import _core

# Edges of the tiles (dot 4 x 3, axpy 4 x 2 vectors of 2..8 lanes) and tails.
M_SIZES = [1, 3, 4, 5, 9, 65]
N_SIZES = [1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 33]
K_SIZES = [1, 3, 4, 7, 8, 9, 17, 300]
# Shapes for the packed path (level 2, M, N >= 16, K >= 8): MR x NR tile
# edges, more rows than one packed A block (MC: 1,080 float32 rows at
# level 4, 540 float64; on each of two threads), more columns than one B
# block (a quarter of the L2: 512 float32 columns with a 2 MiB L2, at
# most 1,024), K cut into several slices (KC = 256).
PACKED_SHAPES = [(16, 16, 8), (32, 33, 9), (37, 45, 257),
                 (1029, 70, 515), (2189, 40, 20), (133, 1029, 64),
                 (40, 2100, 40)]


def check_against_numpy(A, B, C, beta, n_threads):
    """C := 1.5 A.B + beta C by creg, within the float error bound of the
    float64 product; C is NaN first when beta == 0 (it must not be read)."""
    dtype = C.dtype.type
    K = A.shape[1]
    expected = 1.5 * A.astype(np.float64) @ B.astype(np.float64)
    if beta == 0:
        C[...] = np.nan
    else:
        expected += beta * C.astype(np.float64)
    _core.gemm(C, A, B, dtype(1.5), dtype(beta), n_threads)
    bound = 1.5 * np.abs(A).astype(np.float64) @ np.abs(B) \
        + abs(beta) * np.abs(expected)
    err = np.abs(C - expected)
    eps = np.finfo(dtype).eps
    assert np.all(err <= 4 * np.sqrt(K) * eps * (bound + 1e-30)), C.shape


def _operands(rng, dtype, M, N, K, layout):
    A = rng.standard_normal((M, K) if layout[0] == "n" else (K, M))
    B = rng.standard_normal((K, N) if layout[1] == "n" else (N, K))
    A = (A if layout[0] == "n" else A.T).astype(dtype)
    B = (B if layout[1] == "n" else B.T).astype(dtype)
    if layout.endswith("ct"):
        C = np.empty((N, M), dtype).T
    else:
        C = np.empty((M, N), dtype)
    C[...] = rng.standard_normal((M, N))
    return A, B, C


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["nt", "tn", "nn", "tt", "nn_ct"])
@pytest.mark.parametrize("beta", [0.0, 1.0, 0.5])
def test_gemm_matches_numpy_over_tile_edges(level, dtype, layout, beta):
    rng = np.random.default_rng(42)
    for M in M_SIZES:
        for N in N_SIZES:
            for K in K_SIZES:
                A, B, C = _operands(rng, dtype, M, N, K, layout)
                check_against_numpy(A, B, C, beta, 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["nt", "tn", "nn", "tt", "nn_ct"])
@pytest.mark.parametrize("beta", [0.0, 1.0, 0.5])
def test_gemm_matches_numpy_on_large_shapes(level, dtype, layout, beta):
    rng = np.random.default_rng(5)
    for M, N, K in PACKED_SHAPES:
        A, B, C = _operands(rng, dtype, M, N, K, layout)
        check_against_numpy(A, B, C, beta, 2)


@pytest.mark.parametrize("n_threads", [1, 2, 4])
@pytest.mark.parametrize("layout", ["nt", "tn", "nn"])
def test_gemm_exact_on_small_integers(level, n_threads, layout):
    # Products and sums of small integers are exact in float32.
    rng = np.random.default_rng(1)
    A = rng.integers(-4, 5, (130, 300)).astype(np.float32)
    B = rng.integers(-4, 5, (300, 70)).astype(np.float32)
    if layout[0] == "t":
        A = np.ascontiguousarray(A.T).T
    if layout[1] == "t":
        B = np.ascontiguousarray(B.T).T
    C = np.empty((130, 70), np.float32)
    _core.gemm(C, A, B, np.float32(1), np.float32(0), n_threads)
    assert np.array_equal(C, A.astype(np.int64) @ B.astype(np.int64))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["nt", "tn", "nn"])
# Split rows: each thread packs B itself; the second shape has two slices
# of K and two or more column blocks.
# Split columns: A packed once for the team (CREG_SHARED_A_BYTES), each
# thread an equal run of tiles that may start and end inside a panel; the
# wide-A shape's A fits packed in float32 and not in float64, which falls
# back to each thread packing all of A; 784 columns (25 panels of 32) on
# 16 threads give most threads a part of a panel at each end.
@pytest.mark.parametrize("shape", [(301, 157, 203), (790, 1040, 300),
                                   (70, 1029, 515), (140, 1100, 1200),
                                   (128, 784, 1024)],
                         ids=["split-rows", "split-rows-blocks",
                              "split-columns", "split-columns-wide-A",
                              "split-columns-16-threads"])
def test_gemm_bitwise_same_for_any_thread_count(level, dtype, layout, shape):
    M, N, K = shape
    rng = np.random.default_rng(7)
    A, B, _ = _operands(rng, dtype, M, N, K, layout)
    results = []
    for n_threads in (1, 2, 3, 16):
        C = np.empty((M, N), dtype)
        _core.gemm(C, A, B, dtype(1), dtype(0), n_threads)
        results.append(C)
    assert all(np.array_equal(results[0], r) for r in results[1:])


def test_disable_simd_env_selects_the_reference_loops():
    code = "import creg; from creg import _core; print(_core.kernel_level())"
    env = dict(os.environ, CREG_DISABLE_SIMD="1")
    env.pop("CREG_KERNEL_LEVEL", None)  # the suite may run under one
    out = subprocess.run([sys.executable, "-c", code], env=env, text=True,
                         capture_output=True, check=True).stdout
    assert out.strip() == "0"
    env.pop("CREG_DISABLE_SIMD")
    out = subprocess.run([sys.executable, "-c", code], env=env, text=True,
                         capture_output=True, check=True).stdout
    assert out.strip() == str(_core.best_kernel_level())


def test_training_agrees_across_kernel_levels(level):
    import creg
    rng = np.random.default_rng(3)
    X, y = rng.random((64, 37)), rng.integers(0, 5, 64)
    net = creg.Network([37, 19, 13, 5], hidden="tanh", output="softmax",
                       cost="log_likelihood", dtype="float64", seed=2,
                       init="normalized")
    start = net.params.copy()
    net.fit(X, y, epochs=2, batch_size=7, lr=0.3, l2=1.0, momentum=0.5,
            shuffle=False)
    _core.set_kernel_level(0)
    ref = creg.Network([37, 19, 13, 5], hidden="tanh", output="softmax",
                       cost="log_likelihood", dtype="float64", seed=2,
                       init="normalized")
    assert np.array_equal(ref.params, start)
    ref.fit(X, y, epochs=2, batch_size=7, lr=0.3, l2=1.0, momentum=0.5,
            shuffle=False)
    np.testing.assert_allclose(net.params, ref.params, rtol=0, atol=1e-12)

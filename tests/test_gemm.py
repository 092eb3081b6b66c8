"""The strided GEMM every dense layer uses, against numpy (float64 oracle)."""
import numpy as np
import pytest

from creg import _core


@pytest.fixture
def rng():
    return np.random.default_rng(42)


def _tol(dtype, K):
    return np.sqrt(K) * np.finfo(dtype).eps * 8


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("M,N,K", [(m, n, k) for m in (1, 7, 65)
                                   for n in (1, 9, 64) for k in (1, 8, 17, 300)])
@pytest.mark.parametrize("layout", ["nn", "nt", "tn", "tt", "c_t"])
@pytest.mark.parametrize("beta", [0.0, 1.0, 0.5])
def test_gemm_matches_numpy(dtype, M, N, K, layout, beta, rng):
    A = rng.standard_normal((M, K) if layout[0] == "n" else (K, M)).astype(dtype)
    B = rng.standard_normal((K, N) if layout[1] != "t" else (N, K)).astype(dtype)
    A = A if layout[0] == "n" else A.T
    B = B if layout[1] != "t" else B.T
    C0 = rng.standard_normal((M, N) if layout != "c_t" else (N, M)).astype(dtype)
    C = C0 if layout != "c_t" else C0.T
    expected = 1.5 * A.astype(np.float64) @ B.astype(np.float64)
    if beta == 0:
        C[...] = np.nan  # beta == 0 must never read C
    else:
        expected += beta * C.astype(np.float64)
    _core.gemm(C, A, B, dtype(1.5), dtype(beta), 1)
    scale = np.abs(A).astype(np.float64) @ np.abs(B) * 1.5 + abs(beta) * 3
    assert np.all(np.abs(C - expected) <= _tol(dtype, K) * scale)


@pytest.mark.parametrize("n_threads", [1, 2, 4])
def test_gemm_exact_on_small_integers(n_threads, rng):
    # Products and sums of small integers are exact in float32.
    A = rng.integers(-4, 5, (130, 300)).astype(np.float32)
    B = rng.integers(-4, 5, (300, 70)).astype(np.float32)
    C = np.empty((130, 70), np.float32)
    _core.gemm(C, A, B, np.float32(1), np.float32(0), n_threads)
    assert np.array_equal(C, (A.astype(np.int64) @ B.astype(np.int64)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_bitwise_same_for_any_thread_count(dtype, rng):
    A = rng.standard_normal((300, 200)).astype(dtype)
    B = rng.standard_normal((200, 150)).astype(dtype)
    results = []
    for n_threads in (1, 2, 3):
        C = np.empty((300, 150), dtype)
        _core.gemm(C, A, B, dtype(1), dtype(0), n_threads)
        results.append(C)
    assert all(np.array_equal(results[0], r) for r in results[1:])

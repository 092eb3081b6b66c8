"""GEMM GFLOP/s: creg's own kernels against numpy.matmul (OpenBLAS here).

Shapes: the three GEMMs of every layer of every configuration of
configs.py (forward Z = X.W^T, weights dW = dZ^T.X, inputs dX = dZ.W, with
the transposed operands as the strided views training uses), and 1024^3.
creg: ``creg._core.gemm(C, A, B, 1, 0, n_threads)``; numpy:
``numpy.matmul(A, B, out=C)`` with its BLAS held to the same thread count.
Each shape is first checked: creg's C equals numpy's (float64) product.

``extra_info["gflops"]`` is 2 M N K / (min time). ``python
benchmarks/report.py`` prints the same numbers as a table, interleaved.
"""
import pytest

import equal_work
import peers
from configs import CONFIGS, THREADS
from report import gemm_labels, gemm_rows

ROWS = gemm_rows(list(CONFIGS))
LABELS = gemm_labels(list(CONFIGS))
_CHECKED = set()


def row_id(row):
    kind, M, N, K = row
    where = "-".join(LABELS.get(row, [])).replace(" ", "")
    return f"{kind}-{M}x{N}x{K}" + (f"-{where}" if where else "")


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("contender", ["creg", "numpy"])
@pytest.mark.parametrize("row", ROWS, ids=row_id)
def test_gemm(benchmark, row, contender, threads):
    import numpy as np

    kind, M, N, K = row
    if contender == "numpy" and threads > 1 and not peers.HAVE_THREADPOOLCTL:
        pytest.skip("numpy's BLAS threads need threadpoolctl")
    if row not in _CHECKED:
        equal_work.check_gemm(kind, M, N, K, threads)
        _CHECKED.add(row)
    C, A, B = peers.gemm_operands(kind, M, N, K, np.random.default_rng(0))
    call = peers.gemm_call(contender, C, A, B, threads)
    benchmark.group = f"gemm {kind} {M}x{N}x{K} {threads}T"
    with peers.blas_threads(threads):  # outside the timed calls
        benchmark(call)
    benchmark.extra_info.update(M=M, N=N, K=K, kind=kind, threads=threads)
    if not benchmark.disabled:
        benchmark.extra_info["gflops"] = round(
            2 * M * N * K / benchmark.stats.stats.min / 1e9, 2)

/* gemm_kernel.h -- the micro-kernel variants gemm.c dispatches to.
 *
 * Included by typed sources (real and CREG_FN already defined).  Each
 * unpacked kernel computes the tiles tile .. tile + n_tiles - 1 of its
 * tile grid (gemm_*_tiles gives the grid's size), so threads can split the
 * grid.  See gemm_kernel.c and gemm_packed.c for the exact operations.
 */
#ifndef CREG_GEMM_KERNEL_H
#define CREG_GEMM_KERNEL_H

#define CREG_DECLARE_GEMM_KERNELS(isa)                                        \
    void CREG_FN(gemm_dot_##isa)(real *C, ptrdiff_t ldc, const real *A,       \
                                 ptrdiff_t lda, const real *B, ptrdiff_t ldb, \
                                 ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,       \
                                 real alpha, real beta, ptrdiff_t tile,       \
                                 ptrdiff_t n_tiles);                          \
    ptrdiff_t CREG_FN(gemm_dot_tiles_##isa)(ptrdiff_t M, ptrdiff_t N);        \
    void CREG_FN(gemm_axpy_##isa)(real *C, ptrdiff_t ldc, const real *A,      \
                                  ptrdiff_t rs_a, ptrdiff_t cs_a,             \
                                  const real *B, ptrdiff_t ldb, ptrdiff_t M,  \
                                  ptrdiff_t N, ptrdiff_t K, real alpha,       \
                                  real beta, ptrdiff_t tile,                  \
                                  ptrdiff_t n_tiles);                         \
    ptrdiff_t CREG_FN(gemm_axpy_tiles_##isa)(ptrdiff_t M, ptrdiff_t N);

CREG_DECLARE_GEMM_KERNELS(base)
CREG_DECLARE_GEMM_KERNELS(avx2)

/* gemm_packed.c (AVX2+FMA): the whole strided product, thread me of team
 * computing its share. */
void CREG_FN(gemm_packed_avx2)(real *C, ptrdiff_t rs_c, ptrdiff_t cs_c,
                               const real *A, ptrdiff_t rs_a, ptrdiff_t cs_a,
                               const real *B, ptrdiff_t rs_b, ptrdiff_t cs_b,
                               ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                               real alpha, real beta, int me, int team);

#endif

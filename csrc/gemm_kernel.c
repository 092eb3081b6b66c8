/* gemm_kernel.c -- register-blocked GEMM micro-kernels.
 *
 * One source for every precision and instruction set: written with GNU C
 * vector extensions, compiled once per (CREG_F32 | CREG_F64) x
 * (CREG_ISA_BASE: 16-byte vectors, SSE2 on x86-64 and NEON on aarch64 |
 *  CREG_ISA_AVX2: 32-byte vectors, built with -mavx2 -mfma).
 * gemm.c picks the variant at run time (creg_kernel_level).
 *
 * Two kernels, named after what they vectorize:
 *   dot:  C (M x N) = alpha * A . B^T (+ beta C); A is M x K and B is N x K,
 *         both with rows contiguous along K (forward Z = X . W^T).
 *         MR x NR tiles of vector accumulators, one per output element.
 *   axpy: C (M x N) = alpha * A . B (+ beta C); A strided, B and C with rows
 *         contiguous (dW = dZ^T . X, dX = dZ . W).  MR rows x NV vectors of
 *         columns, broadcasting A(i, k).
 * Each output element always goes through the same vector operations in the
 * same order: edge rows reuse a valid row (results discarded) and edge
 * columns or K tails go through zero-filled vectors.  So results do not
 * depend on tiling or on how threads split the tiles.
 * Outputs: C is written; read only when beta != 0.  No packing.
 */
#include <string.h>

#include "creg.h"
#include "real.h"
#include "gemm_kernel.h"

#if defined(CREG_ISA_AVX2)
#define VBYTES 32
#define KFN(name) CREG_FN(name##_avx2)
#else
#define VBYTES 16
#define KFN(name) CREG_FN(name##_base)
#endif

#define VL ((int)(VBYTES / sizeof(real)))
typedef real vec __attribute__((vector_size(VBYTES)));

#define DOT_MR 4
#define DOT_NR 3
#define AXPY_MR 4
#define AXPY_NV 2

static inline vec
vload(const real *p)
{
    vec v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* The first n (< VL) elements of p, zero-filled to a whole vector. */
static inline vec
vload_part(const real *p, int n)
{
    real t[VL];
    for (int i = 0; i < VL; ++i) {
        t[i] = i < n ? p[i] : 0;
    }
    return vload(t);
}

/* Horizontal sum in a fixed pairwise order. */
static inline real
hsum(vec v)
{
    real t[VL];
    memcpy(t, &v, sizeof v);
    for (int width = VL / 2; width >= 1; width /= 2) {
        for (int i = 0; i < width; ++i) {
            t[i] += t[i + width];
        }
    }
    return t[0];
}

static inline void
put(real *c, real value, real alpha, real beta)
{
    *c = beta == 0 ? alpha * value : alpha * value + beta * *c;
}

/* One DOT_MR x DOT_NR tile; rows/columns past m/n repeat row 0 and are
 * not stored. */
static void
dot_tile(real *C, ptrdiff_t ldc, const real *A, ptrdiff_t lda,
         const real *B, ptrdiff_t ldb, int m, int n, ptrdiff_t K,
         real alpha, real beta)
{
    const real *a[DOT_MR], *b[DOT_NR];
    for (int i = 0; i < DOT_MR; ++i) {
        a[i] = A + (i < m ? i : 0) * lda;
    }
    for (int j = 0; j < DOT_NR; ++j) {
        b[j] = B + (j < n ? j : 0) * ldb;
    }
    vec acc[DOT_MR][DOT_NR];
    memset(acc, 0, sizeof acc);
    ptrdiff_t k = 0;
    for (; k + VL <= K; k += VL) {
        vec bv[DOT_NR];
        for (int j = 0; j < DOT_NR; ++j) {
            bv[j] = vload(b[j] + k);
        }
        for (int i = 0; i < DOT_MR; ++i) {
            const vec av = vload(a[i] + k);
            for (int j = 0; j < DOT_NR; ++j) {
                acc[i][j] += av * bv[j];
            }
        }
    }
    if (k < K) {
        const int rest = (int)(K - k);
        for (int i = 0; i < DOT_MR; ++i) {
            const vec av = vload_part(a[i] + k, rest);
            for (int j = 0; j < DOT_NR; ++j) {
                acc[i][j] += av * vload_part(b[j] + k, rest);
            }
        }
    }
    for (int i = 0; i < m; ++i) {
        for (int j = 0; j < n; ++j) {
            put(C + i * ldc + j, hsum(acc[i][j]), alpha, beta);
        }
    }
}

void
KFN(gemm_dot)(real *C, ptrdiff_t ldc, const real *A, ptrdiff_t lda,
              const real *B, ptrdiff_t ldb, ptrdiff_t M, ptrdiff_t N,
              ptrdiff_t K, real alpha, real beta, ptrdiff_t tile,
              ptrdiff_t n_tiles)
{
    /* The smaller operand is walked in the inner loop so it stays in cache
     * while the tiles of the larger one are visited once each. */
    const ptrdiff_t row_tiles = (M + DOT_MR - 1) / DOT_MR;
    const ptrdiff_t col_tiles = (N + DOT_NR - 1) / DOT_NR;
    const int rows_outer = M > N;
    for (ptrdiff_t t = tile; t < tile + n_tiles; ++t) {
        const ptrdiff_t i = (rows_outer ? t / col_tiles : t % row_tiles)
                            * DOT_MR;
        const ptrdiff_t j = (rows_outer ? t % col_tiles : t / row_tiles)
                            * DOT_NR;
        dot_tile(C + i * ldc + j, ldc, A + i * lda, lda, B + j * ldb, ldb,
                 (int)(M - i < DOT_MR ? M - i : DOT_MR),
                 (int)(N - j < DOT_NR ? N - j : DOT_NR), K, alpha, beta);
    }
}

ptrdiff_t
KFN(gemm_dot_tiles)(ptrdiff_t M, ptrdiff_t N)
{
    return ((M + DOT_MR - 1) / DOT_MR) * ((N + DOT_NR - 1) / DOT_NR);
}

/* The AXPY_NV vectors of row b starting at column 0, n of them valid. */
static inline void
load_row(vec *bv, const real *b, int n, int full)
{
    for (int v = 0; v < AXPY_NV; ++v) {
        const int cols = n - v * VL;
        bv[v] = full ? vload(b + v * VL)
                     : vload_part(b + v * VL,
                                  cols >= VL ? VL : (cols > 0 ? cols : 0));
    }
}

/* One AXPY_MR x (AXPY_NV vectors) tile of C; n columns are valid (<= the
 * tile width), rows past m repeat row 0 and are not stored.  `full` is a
 * constant at each call, so the common whole tile has no tail logic. */
static inline void
axpy_tile_body(real *C, ptrdiff_t ldc, const real *A, ptrdiff_t rs_a,
               ptrdiff_t cs_a, const real *B, ptrdiff_t ldb, int m, int n,
               ptrdiff_t K, real alpha, real beta, const int full)
{
    const real *a[AXPY_MR];
    for (int i = 0; i < AXPY_MR; ++i) {
        a[i] = A + (i < m ? i : 0) * rs_a;
    }
    vec acc[AXPY_MR][AXPY_NV];
    memset(acc, 0, sizeof acc);
    for (ptrdiff_t k = 0; k < K; ++k) {
        vec bv[AXPY_NV];
        load_row(bv, B + k * ldb, n, full);
        for (int i = 0; i < AXPY_MR; ++i) {
            const real s = a[i][k * cs_a];
            for (int v = 0; v < AXPY_NV; ++v) {
                acc[i][v] += s * bv[v];
            }
        }
    }
    for (int i = 0; i < m; ++i) {
        real out[AXPY_NV * VL];
        memcpy(out, acc[i], sizeof out);
        real *c = C + i * ldc;
        if (beta == 0) {
            for (int col = 0; col < n; ++col) {
                c[col] = alpha * out[col];
            }
        } else {
            for (int col = 0; col < n; ++col) {
                c[col] = alpha * out[col] + beta * c[col];
            }
        }
    }
}

static void
axpy_tile(real *C, ptrdiff_t ldc, const real *A, ptrdiff_t rs_a,
          ptrdiff_t cs_a, const real *B, ptrdiff_t ldb, int m, int n,
          ptrdiff_t K, real alpha, real beta)
{
    if (n == AXPY_NV * VL) {
        axpy_tile_body(C, ldc, A, rs_a, cs_a, B, ldb, m, n, K, alpha, beta, 1);
    } else {
        axpy_tile_body(C, ldc, A, rs_a, cs_a, B, ldb, m, n, K, alpha, beta, 0);
    }
}

void
KFN(gemm_axpy)(real *C, ptrdiff_t ldc, const real *A, ptrdiff_t rs_a,
               ptrdiff_t cs_a, const real *B, ptrdiff_t ldb, ptrdiff_t M,
               ptrdiff_t N, ptrdiff_t K, real alpha, real beta,
               ptrdiff_t tile, ptrdiff_t n_tiles)
{
    const ptrdiff_t width = AXPY_NV * VL;
    const ptrdiff_t col_tiles = (N + width - 1) / width;
    for (ptrdiff_t t = tile; t < tile + n_tiles; ++t) {
        const ptrdiff_t i = (t / col_tiles) * AXPY_MR;
        const ptrdiff_t j = (t % col_tiles) * width;
        axpy_tile(C + i * ldc + j, ldc, A + i * rs_a, rs_a, cs_a, B + j, ldb,
                  (int)(M - i < AXPY_MR ? M - i : AXPY_MR),
                  (int)(N - j < width ? N - j : width), K, alpha, beta);
    }
}

ptrdiff_t
KFN(gemm_axpy_tiles)(ptrdiff_t M, ptrdiff_t N)
{
    const ptrdiff_t width = AXPY_NV * VL;
    return ((M + AXPY_MR - 1) / AXPY_MR) * ((N + width - 1) / width);
}

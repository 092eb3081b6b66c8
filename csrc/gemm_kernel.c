/* gemm_kernel.c -- register-blocked GEMM micro-kernels.
 *
 * One source for every precision and instruction set: written with GNU C
 * vector extensions, compiled once per (CREG_F32 | CREG_F64) x
 * (CREG_ISA_BASE: 16-byte vectors, SSE2 on x86-64 and NEON on aarch64 |
 *  CREG_ISA_AVX2: 32-byte vectors, built with -mavx2 -mfma |
 *  CREG_ISA_AVX512: 64-byte vectors, built with -mavx512f).
 * dispatch.c puts each variant in its level's row of the kernel table.
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

#include "creg.h"
#include "real.h"
#include "simd.h"
#include "kernels.h"
#include "dot_tile.h"

#define DOT_MR CREG_DOT_TILE_ROWS
#define DOT_NR CREG_DOT_TILE_COLS
/* axpy blocking (blocking.h): BLIS's pc and ic loops over fixed blocks,
 * so each C element's sum is always split the same way. */
#define AXPY_MR CREG_AXPY_MR
#define AXPY_NV CREG_AXPY_NV
#define AXPY_KC CREG_AXPY_KC
#define AXPY_MC CREG_AXPY_MC /* the packed A block, MC x KC, on the stack */
#define AXPY_NC ((ptrdiff_t)(CREG_AXPY_NC_BYTES / (AXPY_KC * sizeof(real))))

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
    real sums[DOT_MR * DOT_NR];
    dot_tile_sums(sums, a, b, K, NULL, 0, VL, DOT_MR, 0, 0);
    for (int i = 0; i < m; ++i) {
        for (int j = 0; j < n; ++j) {
            put(C + i * ldc + j, sums[i * DOT_NR + j], alpha, beta);
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

/* Packs rows i0 .. i0 + m - 1 of A (k = 0 .. K-1) as AXPY_MR values per k:
 * pack[k * AXPY_MR + r] = A(i0 + r, k), rows past m repeating row i0.  A is
 * strided in general (dZ^T for dW), and its rows are often 4 KiB apart,
 * which would make every k of a tile fight for the same L1 sets. */
static void
pack_rows(real *restrict pack, const real *A, ptrdiff_t rs_a, ptrdiff_t cs_a,
          int m, ptrdiff_t K)
{
    for (ptrdiff_t k = 0; k < K; ++k) {
        for (int r = 0; r < AXPY_MR; ++r) {
            pack[k * AXPY_MR + r] = A[(r < m ? r : 0) * rs_a + k * cs_a];
        }
    }
}

/* One AXPY_MR x (AXPY_NV vectors) tile of C from a packed A tile; n
 * columns are valid (<= the tile width), rows past m are not stored.
 * `full` is a constant at each call, so whole tiles have no tail logic. */
static inline void
axpy_tile_body(real *C, ptrdiff_t ldc, const real *restrict a,
               const real *B, ptrdiff_t ldb, int m, int n, ptrdiff_t K,
               real alpha, real beta, const int full)
{
    vec acc[AXPY_MR][AXPY_NV];
    for (int i = 0; i < AXPY_MR; ++i) {
        for (int v = 0; v < AXPY_NV; ++v) {
            acc[i][v] = (vec){0};
        }
    }
    for (ptrdiff_t k = 0; k < K; ++k) {
        vec bv[AXPY_NV];
        vload_cols(bv, B + k * ldb, AXPY_NV, n, full);
        for (int i = 0; i < AXPY_MR; ++i) {
            const real s = a[k * AXPY_MR + i];
            for (int v = 0; v < AXPY_NV; ++v) {
                acc[i][v] += s * bv[v];
            }
        }
    }
    /* vector stores at the edge too (vstore_part): the tile never goes
     * through memory, and every column is scaled the same way */
    for (int i = 0; i < m; ++i) {
        real *c = C + i * ldc;
        vec out[AXPY_NV], old[AXPY_NV];
        if (beta != 0) {
            vload_cols(old, c, AXPY_NV, n, full);
        }
        for (int v = 0; v < AXPY_NV; ++v) {
            out[v] = alpha * acc[i][v];
            if (beta != 0) {
                out[v] += beta * old[v];
            }
        }
        vstore_cols(c, out, AXPY_NV, n, full);
    }
}

static void
axpy_tile(real *C, ptrdiff_t ldc, const real *a, const real *B,
          ptrdiff_t ldb, int m, int n, ptrdiff_t K, real alpha, real beta)
{
    if (n == AXPY_NV * VL) {
        axpy_tile_body(C, ldc, a, B, ldb, m, n, K, alpha, beta, 1);
    } else {
        axpy_tile_body(C, ldc, a, B, ldb, m, n, K, alpha, beta, 0);
    }
}

/* The ic, jr and ir loops for columns jc .. jc_end - 1 and one KC block of
 * K starting at pc; pack holds AXPY_MC x AXPY_KC values. */
static void
axpy_block(real *C, ptrdiff_t ldc, const real *A, ptrdiff_t rs_a,
           ptrdiff_t cs_a, const real *B, ptrdiff_t ldb, ptrdiff_t M,
           ptrdiff_t jc, ptrdiff_t jc_end, ptrdiff_t pc, ptrdiff_t kc,
           real alpha, real beta, real *pack)
{
    const ptrdiff_t width = AXPY_NV * VL;
    for (ptrdiff_t ic = 0; ic < M; ic += AXPY_MC) {                /* ic */
        const ptrdiff_t i_end = M - ic < AXPY_MC ? M : ic + AXPY_MC;
        for (ptrdiff_t i = ic; i < i_end; i += AXPY_MR) {
            const int m = (int)(i_end - i < AXPY_MR ? i_end - i : AXPY_MR);
            pack_rows(pack + (i - ic) * kc, A + i * rs_a + pc * cs_a, rs_a,
                      cs_a, m, kc);
        }
        for (ptrdiff_t j = jc; j < jc_end; j += width) {            /* jr */
            const int n = (int)(jc_end - j < width ? jc_end - j : width);
            for (ptrdiff_t i = ic; i < i_end; i += AXPY_MR) {       /* ir */
                const int m = (int)(i_end - i < AXPY_MR ? i_end - i
                                                        : AXPY_MR);
                axpy_tile(C + i * ldc + j, ldc, pack + (i - ic) * kc,
                          B + pc * ldb + j, ldb, m, n, kc, alpha, beta);
            }
        }
    }
}

void
KFN(gemm_axpy)(real *C, ptrdiff_t ldc, const real *A, ptrdiff_t rs_a,
               ptrdiff_t cs_a, const real *B, ptrdiff_t ldb, ptrdiff_t M,
               ptrdiff_t N, ptrdiff_t K, real alpha, real beta,
               ptrdiff_t tile, ptrdiff_t n_tiles)
{
    /* This call owns the column tiles tile .. tile + n_tiles - 1. */
    const ptrdiff_t width = AXPY_NV * VL;
    const ptrdiff_t j_end = (tile + n_tiles) * width < N
                                ? (tile + n_tiles) * width : N;
    real pack[AXPY_MC * AXPY_KC];
    for (ptrdiff_t jc = tile * width; jc < j_end; jc += AXPY_NC) { /* jc */
        const ptrdiff_t jc_end = j_end - jc < AXPY_NC ? j_end : jc + AXPY_NC;
        ptrdiff_t pc = 0;
        do {                                                        /* pc */
            const ptrdiff_t kc = K - pc < AXPY_KC ? K - pc : AXPY_KC;
            /* the first K block applies beta; later ones accumulate */
            axpy_block(C, ldc, A, rs_a, cs_a, B, ldb, M, jc, jc_end, pc, kc,
                       alpha, pc == 0 ? beta : 1, pack);
            pc += kc;
        } while (pc < K);
    }
}

/* The grid threads split: column tiles (each call does every row). */
ptrdiff_t
KFN(gemm_axpy_tiles)(ptrdiff_t M, ptrdiff_t N)
{
    (void)M;
    return (N + AXPY_NV * VL - 1) / (AXPY_NV * VL);
}

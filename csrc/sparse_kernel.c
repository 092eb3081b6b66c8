/* sparse_kernel.c -- the rows of sparse predict (sparse.c) in vectors,
 * compiled per precision through simd.h at baseline (KFN(name) is
 * creg_name_base_f32 and _f64); written for any of simd.h's widths, but
 * an AVX2+FMA build measured only 10% faster.
 *
 * Dimensions: I, O, U as in sparse.h; VL = lanes of a vector; R = ACC VL
 * rows per tile (32 floats or 16 doubles at baseline).  Z (rows x O) is
 * overwritten with X . W^T + b, before the activation.
 *
 * Why tiles: R rows of X, transposed to U x R (only the used inputs), turn
 * each nonzero weight into ACC vector multiply-adds over R contiguous
 * values; the gathers by column index cost one load per weight and tile
 * rather than per weight and row.  The tile is built and used a block of
 * CREG_SPARSE_BLOCK_INPUTS used inputs at a time, so that it stays in L1
 * (the whole tile of 784 inputs, 100 KB, made the loads 1.5x slower);
 * each neuron's sums wait in the scratch between blocks.  The work is rows x nnz multiply-adds
 * against the dense rows x O x I, plus rows x U for the transposes.
 *
 * Each lane holds one row, whose sum runs over its neuron's nonzeros in
 * order from zero (block after block: the same order), then adds the
 * bias: a row's bits do not depend on the
 * tile or the thread that holds it.
 */
#include "real.h"
#include "simd.h"
#include "sparse.h"

/* 32 rows of floats at both levels: 8 baseline or 4 AVX2 vectors (8
 * AVX2 ones, a 64-row tile, measured no faster: the tile leaves L2). */
#if VBYTES == 16
#define ACC 8
#else
#define ACC 4
#endif
#define R (ACC * VL)

/* Shuffles of two vectors by lane numbers (GCC and clang spell it
 * differently), and the integer vector of real's width for GCC's masks. */
#if defined(CREG_F32)
typedef int32_t ivec __attribute__((vector_size(VBYTES)));
#define LANES (VBYTES / 4) /* VL for the preprocessor */
#else
typedef int64_t ivec __attribute__((vector_size(VBYTES)));
#define LANES (VBYTES / 8)
#endif
#if defined(__clang__)
#define SHUFFLE(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define SHUFFLE(a, b, ...) __builtin_shuffle(a, b, (ivec){__VA_ARGS__})
#endif

/* t[j] := lane j of r[0..VL-1]: a VL x VL block transposed in registers
 * (interleaving pairs, then pairs of pairs, ...). */
static inline void
transpose(vec *t, const vec *r)
{
#if LANES == 2
    t[0] = SHUFFLE(r[0], r[1], 0, 2);
    t[1] = SHUFFLE(r[0], r[1], 1, 3);
#elif LANES == 4
    const vec a0 = SHUFFLE(r[0], r[1], 0, 4, 1, 5);
    const vec a1 = SHUFFLE(r[0], r[1], 2, 6, 3, 7);
    const vec a2 = SHUFFLE(r[2], r[3], 0, 4, 1, 5);
    const vec a3 = SHUFFLE(r[2], r[3], 2, 6, 3, 7);
    t[0] = SHUFFLE(a0, a2, 0, 1, 4, 5);
    t[1] = SHUFFLE(a0, a2, 2, 3, 6, 7);
    t[2] = SHUFFLE(a1, a3, 0, 1, 4, 5);
    t[3] = SHUFFLE(a1, a3, 2, 3, 6, 7);
#elif LANES == 8
    vec a[8], b[8];
    for (int i = 0; i < 8; i += 2) { /* within 128-bit halves */
        a[i] = SHUFFLE(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        a[i + 1] = SHUFFLE(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int i = 0; i < 8; i += 4) { /* b[i + j] = lanes j | j + 4 */
        b[i] = SHUFFLE(a[i], a[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        b[i + 1] = SHUFFLE(a[i], a[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        b[i + 2] = SHUFFLE(a[i + 1], a[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
        b[i + 3] = SHUFFLE(a[i + 1], a[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    for (int j = 0; j < 4; ++j) {
        t[j] = SHUFFLE(b[j], b[j + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        t[j + 4] = SHUFFLE(b[j], b[j + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
#else
#error "transpose: no shuffle for this vector length"
#endif
}

/* XT (count x R) := used inputs [u0, u0 + count) of rows [b0, b0 + rows)
 * of X, transposed; zeros past `rows` so a short last tile runs the same
 * loop.  Runs of VL consecutive used inputs go VL rows at a time through
 * `transpose` (the scalar copy costs as much as the multiply-adds at 5%
 * density); the rest element by element. */
static void
gather_block(real *restrict XT, const real *restrict X, ptrdiff_t b0,
             ptrdiff_t rows, ptrdiff_t u0, ptrdiff_t count,
             const creg_sparse_pattern *p)
{
    const real *x = X + b0 * p->I;
    const int64_t *used = p->used + u0;
    const ptrdiff_t whole = rows - rows % VL;
    if (rows < R) {
        memset(XT, 0, sizeof(real) * count * R);
    }
    ptrdiff_t u = 0;
    while (u < count) {
        const ptrdiff_t col = used[u];
        if (u + VL <= count && used[u + VL - 1] == col + VL - 1) {
            for (ptrdiff_t r = 0; r < whole; r += VL) {
                vec in[VL], out[VL];
                for (int i = 0; i < VL; ++i) {
                    in[i] = vload(x + (r + i) * p->I + col);
                }
                transpose(out, in);
                for (int j = 0; j < VL; ++j) {
                    vstore(XT + (u + j) * R + r, out[j]);
                }
            }
            for (ptrdiff_t r = whole; r < rows; ++r) {
                for (int j = 0; j < VL; ++j) {
                    XT[(u + j) * R + r] = x[r * p->I + col + j];
                }
            }
            u += VL;
        } else {
            for (ptrdiff_t r = 0; r < rows; ++r) {
                XT[u * R + r] = x[r * p->I + col];
            }
            u += 1;
        }
    }
}

/* sums (R) += values[k] times the tile row of input cols[k] - u0, for
 * the weights k0 .. k1 - 1 in order.  ACC named accumulators: enough
 * independent sums to hide the multiply-add latency, and named, since a
 * loop over an array of them leaves them on the stack (2x slower). */
static inline void
add_row_sums(real *restrict sums, const real *restrict XT,
             const real *restrict values, const int32_t *restrict cols,
             ptrdiff_t u0, int64_t k0, int64_t k1)
{
    vec s0 = vload(sums), s1 = vload(sums + VL), s2 = vload(sums + 2 * VL),
        s3 = vload(sums + 3 * VL);
#if ACC == 8
    vec s4 = vload(sums + 4 * VL), s5 = vload(sums + 5 * VL),
        s6 = vload(sums + 6 * VL), s7 = vload(sums + 7 * VL);
#endif
    for (int64_t k = k0; k < k1; ++k) {
        const real *x = XT + (cols[k] - u0) * R;
        const vec w = (vec){0} + values[k];
        s0 += w * vload(x);
        s1 += w * vload(x + VL);
        s2 += w * vload(x + 2 * VL);
        s3 += w * vload(x + 3 * VL);
#if ACC == 8
        s4 += w * vload(x + 4 * VL);
        s5 += w * vload(x + 5 * VL);
        s6 += w * vload(x + 6 * VL);
        s7 += w * vload(x + 7 * VL);
#endif
    }
    vstore(sums, s0);
    vstore(sums + VL, s1);
    vstore(sums + 2 * VL, s2);
    vstore(sums + 3 * VL, s3);
#if ACC == 8
    vstore(sums + 4 * VL, s4);
    vstore(sums + 5 * VL, s5);
    vstore(sums + 6 * VL, s6);
    vstore(sums + 7 * VL, s7);
#endif
}

void
KFN(sparse_rows)(real *restrict Z, real *restrict scratch,
                 const real *restrict X, const real *restrict values,
                 const real *restrict b, const creg_sparse_pattern *p,
                 ptrdiff_t first, ptrdiff_t rows)
{
    const ptrdiff_t UB = CREG_SPARSE_BLOCK_INPUTS;
    const ptrdiff_t nb = p->n_blocks;
    real *XT = scratch;                           /* UB x R */
    real *sums = scratch + (p->U < UB ? p->U : UB) * R; /* O x R */
    for (ptrdiff_t b0 = first; b0 < first + rows; b0 += R) {
        const ptrdiff_t n = first + rows - b0 < R ? first + rows - b0 : R;
        memset(sums, 0, sizeof(real) * p->O * R);
        for (ptrdiff_t j = 0; j < nb; ++j) {
            const ptrdiff_t u0 = j * UB;
            gather_block(XT, X, b0, n, u0, p->U - u0 < UB ? p->U - u0 : UB,
                         p);
            for (ptrdiff_t o = 0; o < p->O; ++o) {
                const int64_t *split = p->splits + o * (nb + 1) + j;
                if (split[1] > split[0]) {
                    add_row_sums(sums + o * R, XT, values, p->cols, u0,
                                 split[0], split[1]);
                }
            }
        }
        for (ptrdiff_t o = 0; o < p->O; ++o) {
            for (ptrdiff_t r = 0; r < n; ++r) {
                Z[(b0 + r) * p->O + o] = sums[o * R + r] + b[o];
            }
        }
    }
}

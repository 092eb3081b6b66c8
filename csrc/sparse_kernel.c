/* sparse_kernel.c -- the rows of sparse predict (sparse.c) in vectors,
 * compiled per precision through simd.h for each vector level's GEMM
 * build (KFN(name) is creg_name_base_f32, creg_name_avx512_f64 and so on).
 *
 * Dimensions: I, O, U as in sparse.h; VL = lanes of a vector; R = ACC VL
 * rows per tile (32 floats at 16 and 32 bytes, 64 at 64 bytes).  Z (rows
 * x O) is overwritten with X . W^T + b, before the activation.
 *
 * Why tiles: R rows of X, transposed to U x R (only the used inputs), turn
 * each nonzero weight into ACC vector multiply-adds over R contiguous
 * values; the gathers by column index cost one load per weight and tile
 * rather than per weight and row.  The tile is built and used a block of
 * CREG_SPARSE_BLOCK_INPUTS used inputs at a time, so that it stays in L1
 * (the whole tile of 784 inputs, 100 KB, made the loads 1.5x slower);
 * each neuron's sums wait in the scratch between blocks.  The work is
 * rows x nnz multiply-adds against the dense rows x O x I, plus rows x U
 * for the transposes.
 *
 * Each lane holds one row, whose sum runs over its neuron's nonzeros in
 * order from zero (block after block: the same order), then adds the
 * bias: a row's bits do not depend on the tile or the thread that holds
 * it.  Levels differ in their bits only where FMA contracts a
 * multiply-add.
 */
#include "real.h"
#include "simd.h"
#include "sparse.h"
#include "transpose.h"

/* Enough independent sums to hide the multiply-add latency: 8 baseline
 * vectors, 4 at 32 and 64 bytes (8 AVX2 ones, a 64-row tile, measured no
 * faster: the tile leaves L1). */
#if VBYTES == 16
#define ACC 8
#else
#define ACC 4
#endif
#define R (ACC * VL)

/* XT (count x R) := used inputs [u0, u0 + count) of rows [b0, b0 + rows)
 * of X, transposed; zeros past `rows` so a short last tile runs the same
 * loop.  Runs of VL consecutive used inputs go VL rows at a time through
 * `transpose` (the scalar copy costs as much as the multiply-adds at 5%
 * density); the rest element by element.  *seen accumulates x * 0 over
 * the values read: NaN once one of them is NaN or inf. */
static void
gather_block(real *restrict XT, const real *restrict X, ptrdiff_t b0,
             ptrdiff_t rows, ptrdiff_t u0, ptrdiff_t count,
             const creg_sparse_pattern *p, real *restrict seen)
{
    const real *x = X + b0 * p->I;
    const int64_t *used = p->used + u0;
    const ptrdiff_t whole = rows - rows % VL;
    vec vseen = {0}, wseen = {0}; /* two chains, off the shuffles' port */
    real sseen = 0;
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
                for (int i = 0; i < VL; i += 2) {
                    vseen += in[i] * 0;
                    wseen += in[i + 1] * 0;
                }
                transpose(out, in);
                for (int j = 0; j < VL; ++j) {
                    vstore(XT + (u + j) * R + r, out[j]);
                }
            }
            for (ptrdiff_t r = whole; r < rows; ++r) {
                for (int j = 0; j < VL; ++j) {
                    XT[(u + j) * R + r] = x[r * p->I + col + j];
                    sseen += x[r * p->I + col + j] * 0;
                }
            }
            u += VL;
        } else {
            for (ptrdiff_t r = 0; r < rows; ++r) {
                XT[u * R + r] = x[r * p->I + col];
                sseen += x[r * p->I + col] * 0;
            }
            u += 1;
        }
    }
    vseen += wseen;
    for (int j = 0; j < VL; ++j) {
        sseen += vseen[j];
    }
    *seen += sseen;
}

/* x * 0 summed over the inputs between the used ones (which no gather
 * reads) of the rows x I values at x: NaN once one of them is NaN or
 * inf.  Most patterns leave few such inputs. */
static real
unread_seen(const real *restrict x, ptrdiff_t rows,
            const creg_sparse_pattern *p)
{
    real seen = 0;
    ptrdiff_t c = 0; /* the first input not yet covered */
    for (ptrdiff_t u = 0; u <= p->U; ++u) {
        const ptrdiff_t end = u < p->U ? p->used[u] : p->I;
        for (ptrdiff_t r = 0; end > c && r < rows; ++r) {
            for (ptrdiff_t j = c; j < end; ++j) {
                seen += x[r * p->I + j] * 0;
            }
        }
        c = end + 1;
    }
    return seen;
}

/* a0 .. a3 += w times the four vectors at x */
#define ADD4(a0, a1, a2, a3, w, x)                                            \
    do {                                                                      \
        a0 += (w) * vload(x);                                                 \
        a1 += (w) * vload((x) + VL);                                          \
        a2 += (w) * vload((x) + 2 * VL);                                      \
        a3 += (w) * vload((x) + 3 * VL);                                      \
    } while (0)

/* sums (R) += values[k] times the tile row of input cols[k] - u0, for
 * the weights k0 .. k1 - 1.  Named accumulators, since a loop over an
 * array of them leaves them on the stack (2x slower).  With ACC 4, two
 * sets take the even and the odd weights, added at the end: one set's
 * multiply-adds wait on the one before (4 cycles), which made the sums
 * latency-bound. */
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
    for (int64_t k = k0; k < k1; ++k) {
        const real *x = XT + (cols[k] - u0) * R;
        const vec w = splat(values[k]);
        ADD4(s0, s1, s2, s3, w, x);
        ADD4(s4, s5, s6, s7, w, x + 4 * VL);
    }
    vstore(sums + 4 * VL, s4);
    vstore(sums + 5 * VL, s5);
    vstore(sums + 6 * VL, s6);
    vstore(sums + 7 * VL, s7);
#else
    vec t0 = {0}, t1 = {0}, t2 = {0}, t3 = {0};
    int64_t k = k0;
    for (; k + 1 < k1; k += 2) {
        ADD4(s0, s1, s2, s3, splat(values[k]), XT + (cols[k] - u0) * R);
        ADD4(t0, t1, t2, t3, splat(values[k + 1]),
             XT + (cols[k + 1] - u0) * R);
    }
    if (k < k1) {
        ADD4(s0, s1, s2, s3, splat(values[k]), XT + (cols[k] - u0) * R);
    }
    s0 += t0;
    s1 += t1;
    s2 += t2;
    s3 += t3;
#endif
    vstore(sums, s0);
    vstore(sums + VL, s1);
    vstore(sums + 2 * VL, s2);
    vstore(sums + 3 * VL, s3);
}

/* Z's rows b0 .. b0 + n - 1 := sums (O x R, a neuron's R rows in a row)
 * transposed, plus b: VL x VL blocks through `transpose`, the neurons past
 * the last whole block one by one. */
static void
store_rows(real *restrict Z, const real *restrict sums,
           const real *restrict b, ptrdiff_t O, ptrdiff_t b0, ptrdiff_t n)
{
    const ptrdiff_t whole = O - O % VL;
    for (ptrdiff_t o = 0; o < whole; o += VL) {
        const vec bias = vload(b + o);
        for (ptrdiff_t r = 0; r < n; r += VL) {
            vec in[VL], out[VL];
            for (int i = 0; i < VL; ++i) {
                in[i] = vload(sums + (o + i) * R + r);
            }
            transpose(out, in);
            const int m = n - r < VL ? (int)(n - r) : VL;
            for (int j = 0; j < m; ++j) {
                vstore(Z + (b0 + r + j) * O + o, out[j] + bias);
            }
        }
    }
    for (ptrdiff_t o = whole; o < O; ++o) {
        for (ptrdiff_t r = 0; r < n; ++r) {
            Z[(b0 + r) * O + o] = sums[o * R + r] + b[o];
        }
    }
}

int
KFN(sparse_rows)(real *restrict Z, real *restrict scratch,
                 const real *restrict X, const real *restrict values,
                 const real *restrict b, const creg_sparse_pattern *p,
                 ptrdiff_t first, ptrdiff_t rows, int check_x)
{
    const ptrdiff_t UB = CREG_SPARSE_BLOCK_INPUTS;
    const ptrdiff_t nb = p->n_blocks;
    /* 64-byte aligned (the slot has room): loads of a vector that span
     * two cache lines made the sums 1.3x slower */
    real *XT = (real *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    real *sums = XT + (p->U < UB ? p->U : UB) * R; /* O x R */
    real seen = 0;
    for (ptrdiff_t b0 = first; b0 < first + rows; b0 += R) {
        const ptrdiff_t n = first + rows - b0 < R ? first + rows - b0 : R;
        if (check_x) {
            seen += unread_seen(X + b0 * p->I, n, p);
        }
        memset(sums, 0, sizeof(real) * p->O * R);
        for (ptrdiff_t j = 0; j < nb; ++j) {
            const ptrdiff_t u0 = j * UB;
            gather_block(XT, X, b0, n, u0, p->U - u0 < UB ? p->U - u0 : UB,
                         p, &seen);
            for (ptrdiff_t o = 0; o < p->O; ++o) {
                const int64_t *split = p->splits + o * (nb + 1) + j;
                if (split[1] > split[0]) {
                    add_row_sums(sums + o * R, XT, values, p->cols, u0,
                                 split[0], split[1]);
                }
            }
        }
        store_rows(Z, sums, b, p->O, b0, n);
    }
    return check_x && seen != seen;
}

/* sparse.c -- a layer's forward pass through its nonzero weights only, for
 * predicting with networks that L1 left mostly zero.
 *
 * Dimensions: B = rows of X, I = inputs of the layer (columns of X),
 * O = outputs (neurons), U = inputs some neuron uses (U <= I),
 * R = CREG_SPARSE_TILE_ROWS rows per tile, nnz = nonzero weights.
 * A (B x O) is overwritten: act(X . W^T + b).
 *
 * Why tiles: R rows of X, transposed to U x R (only the used inputs), turn
 * each nonzero weight into one multiply-add over R contiguous values, which
 * the compiler vectorizes; the gathers by column index cost one load per
 * weight and tile rather than per weight and row.  The work is B x nnz
 * multiply-adds against the dense B x O x I.
 *
 * Each row's sum runs over its neuron's nonzeros in order from zero, then
 * adds the bias, whatever tile or thread holds the row: the bits do not
 * depend on n_threads.  Threads take fixed shares of the tiles.
 *
 * Not done: training (the zeros move while a network trains) and the
 * backward pass.
 */
#include "real.h"
#include "sparse.h"
#include "threads.h"

/* Rows per tile: four 16-byte vectors' worth (16 floats, 8 doubles). */
#define R (64 / (ptrdiff_t)sizeof(real))
#if 64 / 4 > CREG_SPARSE_TILE_ROWS
#error "CREG_SPARSE_TILE_ROWS must cover the float tile"
#endif

/* XT (U x R) := the used columns of rows [b0, b0 + rows) of X, transposed;
 * zeros past `rows` so a short last tile runs the same loop.  Rows inner:
 * XT is written in order while R streams of X are read. */
static void
gather_tile(real *restrict XT, const real *restrict X, ptrdiff_t b0,
            ptrdiff_t rows, const creg_sparse_pattern *p)
{
    const real *x = X + b0 * p->I;
    if (rows < R) {
        memset(XT, 0, sizeof(real) * p->U * R);
    }
    for (ptrdiff_t u = 0; u < p->U; ++u) {
        const ptrdiff_t col = p->used[u];
        for (ptrdiff_t r = 0; r < rows; ++r) {
            XT[u * R + r] = x[r * p->I + col];
        }
    }
}

/* sums (R) := the sums over weights k0 .. k1 - 1 of values[k] times the
 * tile row of input cols[k], in order. */
static inline void
row_sums(real *restrict sums, const real *restrict XT,
         const real *restrict values, const int32_t *restrict cols,
         int64_t k0, int64_t k1)
{
#if defined(__GNUC__)
    /* Four 16-byte vectors (baseline SSE2 / NEON registers) spelled out:
     * plain loops over R lose the vectors to GCC's unroll-and-jam, and a
     * wider GNU vector is kept on the stack; either is 5x slower. */
    typedef real vec __attribute__((vector_size(16), aligned(sizeof(real))));
    vec s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    for (int64_t k = k0; k < k1; ++k) {
        const vec *x = (const vec *)(XT + (ptrdiff_t)cols[k] * R);
        const real w = values[k];
        s0 += w * x[0];
        s1 += w * x[1];
        s2 += w * x[2];
        s3 += w * x[3];
    }
    vec *out = (vec *)sums;
    out[0] = s0;
    out[1] = s1;
    out[2] = s2;
    out[3] = s3;
#else
    for (ptrdiff_t r = 0; r < R; ++r) {
        sums[r] = 0;
    }
    for (int64_t k = k0; k < k1; ++k) {
        const real *x = XT + (ptrdiff_t)cols[k] * R;
        for (ptrdiff_t r = 0; r < R; ++r) {
            sums[r] += values[k] * x[r];
        }
    }
#endif
}

/* Rows [b0, b0 + rows) of A := act(X . W^T + b) from the tile XT. */
static void
tile_forward(real *restrict A, const real *restrict XT,
             const real *restrict values, const real *restrict b,
             ptrdiff_t b0, ptrdiff_t rows, const creg_sparse_pattern *p,
             creg_activation act)
{
    for (ptrdiff_t o = 0; o < p->O; ++o) {
        real sums[R];
        row_sums(sums, XT, values, p->cols, p->row_start[o],
                 p->row_start[o + 1]);
        for (ptrdiff_t r = 0; r < rows; ++r) {
            A[(b0 + r) * p->O + o] = sums[r] + b[o];
        }
    }
    CREG_FN(activation_forward)(A + b0 * p->O, A + b0 * p->O, rows, p->O,
                                act);
}

/* This thread's share of the tiles, in its own scratch slot. */
static void
forward_share(real *A, real *scratch, const real *X, const real *values,
              const real *b, const creg_sparse_pattern *p, ptrdiff_t B,
              creg_activation act)
{
    int me, team;
    creg_team_position(&me, &team);
    real *XT = scratch + (ptrdiff_t)me * p->U * R;
    ptrdiff_t first, count;
    creg_my_share((B + R - 1) / R, &first, &count);
    for (ptrdiff_t t = first; t < first + count; ++t) {
        const ptrdiff_t rows = B - t * R < R ? B - t * R : R;
        gather_tile(XT, X, t * R, rows, p);
        tile_forward(A, XT, values, b, t * R, rows, p, act);
    }
}

int
CREG_FN(sparse_forward)(real *A, real *scratch, const real *X,
                        const real *values, const real *b,
                        const creg_sparse_pattern *pattern, ptrdiff_t B,
                        creg_activation act, int n_threads)
{
    const int status = creg_sparse_check(pattern);
    if (status != CREG_OK) {
        return status;
    }
    const int nt = creg_threads_for(n_threads);
    const double work = (double)B * (pattern->row_start[pattern->O] + pattern->U);
    CREG_TEAM(nt, work > CREG_PARALLEL_MIN && B > R,
              forward_share(A, scratch, X, values, b, pattern, B, act));
    return CREG_OK;
}

/* sparse.c -- a layer's forward pass through its nonzero weights only, for
 * predicting with networks that L1 left mostly zero.
 *
 * Dimensions: B = rows of X, I = inputs of the layer (columns of X),
 * O = outputs (neurons), U = inputs some neuron uses (U <= I).
 * A (B x O) is overwritten: act(X . W^T + b).
 *
 * The rows go to the kernel table's sparse_rows (sparse_kernel.c's
 * vector tiles, in the level's vector width), or at level 0 to
 * reference_rows below, the plain loop the tests hold the tiles to.
 * Threads take fixed shares of whole tiles; each row's sum
 * runs over its neuron's nonzeros in order whatever share holds it, so
 * the bits do not depend on n_threads.
 *
 * Not done: training (the zeros move while a network trains) and the
 * backward pass.
 */
#include "real.h"
#include "sparse.h"
#include "threads.h"
#include "kernels.h"

/* Rows [first, first + rows) of Z := X . W^T + b, one dot product per row
 * and neuron over its nonzeros in order: the reference of the tiles.
 * With check_x, 1 if one of those rows of X holds NaN or inf. */
static int
reference_rows(real *Z, real *scratch, const real *X, const real *values,
               const real *b, const creg_sparse_pattern *p, ptrdiff_t first,
               ptrdiff_t rows, int check_x)
{
    (void)scratch;
    real bad = 0; /* x * 0 is NaN for NaN and inf, else zero */
    for (ptrdiff_t i = first; i < first + rows; ++i) {
        const real *x = X + i * p->I;
        for (ptrdiff_t c = 0; check_x && c < p->I; ++c) {
            bad += x[c] * 0;
        }
        for (ptrdiff_t o = 0; o < p->O; ++o) {
            real sum = 0;
            for (int64_t k = p->row_start[o]; k < p->row_start[o + 1];
                 ++k) {
                sum += values[k] * x[p->used[p->cols[k]]];
            }
            Z[i * p->O + o] = sum + b[o];
        }
    }
    return bad != bad;
}

/* This thread's share of the rows, in whole tiles, in its scratch slot;
 * sets *nonfinite if those rows of X hold NaN or inf (with check_x). */
static void
forward_share(real *A, real *scratch, const real *X, const real *values,
              const real *b, const creg_sparse_pattern *p, ptrdiff_t B,
              creg_activation act, CREG_FN(sparse_rows_kernel) *rows_kernel,
              int check_x, int *nonfinite)
{
    int me, team;
    creg_team_position(&me, &team);
    ptrdiff_t first, count;
    creg_my_elements(B, CREG_SPARSE_TILE_ROWS, &first, &count);
    if (count == 0) {
        return;
    }
    if (rows_kernel(A, scratch + me * creg_sparse_slot_size(p->U, p->O), X,
                    values, b, p, first, count, check_x)) {
#pragma omp atomic write
        *nonfinite = 1;
    }
    CREG_FN(activation_forward)(A + first * p->O, A + first * p->O, count,
                                p->O, act);
}

int
CREG_FN(sparse_forward)(real *A, real *scratch, int slots, const real *X,
                        const real *values, const real *b,
                        const creg_sparse_pattern *pattern, ptrdiff_t B,
                        creg_activation act, int n_threads, int check_x)
{
    const int status = creg_sparse_check(pattern);
    if (status != CREG_OK) {
        return status;
    }
    if (slots < 1) {
        return CREG_EINVAL;
    }
    CREG_FN(sparse_rows_kernel) *rows_kernel = active_kernels()->sparse_rows;
    if (rows_kernel == NULL) {
        rows_kernel = reference_rows;
    }
    const double work = (double)B * (pattern->row_start[pattern->O]
                                     + pattern->U);
    const ptrdiff_t tiles = (B + CREG_SPARSE_TILE_ROWS - 1)
                            / CREG_SPARSE_TILE_ROWS;
    /* never a team larger than the scratch has slots for, whatever the
     * OpenMP default became since the caller sized it */
    const int nt = creg_threads_for_work(n_threads, work, CREG_SHARE_MIN,
                                         (double)(tiles < slots ? tiles
                                                                : slots));
    int nonfinite = 0;
    CREG_TEAM(nt,
              forward_share(A, scratch, X, values, b, pattern, B, act,
                            rows_kernel, check_x, &nonfinite));
    return nonfinite ? CREG_ENONFINITE : CREG_OK;
}

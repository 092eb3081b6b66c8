/* dense.c -- the fully-connected layer pair, through the strided gemm.
 *
 * Dimensions: B = rows in the batch, I = inputs, O = outputs (neurons).
 * W is O x I row-major (row j = neuron j's incoming weights), b is O.
 * Outputs are overwritten (gemm beta = 0), never accumulated.
 * Activations live in activation.c; this file is the affine map only.
 */
#include "creg.h"
#include "real.h"
#include "threads.h"
#include "kernels.h"

/* Rows [first, first + count) of Z := X . W^T, by forward_rows. */
static void
forward_row_blocks(real *Z, const real *X, const real *W, ptrdiff_t I,
                   ptrdiff_t O, ptrdiff_t first, ptrdiff_t count,
                   const CREG_FN(kernels) *kernels)
{
    const ptrdiff_t block = CREG_FORWARD_ROW_BLOCK;
    const real *rows[CREG_FORWARD_ROW_BLOCK];
    for (ptrdiff_t b = first; b < first + count; b += block) {
        const ptrdiff_t B = first + count - b < block ? first + count - b
                                                      : block;
        for (ptrdiff_t r = 0; r < B; ++r) {
            rows[r] = X + (b + r) * I;
        }
        kernels->forward_rows(Z + b * O, O, rows, B, W, I, O, I, NULL, 0, 0,
                              1);
    }
}

void
CREG_FN(dense_rows_share)(ptrdiff_t B, ptrdiff_t *first, ptrdiff_t *count)
{
    creg_my_elements(B, CREG_DOT_TILE_ROWS, first, count);
}

void
CREG_FN(dense_product_rows)(real *Z, const real *X, const real *W,
                            ptrdiff_t I, ptrdiff_t O, ptrdiff_t first,
                            ptrdiff_t count)
{
    forward_row_blocks(Z, X, W, I, O, first, count, active_kernels());
}

/* This thread's rows of forward_row_blocks. */
static void
forward_rows_share(real *Z, const real *X, const real *W, ptrdiff_t B,
                   ptrdiff_t I, ptrdiff_t O)
{
    ptrdiff_t first, count;
    CREG_FN(dense_rows_share)(B, &first, &count);
    CREG_FN(dense_product_rows)(Z, X, W, I, O, first, count);
}

int
CREG_FN(dense_product_by_rows)(ptrdiff_t B, ptrdiff_t I, ptrdiff_t O,
                               int n_threads)
{
    /* forward_rows for small batches, and for narrow layers at any batch
     * size (blocking.h) */
    if (active_kernels()->forward_rows == NULL
        || !(B < CREG_STEP_PACK_BATCH || O <= CREG_FORWARD_ROWS_MAX_O)) {
        return 0;
    }
    const double groups = (double)((B + CREG_DOT_TILE_ROWS - 1)
                                   / CREG_DOT_TILE_ROWS);
    return creg_threads_for_work(n_threads, (double)B * I * O,
                                 CREG_SHARE_MIN, groups);
}

void
CREG_FN(dense_forward)(real *Z, const real *X, const real *W, const real *b,
                       ptrdiff_t B, ptrdiff_t I, ptrdiff_t O, int n_threads)
{
    CREG_FN(dense_product)(Z, X, W, B, I, O, n_threads);
    CREG_FN(add_bias)(Z, b, B, O);
}

void
CREG_FN(dense_product)(real *Z, const real *X, const real *W, ptrdiff_t B,
                       ptrdiff_t I, ptrdiff_t O, int n_threads)
{
    const int nt = CREG_FN(dense_product_by_rows)(B, I, O, n_threads);
    if (nt != 0) {
        /* the kernel the small-batch step's look-ahead matches bit for
         * bit; rows are summed alike however they are grouped */
        CREG_TEAM(nt, forward_rows_share(Z, X, W, B, I, O));
    } else {
        /* Z = X . W^T: W^T is W with its strides swapped. */
        CREG_FN(gemm)(Z, O, 1, X, I, 1, W, 1, I, B, O, I, 1, 0, n_threads);
    }
}

void
CREG_FN(add_bias)(real *Z, const real *b, ptrdiff_t B, ptrdiff_t O)
{
    for (ptrdiff_t r = 0; r < B; ++r) {
        real *z = Z + r * O;
        for (ptrdiff_t j = 0; j < O; ++j) {
            z[j] += b[j];
        }
    }
}

void
CREG_FN(bias_gradient)(real *db, const real *dZ, ptrdiff_t B, ptrdiff_t O,
                       real scale)
{
    CREG_FN(bias_gradient_columns)(db, dZ, B, O, 0, O, scale);
}

void
CREG_FN(bias_gradient_columns)(real *db, const real *dZ, ptrdiff_t B,
                               ptrdiff_t O, ptrdiff_t j0, ptrdiff_t j1,
                               real scale)
{
    for (ptrdiff_t j = j0; j < j1; ++j) {
        db[j] = 0;
    }
    /* row by row: a column alone would stride by a row of dZ (4 KiB at
     * 1,024 neurons) and miss the cache at every row */
    for (ptrdiff_t r = 0; r < B; ++r) {
        const real *dz = dZ + r * O;
        for (ptrdiff_t j = j0; j < j1; ++j) {
            db[j] += dz[j];
        }
    }
    for (ptrdiff_t j = j0; j < j1; ++j) {
        db[j] *= scale;
    }
}

/* dX = dZ . W   (B x I) */
void
CREG_FN(input_gradient)(real *dX, const real *dZ, const real *W, ptrdiff_t B,
                        ptrdiff_t I, ptrdiff_t O, int n_threads)
{
    CREG_FN(gemm)(dX, I, 1, dZ, O, 1, W, I, 1, B, I, O, 1, 0, n_threads);
}

/* Backward of Z = X.W^T + b, given dZ. */
void
CREG_FN(dense_backward)(real *dX, real *dW, real *db, const real *dZ,
                        const real *X, const real *W, ptrdiff_t B,
                        ptrdiff_t I, ptrdiff_t O, real scale, int n_threads)
{
    /* dW = scale * dZ^T . X   (O x I) */
    CREG_FN(gemm)(dW, I, 1, dZ, 1, O, X, I, 1, O, I, B, scale, 0, n_threads);
    CREG_FN(bias_gradient)(db, dZ, B, O, scale);
    if (dX != NULL) {
        CREG_FN(input_gradient)(dX, dZ, W, B, I, O, n_threads);
    }
}

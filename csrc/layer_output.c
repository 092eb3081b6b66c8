/* layer_output.c -- the per-element rest of a layer's forward: bias, the
 * finiteness check, the activation and dropout, in one pass over each row.
 *
 * Dimensions: B = rows, O = units per row.
 * Every part is per element (per row for softmax), so the team splits
 * the rows: on a wide layer these passes were a serial tail between the
 * GEMMs (issue 16), and one pass keeps each row in cache for all four.
 */
#include "creg.h"
#include "real.h"
#include "kernels.h"
#include "threads.h"

/* v - v is 0 for finite v and NaN otherwise; tested element by element,
 * not summed, so that the loop has no chain of adds. */
int
CREG_FN(all_finite)(const real *v, ptrdiff_t count)
{
    int finite = 1;
    for (ptrdiff_t i = 0; i < count; ++i) {
        finite &= v[i] - v[i] == 0;
    }
    return finite;
}

void
CREG_FN(layer_output_rows)(real *A, real *Z, real *H, real *M, const real *b,
                           ptrdiff_t first, ptrdiff_t rows, ptrdiff_t O,
                           creg_activation act, int check,
                           const CREG_FN(dropout_plan) *drop, int *finite)
{
    real *z = Z + first * O;
    CREG_FN(add_bias)(z, b, rows, O);
    if (check && !CREG_FN(all_finite)(z, rows * O)) {
#pragma omp atomic write
        *finite = 0;
    }
    CREG_FN(activation_forward)(A + first * O, z, rows, O, act);
    if (drop != NULL) {
        CREG_FN(dropout_units)(H, M, A, first * O, rows * O, drop);
    }
}

/* This thread's rows. */
static void
output_share(real *A, real *Z, real *H, real *M, const real *b, ptrdiff_t B,
             ptrdiff_t O, creg_activation act, int check,
             const CREG_FN(dropout_plan) *drop, int *finite)
{
    ptrdiff_t first, rows;
    creg_my_share(B, &first, &rows);
    CREG_FN(layer_output_rows)(A, Z, H, M, b, first, rows, O, act, check,
                               drop, finite);
}

int
CREG_FN(layer_output)(real *A, real *Z, real *H, real *M, const real *b,
                      ptrdiff_t B, ptrdiff_t O, creg_activation act,
                      int check, const CREG_FN(dropout_plan) *drop,
                      int n_threads)
{
    int finite = 1;
    const int nt = creg_threads_for_elements(n_threads, B * O, B);
    CREG_TEAM(nt,
              output_share(A, Z, H, M, b, B, O, act, check, drop, &finite));
    return finite;
}

/* activation.c -- elementwise activations, each backward next to its forward.
 *
 * Dimensions: B = rows, O = units per row; `count` = B * O.
 * Outputs are overwritten and may alias the input (in-place use is the norm).
 * Backward derives f'(z) from the stored output A (sigmoid a(1-a), tanh
 * 1-a^2, relu [a>0], linear 1), so Z need not be kept.  Softmax has no
 * backward here: with the log-likelihood cost its Jacobian folds into the
 * output delta a - y (loss.c).
 */
#include "creg.h"
#include "real.h"

/* sigmoid without overflow for large |z|: exp only of -|z|. */
static real
sigmoid(real z)
{
    if (z >= 0) {
        return 1 / (1 + R_EXP(-z));
    }
    const real e = R_EXP(z);
    return e / (1 + e);
}

/* One row of softmax, shifted by the row max so exp never overflows. */
static void
softmax_row(real *a, const real *z, ptrdiff_t O)
{
    real zmax = z[0];
    for (ptrdiff_t k = 1; k < O; ++k) {
        zmax = z[k] > zmax ? z[k] : zmax;
    }
    real sum = 0;
    for (ptrdiff_t k = 0; k < O; ++k) {
        a[k] = R_EXP(z[k] - zmax);
        sum += a[k];
    }
    for (ptrdiff_t k = 0; k < O; ++k) {
        a[k] /= sum;
    }
}

void
CREG_FN(activation_forward)(real *A, const real *Z, ptrdiff_t B, ptrdiff_t O,
                            creg_activation act)
{
    const ptrdiff_t count = B * O;
    switch (act) {
    case CREG_ACT_SIGMOID:
        for (ptrdiff_t i = 0; i < count; ++i) {
            A[i] = sigmoid(Z[i]);
        }
        break;
    case CREG_ACT_TANH:
        for (ptrdiff_t i = 0; i < count; ++i) {
            A[i] = R_TANH(Z[i]);
        }
        break;
    case CREG_ACT_RELU:
        for (ptrdiff_t i = 0; i < count; ++i) {
            A[i] = Z[i] > 0 ? Z[i] : 0;
        }
        break;
    case CREG_ACT_SOFTMAX:
        for (ptrdiff_t r = 0; r < B; ++r) {
            softmax_row(A + r * O, Z + r * O, O);
        }
        break;
    case CREG_ACT_LINEAR:
        if (A != Z) {
            for (ptrdiff_t i = 0; i < count; ++i) {
                A[i] = Z[i];
            }
        }
        break;
    }
}

/* dA(i), times the dropout mask when there is one. */
static inline real
upstream(const real *dA, const real *M, ptrdiff_t i)
{
    return M != NULL ? dA[i] * M[i] : dA[i];
}

/* Backward of A = f(Z) (and of the dropout H = A * M that followed it, if M
 * is not NULL): dZ = dA * M * f'(Z), f' written in terms of A.  One pass
 * instead of one per factor; -O3 unswitches the M test out of the loops. */
void
CREG_FN(activation_backward)(real *dZ, const real *dA, const real *M,
                             const real *A, ptrdiff_t count,
                             creg_activation act)
{
    switch (act) {
    case CREG_ACT_SIGMOID:
        for (ptrdiff_t i = 0; i < count; ++i) {
            dZ[i] = upstream(dA, M, i) * A[i] * (1 - A[i]);
        }
        break;
    case CREG_ACT_TANH:
        for (ptrdiff_t i = 0; i < count; ++i) {
            dZ[i] = upstream(dA, M, i) * (1 - A[i] * A[i]);
        }
        break;
    case CREG_ACT_RELU:
        for (ptrdiff_t i = 0; i < count; ++i) {
            dZ[i] = A[i] > 0 ? upstream(dA, M, i) : 0;
        }
        break;
    case CREG_ACT_LINEAR:
    case CREG_ACT_SOFTMAX:
        if (dZ != dA || M != NULL) {
            for (ptrdiff_t i = 0; i < count; ++i) {
                dZ[i] = upstream(dA, M, i);
            }
        }
        break;
    }
}

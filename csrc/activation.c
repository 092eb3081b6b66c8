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
#include "kernels.h"
#include "threads.h"

/* The active level's kernel (sigmoid_kernel.c's vectors, float32 only);
 * else the reference: one libm exp per element, without overflow for large
 * |z|: exp only of -|z|. */
static void
sigmoid_all(real *A, const real *Z, ptrdiff_t count)
{
    const CREG_FN(kernels) *kernels = active_kernels();
    if (kernels->sigmoid != NULL) {
        kernels->sigmoid(A, Z, count);
        return;
    }
    for (ptrdiff_t i = 0; i < count; ++i) {
        const real e = R_EXP(-R_FABS(Z[i]));
        A[i] = Z[i] >= 0 ? 1 / (1 + e) : e / (1 + e);
    }
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
        sigmoid_all(A, Z, count);
        break;
    case CREG_ACT_TANH:
        for (ptrdiff_t i = 0; i < count; ++i) {
            A[i] = R_TANH(Z[i]);
        }
        break;
    case CREG_ACT_RELU:
        /* NaN stays NaN (an overflow inside the network, inf - inf, must
         * reach the outputs' finiteness checks); +0 for every other z <= 0 */
        for (ptrdiff_t i = 0; i < count; ++i) {
            A[i] = Z[i] > 0 || Z[i] != Z[i] ? Z[i] : 0;
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

/* The backward loops, with `masked` a constant at each call so every loop
 * is branch-free and vectorizes (a data-dependent branch on relu's sign
 * mispredicts half the time).  Element i reads only index i of each array
 * and dZ may equal dA, so no iteration depends on another: ivdep tells GCC,
 * which otherwise keeps the loops scalar for fear of overlap. */
static inline __attribute__((always_inline)) void
backward(real *dZ, const real *dA, const real *M, const real *A,
         ptrdiff_t count, creg_activation act, const int masked)
{
    switch (act) {
    case CREG_ACT_SIGMOID:
#pragma GCC ivdep
        for (ptrdiff_t i = 0; i < count; ++i) {
            const real g = masked ? dA[i] * M[i] : dA[i];
            dZ[i] = g * A[i] * (1 - A[i]);
        }
        break;
    case CREG_ACT_TANH:
#pragma GCC ivdep
        for (ptrdiff_t i = 0; i < count; ++i) {
            const real g = masked ? dA[i] * M[i] : dA[i];
            dZ[i] = g * (1 - A[i] * A[i]);
        }
        break;
    case CREG_ACT_RELU:
#pragma GCC ivdep
        for (ptrdiff_t i = 0; i < count; ++i) {
            /* g where A > 0, else +0, as a bit mask: GCC will not turn a
             * select after a product into a blend (the product could trap) */
            const real g = masked ? dA[i] * M[i] : dA[i];
            real_bits bits;
            memcpy(&bits, &g, sizeof bits);
            bits &= (real_bits)0 - (real_bits)(A[i] > 0);
            memcpy(&dZ[i], &bits, sizeof bits);
        }
        break;
    case CREG_ACT_LINEAR:
    case CREG_ACT_SOFTMAX:
        if (dZ != dA || masked) {
#pragma GCC ivdep
            for (ptrdiff_t i = 0; i < count; ++i) {
                dZ[i] = masked ? dA[i] * M[i] : dA[i];
            }
        }
        break;
    }
}

void
CREG_FN(activation_backward_here)(real *dZ, const real *dA, const real *M,
                                  const real *A, ptrdiff_t count,
                                  creg_activation act)
{
    if (M != NULL) {
        backward(dZ, dA, M, A, count, act, 1);
    } else {
        backward(dZ, dA, NULL, A, count, act, 0);
    }
}

/* This thread's elements of activation_backward. */
static void
backward_share(real *dZ, const real *dA, const real *M, const real *A,
               ptrdiff_t count, creg_activation act)
{
    const ptrdiff_t line = 64 / (ptrdiff_t)sizeof(real);
    ptrdiff_t first, n;
    creg_my_elements(count, line, &first, &n);
    CREG_FN(activation_backward_here)(dZ + first, dA + first,
                                      M != NULL ? M + first : NULL,
                                      A + first, n, act);
}

/* Backward of A = f(Z) (and of the dropout H = A * M that followed it, if M
 * is not NULL): dZ = dA * M * f'(Z), f' written in terms of A.  One pass
 * instead of one per factor; elementwise, so any split gives the same
 * bits. */
void
CREG_FN(activation_backward)(real *dZ, const real *dA, const real *M,
                             const real *A, ptrdiff_t count,
                             creg_activation act, int n_threads)
{
    const int nt = creg_threads_for_elements(n_threads, count, count);
    CREG_TEAM(nt, backward_share(dZ, dA, M, A, count, act));
}

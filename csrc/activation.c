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

#if defined(CREG_F32)
/* float32 sigmoid four at a time: a hidden layer of a small network spends
 * as long in libm's expf, one call per unit, as in its weights. */
typedef float f4 __attribute__((vector_size(16)));
typedef int32_t i4 __attribute__((vector_size(16)));

/* 2^n for integer n in [-126, 127], from the exponent bits. */
static inline f4
pow2(i4 n)
{
    f4 p;
    const i4 bits = (n + 127) << 23;
    memcpy(&p, &bits, sizeof p);
    return p;
}

/* exp(x) for x <= 0 (NaN stays NaN): x = n ln 2 + r with |r| <= ln 2 / 2,
 * Cephes' degree-6 polynomial for e^r (within 2 ulp of expf), and 2^n
 * applied in two halves so that results in the subnormal range round
 * right; below -104 it is 0. */
static inline f4
exp_nonpositive(f4 x)
{
    const f4 lowest = {-104.0f, -104.0f, -104.0f, -104.0f};
    const i4 below = x < lowest; /* false for NaN */
    x = (f4)((below & (i4)lowest) | (~below & (i4)x));
    /* n = x / ln 2 rounded to nearest: adding 1.5 * 2^23 rounds */
    const f4 t = x * 1.44269504088896341f + 12582912.0f;
    const f4 n = t - 12582912.0f;
    const f4 r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
    f4 p = r * 1.9875691500e-4f + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const f4 y = p * r * r + r + 1;
    const i4 ni = __builtin_convertvector((f4)((i4)n & (n == n)), i4);
    /* (NaN's n taken as 0: y is NaN already) */
    const i4 half = ni >> 1;
    return y * pow2(half) * pow2(ni - half);
}

/* 1 / (1 + e^-z) from e = exp(-|z|), so exp never overflows. */
static inline f4
sigmoid4(f4 z)
{
    const f4 zero = {0}, one = {1, 1, 1, 1};
    const f4 minus_zero = {-0.0f, -0.0f, -0.0f, -0.0f};
    const i4 positive = z >= zero;
    const f4 e = exp_nonpositive((f4)((i4)z | (i4)minus_zero)); /* -|z| */
    const f4 num = (f4)((positive & (i4)one) | (~positive & (i4)e));
    return num / (one + e);
}

static void
sigmoid_all(real *A, const real *Z, ptrdiff_t count)
{
    ptrdiff_t i = 0;
    for (; i + 4 <= count; i += 4) {
        f4 z;
        memcpy(&z, Z + i, sizeof z);
        const f4 a = sigmoid4(z);
        memcpy(A + i, &a, sizeof a);
    }
    if (i < count) { /* the same operations, so no element's bits depend
                      * on where it falls */
        f4 z = {0};
        memcpy(&z, Z + i, sizeof(real) * (size_t)(count - i));
        const f4 a = sigmoid4(z);
        memcpy(A + i, &a, sizeof(real) * (size_t)(count - i));
    }
}
#else
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

static void
sigmoid_all(real *A, const real *Z, ptrdiff_t count)
{
    for (ptrdiff_t i = 0; i < count; ++i) {
        A[i] = sigmoid(Z[i]);
    }
}
#endif

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

/* Backward of A = f(Z) (and of the dropout H = A * M that followed it, if M
 * is not NULL): dZ = dA * M * f'(Z), f' written in terms of A.  One pass
 * instead of one per factor. */
void
CREG_FN(activation_backward)(real *dZ, const real *dA, const real *M,
                             const real *A, ptrdiff_t count,
                             creg_activation act)
{
    if (M != NULL) {
        backward(dZ, dA, M, A, count, act, 1);
    } else {
        backward(dZ, dA, M, A, count, act, 0);
    }
}

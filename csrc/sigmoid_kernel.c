/* sigmoid_kernel.c -- the logistic function over an array, vectorized.
 *
 * A hidden layer of a small network spends as long in libm's exp, one call
 * per unit, as in its weights; here float32 runs a whole vector of units
 * at a time with its own exp.  float32 only (float64 keeps libm's exp in
 * activation.c: a double polynomial would need many more terms to match
 * it).  Compiled per instruction set, like gemm_kernel.c; activation.c
 * picks the variant of the active kernel level.
 */
#include "creg.h"
#include "real.h"
#include "simd.h"

#if !defined(CREG_F32)
#error "sigmoid_kernel.c is float32 only (its exp works on the float bits)"
#endif

typedef int32_t ivec __attribute__((vector_size(VBYTES)));

/* 2^n for integer n in [-126, 127], from the exponent bits. */
static inline vec
pow2(ivec n)
{
    vec p;
    const ivec bits = (n + 127) << 23;
    memcpy(&p, &bits, sizeof p);
    return p;
}

/* a where m is set, else b */
static inline vec
select_where(ivec m, vec a, vec b)
{
    return (vec)((m & (ivec)a) | (~m & (ivec)b));
}

/* exp(x) for x <= 0 (NaN stays NaN): x = n ln 2 + r with |r| <= ln 2 / 2,
 * Cephes' degree-6 polynomial for e^r (within 2 ulp of expf), and 2^n
 * applied in two halves so that results in the subnormal range round
 * right; below -104 it is 0. */
static inline vec
exp_nonpositive(vec x)
{
    const vec lowest = (vec){0} - 104.0f;
    x = select_where(x < lowest, lowest, x); /* false for NaN */
    /* n = x / ln 2 rounded to nearest: adding 1.5 * 2^23 rounds */
    const vec t = x * 1.44269504088896341f + 12582912.0f;
    const vec n = t - 12582912.0f;
    const vec r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
    vec p = r * 1.9875691500e-4f + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const vec y = p * r * r + r + 1;
    /* NaN's n taken as 0: y is NaN already */
    const ivec ni = __builtin_convertvector((vec)((ivec)n & (n == n)), ivec);
    const ivec half = ni >> 1;
    return y * pow2(half) * pow2(ni - half);
}

/* 1 / (1 + e^-z) from e = exp(-|z|), so exp never overflows. */
static inline vec
sigmoid_vec(vec z)
{
    const vec zero = {0}, one = zero + 1, minus_zero = -zero;
    const vec e = exp_nonpositive((vec)((ivec)z | (ivec)minus_zero));
    return select_where(z >= zero, one, e) / (one + e);
}

void
KFN(sigmoid)(real *A, const real *Z, ptrdiff_t count)
{
    ptrdiff_t i = 0;
    for (; i + VL <= count; i += VL) {
        vstore(A + i, sigmoid_vec(vload(Z + i)));
    }
    if (i < count) { /* the same operations, so no element's bits depend
                      * on where it falls */
        vstore_part(A + i, sigmoid_vec(vload_part(Z + i, (int)(count - i))),
                    (int)(count - i));
    }
}

/* sigmoid_kernel.c -- the logistic function over an array, vectorized, and
 * the log1p(e^-|z|) term of its cross-entropy cost.
 *
 * A hidden layer of a small network spends as long in libm's exp, one call
 * per unit, as in its weights; here float32 runs a whole vector of units
 * at a time with its own exp (and, for the cost, its own log).  float32
 * only (float64 keeps libm: a double polynomial would need many more terms
 * to match it).  Compiled per instruction set, like gemm_kernel.c;
 * dispatch.c puts each variant in its levels' rows of the kernel table.
 */
#include "creg.h"
#include "real.h"
#include "simd.h"
#include "kernels.h"

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

/* ln(u) for u in [1, 2] (NaN stays NaN): u = 2^e m with e in {0, 1} and
 * m in [sqrt(1/2), sqrt(2)], Cephes' degree-8 polynomial for ln(m), and
 * e ln 2 added in two parts. */
static inline vec
log_1_to_2(vec u)
{
    const vec zero = {0}, one = zero + 1;
    const ivec high = u > 1.41421356237f;
    const vec e = select_where(high, one, zero);
    const vec x = select_where(high, u * 0.5f, u) - 1;
    vec p = x * 7.0376836292e-2f - 1.1514610310e-1f;
    p = p * x + 1.1676998740e-1f;
    p = p * x - 1.2420140846e-1f;
    p = p * x + 1.4249322787e-1f;
    p = p * x - 1.6668057665e-1f;
    p = p * x + 2.0000714765e-1f;
    p = p * x - 2.4999993993e-1f;
    p = p * x + 3.3333331174e-1f;
    const vec x2 = x * x;
    const vec y = p * x * x2 + e * -2.12194440e-4f - 0.5f * x2;
    return x + y + e * 0.693359375f;
}

/* log1p(e^-|z|), the cross-entropy cost's term (loss.c): with t = e^-|z|
 * and u = 1 + t rounded, log1p(t) = ln(u) - ((u - 1) - t) / u, the second
 * part restoring what rounding u lost (all of t when t < 2^-24). */
static inline vec
log1p_exp_neg_abs_vec(vec z)
{
    const vec minus_zero = -(vec){0};
    const vec t = exp_nonpositive((vec)((ivec)z | (ivec)minus_zero));
    const vec u = 1 + t;
    return log_1_to_2(u) - ((u - 1) - t) / u;
}

void
KFN(log1p_exp_neg_abs)(real *T, const real *Z, ptrdiff_t count)
{
    ptrdiff_t i = 0;
    for (; i + VL <= count; i += VL) {
        vstore(T + i, log1p_exp_neg_abs_vec(vload(Z + i)));
    }
    if (i < count) {
        vstore_part(T + i,
                    log1p_exp_neg_abs_vec(vload_part(Z + i, (int)(count - i))),
                    (int)(count - i));
    }
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

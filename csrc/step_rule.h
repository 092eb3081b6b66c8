/* step_rule.h -- DESIGN.md's step rule on one vector of weights, shared by
 * the fused step kernels (step_kernel.c: W's rows; step_columns.c: W0's
 * columns).  Included by per-ISA sources, after simd.h.  The same
 * operations in the same order whatever the layout, so a weight's new
 * value depends only on its own gradient sum, weight and velocity. */
#ifndef CREG_STEP_RULE_H
#define CREG_STEP_RULE_H

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* a b + c, always as one fused operation where the ISA has one: the plain
 * rule's sums must round the same way on every path (contraction alone
 * could fuse either product of d w + s x). */
static inline vec
fused_multiply_add(vec a, vec b, vec c)
{
#if defined(CREG_ISA_AVX512) && defined(CREG_F32)
    return (vec)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
#elif defined(CREG_ISA_AVX512)
    return (vec)_mm512_fmadd_pd((__m512d)a, (__m512d)b, (__m512d)c);
#elif defined(CREG_ISA_AVX2) && defined(CREG_F32) /* AVX-512VL's too */
    return (vec)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
#elif defined(CREG_ISA_AVX2)
    return (vec)_mm256_fmadd_pd((__m256d)a, (__m256d)b, (__m256d)c);
#else
    return a * b + c;
#endif
}

/* a where m is set, else b (m all ones or all zeros per lane) */
static inline vec
select_where(mask m, vec a, vec b)
{
    return (vec)(((mask)a & m) | ((mask)b & ~m));
}

/* The switches of one variant, constants after inlining. */
enum {
    MOMENTUM = 1, SUBGRADIENT = 2, PROX = 4, NORMS = 8, AHEAD = 16,
    PENDING = 32 /* the look-ahead's pass applies a held step first
                  * (kernels_typed.h) */
};

/* V(name, switches) for each of the rule's six combinations of switches
 * (the subgradient and the prox exclude each other), with `extra` added
 * and the names ending in `suffix`: a kernel's variants. */
#define EACH_RULE(V, extra, suffix)                                           \
    V(plain##suffix, (extra))                                                 \
    V(s##suffix, SUBGRADIENT | (extra))                                       \
    V(x##suffix, PROX | (extra))                                              \
    V(m##suffix, MOMENTUM | (extra))                                          \
    V(ms##suffix, MOMENTUM | SUBGRADIENT | (extra))                           \
    V(mx##suffix, MOMENTUM | PROX | (extra))

/* The rule's switches of the step itself (NORMS, AHEAD and PENDING are
 * the kernels'). */
static inline int
rule_flags(const creg_step_rule *rule)
{
    return (rule->momentum != 0 ? MOMENTUM : 0)
           | (!rule->l1_prox && rule->l1 != 0 ? SUBGRADIENT : 0)
           | (rule->l1_prox && rule->l1 != 0 ? PROX : 0);
}

typedef struct {
    real lr, mu, l2, l1, threshold;
    real decay; /* 1 - lr l2: the plain rule */
} coefficients;

static inline coefficients
rule_coefficients(const creg_step_rule *rule)
{
    const coefficients k = {
        (real)rule->lr, (real)rule->momentum, (real)rule->l2, (real)rule->l1,
        (real)rule->lr * (real)rule->l1, (real)(1 - rule->lr * rule->l2)};
    return k;
}

/* The plain rule: no momentum and no subgradient.  It is network2.py's
 * form of DESIGN.md's step, w = (1 - lr l2) w - lr scale sum_b dZ x_b:
 * with -lr scale folded into dZ (pack), the batch's products are summed
 * and the new weight is one fused multiply-add, (1 - lr l2) w + sum.  The
 * fused operations are explicit (fused_multiply_add), so the batch-1
 * look-ahead, which forms its single product in step_rows, rounds exactly
 * as sum_tile's path does. */
#define PLAIN(flags) (!((flags) & (MOMENTUM | SUBGRADIENT)))

/* The step for one vector of weights w (and velocities v) given acc, the
 * summed data gradient (under the plain rule already times -lr scale).
 * The switches are constants at every call.  Every multiply that feeds an
 * add is fused explicitly: left to contraction, which product GCC fuses
 * depends on the code around the call, and a deferred step (step_kernel.c)
 * must round as its own pass did. */
ALWAYS_INLINE vec
step(vec w, vec *v, vec acc, real scale, const coefficients *k,
     const int momentum, const int subgradient, const int prox)
{
    if (!momentum && !subgradient) {
        w = fused_multiply_add(splat(k->decay), w, acc);
    } else {
        vec g = fused_multiply_add(splat(k->l2), w, scale * acc);
        if (subgradient) {
            const vec zero = {0};
            const vec sign =
                __builtin_convertvector((w < zero) - (w > zero), vec);
            g = fused_multiply_add(splat(k->l1), sign, g);
        }
        if (momentum) {
            const vec delta =
                fused_multiply_add(splat(k->mu), *v, -k->lr * g);
            *v = delta;
            w += delta;
        } else {
            w = fused_multiply_add(splat(-k->lr), g, w);
        }
    }
    if (prox) {
        /* w - w: +0, or NaN for a NaN weight (update.c's step_row) */
        const vec hi = w - k->threshold, lo = w + k->threshold;
        w = select_where(w > k->threshold, hi,
                         select_where(w < -k->threshold, lo, w - w));
    }
    return w;
}

#endif

/* step_kernel.c -- a layer's weight gradient fused with its update.
 *
 * For a panel of m <= CREG_STEP_MR neurons (rows j of W, I inputs each) and
 * a batch of B rows:
 *   g   = scale * sum_b dZ(b, j) X(b, :)        (the data gradient dW row)
 *   then DESIGN.md's step:
 *   g  += l2 w (+ l1 sign(w) for the subgradient method)
 *   v   = mu v - lr g;  w += v   (without momentum or the subgradient:
 *                                 w = (1 - lr l2) w - lr g, network2.py's form)
 *   prox: w = w - clamp(w, -lr l1, lr l1)  (= sign(w) max(|w| - lr l1, 0))
 *   and, for max-norm, the squared norm of each new row in *sumsq.
 * The gradient tile is summed in registers and the step applied to it before
 * the registers are reused, so dW is never written: one read and one write
 * of W (and V) per step instead of the gradient's extra write and read.
 * The batch is the K of this product and small (<= CREG_STEP_MAX_BATCH), so
 * it is never split: each weight's sum runs over b = 0 .. B-1 in order, and
 * its result does not depend on the panel or thread it falls in.
 * Compiled per precision x instruction set, like gemm_kernel.c.
 */
#include "creg.h"
#include "real.h"
#include "simd.h"
#include "step_kernel.h"

#define MR CREG_STEP_MR
#define NV 2 /* vectors of columns per tile: 6 x 2 accumulators */

/* The switches below must become constants in every variant, so the
 * helpers are always inlined (GCC otherwise clones them with the switches
 * as run-time tests inside the loops). */
#define ALWAYS_INLINE static inline __attribute__((always_inline))

typedef __typeof__((vec){0} > (vec){0}) mask;

/* a where m is set, else b (m all ones or all zeros per lane) */
static inline vec
select_where(mask m, vec a, vec b)
{
    return (vec)(((mask)a & m) | ((mask)b & ~m));
}

typedef struct {
    real lr, mu, l2, l1, threshold;
    real decay, gradient_step; /* 1 - lr l2 and -lr scale: the plain rule */
} coefficients;

ALWAYS_INLINE void
load_cols(vec *v, const real *p, int n, const int full)
{
    for (int u = 0; u < NV; ++u) {
        const int cols = n - u * VL;
        v[u] = full ? vload(p + u * VL)
                    : vload_part(p + u * VL,
                                 cols >= VL ? VL : (cols > 0 ? cols : 0));
    }
}

ALWAYS_INLINE void
store_cols(real *p, const vec *v, int n, const int full)
{
    for (int u = 0; u < NV; ++u) {
        const int cols = n - u * VL;
        if (full || cols >= VL) {
            vstore(p + u * VL, v[u]);
        } else if (cols > 0) {
            vstore_part(p + u * VL, v[u], cols);
        }
    }
}

/* The step for one vector of weights w (and velocities v) given the summed
 * data gradient acc.  The switches are constants at every call.  Without
 * momentum or the subgradient it is network2.py's form of the same rule,
 * w = (1 - lr l2) w - lr scale acc: two operations per vector instead of
 * five, which is most of the work of a batch-1 step. */
ALWAYS_INLINE vec
step(vec w, vec *v, vec acc, real scale, const coefficients *k,
     const int momentum, const int subgradient, const int prox)
{
    if (!momentum && !subgradient) {
        w = k->decay * w + k->gradient_step * acc;
    } else {
        vec g = scale * acc + k->l2 * w;
        if (subgradient) {
            const vec zero = {0};
            const vec sign =
                __builtin_convertvector((w < zero) - (w > zero), vec);
            g += k->l1 * sign;
        }
        vec delta = -k->lr * g;
        if (momentum) {
            delta = k->mu * *v - k->lr * g;
            *v = delta;
        }
        w += delta;
    }
    if (prox) {
        const vec hi = w - k->threshold, lo = w + k->threshold;
        const vec zero = {0};
        w = select_where(w > k->threshold, hi,
                         select_where(w < -k->threshold, lo, zero));
    }
    return w;
}

/* One tile: rows 0 .. m-1 of the panel, columns j .. j + n - 1. */
ALWAYS_INLINE void
step_tile(real *W, real *V, ptrdiff_t ldw, const real *restrict pack,
          const real *X, ptrdiff_t ldx, ptrdiff_t B, int m, int n,
          real scale, const coefficients *k, vec *norm, const int full,
          const int momentum, const int subgradient, const int prox,
          const int norms)
{
    /* started from the first row, not from zeros: a memset of the tile
     * per call costs more than the whole B = 1 step */
    vec acc[MR][NV], x[NV];
    load_cols(x, X, n, full);
    for (int r = 0; r < MR; ++r) {
        for (int u = 0; u < NV; ++u) {
            acc[r][u] = pack[r] * x[u];
        }
    }
    for (ptrdiff_t b = 1; b < B; ++b) {
        load_cols(x, X + b * ldx, n, full);
        for (int r = 0; r < MR; ++r) {
            const real s = pack[b * MR + r];
            for (int u = 0; u < NV; ++u) {
                acc[r][u] += s * x[u];
            }
        }
    }
    for (int r = 0; r < m; ++r) {
        real *w_row = W + r * ldw, *v_row = momentum ? V + r * ldw : NULL;
        vec w[NV], v[NV];
        load_cols(w, w_row, n, full);
        if (momentum) {
            load_cols(v, v_row, n, full);
        }
        for (int u = 0; u < NV; ++u) {
            w[u] = step(w[u], &v[u], acc[r][u], scale, k, momentum,
                        subgradient, prox);
            if (norms) {
                norm[r] += w[u] * w[u];
            }
        }
        store_cols(w_row, w, n, full);
        if (momentum) {
            store_cols(v_row, v, n, full);
        }
    }
}

ALWAYS_INLINE void
step_panel(real *W, real *V, ptrdiff_t ldw, const real *pack, const real *X,
           ptrdiff_t ldx, ptrdiff_t B, ptrdiff_t I, int m, real scale,
           const coefficients *k, double *sumsq, const int momentum,
           const int subgradient, const int prox, const int norms)
{
    const ptrdiff_t width = NV * VL;
    vec norm[MR];
    for (int r = 0; r < MR; ++r) {
        norm[r] = (vec){0};
    }
    ptrdiff_t j = 0;
    for (; j + width <= I; j += width) {
        step_tile(W + j, momentum ? V + j : NULL, ldw, pack, X + j, ldx, B, m,
                  (int)width, scale, k, norm, 1, momentum, subgradient, prox,
                  norms);
    }
    if (j < I) {
        step_tile(W + j, momentum ? V + j : NULL, ldw, pack, X + j, ldx, B, m,
                  (int)(I - j), scale, k, norm, 0, momentum, subgradient,
                  prox, norms);
    }
    if (norms) {
        for (int r = 0; r < m; ++r) {
            real lanes[VL];
            vstore(lanes, norm[r]);
            double total = 0;
            for (int i = 0; i < VL; ++i) {
                total += lanes[i];
            }
            sumsq[r] = total;
        }
    }
}

#define STEP_PANEL(momentum, subgradient, prox, norms)                        \
    step_panel(W, V, ldw, pack, X, ldx, B, I, m, scale, &k, sumsq, momentum,  \
               subgradient, prox, norms)

void
KFN(step_panel)(real *W, real *V, ptrdiff_t ldw, const real *dZ,
                ptrdiff_t ldz, const real *X, ptrdiff_t ldx, ptrdiff_t B,
                ptrdiff_t I, int m, real scale, const creg_step_rule *rule,
                double *sumsq)
{
    /* dZ(b, j .. j+m-1) packed per b, zeros past m (never stored) */
    real pack[CREG_STEP_MAX_BATCH * MR];
    for (ptrdiff_t b = 0; b < B; ++b) {
        for (int r = 0; r < MR; ++r) {
            pack[b * MR + r] = r < m ? dZ[b * ldz + r] : 0;
        }
    }
    const coefficients k = {(real)rule->lr,
                            (real)rule->momentum,
                            (real)rule->l2,
                            (real)rule->l1,
                            (real)rule->lr * (real)rule->l1,
                            (real)(1 - rule->lr * rule->l2),
                            -(real)rule->lr * scale};
    const int momentum = rule->momentum != 0;
    const int prox = rule->l1_prox && rule->l1 != 0;
    const int subgradient = !rule->l1_prox && rule->l1 != 0;
    const int norms = rule->max_norm > 0;
    /* every combination gets its own branch-free loop */
    if (momentum) {
        if (prox) {
            norms ? STEP_PANEL(1, 0, 1, 1) : STEP_PANEL(1, 0, 1, 0);
        } else if (subgradient) {
            norms ? STEP_PANEL(1, 1, 0, 1) : STEP_PANEL(1, 1, 0, 0);
        } else {
            norms ? STEP_PANEL(1, 0, 0, 1) : STEP_PANEL(1, 0, 0, 0);
        }
    } else if (prox) {
        norms ? STEP_PANEL(0, 0, 1, 1) : STEP_PANEL(0, 0, 1, 0);
    } else if (subgradient) {
        norms ? STEP_PANEL(0, 1, 0, 1) : STEP_PANEL(0, 1, 0, 0);
    } else {
        norms ? STEP_PANEL(0, 0, 0, 1) : STEP_PANEL(0, 0, 0, 0);
    }
}

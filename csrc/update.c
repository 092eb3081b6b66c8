/* update.c -- the fused parameter update of one layer (DESIGN.md, step rule).
 *
 * Dimensions: O = neurons (rows of W), I = inputs (columns of W).
 * In place on W, b and (when momentum != 0) their velocities VW, Vb.
 * For each weight, in one pass over each row:
 *   1. g = dW + l2 * w           (+ l1 * sign(w) for the subgradient method)
 *   2. v = mu * v - lr * g       (v is -lr * g when mu == 0; same bits)
 *   3. w = w + v
 *   4. prox: w = sign(w) * max(|w| - lr * l1, 0), giving exact zeros
 *   5. max-norm: while the row is still in L1, its norm is summed (in
 *      double, fixed order) and a row with norm > c is scaled to norm c.
 * Biases get steps 2-3 only: never decayed, thresholded or clamped.
 * Unlike sklearn's SGD there is no lazy weight scale or cumulative L1: every
 * weight of a dense layer is touched every step, so laziness would save
 * nothing and would complicate the max-norm clamp.
 * Rows are independent, so threads split rows and results do not depend on
 * the thread count.
 */
#include "creg.h"
#include "real.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#define UPDATE_PARALLEL_MIN 100000

static real
sign_of(real w)
{
    return (real)((w > 0) - (w < 0));
}

/* Steps 1-4 for one row.  The three switches are compile-time constants at
 * each call site below, so every combination gets its own branch-free,
 * vectorizable loop. */
static inline void
step_row(real *restrict w, real *restrict v, const real *restrict g,
         ptrdiff_t I, const creg_step_rule *rule, const int momentum,
         const int subgradient, const int prox)
{
    const real lr = (real)rule->lr, mu = (real)rule->momentum;
    const real l2 = (real)rule->l2, l1 = (real)rule->l1;
    const real threshold = lr * l1;
    for (ptrdiff_t i = 0; i < I; ++i) {
        real gi = g[i] + l2 * w[i];
        if (subgradient) {
            gi += l1 * sign_of(w[i]);
        }
        real step = -lr * gi;
        if (momentum) {
            step = mu * v[i] - lr * gi;
            v[i] = step;
        }
        real wi = w[i] + step;
        if (prox) {
            const real shrunk = R_FABS(wi) - threshold;
            wi = shrunk > 0 ? sign_of(wi) * shrunk : 0;
        }
        w[i] = wi;
    }
}

static void
update_row(real *w, real *v, const real *g, ptrdiff_t I,
           const creg_step_rule *rule)
{
    const int momentum = rule->momentum != 0;
    const int subgradient = !rule->l1_prox && rule->l1 != 0;
    const int prox = rule->l1_prox && rule->l1 != 0;
    if (momentum) {
        if (prox) {
            step_row(w, v, g, I, rule, 1, 0, 1);
        } else if (subgradient) {
            step_row(w, v, g, I, rule, 1, 1, 0);
        } else {
            step_row(w, v, g, I, rule, 1, 0, 0);
        }
    } else if (prox) {
        step_row(w, v, g, I, rule, 0, 0, 1);
    } else if (subgradient) {
        step_row(w, v, g, I, rule, 0, 1, 0);
    } else {
        step_row(w, v, g, I, rule, 0, 0, 0);
    }
}

/* Step 5: scale the row to norm c if it is longer (norm summed in double,
 * in a fixed order). */
static void
clamp_row(real *w, ptrdiff_t I, double c)
{
    double sumsq = 0;
    for (ptrdiff_t i = 0; i < I; ++i) {
        sumsq += (double)w[i] * w[i];
    }
    if (sumsq > c * c) {
        const real scale = (real)(c / sqrt(sumsq));
        for (ptrdiff_t i = 0; i < I; ++i) {
            w[i] *= scale;
        }
    }
}

void
CREG_FN(update)(real *W, real *b, real *VW, real *Vb, const real *dW,
                const real *db, ptrdiff_t O, ptrdiff_t I,
                const creg_step_rule *rule, int n_threads)
{
    const double c = rule->max_norm;
#ifdef _OPENMP
    const int nt = n_threads > 0 ? n_threads : omp_get_max_threads();
#else
    const int nt = 1;
    (void)n_threads;
#endif
    ptrdiff_t j;
#pragma omp parallel for num_threads(nt) schedule(static) \
    if ((double)O * I > UPDATE_PARALLEL_MIN)
    for (j = 0; j < O; ++j) {
        real *w = W + j * I;
        real *v = rule->momentum != 0 ? VW + j * I : NULL;
        update_row(w, v, dW + j * I, I, rule);
        if (c > 0) {
            clamp_row(w, I, c); /* the row is still in L1 */
        }
    }
    const real lr = (real)rule->lr, mu = (real)rule->momentum;
    for (j = 0; j < O; ++j) {
        if (mu != 0) {
            Vb[j] = mu * Vb[j] - lr * db[j];
            b[j] += Vb[j];
        } else {
            b[j] += -lr * db[j];
        }
    }
}

/* loss.c -- costs of the output layer and their output deltas.
 *
 * Dimensions: B = rows in the batch, O = output units.  Z is the output
 * layer's pre-activation, A = f(Z) its activation, Y the targets (B x O).
 *
 * Per-sample costs (DESIGN.md), summed over rows in a fixed order in double:
 *   cross_entropy  (sigmoid out): -sum[y ln a + (1-y) ln(1-a)], taken from z
 *                  as sum[max(z,0) - y z + log1p(exp(-|z|))], finite even
 *                  when a saturates to 0 or 1;
 *   log_likelihood (softmax out): -sum y ln a = sum y (lse(z) - z), with
 *                  lse shifted by the row max (-ln a_y for one-hot y);
 *   quadratic      (sigmoid or linear out): 1/2 |a - y|^2.
 * Deltas dC/dz: a - y for the first two, (a - y) f'(z) for quadratic.
 * Outputs are overwritten.  Nothing is divided by B here.
 */
#include "creg.h"
#include "real.h"
#include "kernels.h"

/* soft[k] := log1p(e^-|z[k]|), the cross-entropy's softplus term, in
 * double: from the active level's kernel (float32, sigmoid_kernel.c, a
 * vector at a time, within a few float ulps; a libm call per output took
 * a fifth of a monitor pass over Nielsen's network), else from libm. */
static void
soft_terms(double *soft, const real *z, ptrdiff_t n,
           const CREG_FN(kernels) *kernels)
{
    if (kernels->log1p_exp_neg_abs != NULL) {
        real t[CREG_COST_TERM_CHUNK];
        kernels->log1p_exp_neg_abs(t, z, n);
        for (ptrdiff_t k = 0; k < n; ++k) {
            soft[k] = t[k];
        }
        return;
    }
    for (ptrdiff_t k = 0; k < n; ++k) {
        soft[k] = log1p(exp(-fabs((double)z[k])));
    }
}

/* The cross-entropy cost of `count` outputs, summed in order, a chunk of
 * softplus terms at a time. */
static double
cross_entropy_all(const real *Z, const real *Y, ptrdiff_t count)
{
    const CREG_FN(kernels) *kernels = active_kernels();
    const ptrdiff_t chunk = CREG_COST_TERM_CHUNK;
    double sum = 0;
    double soft[CREG_COST_TERM_CHUNK];
    for (ptrdiff_t first = 0; first < count; first += chunk) {
        const ptrdiff_t n = count - first < chunk ? count - first : chunk;
        const real *z = Z + first, *y = Y + first;
        soft_terms(soft, z, n, kernels);
        for (ptrdiff_t k = 0; k < n; ++k) {
            const double zk = z[k];
            sum += (zk > 0 ? zk : 0) - y[k] * zk + soft[k];
        }
    }
    return sum;
}

static double
log_likelihood_row(const real *z, const real *y, ptrdiff_t O)
{
    double zmax = z[0];
    for (ptrdiff_t k = 1; k < O; ++k) {
        zmax = z[k] > zmax ? z[k] : zmax;
    }
    double s = 0;
    for (ptrdiff_t k = 0; k < O; ++k) {
        s += exp(z[k] - zmax);
    }
    const double lse = zmax + log(s);
    double sum = 0;
    for (ptrdiff_t k = 0; k < O; ++k) {
        sum += y[k] * (lse - z[k]);
    }
    return sum;
}

static double
quadratic_row(const real *a, const real *y, ptrdiff_t O)
{
    double sum = 0;
    for (ptrdiff_t k = 0; k < O; ++k) {
        const double d = (double)a[k] - y[k];
        sum += d * d;
    }
    return 0.5 * sum;
}

int
CREG_FN(cost_by_rows)(const creg_net *net)
{
    return net->cost != CREG_COST_CROSS_ENTROPY;
}

double
CREG_FN(cost_row)(const real *z, const real *a, const real *y, ptrdiff_t O,
                  const creg_net *net)
{
    return net->cost == CREG_COST_LOG_LIKELIHOOD ? log_likelihood_row(z, y, O)
                                                 : quadratic_row(a, y, O);
}

double
CREG_FN(cost_forward)(const real *Z, const real *A, const real *Y,
                      ptrdiff_t B, ptrdiff_t O, const creg_net *net)
{
    if (!CREG_FN(cost_by_rows)(net)) {
        return cross_entropy_all(Z, Y, B * O);
    }
    double total = 0;
    for (ptrdiff_t r = 0; r < B; ++r) {
        total += CREG_FN(cost_row)(Z + r * O, A + r * O, Y + r * O, O, net);
    }
    return total;
}

/* Backward of cost_forward with respect to Z, per sample. */
void
CREG_FN(cost_backward)(real *dZ, const real *A, const real *Y, ptrdiff_t B,
                       ptrdiff_t O, const creg_net *net)
{
    const ptrdiff_t count = B * O;
    for (ptrdiff_t i = 0; i < count; ++i) {
        dZ[i] = A[i] - Y[i];
    }
    if (net->cost == CREG_COST_QUADRATIC) {
        /* on this thread alone: net.c runs this on a team's rows */
        CREG_FN(activation_backward_here)(dZ, dZ, NULL, A, count,
                                          net->output);
    }
}

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
 *      double, fixed order) and a row with norm > c is scaled to norm c,
 *      for any finite weights and c (clamp_row).
 * Biases get steps 2-3 only: never decayed, thresholded or clamped.
 * Unlike sklearn's SGD there is no lazy weight scale or cumulative L1: every
 * weight of a dense layer is touched every step, so laziness would save
 * nothing and would complicate the max-norm clamp.
 * Rows are independent, so threads split rows and results do not depend on
 * the thread count.
 * update_from_batch takes the batch's dZ and layer input instead of dW and
 * runs the step inside the gradient's register tiles (step_kernel.c), so
 * dW is never stored; `update` is the path from a stored gradient (level 0,
 * whose kernel table row has no step kernels, and batches too large for
 * the kernels).
 */
#include <float.h>

#include "creg.h"
#include "real.h"
#include "threads.h"
#include "kernels.h"

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
            /* wi - wi: +0, or NaN for a NaN weight, which must reach
             * the epoch's finiteness check, not become a zero */
            wi = shrunk > 0 ? sign_of(wi) * shrunk : wi - wi;
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

/* A squared norm at least this large and finite was summed without
 * overflow, and the squares (or the kernels' float32 pairs of squares,
 * step_kernel.c) that underflowed, each off by at most 2^-149 in float32
 * and 2^-1074 in float64, move it by far less than a rounding.  Other rows
 * take scaled_norm: float64 ones beyond about 1e154 or below 1e-289,
 * float32 ones with squares beyond 3.4e38 at the vector levels, or below
 * 1e-12. */
#if defined(CREG_F32)
#define SUMSQ_SAFE_MIN 0x1p-80
#else
#define SUMSQ_SAFE_MIN 0x1p-960
#endif

/* 2^-k as the product of two powers of two, each in double's range for
 * every exponent k of a finite double. */
static void
inverse_power(int k, double *first, double *second)
{
    *first = ldexp(1, -k / 2);
    *second = ldexp(1, -k + k / 2);
}

/* The norm of w as norm 2^k: the row is scaled by 2^-k, which brings its
 * largest |w| into [0.5, 1), before it is squared.  The scaling is exact
 * (but for elements too small to count), so only the sum rounds.  A zero
 * row has norm 0, a row with an inf norm inf. */
static double
scaled_norm(const real *w, ptrdiff_t I, int *k)
{
    double largest = 0;
    for (ptrdiff_t i = 0; i < I; ++i) {
        largest = fmax(largest, R_FABS(w[i]));
    }
    *k = 0;
    if (largest == 0 || !isfinite(largest)) {
        return largest;
    }
    (void)frexp(largest, k);
    double first, second, sumsq = 0;
    inverse_power(*k, &first, &second);
    for (ptrdiff_t i = 0; i < I; ++i) {
        const double x = (double)w[i] * first * second;
        sumsq += x * x;
    }
    return sqrt(sumsq);
}

/* Step 5: scale the row to norm c if its norm is above c, given its
 * squared norm summed in double.  The products are formed in double and
 * rounded once to real, so a float32 row of any size reaches any c its
 * elements can show (a float32 factor c / norm would underflow to 0 for a
 * row of 1e19s and c = 1e-30). */
static void
clamp_row(real *w, ptrdiff_t I, double sumsq, double c)
{
    int k = 0; /* the norm is norm 2^k */
    double norm = sqrt(sumsq);
    if (!(sumsq >= SUMSQ_SAFE_MIN && sumsq <= DBL_MAX)) {
        norm = scaled_norm(w, I, &k);
    }
    if (!(norm > (k == 0 ? c : ldexp(c, -k)))) { /* also a NaN norm */
        return;
    }
    const double scale = c / norm;
    if (k == 0 && scale >= DBL_MIN) {
        for (ptrdiff_t i = 0; i < I; ++i) {
            w[i] = (real)(w[i] * scale);
        }
        return;
    }
    /* w 2^-k / norm is at most 1, so neither factor over- or underflows
     * unless the result does */
    double first, second;
    inverse_power(k, &first, &second);
    const double inverse = 1 / norm;
    for (ptrdiff_t i = 0; i < I; ++i) {
        w[i] = (real)((double)w[i] * first * second * inverse * c);
    }
}

/* The squared norm, summed in double in a fixed order. */
static double
squared_norm(const real *w, ptrdiff_t I)
{
    double sumsq = 0;
    for (ptrdiff_t i = 0; i < I; ++i) {
        sumsq += (double)w[i] * w[i];
    }
    return sumsq;
}

/* Steps 2-3 for the biases. */
void
CREG_FN(bias_step)(real *b, real *Vb, const real *db, ptrdiff_t O,
                   const creg_step_rule *rule)
{
    const real lr = (real)rule->lr, mu = (real)rule->momentum;
    for (ptrdiff_t j = 0; j < O; ++j) {
        if (mu != 0) {
            Vb[j] = mu * Vb[j] - lr * db[j];
            b[j] += Vb[j];
        } else {
            b[j] += -lr * db[j];
        }
    }
}

/* This thread's share of update's rows. */
static void
update_rows(real *W, real *VW, const real *dW, ptrdiff_t O, ptrdiff_t I,
            const creg_step_rule *rule)
{
    const double c = rule->max_norm;
    ptrdiff_t j;
    /* nowait: the team's region ends here, in a barrier of its own */
#pragma omp for schedule(static) nowait
    for (j = 0; j < O; ++j) {
        real *w = W + j * I;
        real *v = rule->momentum != 0 ? VW + j * I : NULL;
        update_row(w, v, dW + j * I, I, rule);
        if (c > 0) {
            clamp_row(w, I, squared_norm(w, I), c); /* the row is in L1 */
        }
    }
}

void
CREG_FN(update)(real *W, real *b, real *VW, real *Vb, const real *dW,
                const real *db, ptrdiff_t O, ptrdiff_t I,
                const creg_step_rule *rule, int n_threads)
{
    const int nt = creg_threads_for_work(n_threads, (double)O * I,
                                         CREG_UPDATE_SHARE_MIN, (double)O);
    CREG_TEAM(nt, update_rows(W, VW, dW, O, I, rule));
    CREG_FN(bias_step)(b, Vb, db, O, rule);
}

int
CREG_FN(update_fuses)(ptrdiff_t B)
{
    return active_kernels()->step_panel != NULL && B <= CREG_STEP_MAX_BATCH;
}

static const CREG_FN(look_ahead) no_look_ahead = {NULL, 0, NULL, NULL,
                                                   NULL, 0, NULL, NULL, 0};

/* Panel p's part of the look-ahead (NULL: none): its neurons of z, a slice
 * of the prefetch (the first panels', so the rows arrive early) and, when
 * the kernel runs the forward in its own pass (in_pass, batch 1), the row,
 * for panel 0 the copy, and the deferred step's part (kernels_typed.h).
 * Panels after panel 0 on its thread (p0 is the thread's first) read the
 * row from that copy: aligned, where numpy's rows start 16 bytes into a
 * cache line (forward_rows does the same). */
static CREG_FN(look_ahead)
panel_look_ahead(const CREG_FN(look_ahead) *next, const real *const *copied,
                 ptrdiff_t p, ptrdiff_t p0, ptrdiff_t n_panels, int in_pass)
{
    if (next == NULL) {
        return no_look_ahead;
    }
    const ptrdiff_t per = (next->n_fetch + n_panels - 1) / n_panels;
    const ptrdiff_t f0 = p * per < next->n_fetch ? p * per : next->n_fetch;
    const ptrdiff_t f1 = f0 + per < next->n_fetch ? f0 + per : next->n_fetch;
    const int from_copy = next->copy != NULL && p0 == 0 && p > 0;
    const int pending = in_pass && next->pending_dz != NULL;
    const CREG_FN(look_ahead) mine = {
        !in_pass ? NULL : from_copy ? copied : next->rows, next->B,
        next->z + p * CREG_STEP_MR, in_pass && p == 0 ? next->copy : NULL,
        next->fetch + f0, (int)(f1 - f0),
        pending ? next->pending_dz + p * CREG_STEP_MR : NULL,
        pending ? next->pending_x : NULL, in_pass && next->hold};
    return mine;
}

/* A layer's panels of CREG_STEP_MR neurons, and its rows' chunks of
 * columns (the max-norm sums' chunks, step_kernel.c). */
static ptrdiff_t
step_panels(ptrdiff_t O)
{
    return (O + CREG_STEP_MR - 1) / CREG_STEP_MR;
}

static ptrdiff_t
row_chunks(ptrdiff_t I)
{
    return (I + CREG_STEP_NORM_CHUNK - 1) / CREG_STEP_NORM_CHUNK;
}

/* The neurons of the panel that starts at neuron j (CREG_STEP_MR but at
 * the layer's end). */
static int
panel_neurons(ptrdiff_t O, ptrdiff_t j)
{
    return (int)(O - j < CREG_STEP_MR ? O - j : CREG_STEP_MR);
}

/* Whether a team may split the layer's columns: not for a look-ahead or
 * its packed copy of the batch (its forward and prefetch go panel by
 * panel), not for rows of one chunk, and with max-norm only while the
 * chunk sums fit their buffer. */
static int
columns_split_possible(ptrdiff_t O, ptrdiff_t I, const creg_step_rule *rule,
                       const CREG_FN(look_ahead) *next, int x_packed)
{
    return next == NULL && !x_packed && row_chunks(I) > 1
           && (!(rule->max_norm > 0)
               || O * row_chunks(I) <= CREG_STEP_COLUMN_SUMS_MAX);
}

/* The most columns a thread of `team` gets when the team splits rows of
 * I inputs into runs of chunks (creg_my_share's split; the last chunk
 * may be short). */
static ptrdiff_t
busiest_columns(ptrdiff_t I, int team)
{
    const ptrdiff_t C = row_chunks(I), chunk = CREG_STEP_NORM_CHUNK;
    ptrdiff_t most = 0;
    for (int t = 0; t < team; ++t) {
        const ptrdiff_t c0 = C * t / team, c1 = C * (t + 1) / team;
        const ptrdiff_t end = c1 * chunk < I ? c1 * chunk : I;
        most = c1 > c0 && end - c0 * chunk > most ? end - c0 * chunk : most;
    }
    return most;
}

/* Whether a team of `team` threads splits the columns: only for a layer
 * with fewer than two panels a thread (an output layer of ten neurons has
 * two, so whole panels would leave all but two threads idle), and where
 * that loads the busiest thread no more than whole panels would (its
 * panels times its columns).  Then each thread packs and reads only its
 * columns of the batch, and none waits for the others' packing. */
static int
splits_columns(ptrdiff_t O, ptrdiff_t I, int team, int possible)
{
    if (!possible || team < 2) {
        return 0;
    }
    const ptrdiff_t P = step_panels(O);
    return P < 2 * (ptrdiff_t)team
           && P * busiest_columns(I, team) <= (P + team - 1) / team * I;
}

/* This thread's neurons' biases: their gradient and step. */
static void
bias_share(real *b, real *Vb, real *db, const real *dZ, ptrdiff_t B,
           ptrdiff_t O, ptrdiff_t j0, ptrdiff_t j1, real scale,
           const creg_step_rule *rule)
{
    CREG_FN(bias_gradient_columns)(db, dZ, B, O, j0, j1, scale);
    CREG_FN(bias_step)(b + j0, rule->momentum != 0 ? Vb + j0 : NULL, db + j0,
                       j1 - j0, rule);
}

/* The column split of update_from_batch's work: this thread packs and
 * steps its run of chunks of every row, with the biases of its share of
 * the neurons; with max-norm each chunk's row sums go to sums (chunk k of
 * row j at k O + j), and after the team has stepped every chunk each
 * thread adds up and clamps its share of the rows, as the row's own
 * thread would have. */
static void
step_columns_share(real *W, real *b, real *VW, real *Vb, real *db,
                   const real *dZ, const real *X, ptrdiff_t B,
                   ptrdiff_t O, ptrdiff_t I, real scale,
                   const creg_step_rule *rule, real *scratch, double *sums)
{
    const CREG_FN(kernels) *kernels = active_kernels();
    const double c = rule->max_norm;
    const int packing = B >= CREG_STEP_PACK_BATCH;
    const ptrdiff_t width = kernels->step_tile_width;
    const ptrdiff_t chunk = CREG_STEP_NORM_CHUNK, n_chunks = row_chunks(I);
    ptrdiff_t k0, n_mine, j0, n_neurons;
    creg_my_share(n_chunks, &k0, &n_mine);
    const ptrdiff_t i0 = k0 * chunk;
    const ptrdiff_t i1 = (k0 + n_mine) * chunk < I ? (k0 + n_mine) * chunk : I;
    if (i1 > i0) {
        /* i0 is a tile boundary: these tiles are this thread's alone */
        const ptrdiff_t t0 = i0 / width;
        if (packing) {
            kernels->pack_batch(scratch, X, I, B, I, t0,
                                (i1 - i0 + width - 1) / width);
        }
        const real *x = packing ? scratch + t0 * B * width : X + i0;
        for (ptrdiff_t j = 0; j < O; j += CREG_STEP_MR) {
            const int m = panel_neurons(O, j);
            kernels->step_panel(W + j * I + i0,
                                rule->momentum != 0 ? VW + j * I + i0 : NULL,
                                I, dZ + j, O, x, I, packing, B,
                                i1 - i0, m, scale, rule,
                                c > 0 ? sums + k0 * O + j : NULL, O,
                                &no_look_ahead);
        }
    }
    creg_my_share(O, &j0, &n_neurons);
    bias_share(b, Vb, db, dZ, B, O, j0, j0 + n_neurons, scale, rule);
    if (c > 0) {
#pragma omp barrier
        for (ptrdiff_t j = j0; j < j0 + n_neurons; ++j) {
            double sumsq = 0;
            for (ptrdiff_t k = 0; k < n_chunks; ++k) {
                sumsq += sums[k * O + j];
            }
            clamp_row(W + j * I, I, sumsq, c);
        }
    }
}

/* The panel split of update_from_batch's work: packing the batch when it
 * is long, then this thread's run of panels, each with its neurons'
 * biases (no serial tail after the team's region). */
static void
step_panels_share(real *W, real *b, real *VW, real *Vb, real *db,
                  const real *dZ, const real *X, int x_packed, ptrdiff_t B,
                  ptrdiff_t O, ptrdiff_t I, real scale,
                  const creg_step_rule *rule,
                  const CREG_FN(look_ahead) *next, real *scratch)
{
    const CREG_FN(kernels) *kernels = active_kernels();
    const double c = rule->max_norm;
    const int momentum = rule->momentum != 0;
    const int packing = B >= CREG_STEP_PACK_BATCH && !x_packed;
    const ptrdiff_t width = kernels->step_tile_width;
    const ptrdiff_t n_tiles = (I + width - 1) / width;
    const ptrdiff_t n_panels = step_panels(O);
    /* at batch 1 without max-norm the kernel runs the forward in its own
     * pass; otherwise forward_rows runs it after the panel's step (and
     * clamp), on the panel's rows still in L1 */
    const int ahead_in_pass = next != NULL && next->rows != NULL && B == 1
                              && !(c > 0);
    ptrdiff_t t, p;
    if (packing) {
#pragma omp for schedule(static)
        for (t = 0; t < n_tiles; ++t) {
            kernels->pack_batch(scratch, X, I, B, I, t, 1);
        }
    }
    /* Each weight's operations do not depend on its panel, so threads may
     * split the panels any way: each takes a run of them, and the biases
     * of their neurons.  The region ends after them. */
    ptrdiff_t p0, n_mine;
    creg_my_share(n_panels, &p0, &n_mine);
    /* at batch 1 the copy is the row itself, zero-padded */
    const real *const copied[1] = {next != NULL ? next->copy : NULL};
    const ptrdiff_t j0 = p0 * CREG_STEP_MR < O ? p0 * CREG_STEP_MR : O;
    const ptrdiff_t j1 = (p0 + n_mine) * CREG_STEP_MR < O
                             ? (p0 + n_mine) * CREG_STEP_MR : O;
    bias_share(b, Vb, db, dZ, B, O, j0, j1, scale, rule);
    for (p = p0; p < p0 + n_mine; ++p) {
        const ptrdiff_t j = p * CREG_STEP_MR;
        const int m = panel_neurons(O, j);
        double sumsq[CREG_STEP_MR];
        const CREG_FN(look_ahead) mine = panel_look_ahead(
            next, copied, p, p0, n_panels, ahead_in_pass);
        kernels->step_panel(W + j * I, momentum ? VW + j * I : NULL, I,
                            dZ + j, O, packing ? scratch : X, I,
                            packing || x_packed, B, I, m, scale, rule,
                            sumsq, 0, &mine);
        for (int r = 0; c > 0 && r < m; ++r) {
            clamp_row(W + (j + r) * I, I, sumsq[r], c); /* in cache */
        }
        if (next != NULL && next->rows != NULL && !ahead_in_pass) {
            /* each panel copies its share of the next batch's rows */
            kernels->forward_rows(next->z + j, O, next->rows, next->B,
                                  W + j * I, I, m, I, next->copy, (int)p0,
                                  (int)p, (int)n_panels);
        }
    }
}

/* This thread's share of update_from_batch's work, split by panels or by
 * columns (splits_columns). */
static void
step_share(real *W, real *b, real *VW, real *Vb, real *db, const real *dZ,
           const real *X, int x_packed, ptrdiff_t B, ptrdiff_t O,
           ptrdiff_t I, real scale, const creg_step_rule *rule,
           const CREG_FN(look_ahead) *next, real *scratch,
           int columns_possible, double *sums)
{
    int me, team;
    creg_team_position(&me, &team);
    if (splits_columns(O, I, team, columns_possible)) {
        step_columns_share(W, b, VW, Vb, db, dZ, X, B, O, I, scale, rule,
                           scratch, sums);
    } else {
        step_panels_share(W, b, VW, Vb, db, dZ, X, x_packed, B, O, I, scale,
                          rule, next, scratch);
    }
}

void
CREG_FN(update_from_batch)(real *W, real *b, real *VW, real *Vb,
                           real *db, const real *dZ, const real *X,
                           int x_packed, ptrdiff_t B, ptrdiff_t O,
                           ptrdiff_t I, real scale,
                           const creg_step_rule *rule,
                           const CREG_FN(look_ahead) *next, real *scratch,
                           int n_threads)
{
    const int columns_possible = columns_split_possible(O, I, rule, next,
                                                        x_packed);
    const ptrdiff_t panels = step_panels(O);
    const ptrdiff_t chunks = row_chunks(I);
    const ptrdiff_t parts = columns_possible && chunks > panels ? chunks
                                                                : panels;
    const int nt = creg_threads_for_work(n_threads, (double)O * I * B,
                                         CREG_SHARE_MIN, (double)parts);
    double sums[CREG_STEP_COLUMN_SUMS_MAX]; /* the column split's */
    CREG_TEAM(nt,
              step_share(W, b, VW, Vb, db, dZ, X, x_packed, B, O, I, scale,
                         rule, next, scratch, columns_possible, sums));
}

void
CREG_FN(apply_held_step)(real *W, real *VW, const real *dz, const real *x,
                         ptrdiff_t O, ptrdiff_t I,
                         const creg_step_rule *rule)
{
    /* a batch of its one row without a look-ahead: the kernel's sum is
     * then the single product a pending pass forms, so the same bits */
    const CREG_FN(kernels) *kernels = active_kernels();
    for (ptrdiff_t j = 0; j < O; j += CREG_STEP_MR) {
        const int m = panel_neurons(O, j);
        double sumsq[CREG_STEP_MR];
        kernels->step_panel(W + j * I, VW != NULL ? VW + j * I : NULL, I,
                            dz + j, O, x, I, 0, 1, I, m, 1, rule, sumsq, 0,
                            &no_look_ahead);
    }
}

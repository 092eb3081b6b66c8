/* columns.c -- the first layer in columns for small batches.
 *
 * At batch sizes from 2 to CREG_STEP_PACK_BATCH - 1, on a level with the
 * columns kernels (step_columns.c: AVX2 and AVX-512), train_batches keeps
 * W0 transposed while it runs: W0^T in panels of BLOCK neurons (two
 * vectors: 16 float32 at AVX2, 32 at AVX-512), each I rows of BLOCK
 * contiguous weights (step_columns.c; zeros past O), in the train
 * scratch after the gradient's place (train_scratch), and V0^T after
 * it under momentum.  Both kernels of the step are then outer
 * products (benchmarks/README.md).  The copy is made at the start of each
 * call and copied back at its end, so outside a call W0 is row-major as
 * always; each call's first forward (columns_forward) sums as the
 * look-ahead does, so how an epoch is cut into calls does not change its
 * bits.  Max-norm keeps the row kernels: its norms are of W0's rows.  So
 * does online SGD (batch 1), whose row kernel runs the step and the next
 * sample's forward in one pass over W0 (L2-bound), where the columns
 * forward of one row waits on its multiply-adds' latency (C4 trained 26%
 * slower in columns, benchmarks/README.md).
 */
#include "creg.h"
#include "real.h"
#include "threads.h"
#include "kernels.h"
#include "workspace.h"

/* Blocks of CREG_COLUMNS_WIDTH of W0^T's row at the active level: the
 * columns kernels' register block, and a team's unit. */
#define BLOCK (active_kernels()->columns_width)

/* A first layer of half a panel or less keeps the row kernels: most of
 * its panel would be zeros, multiplied all the same ([784, 1] at batch
 * 10 trained 1.7x slower in columns, [784, 8] 1.1x; benchmarks/README.md,
 * "Narrow first layers"). */
int
CREG_FN(columns_use)(const creg_net *net, ptrdiff_t batch_size,
                     const creg_step_rule *rule)
{
    return active_kernels()->step_columns != NULL && batch_size > 1
           && batch_size < CREG_STEP_PACK_BATCH
           && 2 * net->sizes[1] > BLOCK && !(rule->max_norm > 0);
}

void
CREG_FN(train_scratch_plan)(creg_train_scratch_layout *plan,
                            const creg_net *net, ptrdiff_t batch_size,
                            const creg_step_rule *rule)
{
    creg_train_scratch_plan(
        plan, net, batch_size,
        CREG_FN(columns_use)(net, batch_size, rule) ? BLOCK : 0,
        rule->momentum != 0);
}

ptrdiff_t
CREG_FN(train_scratch)(const creg_net *net, ptrdiff_t batch_size,
                       const creg_step_rule *rule)
{
    creg_train_scratch_layout plan;
    CREG_FN(train_scratch_plan)(&plan, net, batch_size, rule);
    return plan.size;
}

/* A panel at a time: the panel's rows of W0 are read together, so each
 * of their lines serves BLOCK weights of the panel before it leaves L1. */
void
CREG_FN(columns_in)(real *WT, const real *W, ptrdiff_t O, ptrdiff_t I)
{
    for (ptrdiff_t j0 = 0; j0 < O; j0 += BLOCK) {
        real *panel = WT + j0 * I;
        for (ptrdiff_t k = 0; k < I; ++k) {
            for (ptrdiff_t j = 0; j < BLOCK; ++j) {
                panel[k * BLOCK + j] = j0 + j < O ? W[(j0 + j) * I + k] : 0;
            }
        }
    }
}

void
CREG_FN(columns_out)(real *W, const real *WT, ptrdiff_t O, ptrdiff_t I)
{
    for (ptrdiff_t j0 = 0; j0 < O; j0 += BLOCK) {
        const real *panel = WT + j0 * I;
        const ptrdiff_t m = O - j0 < BLOCK ? O - j0 : BLOCK;
        for (ptrdiff_t k = 0; k < I; ++k) {
            for (ptrdiff_t j = 0; j < m; ++j) {
                W[(j0 + j) * I + k] = panel[k * BLOCK + j];
            }
        }
    }
}

/* This thread's columns of O: whole blocks, the last one short. */
static void
my_columns(ptrdiff_t O, ptrdiff_t *j0, ptrdiff_t *j1)
{
    ptrdiff_t first, count;
    creg_my_elements(O, BLOCK, &first, &count);
    *j0 = first;
    *j1 = first + count;
}

/* The team request for a job of work multiply-adds over O columns. */
static int
team_for(int n_threads, double work, ptrdiff_t O)
{
    return creg_threads_for_work(n_threads, work, CREG_SHARE_MIN,
                                 (double)((O + BLOCK - 1) / BLOCK));
}

static void
forward_share(real *Z, const real *const *rows, ptrdiff_t B, const real *WT,
              ptrdiff_t O, ptrdiff_t I)
{
    ptrdiff_t j0, j1;
    my_columns(O, &j0, &j1);
    if (j1 > j0) {
        active_kernels()->forward_columns(Z, O, rows, B, WT, I, j0, j1);
    }
}

void
CREG_FN(columns_forward)(real *Z, const real *const *rows, ptrdiff_t B,
                         const real *WT, ptrdiff_t O, ptrdiff_t I,
                         int n_threads)
{
    const int nt = team_for(n_threads, (double)B * O * I, O);
    CREG_TEAM(nt, forward_share(Z, rows, B, WT, O, I));
}

/* This thread's share: its columns' bias gradients and steps, then their
 * weights (no serial tail after the team's region). */
static void
step_share(real *WT, real *b, real *VT, real *Vb, real *db, const real *dZ,
           const real *const *rows, ptrdiff_t B, ptrdiff_t O, ptrdiff_t I,
           real scale, const creg_step_rule *rule,
           const CREG_FN(look_ahead) *next)
{
    ptrdiff_t j0, j1;
    my_columns(O, &j0, &j1);
    if (j1 == j0) {
        return;
    }
    CREG_FN(bias_gradient_columns)(db, dZ, B, O, j0, j1, scale);
    CREG_FN(bias_step)(b + j0, Vb != NULL ? Vb + j0 : NULL, db + j0, j1 - j0,
                       rule);
    active_kernels()->step_columns(WT, VT, dZ, O, rows, B, I, j0, j1, scale,
                                   rule, next);
}

void
CREG_FN(update_columns)(real *WT, real *b, real *VT, real *Vb, real *db,
                        const real *dZ, const real *const *rows, ptrdiff_t B,
                        ptrdiff_t O, ptrdiff_t I, real scale,
                        const creg_step_rule *rule,
                        const CREG_FN(look_ahead) *next, int n_threads)
{
    const int nt = team_for(n_threads, (double)B * O * I, O);
    CREG_TEAM(nt, step_share(WT, b, VT, Vb, db, dZ, rows, B, O, I, scale,
                             rule, next));
}

/* net.c -- whole-network passes and the epoch driver.
 *
 * Dimensions: L = layers; layer l maps sizes[l] inputs to sizes[l+1]
 * outputs; B = rows in the current batch or chunk; n = samples.
 * params/grads/velocity share one flat layout (creg.h): W_l then b_l.
 * Workspace regions for up to R rows, laid out by creg_workspace_plan
 * (sizes.c), which also gives creg_workspace_size:
 *   Xb  R x sizes[0]   the gathered input batch (shuffled order only)
 *   Xn  R x sizes[0]   the next batch's input, for the small-batch look-ahead
 *   Xp  R x packed_width  a layer's input packed for the fused step
 *   Yb  R x sizes[L]   the gathered targets
 *   A_l R x sizes[l+1] every layer's activation (hidden ones in place of Z)
 *   ZL  R x sizes[L]   the output layer's pre-activation, for the cost
 *   D0, D1  R x max(sizes[1..L])  ping-pong deltas for backprop
 *   H_l, M_l  R x sizes[l+1] per hidden layer: the dropped-out activation
 *             the next layer reads, and the mask that made it
 * Each region reserves creg_padded(width) elements per row, so all start
 * on a cache line; Xb and Xn whole step-kernel tiles (the look-ahead's
 * packed copy).  Nothing here allocates; pointers are recomputed from
 * sizes per call.  params, velocity and grads are overwritten; a
 * creg_pass_sums is added to (a pass may take several calls).
 */
#include <string.h>

#include "creg.h"
#include "real.h"
#include "kernels.h"
#include "workspace.h"
#include "threads.h"

typedef struct {
    real *Xb, *Xn, *Xp, *Yb, *ZL, *D[2];
    real *A[CREG_MAX_LAYERS];
    real *H[CREG_MAX_LAYERS], *M[CREG_MAX_LAYERS];
    /* training with the first layer in columns (columns.c): W0^T, V0^T
     * (NULL without momentum) and the batch's input rows; else NULL */
    real *WT, *VT;
    const real *const *rows;
} workspace;

/* The regions of ws for R rows, where creg_workspace_plan puts them. */
static workspace
carve(real *ws, const creg_net *net, ptrdiff_t R)
{
    creg_workspace_layout plan;
    creg_workspace_plan(&plan, net, R);
    workspace w;
    w.Xb = ws + plan.Xb;
    w.Xn = ws + plan.Xn;
    w.Xp = ws + plan.Xp;
    w.Yb = ws + plan.Yb;
    w.ZL = ws + plan.ZL;
    w.D[0] = ws + plan.D[0];
    w.D[1] = ws + plan.D[1];
    w.WT = w.VT = NULL;
    w.rows = NULL;
    for (int l = 0; l < net->n_layers; ++l) {
        w.A[l] = ws + plan.A[l];
        if (l < net->n_layers - 1) {
            w.H[l] = ws + plan.H[l];
            w.M[l] = ws + plan.M[l];
        }
    }
    return w;
}

/* Offset of W_l in the flat parameter layout; b_l follows W_l. */
static ptrdiff_t
layer_offset(const creg_net *net, int l)
{
    ptrdiff_t off = 0;
    for (int k = 0; k < l; ++k) {
        off += net->sizes[k + 1] * (net->sizes[k] + 1);
    }
    return off;
}

static int
drops(const creg_noise *noise)
{
    return noise != NULL && noise->dropout > 0;
}

/* What layer l + 1 reads: the hidden activation, or its dropped-out copy. */
static const real *
layer_input(const workspace *w, const real *X, int l, const creg_noise *noise)
{
    if (l == 0) {
        return X;
    }
    return drops(noise) ? w->H[l - 1] : w->A[l - 1];
}

/* The buffer layer 0's pre-activation is summed into. */
static real *
first_z(const workspace *w, const creg_net *net)
{
    return net->n_layers == 1 ? w->ZL : w->A[0];
}

/* Fills w->A[*] and w->ZL (and, training with dropout, w->H/M[*]) for the
 * B rows of X, through layer `layers` - 1 (L: the whole network).  noise
 * is NULL at inference.  With z0_ready, first_z already holds X . W_0^T
 * (the previous step's look-ahead).  Returns
 * CREG_ENONFINITE if layer 0's pre-activation is not finite: the weights
 * overflowed, or a row of X holds NaN or inf (then its whole row of
 * X . W_0^T is, since NaN and inf times a weight, zero or not, stay
 * non-finite in the sums), so that neither fit nor predict need scan X
 * first.  Tested before the activation, which may map NaN to a finite
 * value.  Training stops there; inference computes every layer. */
static int
forward(workspace *w, const real *params, const real *X, ptrdiff_t B,
        const creg_net *net, const creg_noise *noise, uint64_t step,
        int z0_ready, int layers, int n_threads)
{
    const int L = net->n_layers;
    int status = CREG_OK;
    for (int l = 0; l < layers; ++l) {
        const ptrdiff_t I = net->sizes[l], O = net->sizes[l + 1];
        const real *W = params + layer_offset(net, l);
        real *Z = l == L - 1 ? w->ZL : w->A[l];
        if (l == 0 && z0_ready) {
            /* the previous step's look-ahead summed it */
        } else if (l == 0 && w->WT != NULL) {
            CREG_FN(columns_forward)(Z, w->rows, B, w->WT, O, I, n_threads);
        } else {
            CREG_FN(dense_product)(Z, layer_input(w, X, l, noise), W, B, I,
                                   O, n_threads);
        }
        CREG_FN(dropout_plan) drop;
        const int dropped = l < L - 1 && drops(noise);
        if (dropped) {
            CREG_FN(plan_dropout)(&drop, noise, step, l);
        }
        if (!CREG_FN(layer_output)(w->A[l], Z, dropped ? w->H[l] : NULL,
                                   dropped ? w->M[l] : NULL, W + O * I,
                                   B, O,
                                   l == L - 1 ? net->output : net->hidden,
                                   l == 0, dropped ? &drop : NULL,
                                   n_threads)) {
            if (noise != NULL) {
                return CREG_ENONFINITE;
            }
            status = CREG_ENONFINITE;
        }
    }
    return status;
}

/* Whether the batch's cost is finite, without its logs where that can be
 * told otherwise: the cross-entropy and log-likelihood costs are computed
 * from the logits (loss.c) and are finite exactly when the logits are (up
 * to sums beyond 1e307, out of float32's reach); the quadratic cost is as
 * cheap as the test, and can overflow with finite outputs. */
static int
cost_finite(const workspace *w, const real *Y, ptrdiff_t B,
            const creg_net *net)
{
    const int L = net->n_layers;
    if (net->cost == CREG_COST_QUADRATIC) {
        return isfinite(CREG_FN(cost_forward)(w->ZL, w->A[L - 1], Y, B,
                                              net->sizes[L], net));
    }
    return CREG_FN(all_finite)(w->ZL, B * net->sizes[L]);
}

/* The label of a row of outputs or targets, as Network.predict takes it:
 * the first largest of O > 1 values (numpy's argmax), else value > 0.5. */
static ptrdiff_t
row_label(const real *v, ptrdiff_t O)
{
    if (O == 1) {
        return v[0] > (real)0.5;
    }
    ptrdiff_t best = 0;
    for (ptrdiff_t k = 1; k < O; ++k) {
        best = v[k] > v[best] ? k : best;
    }
    return best;
}

/* The rows of A (B x O outputs) whose label is that of Y's row, or with
 * per_label the entries on the same side of 0.5 as Y's. */
static int64_t
count_correct(const real *A, const real *Y, ptrdiff_t B, ptrdiff_t O,
              int per_label)
{
    int64_t correct = 0;
    if (per_label) {
        for (ptrdiff_t i = 0; i < B * O; ++i) {
            correct += (A[i] > (real)0.5) == (Y[i] > (real)0.5);
        }
        return correct;
    }
    for (ptrdiff_t r = 0; r < B; ++r) {
        correct += row_label(A + r * O, O) == row_label(Y + r * O, O);
    }
    return correct;
}

/* sums += the data cost and the rows labelled right of a forward pass's B
 * output rows (w->ZL, w->A[L-1]) against the targets Y (B x sizes[L]);
 * CREG_ENONFINITE, and nothing added, if the cost is not finite, unless
 * for a `query`, which reports what it finds. */
static int
add_pass_sums(creg_pass_sums *sums, const workspace *w, const real *Y,
              ptrdiff_t B, const creg_net *net, int query)
{
    const int L = net->n_layers;
    const ptrdiff_t O = net->sizes[L];
    const real *A = w->A[L - 1];
    const double cost = CREG_FN(cost_forward)(w->ZL, A, Y, B, O, net);
    if (!isfinite(cost) && !query) {
        return CREG_ENONFINITE;
    }
    sums->cost += cost;
    if (net->output != CREG_ACT_LINEAR) {
        sums->correct += count_correct(A, Y, B, O, sums->per_label);
    }
    return CREG_OK;
}

/* The output layer's forward and what training takes from it, for the
 * rows of one thread of a team that splits them as dense_product does
 * (dense_product_by_rows; the same bits on any team): the product, bias
 * and activation, whether the logits are finite (`check`), each row's
 * cost (where the cost sums by rows and row_cost is not NULL), the rows
 * labelled right (`count`) and the cost's output delta dZ.  On one thread
 * these took 7 us of a C3 step while the team waited. */
typedef struct {
    const real *X, *W, *b, *Y;
    real *Z, *A, *dZ;
    double *row_cost;
    ptrdiff_t B, I, O;
    const creg_net *net;
    int check, count, per_label, delta;
    int finite;      /* cleared by a thread whose logits are not finite */
    int64_t correct; /* added to by each thread */
} output_tail;

static void
output_tail_share(output_tail *t)
{
    ptrdiff_t first, rows;
    CREG_FN(dense_rows_share)(t->B, &first, &rows);
    if (rows <= 0) {
        return;
    }
    const ptrdiff_t O = t->O, at = first * O;
    CREG_FN(dense_product_rows)(t->Z, t->X, t->W, t->I, O, first, rows);
    CREG_FN(layer_output_rows)(t->A, t->Z, NULL, NULL, t->b, first, rows, O,
                               t->net->output, 0, NULL, NULL);
    if (t->check && !CREG_FN(all_finite)(t->Z + at, rows * O)) {
#pragma omp atomic write
        t->finite = 0;
    }
    for (ptrdiff_t r = first; t->row_cost != NULL && r < first + rows; ++r) {
        t->row_cost[r] = CREG_FN(cost_row)(t->Z + r * O, t->A + r * O,
                                           t->Y + r * O, O, t->net);
    }
    if (t->count) {
        const int64_t correct = count_correct(t->A + at, t->Y + at, rows, O,
                                              t->per_label);
#pragma omp atomic
        t->correct += correct;
    }
    if (t->delta) {
        CREG_FN(cost_backward)(t->dZ + at, t->A + at, t->Y + at, rows, O,
                               t->net);
    }
}

/* The output layer's forward, the batch's cost (added to sums, or only
 * tested) and, with `delta`, its output delta w->D[0], on `team`
 * (dense_product_by_rows), with the bits of forward's last layer,
 * add_pass_sums or cost_finite, and cost_backward on one thread: each
 * row's cost is summed in row order after the team (in w->D[1], free
 * until the output layer's input gradient: at least 16 reals a row, room
 * for a double), and the cross-entropy, which sums every output in one
 * run, by cost_forward. */
static int
output_layer_tail(workspace *w, creg_pass_sums *sums, const real *params,
                  const real *X, const real *Y, ptrdiff_t B,
                  const creg_net *net, const creg_noise *noise, int query,
                  int delta, int team)
{
    const int L = net->n_layers;
    const ptrdiff_t I = net->sizes[L - 1], O = net->sizes[L];
    const real *W = params + layer_offset(net, L - 1);
    const int by_rows = CREG_FN(cost_by_rows)(net);
    /* the cost itself: for the sums, or as the quadratic's finiteness */
    const int costed = sums != NULL || net->cost == CREG_COST_QUADRATIC;
    output_tail t = {
        .X = layer_input(w, X, L - 1, noise), .W = W, .b = W + O * I, .Y = Y,
        .Z = w->ZL, .A = w->A[L - 1], .dZ = w->D[0],
        .row_cost = costed && by_rows ? (double *)(void *)w->D[1] : NULL,
        .B = B, .I = I, .O = O, .net = net,
        .check = !costed,
        .count = sums != NULL && net->output != CREG_ACT_LINEAR,
        .per_label = sums != NULL ? sums->per_label : 0,
        .delta = delta, .finite = 1, .correct = 0};
    CREG_TEAM(team, output_tail_share(&t));
    double cost = 0;
    if (costed && by_rows) {
        for (ptrdiff_t r = 0; r < B; ++r) {
            cost += t.row_cost[r];
        }
    } else if (costed) {
        cost = CREG_FN(cost_forward)(w->ZL, w->A[L - 1], Y, B, O, net);
    }
    if (sums == NULL) {
        return (costed ? isfinite(cost) : t.finite) ? CREG_OK
                                                    : CREG_ENONFINITE;
    }
    if (!isfinite(cost) && !query) {
        return CREG_ENONFINITE;
    }
    sums->cost += cost;
    sums->correct += t.correct;
    return CREG_OK;
}

/* The team on which the output layer's forward splits B rows, which then
 * also takes its cost (output_layer_tail), or 0: forward computes that
 * layer whole (the GEMM's shapes; layer 0, which may come from the
 * look-ahead or the columns). */
static int
output_team(const creg_net *net, ptrdiff_t B, int n_threads)
{
    const int L = net->n_layers;
    return L > 1 ? CREG_FN(dense_product_by_rows)(B, net->sizes[L - 1],
                                                  net->sizes[L], n_threads)
                 : 0;
}

/* After forward through the layers before the output layer (team != 0,
 * output_team) or through all of them (team 0): the output layer on its
 * team, or else the cost on one thread; the cost added to sums (as
 * add_pass_sums) or only tested (cost_finite), and with `delta` the
 * output delta in w->D[0]. */
static int
output_and_cost(workspace *w, creg_pass_sums *sums, const real *params,
                const real *X, const real *Y, ptrdiff_t B,
                const creg_net *net, const creg_noise *noise, int query,
                int delta, int team)
{
    if (team != 0) {
        return output_layer_tail(w, sums, params, X, Y, B, net, noise, query,
                                 delta, team);
    }
    const int L = net->n_layers;
    const int status = sums != NULL ? add_pass_sums(sums, w, Y, B, net, query)
                       : cost_finite(w, Y, B, net) ? CREG_OK
                                                   : CREG_ENONFINITE;
    if (status == CREG_OK && delta) {
        CREG_FN(cost_backward)(w->D[0], w->A[L - 1], Y, B, net->sizes[L],
                               net);
    }
    return status;
}

/* The step of layer l from its batch (dZ and the input it read, packed or
 * not: update_from_batch), and the look-ahead's work (next: NULL for
 * none); db is scratch for the bias gradient. */
static void
step_layer(real *params, real *velocity, real *db, const real *dZ,
           const real *X, int x_packed, ptrdiff_t B, ptrdiff_t I, ptrdiff_t O,
           ptrdiff_t off, const creg_step_rule *rule,
           const CREG_FN(look_ahead) *next, const workspace *w,
           int n_threads)
{
    real *v = rule->momentum != 0 ? velocity + off : NULL;
    real *W = params + off, *b = W + O * I;
    if (off == 0 && w->WT != NULL) { /* layer 0 in columns */
        CREG_FN(update_columns)(w->WT, b, w->VT, v != NULL ? v + O * I : NULL,
                                db, dZ, w->rows, B, O, I, (real)1 / (real)B,
                                rule, next, n_threads);
        return;
    }
    CREG_FN(update_from_batch)(W, b, v, v != NULL ? v + O * I : NULL, db, dZ,
                               X, x_packed, B, O, I, (real)1 / (real)B, rule,
                               next, w->Xp, n_threads);
}

/* Forward and backward over B rows.  If sums is not NULL, it adds the
 * batch's cost and correct rows (add_pass_sums); otherwise the cost is
 * only checked finite (cost_finite: the logs of a cost cost as much as a
 * small layer).  A non-finite cost stops training (CREG_ENONFINITE), but
 * not a query (gradient), which sums whatever it finds, as cost() does.
 * With rule == NULL, grads := the batch-mean gradient.
 * Otherwise, when update_fuses(B), each layer's step is taken as soon as
 * its dZ and input gradient are known (the input gradient reads W before
 * the step), and grads holds only scratch; then layer 0's step does next's
 * work (NULL: none); next->z is first_z, which holds the next batch's
 * layer-0 pre-activation (z0_ready next time) if next->rows is set.  With
 * z0_ready, X is read only by layer 0's step, and may be the packed copy
 * the look-ahead made (x_packed). */
static int
backprop(workspace *w, real *grads, creg_pass_sums *sums, real *params,
         real *velocity, const real *X, int x_packed, const real *Y,
         ptrdiff_t B,
         const creg_net *net, const creg_step_rule *rule,
         const creg_noise *noise, uint64_t step, int z0_ready,
         const CREG_FN(look_ahead) *next, int query, int n_threads)
{
    const int L = net->n_layers;
    const int team = output_team(net, B, n_threads);
    int status = forward(w, params, X, B, net, noise, step, z0_ready,
                         team != 0 ? L - 1 : L, n_threads);
    if (query) { /* computed through, as inference does */
        status = CREG_OK;
    }
    if (status == CREG_OK) {
        status = output_and_cost(w, sums, params, X, Y, B, net, noise, query,
                                 1, team);
    }
    if (status != CREG_OK) {
        return status;
    }
    for (int l = L - 1; l >= 0; --l) {
        const ptrdiff_t I = net->sizes[l], O = net->sizes[l + 1];
        const ptrdiff_t off = layer_offset(net, l);
        real *dZ = w->D[(L - 1 - l) % 2], *dX = w->D[(L - l) % 2];
        const real *input = layer_input(w, X, l, noise);
        if (rule != NULL) {
            if (l > 0) {
                CREG_FN(input_gradient)(dX, dZ, params + off, B, I, O,
                                        n_threads);
            }
            /* first_z is free by layer 0's step: its last reader, the
             * activation backward of layer 1's input, has run */
            step_layer(params, velocity, grads + off + O * I, dZ, input,
                       l == 0 && x_packed, B, I, O, off, rule,
                       l == 0 ? next : NULL, w, n_threads);
        } else {
            CREG_FN(dense_backward)(l > 0 ? dX : NULL, grads + off,
                                    grads + off + O * I, dZ, input,
                                    params + off, B, I, O,
                                    (real)1 / (real)B, n_threads);
        }
        if (l > 0) {
            CREG_FN(activation_backward)(dX, dX,
                                         drops(noise) ? w->M[l - 1] : NULL,
                                         w->A[l - 1], B * I, net->hidden,
                                         n_threads);
        }
    }
    return CREG_OK;
}

int
CREG_FN(gradient)(real *grads, double *cost_sum, real *ws,
                  const real *params, const real *X, const real *Y,
                  ptrdiff_t B, const creg_net *net, int n_threads)
{
    workspace w = carve(ws, net, B);
    creg_pass_sums sums = {0, 0, 0};
    /* never stepped (rule NULL), so params is only read */
    const int status = backprop(&w, grads, &sums, (real *)params, NULL, X,
                                0, Y, B, net, NULL, NULL, 0, 0, NULL, 1,
                                n_threads);
    *cost_sum = sums.cost;
    return status;
}

/* Asks for the rows the next batch will gather: shuffled rows are scattered
 * over a data set far larger than the caches, and without this each step
 * would wait on memory for its rows (a fifth of a Nielsen step).  Into L2
 * (locality 2): in L1 the step's own traffic would evict them first. */
static void
prefetch_rows(const real *src, const int64_t *order, ptrdiff_t first,
              ptrdiff_t B, ptrdiff_t D)
{
#if defined(__GNUC__)
    const ptrdiff_t line = 64 / (ptrdiff_t)sizeof(real);
    for (ptrdiff_t r = 0; r < B; ++r) {
        const real *row = src + order[first + r] * D;
        for (ptrdiff_t i = 0; i < D; i += line) {
            __builtin_prefetch(row + i, 0, 2);
        }
        __builtin_prefetch(row + D - 1, 0, 2);
    }
#else
    (void)src, (void)order, (void)first, (void)B, (void)D;
#endif
}

/* Copies the rows order[first .. first+B-1] of src (n x D) to dst (B x D). */
static void
gather(real *dst, const real *src, const int64_t *order, ptrdiff_t first,
       ptrdiff_t B, ptrdiff_t D)
{
    for (ptrdiff_t r = 0; r < B; ++r) {
        memcpy(dst + r * D, src + order[first + r] * D, sizeof(real) * D);
    }
}

/* This thread's rows of batch_input's copy: gathered (order) and noised;
 * then its rows of the next batch (B_next rows), asked for. */
static void
input_share(real *buf, const real *X, const int64_t *order, ptrdiff_t first,
            ptrdiff_t B, ptrdiff_t D, const creg_noise *noise, ptrdiff_t t,
            ptrdiff_t B_next)
{
    ptrdiff_t r0, rows;
    creg_my_share(B, &r0, &rows);
    const real *src = X + first * D;
    if (order != NULL) {
        gather(buf + r0 * D, X, order, first + r0, rows, D);
        src = buf;
    }
    if (noise->input_noise > 0) {
        CREG_FN(input_noise_units)(buf, src, r0 * D, rows * D, noise,
                                   (uint64_t)t);
    }
    if (order != NULL && B_next > 0) {
        /* the rows this thread will gather next, into its own L2; on one
         * thread a batch of 128 MNIST rows took about 25 us to ask for,
         * time in which the rest of the team waited */
        creg_my_share(B_next, &r0, &rows);
        prefetch_rows(X, order, first + B + r0, rows, D);
    }
}

/* The input rows of batch t (B rows from `first` in the epoch's order): X's
 * own rows, or a copy in buf when they are shuffled or noised, made by the
 * team on a large batch (input noise is a log and a cos per element).
 * Shuffled, the B_next rows after them are prefetched by the team too. */
static const real *
batch_input(real *buf, const real *X, const int64_t *order, ptrdiff_t first,
            ptrdiff_t B, ptrdiff_t D, const creg_noise *noise, ptrdiff_t t,
            ptrdiff_t B_next, int n_threads)
{
    if (order == NULL && !(noise->input_noise > 0)) {
        return X + first * D;
    }
    const int nt = creg_threads_for_elements(n_threads, B * D, B);
    CREG_TEAM(nt, input_share(buf, X, order, first, B, D, noise, t, B_next));
    return buf;
}

/* A look-ahead and the row pointers it points to. */
typedef struct {
    CREG_FN(look_ahead) work;
    const real *rows[CREG_STEP_PACK_BATCH], *fetch[CREG_STEP_PACK_BATCH];
} look_ahead;

/* Points a's work at the B input rows of batch t, from `first` in the
 * epoch's order, and returns where the next step will find them: shuffled
 * rows without input noise are read where they lie and copied to buf by
 * the kernel in passing; otherwise batch_input makes them first. */
static const real *
plan_look_ahead(look_ahead *a, real *buf, const real *X,
                const int64_t *order, ptrdiff_t first, ptrdiff_t B,
                ptrdiff_t D, const creg_noise *noise, ptrdiff_t t,
                int columns)
{
    a->work.rows = a->rows;
    a->work.B = B;
    if (order != NULL && !(noise->input_noise > 0)) {
        for (ptrdiff_t r = 0; r < B; ++r) {
            a->rows[r] = X + order[first + r] * D;
        }
        /* the columns kernels read the rows where they lie */
        a->work.copy = columns ? NULL : buf;
        return buf;
    }
    const real *x = batch_input(buf, X, order, first, B, D, noise, t, 0,
                                1);
    for (ptrdiff_t r = 0; r < B; ++r) {
        a->rows[r] = x + r * D;
    }
    return x;
}

/* Rows in the batch that starts at row `first` (0 past the end). */
static ptrdiff_t
rows_from(ptrdiff_t first, ptrdiff_t n, ptrdiff_t batch_size)
{
    return n - first < batch_size ? n - first : batch_size;
}

/* Prefetches a row's first line: a row of a large data set may be a TLB
 * miss, which the first prefetch of its page waits for, so the page is
 * looked up a step before the rest of the row is fetched.  The first line
 * only: numpy backs large arrays with 2 MiB pages, so the row's last line
 * is on the same page, and prefetching it too measured 1.3% slower on
 * Nielsen's network (the per-tile prefetches fetch it soon enough). */
static void
touch_row(const real *row)
{
#if defined(__GNUC__)
    __builtin_prefetch(row, 0, 3);
#else
    (void)row;
#endif
}

int
CREG_FN(train_batches)(real *params, real *velocity, real *grads, real *ws,
                       const real *X, const real *Y,
                       const int64_t *order, ptrdiff_t n,
                       ptrdiff_t batch_size, ptrdiff_t first_batch,
                       ptrdiff_t n_batches, const creg_net *net,
                       const creg_step_rule *rule, const creg_noise *noise,
                       creg_pass_sums *sums, int n_threads)
{
    const int L = net->n_layers;
    const ptrdiff_t D_in = net->sizes[0], D_out = net->sizes[L];
    workspace w = carve(ws, net, batch_size);
    const ptrdiff_t end = first_batch + n_batches;
    real *buffer = w.Xb, *next_buffer = w.Xn;
    const real *Xb = NULL;
    /* x_packed: Xb is a look-ahead's copy (so z0_ready too) */
    int z0_ready = 0, x_packed = 0;
    /* the first layer in columns: W0^T (and V0^T) in grads past the
     * parameters' place for the call, the batch read row by row */
    const int columns = CREG_FN(columns_use)(net, batch_size, rule);
    const ptrdiff_t O0 = net->sizes[1];
    const real *rows[CREG_STEP_PACK_BATCH];
    creg_train_scratch_layout plan;
    CREG_FN(train_scratch_plan)(&plan, net, batch_size, rule);
    /* online SGD at a level that holds steps (dispatch.c): every other
     * step's pass over W0 holds its stores, and the next step's pass
     * applies both steps and stores (kernels_typed.h), so W0 is written
     * half as often.  held: the stored W0 is one step behind. */
    const int defers = batch_size == 1
                       && active_kernels()->holds_online_steps
                       && !(rule->max_norm > 0);
    real *held_x = defers ? grads + plan.held_x : NULL;
    real *held_dz = defers ? grads + plan.held_dz : NULL;
    int held = 0;
    if (columns) {
        w.WT = grads + plan.WT;
        w.VT = rule->momentum != 0 ? grads + plan.VT : NULL;
        w.rows = rows;
        CREG_FN(columns_in)(w.WT, params, O0, D_in);
        if (w.VT != NULL) {
            CREG_FN(columns_in)(w.VT, velocity, O0, D_in);
        }
    }
    int status = CREG_OK;
    for (ptrdiff_t t = first_batch; t < end; ++t) {
        const ptrdiff_t first = t * batch_size;
        const ptrdiff_t B = rows_from(first, n, batch_size);
        const int fused = CREG_FN(update_fuses)(B);
        /* small batches: the step's pass over W_0 also runs the next
         * batch's forward */
        const int small = fused && B < CREG_STEP_PACK_BATCH;
        const int ahead = small && t + 1 < end;
        /* the next batch's rows (0 past the epoch's end) */
        const ptrdiff_t after = rows_from(first + B, n, batch_size);
        const ptrdiff_t B_next = ahead ? after : 0;
        if (!z0_ready) {
            /* the next batch's rows are asked for here unless the step's
             * pass fetches them (small) */
            Xb = batch_input(buffer, X, order, first, B, D_in, noise, t,
                             small ? 0 : after, n_threads);
            for (ptrdiff_t r = 0; columns && r < B; ++r) {
                rows[r] = Xb + r * D_in;
            }
        }
        /* hold only where the next step's pass runs in the look-ahead too */
        const int hold = defers && !held && t + 2 < end;
        look_ahead next = {{NULL, 0, first_z(&w, net), NULL, NULL, 0,
                            held ? held_dz : NULL, held ? held_x : NULL,
                            hold},
                           {NULL}, {NULL}};
        next.work.fetch = next.fetch;
        const real *x_next = ahead ? plan_look_ahead(&next, next_buffer, X,
                                                     order, first + B, B_next,
                                                     D_in, noise, t + 1,
                                                     columns)
                                   : NULL;
        const real *Yb = Y + first * D_out;
        if (order != NULL) {
            gather(w.Yb, Y, order, first, B, D_out);
            Yb = w.Yb;
            if (small) { /* the first rows not gathered yet, asked for
                          * over layer 0's step */
                const ptrdiff_t later = first + B + B_next;
                const ptrdiff_t n_later = rows_from(later, n, batch_size);
                for (ptrdiff_t r = 0; r < n_later; ++r) {
                    next.fetch[r] = X + order[later + r] * D_in;
                    touch_row(next.fetch[r]);
                }
                next.work.n_fetch = (int)n_later;
            }
            prefetch_rows(Y, order, first + B, after, D_out);
        }
        status = backprop(&w, grads, sums, params, velocity, Xb, x_packed, Yb,
                          B, net, fused ? rule : NULL, noise, (uint64_t)t,
                          z0_ready, small ? &next.work : NULL, 0, n_threads);
        if (status != CREG_OK) {
            if (held) { /* the refused step would have applied it */
                CREG_FN(apply_held_step)(params,
                                         rule->momentum != 0 ? velocity
                                                             : NULL,
                                         held_dz, held_x, O0, D_in, rule);
            }
            break;
        }
        if (hold) { /* what the next step's pass needs to apply it again */
            memcpy(held_x, Xb, sizeof(real) * (size_t)D_in);
            /* layer 0's dZ (backprop's D ping-pong) */
            memcpy(held_dz, w.D[(L - 1) % 2], sizeof(real) * (size_t)O0);
        }
        held = hold;
        if (ahead && columns) {
            memcpy(rows, next.rows, sizeof(rows[0]) * (size_t)B_next);
        }
        if (ahead) {
            real *swap = buffer;
            buffer = next_buffer;
            next_buffer = swap;
            Xb = x_next;
        }
        z0_ready = ahead;
        x_packed = ahead && next.work.copy != NULL;
        for (int l = 0; !fused && l < L; ++l) {
            const ptrdiff_t I = net->sizes[l], O = net->sizes[l + 1];
            const ptrdiff_t off = layer_offset(net, l);
            real *v = rule->momentum != 0 ? velocity + off : NULL;
            CREG_FN(update)(params + off, params + off + O * I, v,
                            v != NULL ? v + O * I : NULL, grads + off,
                            grads + off + O * I, O, I, rule, n_threads);
        }
    }
    if (columns) { /* a refused batch changed nothing: its step never ran */
        CREG_FN(columns_out)(params, w.WT, O0, D_in);
        if (w.VT != NULL) {
            CREG_FN(columns_out)(velocity, w.VT, O0, D_in);
        }
    }
    return status;
}

int
CREG_FN(evaluate)(real *out, creg_pass_sums *sums, real *ws,
                  const real *params, const real *X, const real *Y,
                  ptrdiff_t n, ptrdiff_t chunk_rows, const creg_net *net,
                  int n_threads)
{
    const int L = net->n_layers;
    const ptrdiff_t D_in = net->sizes[0], D_out = net->sizes[L];
    workspace w = carve(ws, net, chunk_rows);
    int status = CREG_OK;
    for (ptrdiff_t first = 0; first < n; first += chunk_rows) {
        const ptrdiff_t B = n - first < chunk_rows ? n - first : chunk_rows;
        const real *Xc = X + first * D_in;
        /* against targets, the output layer on its team with the cost */
        const int team = Y != NULL ? output_team(net, B, n_threads) : 0;
        /* inference (noise NULL) computes on through a non-finite row */
        if (forward(&w, params, Xc, B, net, NULL, 0, 0,
                    team != 0 ? L - 1 : L, n_threads) != CREG_OK) {
            status = CREG_ENONFINITE;
        }
        if (Y != NULL) {
            /* a query: a non-finite cost is added, not refused (evaluation
             * reports what it finds, NaN; it does not stop) */
            output_and_cost(&w, sums, params, Xc, Y + first * D_out, B, net,
                            NULL, 1, 0, team);
        }
        if (out != NULL) {
            memcpy(out + first * D_out, w.A[L - 1],
                   sizeof(real) * B * D_out);
        }
    }
    return status;
}

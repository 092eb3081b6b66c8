/* sizes.c -- buffer sizes derived from the architecture (untyped), and the
 * workspace layout that both carves the workspace (net.c) and sizes it. */
#include "creg.h"
#include "workspace.h"

ptrdiff_t
creg_param_count(const creg_net *net)
{
    ptrdiff_t count = 0;
    for (int l = 0; l < net->n_layers; ++l) {
        count += net->sizes[l + 1] * (net->sizes[l] + 1);
    }
    return count;
}

/* n rounded up to whole step-kernel tiles at every level. */
static ptrdiff_t
packed(ptrdiff_t n)
{
    return (n + CREG_STEP_TILE_MAX - 1) / CREG_STEP_TILE_MAX
           * CREG_STEP_TILE_MAX;
}

ptrdiff_t
creg_packed_width(const creg_net *net)
{
    ptrdiff_t widest = 0;
    for (int l = 0; l < net->n_layers; ++l) {
        widest = net->sizes[l] > widest ? net->sizes[l] : widest;
    }
    return packed(widest);
}

/* The offset of a region of R rows of `per_row` elements, after those
 * placed so far. */
static ptrdiff_t
place(ptrdiff_t *end, ptrdiff_t R, ptrdiff_t per_row)
{
    const ptrdiff_t at = *end;
    *end += R * per_row;
    return at;
}

void
creg_workspace_plan(creg_workspace_layout *plan, const creg_net *net,
                    ptrdiff_t R)
{
    const int L = net->n_layers;
    ptrdiff_t widest = 0, end = 0;
    for (int l = 1; l <= L; ++l) {
        widest = net->sizes[l] > widest ? net->sizes[l] : widest;
    }
    /* Xb and Xn take turns holding the next batch's rows as the
     * look-ahead copies them, in the step kernels' packed layout: whole
     * tiles of the widest level (CREG_STEP_TILE_MAX, a multiple of the
     * row alignment). */
    const ptrdiff_t input_row = packed(net->sizes[0]);
    plan->Xb = place(&end, R, input_row);
    plan->Xn = place(&end, R, input_row);
    plan->Xp = place(&end, R, creg_packed_width(net));
    plan->Yb = place(&end, R, creg_padded(net->sizes[L]));
    for (int l = 0; l < L; ++l) {
        plan->A[l] = place(&end, R, creg_padded(net->sizes[l + 1]));
    }
    plan->ZL = place(&end, R, creg_padded(net->sizes[L]));
    plan->D[0] = place(&end, R, creg_padded(widest));
    plan->D[1] = place(&end, R, creg_padded(widest));
    for (int l = 0; l < L - 1; ++l) {
        plan->H[l] = place(&end, R, creg_padded(net->sizes[l + 1]));
        plan->M[l] = place(&end, R, creg_padded(net->sizes[l + 1]));
    }
    plan->size = end;
}

void
creg_train_scratch_plan(creg_train_scratch_layout *plan, const creg_net *net,
                        ptrdiff_t batch_size, ptrdiff_t columns_width,
                        int momentum)
{
    const ptrdiff_t block = columns_width > 0 ? columns_width : 1;
    const ptrdiff_t columns =
        net->sizes[0] * ((net->sizes[1] + block - 1) / block * block);
    /* on a cache line, like the buffer (Python allocates it so): W0^T's
     * vectors each in one line */
    plan->WT = creg_padded(creg_param_count(net));
    plan->VT = plan->WT + columns;
    plan->held_x = plan->WT;
    plan->held_dz = plan->held_x + creg_padded(net->sizes[0]);
    plan->size = columns_width > 0 ? plan->VT + (momentum ? columns : 0)
                 : batch_size == 1 ? plan->held_dz
                                         + creg_padded(net->sizes[1])
                                   : plan->WT;
}

ptrdiff_t
creg_workspace_size(const creg_net *net, ptrdiff_t max_rows)
{
    creg_workspace_layout plan;
    creg_workspace_plan(&plan, net, max_rows);
    return plan.size;
}

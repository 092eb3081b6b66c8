/* sizes.c -- buffer sizes derived from the architecture (untyped). */
#include "creg.h"

ptrdiff_t
creg_param_count(const creg_net *net)
{
    ptrdiff_t count = 0;
    for (int l = 0; l < net->n_layers; ++l) {
        count += net->sizes[l + 1] * (net->sizes[l] + 1);
    }
    return count;
}

/* The widest layer input rounded up to whole step-kernel tiles. */
ptrdiff_t
creg_packed_width(const creg_net *net)
{
    ptrdiff_t widest = 0;
    for (int l = 0; l < net->n_layers; ++l) {
        widest = net->sizes[l] > widest ? net->sizes[l] : widest;
    }
    return (widest + CREG_STEP_TILE_MAX - 1) / CREG_STEP_TILE_MAX
           * CREG_STEP_TILE_MAX;
}

/* Must match carve() in net.c. */
ptrdiff_t
creg_workspace_size(const creg_net *net, ptrdiff_t max_rows)
{
    const int L = net->n_layers;
    /* Xb, Xn, Xp, Yb, ZL */
    ptrdiff_t per_row = 2 * creg_padded(net->sizes[0])
                        + creg_packed_width(net)
                        + 2 * creg_padded(net->sizes[L]),
              widest = 0;
    for (int l = 1; l <= L; ++l) {
        /* A_l, plus H_l and M_l for hidden layers */
        per_row += (l < L ? 3 : 1) * creg_padded(net->sizes[l]);
        widest = net->sizes[l] > widest ? net->sizes[l] : widest;
    }
    return max_rows * (per_row + 2 * creg_padded(widest));
}

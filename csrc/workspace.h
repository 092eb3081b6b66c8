/* workspace.h -- where each region of a workspace lies (internal).
 *
 * One function, creg_workspace_plan, lays the regions out; net.c carves
 * the buffer by its offsets and creg_workspace_size reports its total, so
 * the two cannot disagree.  Every region is rows x a fixed width, so the
 * size is linear in the rows (the Python side relies on it).
 */
#ifndef CREG_WORKSPACE_H
#define CREG_WORKSPACE_H

#include "creg.h"
#include "blocking.h"

/* Offsets, in elements, of the regions for R rows (net.c's legend); H and
 * M only for hidden layers.  size: the elements they take together. */
typedef struct {
    ptrdiff_t Xb, Xn, Xp, Yb, ZL, D[2];
    ptrdiff_t A[CREG_MAX_LAYERS];
    ptrdiff_t H[CREG_MAX_LAYERS], M[CREG_MAX_LAYERS];
    ptrdiff_t size;
} creg_workspace_layout;

void creg_workspace_plan(creg_workspace_layout *plan, const creg_net *net,
                         ptrdiff_t R);

/* train_batches' grads (train_scratch): the gradient's place (the
 * parameters' layout, at 0), then, where the first layer trains in
 * columns of `columns_width` neurons (columns.c; 0: it does not), W0^T
 * and under momentum V0^T, each sizes[0] x sizes[1] rounded up to whole
 * panels and starting on a cache line when the buffer does; for batches
 * of 1 in their place, the held step's input row and layer-0 delta
 * (held_x, sizes[0] wide, and held_dz, sizes[1]; kernels_typed.h);
 * offsets in elements. */
typedef struct {
    ptrdiff_t WT, VT, held_x, held_dz, size;
} creg_train_scratch_layout;

void creg_train_scratch_plan(creg_train_scratch_layout *plan,
                             const creg_net *net, ptrdiff_t batch_size,
                             ptrdiff_t columns_width, int momentum);

/* Elements per row that a region reserves for a width n: n rounded up to
 * CREG_WS_ROW_ALIGN, so every region starts on a cache line. */
static inline ptrdiff_t
creg_padded(ptrdiff_t n)
{
    return (n + CREG_WS_ROW_ALIGN - 1) / CREG_WS_ROW_ALIGN
           * CREG_WS_ROW_ALIGN;
}

/* Elements per row of a layer input packed for the fused step: the widest
 * layer input rounded up to whole step-kernel tiles. */
ptrdiff_t creg_packed_width(const creg_net *net);

#endif

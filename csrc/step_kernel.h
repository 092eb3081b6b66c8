/* step_kernel.h -- the fused gradient-and-step kernels update.c dispatches
 * to (one per instruction set; see step_kernel.c).  Included by typed
 * sources, after real.h. */
#ifndef CREG_STEP_KERNEL_H
#define CREG_STEP_KERNEL_H

#define CREG_DECLARE_STEP_KERNELS(isa)                                        \
    void CREG_FN(step_panel_##isa)(real *W, real *V, ptrdiff_t ldw,           \
                                   const real *dZ, ptrdiff_t ldz,             \
                                   const real *X, ptrdiff_t ldx, int packed,  \
                                   ptrdiff_t B, ptrdiff_t I, int m,           \
                                   real scale,                                \
                                   const creg_step_rule *rule,                \
                                   double *sumsq, const real *x_next,         \
                                   real *z_next);                             \
    void CREG_FN(pack_batch_##isa)(real *Xp, const real *X, ptrdiff_t ldx,    \
                                   ptrdiff_t B, ptrdiff_t I, ptrdiff_t first, \
                                   ptrdiff_t count);                          \
    ptrdiff_t CREG_FN(step_tile_width_##isa)(void);                           \
    void CREG_FN(forward_row_##isa)(real *z, const real *x, const real *W,    \
                                    ptrdiff_t ldw, ptrdiff_t O, ptrdiff_t I);

CREG_DECLARE_STEP_KERNELS(base)
CREG_DECLARE_STEP_KERNELS(avx2)

#endif

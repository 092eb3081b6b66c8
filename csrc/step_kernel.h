/* step_kernel.h -- the fused gradient-and-step kernels (one set per
 * instruction set; see step_kernel.c) and the choice among them, for
 * update.c and dense.c.  Included by typed sources, after real.h. */
#ifndef CREG_STEP_KERNEL_H
#define CREG_STEP_KERNEL_H

#define CREG_DECLARE_STEP_KERNELS(isa)                                        \
    void CREG_FN(step_panel_##isa)(real *W, real *V, ptrdiff_t ldw,           \
                                   const real *dZ, ptrdiff_t ldz,             \
                                   const real *X, ptrdiff_t ldx, int packed,  \
                                   ptrdiff_t B, ptrdiff_t I, int m,           \
                                   real scale,                                \
                                   const creg_step_rule *rule,                \
                                   double *sumsq,                             \
                                   const CREG_FN(look_ahead) *next);          \
    void CREG_FN(pack_batch_##isa)(real *Xp, const real *X, ptrdiff_t ldx,    \
                                   ptrdiff_t B, ptrdiff_t I, ptrdiff_t first, \
                                   ptrdiff_t count);                          \
    ptrdiff_t CREG_FN(step_tile_width_##isa)(void);                           \
    void CREG_FN(forward_rows_##isa)(real *Z, ptrdiff_t ldz,                  \
                                     const real *const *rows, ptrdiff_t B,    \
                                     const real *W, ptrdiff_t ldw,            \
                                     ptrdiff_t O, ptrdiff_t I, real *copy,    \
                                     int part, int parts);

CREG_DECLARE_STEP_KERNELS(base)
CREG_DECLARE_STEP_KERNELS(avx2)
CREG_DECLARE_STEP_KERNELS(avx512)

/* The kernels of the active level; all NULL at level 0 (and in builds
 * without vector kernels), where callers take the reference path. */
typedef struct {
    void (*panel)(real *, real *, ptrdiff_t, const real *, ptrdiff_t,
                  const real *, ptrdiff_t, int, ptrdiff_t, ptrdiff_t, int,
                  real, const creg_step_rule *, double *,
                  const CREG_FN(look_ahead) *);
    void (*pack)(real *, const real *, ptrdiff_t, ptrdiff_t, ptrdiff_t,
                 ptrdiff_t, ptrdiff_t);
    void (*forward_rows)(real *, ptrdiff_t, const real *const *, ptrdiff_t,
                         const real *, ptrdiff_t, ptrdiff_t, ptrdiff_t,
                         real *, int, int);
    ptrdiff_t tile_width;
} step_kernels;

#define CREG_STEP_KERNELS_OF(isa)                                             \
    ((step_kernels){CREG_FN(step_panel_##isa), CREG_FN(pack_batch_##isa),     \
                    CREG_FN(forward_rows_##isa),                              \
                    CREG_FN(step_tile_width_##isa)()})

static inline step_kernels
active_step_kernels(void)
{
    const step_kernels none = {NULL, NULL, NULL, 0};
#if defined(CREG_HAVE_VECTOR_KERNELS)
    const int level = creg_kernel_level();
#if defined(CREG_HAVE_AVX2_KERNELS)
    if (level >= 3) {
        return CREG_STEP_KERNELS_OF(avx512);
    }
    if (level >= 2) {
        return CREG_STEP_KERNELS_OF(avx2);
    }
#endif
    if (level >= 1) {
        return CREG_STEP_KERNELS_OF(base);
    }
#endif
    return none;
}

#endif

/* sigmoid_kernel.h -- sigmoid_kernel.c's float32 maps (out[i] := f(in[i]))
 * and the variant to run: the AVX2 one from kernel level 2, else the
 * baseline-width one (at level 0 too: only the GEMMs fall back to plain
 * loops there).  Builds without vector kernels define no SIGMOID_KERNEL,
 * and their callers keep libm loops. */
#ifndef CREG_SIGMOID_KERNEL_H
#define CREG_SIGMOID_KERNEL_H

#include "creg.h"

#if defined(CREG_HAVE_VECTOR_KERNELS)
#define CREG_DECLARE_SIGMOID_KERNELS(isa)                                     \
    void creg_sigmoid_##isa##_f32(float *A, const float *Z, ptrdiff_t count); \
    void creg_log1p_exp_neg_abs_##isa##_f32(float *T, const float *Z,         \
                                            ptrdiff_t count);
CREG_DECLARE_SIGMOID_KERNELS(base)
CREG_DECLARE_SIGMOID_KERNELS(avx2)

#if defined(CREG_HAVE_AVX2_KERNELS)
#define SIGMOID_KERNEL(name)                                                  \
    (creg_kernel_level() >= 2 ? creg_##name##_avx2_f32                        \
                              : creg_##name##_base_f32)
#else
#define SIGMOID_KERNEL(name) creg_##name##_base_f32
#endif
#endif

#endif

/* real.h -- the per-precision switch; the only #if on precision in creg.
 *
 * Typed sources (gemm.c, activation.c, loss.c, dense.c, update.c, net.c) are
 * compiled twice, once with CREG_F32 and once with CREG_F64 defined.  This
 * header maps that define to the element type `real`, to the exported-name
 * suffix (CREG_FN(dense_forward) -> creg_dense_forward_f32) and to the math
 * functions of that precision.
 */
#ifndef CREG_REAL_H
#define CREG_REAL_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(CREG_F32)
typedef float real;
#define CREG_FN(name) creg_##name##_f32
#define R_EXP expf
#define R_LOG1P log1pf
#define R_TANH tanhf
#define R_SQRT sqrtf
#define R_FABS fabsf
typedef uint32_t real_bits; /* an unsigned integer of real's width */
#elif defined(CREG_F64)
typedef double real;
#define CREG_FN(name) creg_##name##_f64
#define R_EXP exp
#define R_LOG1P log1p
#define R_TANH tanh
#define R_SQRT sqrt
#define R_FABS fabs
typedef uint64_t real_bits;
#else
#error "define CREG_F32 or CREG_F64 before including real.h"
#endif

#endif

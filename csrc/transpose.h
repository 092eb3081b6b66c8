/* transpose.h -- a VL x VL block of vectors transposed in registers by
 * GNU vector shuffles, for any precision and vector width.  Internal;
 * include after real.h and simd.h.
 * Used by sparse predict's tiles (sparse_kernel.c) and the packed GEMM's
 * packing of B^T and of A's rows (gemm_packed.c). */
#ifndef CREG_TRANSPOSE_H
#define CREG_TRANSPOSE_H

#include <stdint.h>

/* Shuffles of two vectors by lane numbers (GCC and clang spell it
 * differently), and the integer vector of real's width for GCC's masks. */
#if defined(CREG_F32)
typedef int32_t ivec __attribute__((vector_size(VBYTES)));
#define LANES (VBYTES / 4) /* VL for the preprocessor */
#else
typedef int64_t ivec __attribute__((vector_size(VBYTES)));
#define LANES (VBYTES / 8)
#endif
#if defined(__clang__)
#define SHUFFLE(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define SHUFFLE(a, b, ...) __builtin_shuffle(a, b, (ivec){__VA_ARGS__})
#endif

/* t[j] := lane j of r[0..VL-1]: a VL x VL block transposed in registers
 * (interleaving pairs, then pairs of pairs, ...). */
static inline void
transpose(vec *t, const vec *r)
{
#if LANES == 2
    t[0] = SHUFFLE(r[0], r[1], 0, 2);
    t[1] = SHUFFLE(r[0], r[1], 1, 3);
#elif LANES == 4
    const vec a0 = SHUFFLE(r[0], r[1], 0, 4, 1, 5);
    const vec a1 = SHUFFLE(r[0], r[1], 2, 6, 3, 7);
    const vec a2 = SHUFFLE(r[2], r[3], 0, 4, 1, 5);
    const vec a3 = SHUFFLE(r[2], r[3], 2, 6, 3, 7);
    t[0] = SHUFFLE(a0, a2, 0, 1, 4, 5);
    t[1] = SHUFFLE(a0, a2, 2, 3, 6, 7);
    t[2] = SHUFFLE(a1, a3, 0, 1, 4, 5);
    t[3] = SHUFFLE(a1, a3, 2, 3, 6, 7);
#elif LANES == 8
    vec a[8], b[8];
    for (int i = 0; i < 8; i += 2) { /* within 128-bit halves */
        a[i] = SHUFFLE(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        a[i + 1] = SHUFFLE(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int i = 0; i < 8; i += 4) { /* b[i + j] = lanes j | j + 4 */
        b[i] = SHUFFLE(a[i], a[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        b[i + 1] = SHUFFLE(a[i], a[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        b[i + 2] = SHUFFLE(a[i + 1], a[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
        b[i + 3] = SHUFFLE(a[i + 1], a[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    for (int j = 0; j < 4; ++j) {
        t[j] = SHUFFLE(b[j], b[j + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        t[j + 4] = SHUFFLE(b[j], b[j + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
#elif LANES == 16
    /* four butterflies: rows i and i + d (i without bit d) swap their
     * lanes of distance d, for d = 1, 2, 4, 8 */
#define BUTTERFLY(dst, src, d, LO, HI)                                        \
    for (int i = 0; i < 16; ++i) {                                            \
        if (!(i & (d))) {                                                     \
            dst[i] = SHUFFLE(src[i], src[i + (d)], LO);                       \
            dst[i + (d)] = SHUFFLE(src[i], src[i + (d)], HI);                 \
        }                                                                     \
    }
#define LO1 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30
#define HI1 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31
#define LO2 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29
#define HI2 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31
#define LO4 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27
#define HI4 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31
#define LO8 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23
#define HI8 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31
    vec a[16], b[16];
    BUTTERFLY(a, r, 1, LO1, HI1)
    BUTTERFLY(b, a, 2, LO2, HI2)
    BUTTERFLY(a, b, 4, LO4, HI4)
    BUTTERFLY(t, a, 8, LO8, HI8)
#else
#error "transpose: no shuffle for this vector length"
#endif
}

#endif

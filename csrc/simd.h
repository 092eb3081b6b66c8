/* simd.h -- the vector type of a per-ISA kernel source, and its loads.
 *
 * Included by sources compiled once per (precision x instruction set), after
 * real.h: CREG_ISA_AVX2 gives 32-byte vectors (built with -mavx2 -mfma),
 * CREG_ISA_AVX512 64-byte vectors (-mavx512f), anything else the 16-byte
 * baseline (SSE2 on x86-64, NEON on aarch64).  The AVX-512VL build defines
 * CREG_ISA_AVX2 too and adds CREG_ISA_AVX512VL (-mavx512f -mavx512vl): the
 * same 32-byte vectors and operations, so the same bits, with 32 vector
 * registers instead of 16 for larger tiles.
 * KFN(name) names a kernel of this build: creg_name_avx2_f32 and so on.
 * Written with GNU C vector extensions, so one source serves every ISA.
 */
#ifndef CREG_SIMD_H
#define CREG_SIMD_H

#include <string.h>

#if defined(CREG_ISA_AVX512)
#define VBYTES 64
#define KFN(name) CREG_FN(name##_avx512)
#elif defined(CREG_ISA_AVX512VL)
#define VBYTES 32
#define KFN(name) CREG_FN(name##_avx512vl)
#elif defined(CREG_ISA_AVX2)
#define VBYTES 32
#define KFN(name) CREG_FN(name##_avx2)
#else
#define VBYTES 16
#define KFN(name) CREG_FN(name##_base)
#endif

#define VL ((int)(VBYTES / sizeof(real)))
typedef real vec __attribute__((vector_size(VBYTES)));
/* a vec's lanes as integers: a comparison's result, or a vec's bits */
typedef __typeof__((vec){0} > (vec){0}) mask;

static inline vec
vload(const real *p)
{
    vec v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void
vstore(real *p, vec v)
{
    memcpy(p, &v, sizeof v);
}

/* v stays in a register: GCC otherwise folds its load (or broadcast)
 * into every multiply-add that reads it, one load per use instead of one
 * (an empty asm that "changes" v; no instruction). */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define KEEP_IN_REGISTER(v) __asm__("" : "+v"(v))
#else
#define KEEP_IN_REGISTER(v) ((void)0)
#endif

/* x in every lane: one broadcast (x - 0 is x, the sign of zero included;
 * 0 + x is not, so it costs a scalar add first) */
static inline vec
splat(real x)
{
    return x - (vec){0};
}

#if defined(CREG_ISA_AVX512)
#include <immintrin.h>

/* AVX-512 masks the lanes below n itself: loads that read only those (the
 * rest as zeros, never faulting) and stores that write only those. */
static inline vec
vload_part(const real *p, int n)
{
#if defined(CREG_F32)
    return (vec)_mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p);
#else
    return (vec)_mm512_maskz_loadu_pd((__mmask8)((1u << n) - 1), p);
#endif
}

static inline void
vstore_part(real *p, vec v, int n)
{
#if defined(CREG_F32)
    _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), (__m512)v);
#else
    _mm512_mask_storeu_pd(p, (__mmask8)((1u << n) - 1), (__m512d)v);
#endif
}
#elif defined(CREG_ISA_AVX2)
#include <immintrin.h>

/* All ones in the lanes below n: AVX2's masked loads read only those (the
 * rest load as zeros and never fault), where a vector assembled element by
 * element stalls on store forwarding, which short rows (the tails of every
 * row of a small layer) pay each time. */
static inline __m256i
lanes_below(int n)
{
#if defined(CREG_F32)
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
#else
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n),
                              _mm256_setr_epi64x(0, 1, 2, 3));
#endif
}

/* The first n (< VL) elements of p, zero-filled to a whole vector. */
static inline vec
vload_part(const real *p, int n)
{
#if defined(CREG_F32)
    return (vec)_mm256_maskload_ps(p, lanes_below(n));
#else
    return (vec)_mm256_maskload_pd(p, lanes_below(n));
#endif
}

/* The first n (< VL) lanes of v to p: as up to three plain stores of
 * halving width (16, 8, 4 bytes), since a masked store takes about twelve
 * cycles on this AMD Zen 4 (measured 3.3 ns each) where a plain one takes
 * one.  In bytes, so one sequence serves both precisions. */
static inline void
vstore_part(real *p, vec v, int n)
{
    char *to = (char *)p;
    size_t left = (size_t)n * sizeof(real);
    __m128i part = _mm256_castsi256_si128((__m256i)v);
    if (left >= 16) {
        _mm_storeu_si128((__m128i *)to, part);
        part = _mm256_extracti128_si256((__m256i)v, 1);
        to += 16;
        left -= 16;
    }
    if (left >= 8) {
        _mm_storel_epi64((__m128i *)to, part);
        part = _mm_srli_si128(part, 8);
        to += 8;
        left -= 8;
    }
    if (left >= 4) {
        const int32_t low = _mm_cvtsi128_si32(part);
        memcpy(to, &low, sizeof low);
    }
}
#else
/* The first n (< VL) elements of p, zero-filled to a whole vector. */
static inline vec
vload_part(const real *p, int n)
{
    real t[VL];
    for (int i = 0; i < VL; ++i) {
        t[i] = i < n ? p[i] : 0;
    }
    return vload(t);
}

static inline void
vstore_part(real *p, vec v, int n)
{
    real t[VL];
    vstore(t, v);
    for (int i = 0; i < n; ++i) {
        p[i] = t[i];
    }
}
#endif

/* nv consecutive vectors from p of which the first n elements are valid:
 * whole loads when `full` (a constant at each call), else zero-filled past
 * n; and the matching store of the valid elements. */
static inline __attribute__((always_inline)) void
vload_cols(vec *v, const real *p, int nv, int n, const int full)
{
    for (int u = 0; u < nv; ++u) {
        const int cols = n - u * VL;
        v[u] = full ? vload(p + u * VL)
                    : vload_part(p + u * VL,
                                 cols >= VL ? VL : (cols > 0 ? cols : 0));
    }
}

static inline __attribute__((always_inline)) void
vstore_cols(real *p, const vec *v, int nv, int n, const int full)
{
    for (int u = 0; u < nv; ++u) {
        const int cols = n - u * VL;
        if (full || cols >= VL) {
            vstore(p + u * VL, v[u]);
        } else if (cols > 0) {
            vstore_part(p + u * VL, v[u], cols);
        }
    }
}

/* Bit i set for each lane i of m that is not zero. */
static inline unsigned
nonzero_bits(mask m)
{
#if defined(CREG_ISA_AVX512) && defined(CREG_F32)
    return _mm512_test_epi32_mask((__m512i)m, (__m512i)m);
#elif defined(CREG_ISA_AVX512)
    return _mm512_test_epi64_mask((__m512i)m, (__m512i)m);
#elif defined(CREG_ISA_AVX2) && defined(CREG_F32)
    return (unsigned)_mm256_movemask_ps((__m256)(m != 0));
#elif defined(CREG_ISA_AVX2)
    return (unsigned)_mm256_movemask_pd((__m256d)(m != 0));
#else
    unsigned bits = 0;
    for (int i = 0; i < VL; ++i) {
        bits |= (unsigned)(m[i] != 0) << i;
    }
    return bits;
#endif
}

/* The sum of the lanes, in a fixed pairwise order. */
static inline real
vsum(vec v)
{
    real t[VL];
    vstore(t, v);
    for (int width = VL / 2; width >= 1; width /= 2) {
        for (int i = 0; i < width; ++i) {
            t[i] += t[i + width];
        }
    }
    return t[0];
}

/* out[i] := vsum(v[i]) for i < n, bit for bit.  Under AVX2 and AVX-512
 * (float32) eight vectors are summed at once, transposed as they are
 * added, in about a third of the operations of eight vsums (a 64-byte
 * vector first adds its halves: vsum's first step at 16 lanes). */
static inline __attribute__((always_inline)) void
vsum_each(real *out, const vec *v, int n)
{
#if (defined(CREG_ISA_AVX2) || defined(CREG_ISA_AVX512)) && defined(CREG_F32)
    for (int first = 0; first < n; first += 8) {
        __m256 a[8];
        for (int i = 0; i < 8; ++i) { /* past n: repeats, not stored */
            const vec x = v[first + i < n ? first + i : first];
#if defined(CREG_ISA_AVX512)
            /* lanes i and i + 8 (vsum's first step at 16 lanes) */
            a[i] = _mm256_add_ps(
                _mm512_castps512_ps256((__m512)x),
                _mm256_castpd_ps(_mm512_extractf64x4_pd((__m512d)x, 1)));
#else
            a[i] = (__m256)x;
#endif
        }
        /* lanes i and i + 4 (vsum's step at 8 lanes), two vectors per add */
        __m256 h[4];
        for (int i = 0; i < 4; ++i) {
            h[i] = _mm256_add_ps(_mm256_permute2f128_ps(a[2 * i], a[2 * i + 1],
                                                        0x20),
                                 _mm256_permute2f128_ps(a[2 * i], a[2 * i + 1],
                                                        0x31));
        }
        /* then lanes 0 + 2 and 1 + 3 of those */
        __m256 q[2];
        for (int i = 0; i < 2; ++i) {
            q[i] = _mm256_add_ps(
                _mm256_shuffle_ps(h[2 * i], h[2 * i + 1], 0x44),
                _mm256_shuffle_ps(h[2 * i], h[2 * i + 1], 0xee));
        }
        /* and the two halves: vectors 0 2 4 6 1 3 5 7 */
        const __m256 s = _mm256_add_ps(_mm256_shuffle_ps(q[0], q[1], 0x88),
                                       _mm256_shuffle_ps(q[0], q[1], 0xdd));
        float t[8];
        _mm256_storeu_ps(t, s);
        static const int lane[8] = {0, 4, 1, 5, 2, 6, 3, 7};
        for (int i = 0; i < 8 && first + i < n; ++i) {
            out[first + i] = t[lane[i]];
        }
    }
#else
    for (int i = 0; i < n; ++i) {
        out[i] = vsum(v[i]);
    }
#endif
}

#endif

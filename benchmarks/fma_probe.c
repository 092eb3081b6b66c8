/* fma_probe.c -- single-core float32 FMA throughput at 256 and 512 bits.
 *
 * cpuid says whether a CPU has AVX-512, not how many FMA units run it: a
 * Xeon Gold or Sapphire Rapids core retires two 512-bit FMAs a cycle, a
 * Xeon Silver, an Ice Lake laptop or AMD Zen 4 one (Zen 4 as two 256-bit
 * halves).  Every AVX2 core since Haswell retires two 256-bit FMAs a
 * cycle, so the 512-bit rate over the 256-bit rate counts the 512-bit FMA
 * units: about 2 for two, about 1 for one.  machine.py compiles this (any
 * x86-64 C compiler; the kernels pick their ISA by target attribute) and
 * reads its one line: "GFLOP/s at 256 bits, at 512 bits (0: no AVX-512F)".
 *
 * Each kernel runs 12 independent FMA chains (more than latency x units,
 * 4 x 2) over registers only, for 1-2 ms, shorter than a time slice, so
 * that on a busy machine some runs go uninterrupted; the best of 31
 * alternating runs is printed.
 */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

#define CHAINS 12
#define ITERATIONS 1000000L
#define RUNS 31

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static volatile float sink;

/* unrolled, so that the chains live in registers */
#define CHAIN_STEP(fma, acc, x, y)                                            \
    do {                                                                      \
        _Pragma("GCC unroll 12") for (int c = 0; c < CHAINS; ++c) {          \
            acc[c] = fma(acc[c], x, y);                                       \
        }                                                                     \
    } while (0)

__attribute__((target("avx2,fma"))) static double
gflops_256(void)
{
    __m256 acc[CHAINS];
    for (int c = 0; c < CHAINS; ++c) {
        acc[c] = _mm256_set1_ps((float)c);
    }
    const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
    const double start = now();
    for (long i = 0; i < ITERATIONS; ++i) {
        CHAIN_STEP(_mm256_fmadd_ps, acc, x, y);
    }
    const double seconds = now() - start;
    __m256 sum = acc[0];
    for (int c = 1; c < CHAINS; ++c) {
        sum = _mm256_add_ps(sum, acc[c]);
    }
    sink = _mm256_cvtss_f32(sum);
    return 2.0 * 8 * CHAINS * ITERATIONS / seconds / 1e9;
}

__attribute__((target("avx512f"))) static double
gflops_512(void)
{
    __m512 acc[CHAINS];
    for (int c = 0; c < CHAINS; ++c) {
        acc[c] = _mm512_set1_ps((float)c);
    }
    const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
    const double start = now();
    for (long i = 0; i < ITERATIONS; ++i) {
        CHAIN_STEP(_mm512_fmadd_ps, acc, x, y);
    }
    const double seconds = now() - start;
    __m512 sum = acc[0];
    for (int c = 1; c < CHAINS; ++c) {
        sum = _mm512_add_ps(sum, acc[c]);
    }
    sink = _mm512_reduce_add_ps(sum);
    return 2.0 * 16 * CHAINS * ITERATIONS / seconds / 1e9;
}

int
main(void)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        printf("0 0\n");
        return 0;
    }
    const int wide = __builtin_cpu_supports("avx512f");
    double best256 = 0, best512 = 0;
    for (int run = 0; run < RUNS; ++run) {
        const double g256 = gflops_256();
        best256 = g256 > best256 ? g256 : best256;
        if (wide) {
            const double g512 = gflops_512();
            best512 = g512 > best512 ? g512 : best512;
        }
    }
    printf("%.1f %.1f\n", best256, best512);
    return 0;
}

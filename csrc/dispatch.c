/* dispatch.c -- which GEMM micro-kernels run: chosen once, at run time.
 *
 * Levels: 0 the plain reference loops of gemm.c; 1 the vector kernels at
 * the baseline width (SSE2 on x86-64, NEON on aarch64); 2 the AVX2+FMA
 * kernels, when the CPU has both; 3 those with the training step kernels
 * (step_kernel.c) built for AVX-512VL, whose 32 vector registers hold
 * larger tiles of the same 32-byte vectors: the same operations in the same
 * order as level 2, so the same bits.  The wheel is built for the baseline, so
 * one binary runs everywhere and uses what the CPU offers.  The level is
 * set by the caller (Python reads CREG_DISABLE_SIMD once); kernels never
 * read the environment.
 */
#include "creg.h"

static int active_level = -1;

int
creg_best_kernel_level(void)
{
#if !defined(CREG_HAVE_VECTOR_KERNELS)
    return 0;
#elif defined(CREG_HAVE_AVX2_KERNELS)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        return __builtin_cpu_supports("avx512f")
                       && __builtin_cpu_supports("avx512vl")
                   ? 3
                   : 2;
    }
    return 1;
#else
    return 1;
#endif
}

int
creg_set_kernel_level(int level)
{
    const int best = creg_best_kernel_level();
    active_level = level < 0 || level > best ? best : level;
    return active_level;
}

int
creg_kernel_level(void)
{
    return active_level < 0 ? creg_set_kernel_level(-1) : active_level;
}

const char *
creg_kernel_name(int level)
{
    switch (level) {
    case 0:
        return "reference";
    case 1:
#if defined(__aarch64__) || defined(__ARM_NEON)
        return "neon";
#else
        return "sse2";
#endif
    case 2:
        return "avx2+fma";
    case 3:
        return "avx512vl";
    default:
        return "unknown";
    }
}

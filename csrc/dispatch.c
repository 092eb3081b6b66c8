/* dispatch.c -- the kernel table: one row per level, chosen once.
 *
 * Levels: 0 the portable reference (gemm.c's and update.c's loops, libm,
 * the baseline dropout hash); 1 the vector kernels at the baseline width
 * (SSE2 on x86-64, NEON on aarch64); 2 the AVX2+FMA kernels and the packed
 * GEMM; 3 those with the step kernels built for AVX-512VL, whose 32 vector
 * registers hold larger tiles of the same 32-byte vectors: the same
 * operations in the same order as level 2, so the same bits; 4 the GEMM
 * and step kernels with AVX-512F's 64-byte vectors, for CPUs with 512-bit
 * FMA units (other sums' lanes, so other bits than levels 2 and 3; the
 * maps and hashes stay AVX2's: elementwise, they gain nothing).  The
 * best level the CPU supports is the default.  The wheel is
 * built for the baseline, so one binary runs everywhere and uses what the
 * CPU offers.  The level is set by the caller (Python reads
 * CREG_DISABLE_SIMD once); kernels never read the environment.
 * Adding a level is one row in `levels` (and its kernel objects in
 * CMakeLists.txt, its blocking in blocking.h).
 */
#include "creg.h"
#include "kernels.h"

typedef struct {
    const char *name;
    int (*supported)(void); /* on this CPU; NULL: always */
    int vector_bits;        /* of the GEMM and step kernels */
    creg_kernels_f32 f32;
    creg_kernels_f64 f64;
} level;

#if defined(CREG_HAVE_AVX2_KERNELS)
static int
has_avx2_fma(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

static int
has_avx512vl(void)
{
    return has_avx2_fma() && __builtin_cpu_supports("avx512f")
           && __builtin_cpu_supports("avx512vl");
}
#endif

/* The GEMM (gemm isa) and step (step isa) kernels of a vector level, for
 * the type T (suffix t) with vbytes-wide vectors. */
#define VECTOR_ENTRIES(t, T, gemm, step, vbytes)                              \
    .gemm_dot = creg_gemm_dot_##gemm##_##t,                                   \
    .gemm_dot_tiles = creg_gemm_dot_tiles_##gemm##_##t,                       \
    .gemm_axpy = creg_gemm_axpy_##gemm##_##t,                                 \
    .gemm_axpy_tiles = creg_gemm_axpy_tiles_##gemm##_##t,                     \
    .step_panel = creg_step_panel_##step##_##t,                               \
    .pack_batch = creg_pack_batch_##step##_##t,                               \
    .forward_rows = creg_forward_rows_##step##_##t,                           \
    .sparse_rows = creg_sparse_rows_##gemm##_##t,                             \
    .step_tile_width = CREG_STEP_TILE_WIDTH(vbytes, T),                      \
    .columns_width = CREG_COLUMNS_WIDTH(vbytes, T)

/* An x86-64 level from 2 up: the GEMM kernels (packed too) and the maps of
 * the build `gemm`, the step kernels of the build `step`, with
 * vbytes-wide vectors, and AVX2's hashes.  The maps run the same
 * operations lane by lane at any width: the same bits. */
#define X86_LEVEL(name, supported, gemm, step, vbytes, columns)               \
    {name, supported, 8 * (vbytes),                                           \
     {VECTOR_ENTRIES(f32, float, gemm, step, vbytes), columns(f32)            \
      .gemm_packed = creg_gemm_packed_##gemm##_f32,                           \
      .gemm_shared_a = creg_gemm_shared_a_##gemm##_f32,                       \
      .gemm_pack_shared_a = creg_gemm_pack_shared_a_##gemm##_f32,             \
      .sigmoid = creg_sigmoid_##gemm##_f32,                                   \
      .log1p_exp_neg_abs = creg_log1p_exp_neg_abs_##gemm##_f32,               \
      .dropout_hashes = creg_dropout_hashes_avx2},                            \
     {VECTOR_ENTRIES(f64, double, gemm, step, vbytes), columns(f64)           \
      .gemm_packed = creg_gemm_packed_##gemm##_f64,                           \
      .gemm_shared_a = creg_gemm_shared_a_##gemm##_f64,                       \
      .gemm_pack_shared_a = creg_gemm_pack_shared_a_##gemm##_f64,             \
      .dropout_hashes = creg_dropout_hashes_avx2}}

/* Layer 0 in columns for small batches (step_columns.c): levels 2 and 3
 * take AVX2's build (the same bits; 16 registers hold its 32-byte tiles),
 * level 4 its own.  Only the 64-byte level holds online SGD's stores
 * (net.c), which pay where the pass over W0 is bound by its writes, not by
 * the arithmetic that a held step repeats (benchmarks/README.md). */
#define COLUMNS_AVX2(t)                                                       \
    .step_columns = creg_step_columns_avx2_##t,                               \
    .forward_columns = creg_forward_columns_avx2_##t,
#define WIDE_AVX512(t)                                                        \
    .step_columns = creg_step_columns_avx512_##t,                             \
    .forward_columns = creg_forward_columns_avx512_##t,                       \
    .holds_online_steps = 1,

/* One row per level; entries left out are NULL (the reference loops). */
static const level levels[] = {
    {"reference", NULL, 0,
     {.dropout_hashes = creg_dropout_hashes_base},
     {.dropout_hashes = creg_dropout_hashes_base}},
#if defined(CREG_HAVE_VECTOR_KERNELS)
#if defined(__aarch64__) || defined(__ARM_NEON)
    {"neon", NULL, 128,
#else
    {"sse2", NULL, 128,
#endif
     {VECTOR_ENTRIES(f32, float, base, base, 16),
      .sigmoid = creg_sigmoid_base_f32,
      .log1p_exp_neg_abs = creg_log1p_exp_neg_abs_base_f32,
      .dropout_hashes = creg_dropout_hashes_base},
     {VECTOR_ENTRIES(f64, double, base, base, 16),
      .dropout_hashes = creg_dropout_hashes_base}},
#if defined(CREG_HAVE_AVX2_KERNELS)
    X86_LEVEL("avx2+fma", has_avx2_fma, avx2, avx2, 32, COLUMNS_AVX2),
    /* level 2 with the step kernels built for AVX-512VL */
    X86_LEVEL("avx512vl", has_avx512vl, avx2, avx512vl, 32, COLUMNS_AVX2),
    X86_LEVEL("avx512", has_avx512vl, avx512, avx512, 64, WIDE_AVX512),
#endif
#endif
};

#define N_LEVELS ((int)(sizeof levels / sizeof levels[0]))

const creg_kernels_f32 *creg_active_kernels_f32 = NULL;
const creg_kernels_f64 *creg_active_kernels_f64 = NULL;
static int active_level = -1;

int
creg_best_kernel_level(void)
{
    int best = 0;
    while (best + 1 < N_LEVELS
           && (levels[best + 1].supported == NULL
               || levels[best + 1].supported())) {
        ++best;
    }
    return best;
}

int
creg_set_kernel_level(int level)
{
    const int best = creg_best_kernel_level();
    active_level = level < 0 || level > best ? best : level;
    creg_active_kernels_f32 = &levels[active_level].f32;
    creg_active_kernels_f64 = &levels[active_level].f64;
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
    return level >= 0 && level < N_LEVELS ? levels[level].name : "unknown";
}

int
creg_kernel_vector_bits(int level)
{
    return level >= 0 && level < N_LEVELS ? levels[level].vector_bits : 0;
}

size_t
creg_packed_b_bytes(void)
{
#if defined(CREG_HAVE_AVX2_KERNELS)
    return creg_gemm_b_bytes();
#else
    return 0;
#endif
}

/* hash_kernel.c -- dropout_hash.h's loop as the kernel table's dropout
 * entry: built for the baseline (every level up to 1) and, on x86-64,
 * with -mavx2 (CREG_ISA_AVX2: from level 2; the same bits, 8 units per
 * instruction).  Untyped, so built once per instruction set. */
#include "kernels.h"
#include "dropout_hash.h"

#if defined(CREG_ISA_AVX2)
#define HASH_KERNEL creg_dropout_hashes_avx2
#else
#define HASH_KERNEL creg_dropout_hashes_base
#endif

void
HASH_KERNEL(uint32_t *out, uint64_t key, uint64_t first, ptrdiff_t count)
{
    creg_dropout_hashes_into(out, key, first, count);
}

/* hash_kernel.c -- dropout_hash.h's loop built with -mavx2, picked at run
 * time by noise.c (the same bits as the baseline build, 8 units per
 * instruction). */
#include "dropout_hash.h"

void
creg_dropout_hashes_avx2(uint32_t *out, uint64_t key, uint64_t first,
                         ptrdiff_t count)
{
    creg_dropout_hashes_into(out, key, first, count);
}

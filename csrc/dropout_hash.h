/* dropout_hash.h -- the dropout stream: one 32-bit hash per unit.
 *
 * Unit i of a step's activations keeps if hash(key, i) >= rate * 2^32.  The
 * hash is two rounds of a multiply-xorshift mixer, keyed first by the low
 * and then by the high half of the 64-bit stream key (rng.h).  Only 32-bit
 * operations, so a compiler runs a whole vector of units per instruction
 * (vpmulld under AVX2), where SplitMix64's 64-bit products stay scalar; and
 * integer arithmetic is exact, so every build gives the same bits.
 * Included by hash_kernel.c, built for the baseline and with AVX2.
 */
#ifndef CREG_DROPOUT_HASH_H
#define CREG_DROPOUT_HASH_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t
creg_mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x21f0aaadu;
    x ^= x >> 15;
    x *= 0x735a2d97u;
    x ^= x >> 15;
    return x;
}

/* out[i] := the hash of unit first + i (units numbered modulo 2^32). */
static inline void
creg_dropout_hashes_into(uint32_t *restrict out, uint64_t key,
                         uint64_t first, ptrdiff_t count)
{
    const uint32_t low = (uint32_t)key, high = (uint32_t)(key >> 32);
    for (ptrdiff_t i = 0; i < count; ++i) {
        const uint32_t unit = (uint32_t)first + (uint32_t)i;
        out[i] = creg_mix32(creg_mix32(unit ^ low) ^ high);
    }
}

#endif

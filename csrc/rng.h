/* rng.h -- the inner part of creg's counter-based generator, inlined where
 * numbers are drawn per element (noise.c).
 *
 * A stream key is hashed once from (seed, stream, epoch, step)
 * (creg_stream_key, rng.c); element `index` of that stream is the SplitMix64
 * output at position index: mix64(key + index * golden gamma).  Pure
 * functions of their arguments, so any thread may draw any element.
 */
#ifndef CREG_RNG_H
#define CREG_RNG_H

#include <stdint.h>

#define CREG_GOLDEN_GAMMA 0x9e3779b97f4a7c15ULL

static inline uint64_t
creg_mix64(uint64_t x)
{
    x += CREG_GOLDEN_GAMMA;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static inline uint64_t
creg_hash_at(uint64_t key, uint64_t index)
{
    return creg_mix64(key + index * CREG_GOLDEN_GAMMA);
}

/* A uniform double in [0, 1) from the top 53 bits. */
static inline double
creg_unit(uint64_t hash)
{
    return (double)(hash >> 11) * (1.0 / 9007199254740992.0);
}

#endif

/* rng.c -- counter-based random numbers.
 *
 * Every random number is a pure function of (seed, counters): a SplitMix64
 * finalizer applied to the key mixed in one counter at a time.  There is no
 * generator state, so any thread can draw any number and the same seed gives
 * the same bits whatever the thread count.  Not cryptographic.
 */
#include "creg.h"

static uint64_t
mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t
creg_hash(uint64_t seed, uint64_t stream, uint64_t epoch, uint64_t step,
          uint64_t index)
{
    return mix64(mix64(mix64(mix64(mix64(seed) ^ stream) ^ epoch) ^ step)
                 ^ index);
}

double
creg_uniform(uint64_t hash)
{
    return (double)(hash >> 11) * (1.0 / 9007199254740992.0);
}

void
creg_shuffle(int64_t *order, ptrdiff_t n, uint64_t seed, uint64_t epoch)
{
    for (ptrdiff_t i = 0; i < n; ++i) {
        order[i] = i;
    }
    /* Fisher-Yates with j uniform in [0, i]. */
    for (ptrdiff_t i = n - 1; i > 0; --i) {
        const double u = creg_uniform(
            creg_hash(seed, CREG_STREAM_SHUFFLE, epoch, 0, (uint64_t)i));
        const ptrdiff_t j = (ptrdiff_t)(u * (double)(i + 1));
        const int64_t tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
}

/* rng.c -- counter-based random numbers.
 *
 * Every random number is a pure function of (seed, counters): a stream key
 * hashed from (seed, stream, epoch, step), then SplitMix64 at position
 * `index` of that stream (rng.h).  There is no
 * generator state, so any thread can draw any number and the same seed gives
 * the same bits whatever the thread count.  Not cryptographic.
 */
#include "creg.h"
#include "rng.h"

uint64_t
creg_stream_key(uint64_t seed, uint64_t stream, uint64_t epoch,
                uint64_t step)
{
    return creg_mix64(creg_mix64(creg_mix64(creg_mix64(seed) ^ stream)
                                 ^ epoch)
                      ^ step);
}

void
creg_shuffle(int64_t *order, ptrdiff_t n, uint64_t seed, uint64_t epoch)
{
    for (ptrdiff_t i = 0; i < n; ++i) {
        order[i] = i;
    }
    /* Fisher-Yates with j uniform in [0, i]. */
    const uint64_t key = creg_stream_key(seed, CREG_STREAM_SHUFFLE, epoch, 0);
    for (ptrdiff_t i = n - 1; i > 0; --i) {
        const double u = creg_unit(creg_hash_at(key, (uint64_t)i));
        const ptrdiff_t j = (ptrdiff_t)(u * (double)(i + 1));
        const int64_t tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
}

/* gemm_buffers.c -- the per-thread packing buffers of gemm_packed.c.
 *
 * One set per thread, shared by every precision and instruction set, so a
 * thread holds CREG_PACKED_A_BYTES + CREG_PACKED_B_BYTES (blocking.h), the
 * A block (MC x KC) and the B panel (KC x NC), whatever the kernels
 * it ran, and CREG_SHARED_A_BYTES for the whole A that a team it leads
 * packs once.  Thread-local statics: allocated with the thread, freed when it
 * exits, never inside the training loop.  Returned 64-byte aligned (the
 * cache line), which a TLS block of a dlopen'ed library does not promise.
 */
#include <stdint.h>

#include "creg.h"
#include "kernels.h"

#define ALIGN 64

static __thread unsigned char pack_a[CREG_PACKED_A_BYTES + ALIGN];
static __thread unsigned char pack_b[CREG_PACKED_B_BYTES + ALIGN];
static __thread unsigned char shared_a[CREG_SHARED_A_BYTES + ALIGN];

static void *
aligned(unsigned char *p)
{
    return p + (ALIGN - (uintptr_t)p % ALIGN) % ALIGN;
}

void *
creg_gemm_pack_a(void)
{
    return aligned(pack_a);
}

void *
creg_gemm_pack_b(void)
{
    return aligned(pack_b);
}

void *
creg_gemm_shared_a(void)
{
    return aligned(shared_a);
}

/* gemm_buffers.c -- the per-thread packing buffers of gemm_packed.c.
 *
 * One set per thread, shared by every precision and instruction set, so a
 * thread holds the A block (MC x KC, CREG_PACKED_A_BYTES of values and
 * their lists, CREG_PACKED_A_ROOM, blocking.h) and the B block (KC x NC,
 * CREG_PACKED_B_BYTES, of which it uses creg_gemm_b_bytes()), whatever the
 * kernels it ran, and the room for CREG_SHARED_A_BYTES of values for the
 * whole A that a team it leads packs once.
 * Thread-local statics: allocated with the thread, freed when it exits,
 * never inside the training loop.  Returned 64-byte aligned (the cache
 * line), which a TLS block of a dlopen'ed library does not promise.
 */
#include <stdint.h>
#if defined(__linux__)
#include <unistd.h> /* sysconf */
#endif
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <cpuid.h>
#endif

#include "creg.h"
#include "kernels.h"

#define ALIGN 64

/* the A buffers with room for each micro-panel's list of nonzero k */
static __thread unsigned char
    pack_a[CREG_PACKED_A_ROOM(CREG_PACKED_A_BYTES) + ALIGN];
static __thread unsigned char pack_b[CREG_PACKED_B_BYTES + ALIGN];
static __thread unsigned char
    shared_a[CREG_PACKED_A_ROOM(CREG_SHARED_A_BYTES) + ALIGN];

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

/* The core's L2 in bytes, 0 if unknown: CPUID's extended leaf 0x80000006
 * (ECX[31:16], KiB; Intel and AMD alike, and whatever the OS), else what
 * the C library says. */
static long
l2_bytes(void)
{
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    unsigned eax, ebx, ecx, edx;
    if (__get_cpuid(0x80000000u, &eax, &ebx, &ecx, &edx)
        && eax >= 0x80000006u
        && __get_cpuid(0x80000006u, &eax, &ebx, &ecx, &edx)
        && (ecx >> 16) != 0) {
        return (long)(ecx >> 16) * 1024;
    }
#endif
#if defined(_SC_LEVEL2_CACHE_SIZE)
    const long size = sysconf(_SC_LEVEL2_CACHE_SIZE);
    return size > 0 ? size : 0;
#else
    return 0;
#endif
}

size_t
creg_gemm_b_bytes(void)
{
    /* the same value from every thread: computed once (CPUID traps to the
     * hypervisor in a VM, a microsecond or more) */
    static size_t cached = 0;
    size_t bytes = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (bytes == 0) {
        const long l2 = l2_bytes();
        bytes = l2 > 0 ? (size_t)l2 / CREG_PACKED_B_L2_PARTS
                       : CREG_PACKED_B_BYTES;
        bytes = bytes < CREG_PACKED_B_MIN_BYTES ? CREG_PACKED_B_MIN_BYTES
                : bytes > CREG_PACKED_B_BYTES   ? CREG_PACKED_B_BYTES
                                                : bytes;
        __atomic_store_n(&cached, bytes, __ATOMIC_RELAXED);
    }
    return bytes;
}

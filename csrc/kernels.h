/* kernels.h -- the kernel table: which kernels run at each level.
 *
 * Internal.  A level is chosen in one place: dispatch.c holds one row of
 * function pointers per level, for each precision (creg_kernels_f32/_f64,
 * kernels_typed.h), and creg_set_kernel_level points the active rows at
 * one of them.  Callers read the active row (active_kernels()) and never
 * test the level themselves.  Also the internal typed prototypes
 * (update_from_batch and its look-ahead) that creg.h does not publish.
 */
#ifndef CREG_KERNELS_H
#define CREG_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "creg.h"
#include "blocking.h"
#include "workspace.h" /* creg_train_scratch_layout, for columns.c */
#include "sparse.h" /* creg_sparse_pattern, for the sparse rows kernel */

/* out[i] := the dropout hash of unit first + i (dropout_hash.h). */
typedef void creg_hash_kernel(uint32_t *out, uint64_t key, uint64_t first,
                              ptrdiff_t count);
/* hash_kernel.c, built for the baseline and, on x86-64, with AVX2. */
creg_hash_kernel creg_dropout_hashes_base, creg_dropout_hashes_avx2;

/* gemm_buffers.c: the calling thread's packing buffers for the packed
 * GEMM (CREG_PACKED_A_ROOM(CREG_PACKED_A_BYTES), CREG_PACKED_B_BYTES),
 * 64-byte aligned, valid while it lives. */
void *creg_gemm_pack_a(void);
void *creg_gemm_pack_b(void);
/* The bytes of B that a block packs: a share of the core's L2
 * (blocking.h), at most CREG_PACKED_B_BYTES. */
size_t creg_gemm_b_bytes(void);
/* The calling thread's buffer for an A its team packs once
 * (CREG_PACKED_A_ROOM(CREG_SHARED_A_BYTES)), which the team's threads
 * read. */
void *creg_gemm_shared_a(void);

#define KREAL float
#define KT(name) creg_##name##_f32
#include "kernels_typed.h"
#undef KREAL
#undef KT

#define KREAL double
#define KT(name) creg_##name##_f64
#include "kernels_typed.h"
#undef KREAL
#undef KT

#if defined(CREG_F32) || defined(CREG_F64)
/* The active row of this precision: one load once a level is set. */
static inline const CREG_FN(kernels) *
active_kernels(void)
{
    if (CREG_FN(active_kernels) == NULL) {
        (void)creg_kernel_level(); /* sets the best level */
    }
    return CREG_FN(active_kernels);
}
#endif

#endif

/* gemm_buffers.h -- per-thread packing buffers for gemm_packed.c. */
#ifndef CREG_GEMM_BUFFERS_H
#define CREG_GEMM_BUFFERS_H

/* A block (MC x KC) sized for L2 (1 MiB or more on current x86-64); the
 * B panel (KC x NC) for a share of L3. */
#define GEMM_PACK_A_BYTES (256 * 1024)
#define GEMM_PACK_B_BYTES (2 * 1024 * 1024)

/* The calling thread's buffers, 64-byte aligned, valid while it lives. */
void *creg_gemm_pack_a(void);
void *creg_gemm_pack_b(void);

#endif

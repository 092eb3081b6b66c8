/* blocking.h -- every tile size, block size and threshold of creg, once.
 *
 * Internal.  Each name says which kernel it sizes; none is reused with a
 * second meaning.  Values that depend on the vector width are written in
 * vectors (VL, simd.h) or bytes and expand where the kernel is compiled;
 * the one that differs by level (the dot tile's columns) is switched on
 * the build's CREG_ISA_* define.  Measurements behind the numbers are in
 * benchmarks/README.md ("Blocking"); changing one changes the bits only
 * where a comment says so.
 */
#ifndef CREG_BLOCKING_H
#define CREG_BLOCKING_H

/* ---- Unpacked dot tile (gemm_kernel.c's gemm_dot, and forward_rows
 * through dot_tile.h): rows x columns of dot products held in registers.
 * 4 x 3 fills 16 vector registers (twelve accumulators, three b vectors,
 * one a); AVX-512's 32 registers hold 4 x 6, so forward_rows covers a
 * 6-neuron step panel in one tile per group of batch rows.  Each sum runs
 * the same whatever the tile, so the tile changes speed, never bits. */
#define CREG_DOT_TILE_ROWS 4
#if defined(CREG_ISA_AVX512VL) || defined(CREG_ISA_AVX512)
#define CREG_DOT_TILE_COLS 6
#else
#define CREG_DOT_TILE_COLS 3
#endif

/* ---- Unpacked axpy kernel (gemm_kernel.c's gemm_axpy: dW, dX).
 * 6 rows x 2 vectors = 12 accumulators (+2 loads, 1 broadcast: 15 of 16
 * registers).  K is cut into KC-deep blocks and rows into MC-row blocks so
 * a block of B stays in L1 and the packed A block (MC x KC, on the stack)
 * in L2; NC columns make a KC x NC block of B about half of a 512 KiB L2.
 * The K blocking fixes how each C element's sum is split: changing
 * CREG_AXPY_KC changes bits. */
#define CREG_AXPY_MR 6
#define CREG_AXPY_NV 2
#define CREG_AXPY_KC 256
#define CREG_AXPY_MC 24
#define CREG_AXPY_NC_BYTES 262144

/* ---- Packed GEMM (gemm_packed.c, levels 2 and up).
 * MR x (NV vectors): 12 of the 16 ymm registers accumulate (24 of the 32
 * zmm at level 4).  A KC x NR micro-panel of B takes CREG_PACKED_KC_BYTES;
 * KC fixes the slices of K, so changing it changes bits.  The per-thread
 * buffers (gemm_buffers.c) hold the MC x KC block of A, 1,080 float32
 * rows at level 4 (so a batch is packed once per slice), and the KC x NC
 * block of B that the micro-kernel streams from L2: 1 /
 * CREG_PACKED_B_L2_PARTS of the core's L2 (a block of the whole L2 ran
 * 7-10% slower; a quarter leaves room for a hyperthread's block),
 * between CREG_PACKED_B_MIN_BYTES and CREG_PACKED_B_BYTES.  MC and NC
 * change speed only. */
#if defined(CREG_ISA_AVX512)
#define CREG_PACKED_MR 12
#define CREG_PACKED_NV 2
#define CREG_PACKED_KC_BYTES 32768
#else
#define CREG_PACKED_MR 6
#define CREG_PACKED_NV 2
#define CREG_PACKED_KC_BYTES 16384
#endif
#define CREG_PACKED_A_BYTES (1024 * 1024 + 64 * 1024)
/* A packed A buffer's bytes for `bytes` of values: each micro-panel of
 * MR x KC values also lists its nonzero k (KC + 1 ints, gemm_packed.c),
 * rounded up to a cache line: under a sixth more at MR >= 6. */
#define CREG_PACKED_A_ROOM(bytes) ((bytes) / 6 * 7 + 64 * 1024)
#define CREG_PACKED_B_BYTES (1024 * 1024)
#define CREG_PACKED_B_L2_PARTS 4
#define CREG_PACKED_B_MIN_BYTES (128 * 1024)
/* A team that splits C's columns packs A once into its leader's buffer,
 * instead of each thread packing all of it (at batch 128 and 16 threads,
 * packing A cost half of a thread's arithmetic).  Room for 256 x 1,024
 * float32 values: the wide layers' batches. */
#define CREG_SHARED_A_BYTES (1024 * 1024 + 64 * 1024)
/* B's rows packed this many micro-panels side by side (whole cache lines
 * per row; one panel at a time reads lines 4 KiB apart, which the
 * prefetchers miss). */
#define CREG_PACKED_PANELS_PER_PASS 4
/* Shapes that take the packed GEMM: packing's O(MK + KN) copies are repaid
 * from M, N >= 16 and K >= 8, while batches of 1 and 10 rows stay on the
 * unpacked kernels.  The shape alone decides, so a shape always takes the
 * same path (and gives the same bits). */
#define CREG_PACKED_MIN_MN 16
#define CREG_PACKED_MIN_K 8

/* ---- Fused gradient-and-step kernels (step_kernel.c, update.c).
 * A panel is CREG_STEP_MR neurons x (CREG_STEP_NV vectors) of inputs: 6 x
 * 2 accumulators.  Batches up to CREG_STEP_MAX_BATCH rows are fused (a
 * panel's packed dZ columns, MAX_BATCH x MR, live on the stack); from
 * CREG_STEP_PACK_BATCH rows the batch is packed tile by tile first, below
 * it the small-batch look-ahead runs.  A packed row is the layer input
 * rounded up to CREG_STEP_TILE_MAX, a multiple of every level's tile
 * width (CREG_STEP_NV x VL: 32 float32 at 64-byte vectors). */
#define CREG_STEP_MR 6
#define CREG_STEP_NV 2
#define CREG_STEP_MAX_BATCH 512
#define CREG_STEP_PACK_BATCH 16
#define CREG_STEP_TILE_MAX 32
/* The max-norm sums add up a row's squares per chunk of this many inputs
 * (a multiple of every tile width), then the chunks in order: the unit in
 * which a team splits a narrow layer's columns (update.c), fixed by the
 * shape so that the split never changes the bits.  Changing it changes
 * the bits of rows longer than it. */
#define CREG_STEP_NORM_CHUNK 256
#if CREG_STEP_NORM_CHUNK % CREG_STEP_TILE_MAX != 0
#error "a norm chunk must end on a tile boundary at every level"
#endif
/* A layer's columns are split only while its chunk sums, O x chunks
 * doubles, fit a buffer of this many on the caller's stack. */
#define CREG_STEP_COLUMN_SUMS_MAX 2048
/* The tile width of a level whose vectors are vbytes wide. */
#define CREG_STEP_TILE_WIDTH(vbytes, type)                                    \
    ((ptrdiff_t)(CREG_STEP_NV * (vbytes) / sizeof(type)))

/* ---- The first layer in columns (columns.c, step_columns.c; the vector
 * levels from AVX2 up).  A block is CREG_COLUMNS_CB vectors of W0^T's row:
 * the kernels' register block, the width of a panel (CREG_COLUMNS_WIDTH:
 * 128 bytes at 64-byte vectors, 64 at 32-byte ones) and a team's unit.
 * The step sums CREG_COLUMNS_INPUTS inputs a trip (CB x 4 = 8 independent
 * chains, the FMA latency times two units), with the batch's dZ vectors in
 * registers up to CREG_COLUMNS_CONSTANT_BATCH rows (AVX-512: 11 x 2 + 8
 * sums of 32 registers; none in AVX2's 16); the forward sums groups of up
 * to CREG_COLUMNS_GROUP rows (10 x 2 sums of 32 registers, 6 x 2 of 16);
 * both run CREG_COLUMNS_CHUNK inputs at a time, so the step's chunk of
 * W0^T (at most 8 KiB) is in L1 when the forward reads it. */
#define CREG_COLUMNS_CB 2
#define CREG_COLUMNS_INPUTS 4
/* Rows up to this long have their inputs that are zero in every row of a
 * batch left out of the sums (a chunk's inputs are the bits of a uint64_t,
 * each call's on the stack: 512 bytes a batch or group of rows). */
#define CREG_COLUMNS_LISTED_INPUTS 4096
#if defined(CREG_ISA_AVX512)
#define CREG_COLUMNS_CONSTANT_BATCH 11
#define CREG_COLUMNS_GROUP 10
#else
#define CREG_COLUMNS_CONSTANT_BATCH 0
#define CREG_COLUMNS_GROUP 6
#endif
/* The panel width of a level whose vectors are vbytes wide. */
#define CREG_COLUMNS_WIDTH(vbytes, type)                                      \
    ((ptrdiff_t)(CREG_COLUMNS_CB * (vbytes) / sizeof(type)))
#define CREG_COLUMNS_CHUNK 64

/* ---- Forward (dense.c).  Layers at most CREG_FORWARD_ROWS_MAX_O neurons
 * wide take forward_rows at any batch size (it keeps each group of rows in
 * L1 for all neurons, where the packed GEMM would copy the whole batch);
 * forward_rows gets CREG_FORWARD_ROW_BLOCK rows per call (their pointers
 * live on the stack).  A team splits the batch in groups of
 * CREG_DOT_TILE_ROWS rows, so that the ten outputs of a batch of 128 can
 * take more than two threads. */
#define CREG_FORWARD_ROWS_MAX_O 128
#define CREG_FORWARD_ROW_BLOCK 64

/* ---- Team sizes: a job gets at most one thread per CREG_SHARE_MIN
 * multiply-adds (CREG_UPDATE_SHARE_MIN weights for the update alone), so
 * that each thread's share outweighs what a team costs it (the fork and
 * join, and the batch's data crossing cores: C1's 11.8 us step took 2.8 us
 * longer on two threads; benchmarks/README.md, "Teams sized by work"):
 * Nielsen's 10 x 784 x 30 step (235K) stays on one thread, 10 x 784 x 100
 * takes up to 3, a wide layer at batch 128 the whole team.  Results never
 * depend on the team, so these change speed only. */
#define CREG_SHARE_MIN 250000
#define CREG_UPDATE_SHARE_MIN 50000
/* Elementwise passes of training (dropout's mask, the activations'
 * backward), in elements: C3's 128 x 1024 hidden layers go parallel. */
#define CREG_ELEMENTWISE_PARALLEL_MIN 65536

/* ---- Chunks on the stack: dropout hashes per block (noise.c) and
 * cross-entropy softplus terms per chunk (loss.c). */
#define CREG_HASH_CHUNK 256
#define CREG_COST_TERM_CHUNK 256

/* ---- Workspace: each region reserves its width rounded up to this many
 * elements per row, so every region of a 64-byte aligned workspace starts
 * on a cache line (the Python side aligns its buffers). */
#define CREG_WS_ROW_ALIGN 16
#if CREG_STEP_TILE_MAX % CREG_WS_ROW_ALIGN != 0
#error "a packed row must also be a whole number of aligned rows"
#endif

#endif

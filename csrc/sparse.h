/* sparse.h -- predict through a layer's nonzero weights only (sparse.c).
 *
 * A layer's weights W (O x I) as compressed rows: neuron o's nonzero
 * weights are values[row_start[o] .. row_start[o + 1]), at the inputs
 * used[cols[p]], cols increasing within a row.  `used` lists the U inputs
 * the tiles read, in increasing order (creg._sparse gives every input in
 * use and those around it in aligned runs of 16, which transpose a vector
 * at a time), so that a tile of X is gathered once per used input.  The
 * used inputs fall in blocks of
 * CREG_SPARSE_BLOCK_INPUTS (u / CREG_SPARSE_BLOCK_INPUTS is the block of
 * used input u), and splits[o][j] .. splits[o][j + 1] are neuron o's
 * weights in block j: a block's tile stays in L1 while every neuron adds
 * its part.
 */
#ifndef CREG_SPARSE_H
#define CREG_SPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "creg.h"

/* The most rows of X a tile of sparse_kernel.c holds (64 floats in
 * 64-byte vectors): the scratch slot's size per used input. */
#define CREG_SPARSE_TILE_ROWS 64

/* Used inputs per block of the tile (128 rows of 128 bytes: 16 KB). */
#define CREG_SPARSE_BLOCK_INPUTS 128

/* Where a layer's nonzero weights are (the index half of the CSR). */
typedef struct {
    const int64_t *row_start; /* O + 1, row_start[0] = 0 */
    const int32_t *cols;      /* nnz = row_start[O], each in [0, U) */
    const int64_t *used;      /* U, increasing, each in [0, I) */
    const int64_t *splits;    /* O x (n_blocks + 1), see the top */
    ptrdiff_t I;              /* inputs of the layer (columns of X) */
    ptrdiff_t O;              /* outputs (neurons) */
    ptrdiff_t U;              /* inputs some neuron uses */
    ptrdiff_t n_blocks;       /* ceil(U / CREG_SPARSE_BLOCK_INPUTS) */
} creg_sparse_pattern;

/* Scratch slots sparse_forward needs for n_threads: one per thread of the
 * largest team it may run. */
int creg_sparse_slots(int n_threads);

/* Elements of one scratch slot: a block's tile and the O x tile partial
 * sums, and 16 more (at least 64 bytes in either precision) to start
 * them on a 64-byte boundary. */
static inline ptrdiff_t
creg_sparse_slot_size(ptrdiff_t U, ptrdiff_t O)
{
    const ptrdiff_t block = U < CREG_SPARSE_BLOCK_INPUTS
                                ? U
                                : CREG_SPARSE_BLOCK_INPUTS;
    return (block + O) * CREG_SPARSE_TILE_ROWS + 16;
}

/* CREG_EINVAL if the pattern's indices leave their ranges (row_start not
 * increasing from 0, splits not increasing from row_start[o] to
 * row_start[o + 1], a column outside its block, a used input outside
 * [0, I) or out of order), else CREG_OK.  O(nnz + U + O n_blocks), one
 * thread. */
int creg_sparse_check(const creg_sparse_pattern *pattern);

#define CREG_TREAL float
#define CREG_TFN(name) creg_##name##_f32
#include "sparse_typed.h"
#undef CREG_TREAL
#undef CREG_TFN
#define CREG_TREAL double
#define CREG_TFN(name) creg_##name##_f64
#include "sparse_typed.h"
#undef CREG_TREAL
#undef CREG_TFN

#endif

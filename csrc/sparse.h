/* sparse.h -- predict through a layer's nonzero weights only (sparse.c).
 *
 * A layer's weights W (O x I) as compressed rows: neuron o's nonzero
 * weights are values[row_start[o] .. row_start[o + 1]), at the inputs
 * used[cols[p]].  `used` lists the U inputs that some neuron uses, in
 * increasing order, so that a tile of X is gathered once per used input.
 */
#ifndef CREG_SPARSE_H
#define CREG_SPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "creg.h"

/* The most rows of X a tile of sparse_kernel.c holds (32 floats,
 * 16 doubles): the scratch slot's size per used input. */
#define CREG_SPARSE_TILE_ROWS 32

/* Where a layer's nonzero weights are (the index half of the CSR). */
typedef struct {
    const int64_t *row_start; /* O + 1, row_start[0] = 0 */
    const int32_t *cols;      /* nnz = row_start[O], each in [0, U) */
    const int64_t *used;      /* U, increasing, each in [0, I) */
    ptrdiff_t I;              /* inputs of the layer (columns of X) */
    ptrdiff_t O;              /* outputs (neurons) */
    ptrdiff_t U;              /* inputs some neuron uses */
} creg_sparse_pattern;

/* Scratch slots sparse_forward needs for n_threads: one per thread of the
 * largest team it may run (each slot holds U x CREG_SPARSE_TILE_ROWS). */
int creg_sparse_slots(int n_threads);

/* CREG_EINVAL if the pattern's indices leave their ranges (row_start not
 * increasing from 0, a column outside [0, U), a used input outside [0, I)
 * or out of order), else CREG_OK.  O(nnz + U), one thread. */
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

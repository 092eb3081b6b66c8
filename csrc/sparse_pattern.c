/* sparse_pattern.c -- the untyped half of sparse predict: the check of a
 * CSR pattern and the scratch slots (sparse.h).  Compiled once.
 *
 * Why C checks here, against creg's rule that C trusts its arguments: the
 * pattern is data (nnz indices), which Cython's O(1) shape checks cannot
 * vouch for, and one bad index would read outside X.  The check is one
 * pass over nnz + U integers, small next to the B x nnz multiply-adds.
 */
#include "sparse.h"
#include "threads.h"

int
creg_sparse_slots(int n_threads)
{
    const int request = creg_threads_for(n_threads);
    return request < 0 ? -request : request;
}

/* Neuron o's splits: from row_start[o] to row_start[o + 1], increasing,
 * each block's columns inside the block. */
static int
check_splits(const creg_sparse_pattern *p, ptrdiff_t o)
{
    const int64_t *split = p->splits + o * (p->n_blocks + 1);
    if (split[0] != p->row_start[o]
        || split[p->n_blocks] != p->row_start[o + 1]) {
        return CREG_EINVAL;
    }
    for (ptrdiff_t j = 0; j < p->n_blocks; ++j) {
        if (split[j + 1] < split[j]) {
            return CREG_EINVAL;
        }
    }
    /* only now are split[j] .. split[j + 1] inside the row's weights */
    for (ptrdiff_t j = 0; j < p->n_blocks; ++j) {
        const int64_t low = (int64_t)j * CREG_SPARSE_BLOCK_INPUTS;
        const int64_t high = low + CREG_SPARSE_BLOCK_INPUTS < p->U
                                 ? low + CREG_SPARSE_BLOCK_INPUTS
                                 : p->U;
        for (int64_t k = split[j]; k < split[j + 1]; ++k) {
            if (p->cols[k] < low || p->cols[k] >= high) {
                return CREG_EINVAL;
            }
        }
    }
    return CREG_OK;
}

int
creg_sparse_check(const creg_sparse_pattern *p)
{
    const ptrdiff_t block = CREG_SPARSE_BLOCK_INPUTS;
    if (p->O < 1 || p->U < 0 || p->U > p->I || p->row_start[0] != 0
        || p->n_blocks != (p->U + block - 1) / block) {
        return CREG_EINVAL;
    }
    for (ptrdiff_t o = 0; o < p->O; ++o) {
        if (p->row_start[o + 1] < p->row_start[o]) {
            return CREG_EINVAL;
        }
    }
    /* every row inside [0, row_start[O]) now: its splits can be read */
    for (ptrdiff_t o = 0; o < p->O; ++o) {
        if (check_splits(p, o) != CREG_OK) {
            return CREG_EINVAL;
        }
    }
    for (ptrdiff_t u = 0; u < p->U; ++u) {
        if (p->used[u] < (u == 0 ? 0 : p->used[u - 1] + 1)
            || p->used[u] >= p->I) {
            return CREG_EINVAL;
        }
    }
    return CREG_OK;
}

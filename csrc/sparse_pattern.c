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

int
creg_sparse_check(const creg_sparse_pattern *p)
{
    if (p->O < 1 || p->U < 0 || p->U > p->I || p->row_start[0] != 0) {
        return CREG_EINVAL;
    }
    for (ptrdiff_t o = 0; o < p->O; ++o) {
        if (p->row_start[o + 1] < p->row_start[o]) {
            return CREG_EINVAL;
        }
    }
    const int64_t nnz = p->row_start[p->O];
    for (int64_t k = 0; k < nnz; ++k) {
        if (p->cols[k] < 0 || p->cols[k] >= p->U) {
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

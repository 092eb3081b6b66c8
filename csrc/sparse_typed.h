/* sparse_typed.h -- sparse predict's typed prototypes, included twice by
 * sparse.h (float -> _f32, double -> _f64).  No include guard on purpose.
 */

/* A (B x O) := act(X (B x I) . W^T + b (O)), W given by `pattern` and its
 * nonzero `values` (nnz).  Overwrites A.  scratch holds `slots` (>= 1)
 * slots of creg_sparse_slot_size(U, O) elements, creg_sparse_slots(
 * n_threads) for a full team; the team is at most `slots` threads.  Checks
 * the pattern first (creg_sparse_check) and returns its status (CREG_EINVAL
 * also for slots < 1); nothing is written unless it is CREG_OK.  With
 * check_x, every value of X is checked on the way (all I columns, used or
 * not): CREG_ENONFINITE if one is NaN or inf, and then A is undefined. */
int CREG_TFN(sparse_forward)(CREG_TREAL *A, CREG_TREAL *scratch, int slots,
                             const CREG_TREAL *X, const CREG_TREAL *values,
                             const CREG_TREAL *b,
                             const creg_sparse_pattern *pattern, ptrdiff_t B,
                             creg_activation act, int n_threads,
                             int check_x);

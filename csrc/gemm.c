/* gemm.c -- strided GEMM, C := alpha * A.B (+ beta * C).
 *
 * Dimensions: C is M x N, A is M x K, B is K x N; every operand has a row
 * stride rs_* and a column stride cs_*, so a transpose is a stride swap.
 * Output: C is overwritten when beta == 0 (never read), otherwise scaled and
 * accumulated.
 *
 * Every dense layer goes through this one function.  When the layout allows
 * it (always, for the three GEMMs of a dense layer) it hands the work to the
 * register-blocked micro-kernels of gemm_kernel.c in the active row of the
 * kernel table (kernels.h), splitting their tile grid over threads; from
 * level 2, shapes large in every dimension go to the packed kernel of
 * gemm_packed.c instead, whatever the layout.  Otherwise, and at level 0
 * (no GEMM kernels in its row), it runs the plain reference loops below,
 * which pick one of two loop orders by layout, both summing k in
 * ascending order:
 *   - dot form, when A's rows and B's columns are contiguous along K
 *     (forward Z = X.W^T): one vectorized dot product per C element;
 *   - axpy form, when C's and B's rows are contiguous (dW = dZ^T.X,
 *     dX = dZ.W): C row += A[i,k] * B row, vectorized along N.
 * Threads split the rows of C (reference) or the kernels' tiles, and each
 * element is computed by one thread with the same operations whatever the
 * split, so results are the same for any n_threads.
 */
#include "creg.h"
#include "real.h"
#include "threads.h"
#include "kernels.h"

/* Unit-stride dot product with 8 running sums: a fixed summation order
 * that the compiler can keep in SIMD registers. */
static real
dot(const real *restrict a, const real *restrict b, ptrdiff_t K)
{
    real acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    ptrdiff_t k = 0;
    for (; k + 8 <= K; k += 8) {
        for (int u = 0; u < 8; ++u) {
            acc[u] += a[k + u] * b[k + u];
        }
    }
    real sum = ((acc[0] + acc[4]) + (acc[1] + acc[5]))
               + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (; k < K; ++k) {
        sum += a[k] * b[k];
    }
    return sum;
}

/* Packing costs O(M K + K N) copies, repaid once the packed panels are
 * reused over enough rows and columns (blocking.h). */
static int
packed_suits(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K)
{
    return M >= CREG_PACKED_MIN_MN && N >= CREG_PACKED_MIN_MN
           && K >= CREG_PACKED_MIN_K;
}

/* This thread's share of the packed kernel; with shared_a, first its
 * share of the `units` of packing A there for the whole team. */
static void
packed_share(const CREG_FN(kernels) *k, real *C, ptrdiff_t rs_c,
             ptrdiff_t cs_c, const real *A, ptrdiff_t rs_a, ptrdiff_t cs_a,
             const real *B, ptrdiff_t rs_b, ptrdiff_t cs_b, ptrdiff_t M,
             ptrdiff_t N, ptrdiff_t K, real alpha, real beta, real *shared_a,
             ptrdiff_t units)
{
    int me, team;
    creg_team_position(&me, &team);
    if (team == 1) {
        shared_a = NULL; /* packed block by block, in cache */
    }
    if (shared_a != NULL) {
        ptrdiff_t first, count;
        creg_my_share(units, &first, &count);
        k->gemm_pack_shared_a(shared_a, A, rs_a, cs_a, M, K, first, count);
#pragma omp barrier
    }
    k->gemm_packed(C, rs_c, cs_c, A, rs_a, cs_a, B, rs_b, cs_b, M, N, K,
                   alpha, beta, me, team, shared_a);
}

/* This thread's share of the tiles of the unpacked micro-kernels. */
static void
vector_share(const CREG_FN(kernels) *k, real *C, ptrdiff_t rs_c,
             const real *A, ptrdiff_t rs_a, ptrdiff_t cs_a, const real *B,
             ptrdiff_t rs_b, ptrdiff_t cs_b, ptrdiff_t M, ptrdiff_t N,
             ptrdiff_t K, real alpha, real beta, int dot_form)
{
    const ptrdiff_t n_tiles = dot_form ? k->gemm_dot_tiles(M, N)
                                       : k->gemm_axpy_tiles(M, N);
    ptrdiff_t first, count;
    creg_my_share(n_tiles, &first, &count);
    if (dot_form) {
        k->gemm_dot(C, rs_c, A, rs_a, B, cs_b, M, N, K, alpha, beta, first,
                    count);
    } else {
        k->gemm_axpy(C, rs_c, A, rs_a, cs_a, B, rs_b, M, N, K, alpha, beta,
                     first, count);
    }
}

/* Runs the active level's kernels if it has some for this shape and
 * layout; returns 0 if not. */
static int
gemm_vector(const CREG_FN(kernels) *k, real *C, ptrdiff_t rs_c,
            ptrdiff_t cs_c, const real *A, ptrdiff_t rs_a, ptrdiff_t cs_a,
            const real *B, ptrdiff_t rs_b, ptrdiff_t cs_b, ptrdiff_t M,
            ptrdiff_t N, ptrdiff_t K, real alpha, real beta, int n_threads)
{
    const int nt = creg_threads_for_work(n_threads, (double)M * N * K,
                                         CREG_SHARE_MIN, (double)M * N);
    if (k->gemm_packed != NULL && packed_suits(M, N, K)) {
        ptrdiff_t units = 0;
        real *shared_a = nt != 1 ? k->gemm_shared_a(M, N, K, &units) : NULL;
        CREG_TEAM(nt,
                  packed_share(k, C, rs_c, cs_c, A, rs_a, cs_a, B, rs_b,
                               cs_b, M, N, K, alpha, beta, shared_a,
                               units));
        return 1;
    }
    const int dot_form = cs_c == 1 && cs_a == 1 && rs_b == 1;
    if (k->gemm_dot == NULL || (!dot_form && !(cs_c == 1 && cs_b == 1))) {
        return 0;
    }
    CREG_TEAM(nt,
              vector_share(k, C, rs_c, A, rs_a, cs_a, B, rs_b, cs_b, M, N, K,
                           alpha, beta, dot_form));
    return 1;
}

/* This thread's share of the rows of the plain loops (level 0, and layouts
 * the micro-kernels do not take). */
static void
reference_rows(real *C, ptrdiff_t rs_c, ptrdiff_t cs_c, const real *A,
               ptrdiff_t rs_a, ptrdiff_t cs_a, const real *B, ptrdiff_t rs_b,
               ptrdiff_t cs_b, ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
               real alpha, real beta, int dot_form)
{
    ptrdiff_t i;
#pragma omp for schedule(static)
    for (i = 0; i < M; ++i) {
        real *c = C + i * rs_c;
        const real *a = A + i * rs_a;
        if (dot_form) {
            for (ptrdiff_t j = 0; j < N; ++j) {
                const real *b = B + j * cs_b;
                real acc = 0;
                if (cs_a == 1 && rs_b == 1) {
                    acc = dot(a, b, K);
                } else {
                    for (ptrdiff_t k = 0; k < K; ++k) {
                        acc += a[k * cs_a] * b[k * rs_b];
                    }
                }
                c[j * cs_c] = beta == 0 ? alpha * acc
                                        : alpha * acc + beta * c[j * cs_c];
            }
        } else {
            real *restrict crow = c;
            for (ptrdiff_t j = 0; j < N; ++j) {
                crow[j] = beta == 0 ? 0 : beta * crow[j];
            }
            for (ptrdiff_t k = 0; k < K; ++k) {
                const real aik = alpha * a[k * cs_a];
                const real *restrict brow = B + k * rs_b;
                for (ptrdiff_t j = 0; j < N; ++j) {
                    crow[j] += aik * brow[j];
                }
            }
        }
    }
}

void
CREG_FN(gemm)(real *C, ptrdiff_t rs_c, ptrdiff_t cs_c,
              const real *A, ptrdiff_t rs_a, ptrdiff_t cs_a,
              const real *B, ptrdiff_t rs_b, ptrdiff_t cs_b,
              ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
              real alpha, real beta, int n_threads)
{
    if (gemm_vector(active_kernels(), C, rs_c, cs_c, A, rs_a, cs_a, B, rs_b,
                    cs_b, M, N, K, alpha, beta, n_threads)) {
        return;
    }
    const int dot_form = (cs_a == 1 && rs_b == 1) || cs_c != 1 || cs_b != 1;
    const int nt = creg_threads_for_work(n_threads, (double)M * N * K,
                                         CREG_SHARE_MIN, (double)M);
    CREG_TEAM(nt,
              reference_rows(C, rs_c, cs_c, A, rs_a, cs_a, B, rs_b, cs_b, M,
                             N, K, alpha, beta, dot_form));
}

/* gemm_packed.c -- GEMM on packed operands, for shapes large in M, N and K.
 *
 * C (M x N) := alpha * A (M x K) . B (K x N) (+ beta * C), any strides.
 * Compiled per precision with AVX2+FMA (32-byte vectors); gemm.c calls it
 * from level 2 (its entry in the kernel table) when the shape is large
 * enough (packed_suits).
 *
 * Blocking: for each KC-deep slice of K (pc) and MC-row block (ic, all
 * of a batch's rows), A is packed into MR-row micro-panels (k-major, MR x
 * KC); then for each NC-wide column block (jc), B into NR-column
 * micro-panels (k-major, KC x NR) that together take a quarter of the
 * core's L2.  Each A micro-panel stays in L1 while the micro-kernel runs
 * it against every B micro-panel of the block, which streams from L2
 * (BLIS runs these two loops the other way round: on a 48 KiB L1 the 32
 * KiB B micro-panel left too little room for A).  So A is packed once
 * per slice and B once per slice and row block.  Packing makes every
 * layout (transposed views included) one unit-stride stream and
 * zero-pads the edges, so one MR x NR micro-kernel with no tail logic
 * does all the arithmetic.  Each A micro-panel lists the k where its MR
 * values are not all zero, and the micro-kernel runs only those
 * (list_nonzero): ReLU and dropout leave whole columns of a batch's
 * activations and deltas zero.
 *
 * Every C element gets the same operations whatever the blocking and the
 * thread split: K is cut into slices fixed by K alone (k_slice), each
 * slice is summed in ascending k by fused multiply-adds into one
 * accumulator lane, and slices are added to C in order (the first applies
 * beta, later ones add).  Zero padding only feeds lanes that are not
 * stored, and a skipped k would only have added zeros.  So threads may
 * split the rows or the columns freely.
 * Outputs: C is written; read only when beta != 0 or after the first slice.
 */
#include <string.h>

#include "creg.h"
#include "real.h"
#include "simd.h"
#include "kernels.h"
#include "transpose.h"

/* The blocking (blocking.h), in elements of this precision and width. */
#define MR CREG_PACKED_MR
#define NV CREG_PACKED_NV
#define NR ((ptrdiff_t)NV * VL)
#define KC_MAX ((ptrdiff_t)(CREG_PACKED_KC_BYTES / (NR * sizeof(real))))
#define MC_MAX \
    ((ptrdiff_t)(CREG_PACKED_A_BYTES / (KC_MAX * sizeof(real))) / MR * MR)

/* For the loops over a tile's registers: indexing the accumulators with
 * constants keeps them in registers. */
#define UNROLLED _Pragma("GCC unroll 32")

/* An A micro-panel of depth kc: its MR x kc values, k-major, then its list
 * (list_nonzero): how many k are kept, then which, as ints; to a whole
 * cache line. */
static inline __attribute__((always_inline)) ptrdiff_t
panel_reals(ptrdiff_t kc)
{
    const ptrdiff_t line = 64 / (ptrdiff_t)sizeof(real);
    const ptrdiff_t ints = kc + 1;
    const ptrdiff_t reals = MR * kc + (ints * (ptrdiff_t)sizeof(int)
                                       + (ptrdiff_t)sizeof(real) - 1)
                                          / (ptrdiff_t)sizeof(real);
    return (reals + line - 1) / line * line;
}

static inline __attribute__((always_inline)) int *
panel_list(real *panel, ptrdiff_t kc)
{
    return (int *)(void *)(panel + MR * kc);
}

/* Moves the k whose MR values are not all zero to the front of a packed
 * micro-panel, in order, and lists them.  ReLU and dropout zero whole
 * columns of a batch's activations and deltas (half of C3's at MR = 6:
 * units dead for every row of a tile), and a skipped k saves MR x NR
 * multiply-adds against every B micro-panel.  From zero accumulators, an
 * all-zero k adds only zeros, so the sums keep their bits but for the NaN
 * of 0 x inf in B (benchmarks/README.md, "Zeros skipped"). */
static void
list_nonzero(real *panel, ptrdiff_t kc)
{
    int *list = panel_list(panel, kc);
    int zeros = 0; /* dense operands (the data, most deltas) stop here */
    for (ptrdiff_t i = 0; i < MR * kc; ++i) {
        zeros |= panel[i] == 0;
    }
    if (!zeros) {
        list[0] = (int)kc;
        return;
    }
    int kept = 0;
    for (ptrdiff_t k = 0; k < kc; ++k) { /* without a branch to mispredict */
        const real *v = panel + k * MR;
        real *to = panel + kept * MR; /* at or before v, never across it */
        int nonzero = 0;
        UNROLLED
        for (int r = 0; r < MR; ++r) {
            nonzero |= v[r] != 0;
            to[r] = v[r];
        }
        list[1 + kept] = (int)k;
        kept += nonzero;
    }
    list[0] = kept;
}

/* Where the shared A micro-panel of rows i .. i + MR - 1 in the slice from
 * k = pc starts: slice after slice, each `tiles` micro-panels of its
 * depth (only the last slice may be shallower than `slice`). */
static inline __attribute__((always_inline)) ptrdiff_t
shared_offset(ptrdiff_t tiles, ptrdiff_t slice, ptrdiff_t pc, ptrdiff_t i,
              ptrdiff_t kc)
{
    return pc / slice * tiles * panel_reals(slice) + i / MR * panel_reals(kc);
}

/* The depth of K's slices: as even as possible, at most KC_MAX.  Depends
 * on K only, so every caller cuts the sums the same way. */
static ptrdiff_t
k_slice(ptrdiff_t K)
{
    const ptrdiff_t slices = (K + KC_MAX - 1) / KC_MAX;
    return (K + slices - 1) / slices;
}

/* dst[q * dst_step + r] = src[r * ld + q] for q < VL, r < rows <= VL: VL
 * values of each of `rows` rows transposed in registers (missing rows
 * padded with row 0).  With rows < VL each store but the last is a whole
 * vector whose surplus lanes a later store must overwrite (the caller's
 * order); the last stores only its rows. */
static inline __attribute__((always_inline)) void
transpose_block(real *restrict dst, ptrdiff_t dst_step, const real *src,
                ptrdiff_t ld, int rows)
{
    vec r[VL], t[VL];
    for (int i = 0; i < VL; ++i) {
        r[i] = vload(src + (i < rows ? i : 0) * ld);
    }
    transpose(t, r);
    for (int q = 0; q < VL; ++q) {
        if (rows == VL || q + 1 < VL) {
            vstore(dst + q * dst_step, t[q]);
        } else {
            vstore_part(dst + q * dst_step, t[q], rows);
        }
    }
}

/* One full micro-panel from MR rows contiguous along K, VL values of each
 * row at a time, in groups of VL rows, each k's MR values stored as one
 * run.  The group of fewer than VL rows goes first: the surplus lanes of
 * its stores land where the whole groups and the next k then write, so no
 * store goes past the micro-panel. */
static inline __attribute__((always_inline)) void
pack_a_rows(real *restrict dst, const real *a, ptrdiff_t rs_a, ptrdiff_t kc)
{
    enum { groups = (MR + VL - 1) / VL, last = (groups - 1) * VL };
    const ptrdiff_t k_done = kc / VL * VL;
    for (ptrdiff_t k = 0; k < k_done; k += VL) {
        for (int g = groups - 1; g >= 0; --g) {
            transpose_block(dst + k * MR + g * VL, MR,
                            a + g * VL * rs_a + k, rs_a,
                            g < groups - 1 ? VL : MR - last);
        }
    }
    for (ptrdiff_t k = k_done; k < kc; ++k) {
        for (ptrdiff_t r = 0; r < MR; ++r) {
            dst[k * MR + r] = a[r * rs_a + k];
        }
    }
}

/* Rows 0 .. mc-1, k 0 .. kc-1 of A into MR-row micro-panels, each
 * panel_reals(kc) long: dst[p * panel_reals(kc) + k * MR + r] = A(p * MR
 * + r, k), zero past mc; then each is listed (list_nonzero). */
static void
pack_a(real *restrict dst, const real *A, ptrdiff_t rs_a, ptrdiff_t cs_a,
       ptrdiff_t mc, ptrdiff_t kc)
{
    for (ptrdiff_t i = 0; i < mc; i += MR, dst += panel_reals(kc)) {
        const ptrdiff_t m = mc - i < MR ? mc - i : MR;
        const real *a = A + i * rs_a;
        if (m == MR && rs_a == 1) { /* a transposed view: MR-runs */
            for (ptrdiff_t k = 0; k < kc; ++k) {
                memcpy(dst + k * MR, a + k * cs_a, MR * sizeof(real));
            }
        } else if (m == MR && cs_a == 1) { /* rows along K (X, dZ) */
            pack_a_rows(dst, a, rs_a, kc);
        } else if (m == MR) { /* rows along K, strided: MR streams */
            for (ptrdiff_t k = 0; k < kc; ++k) {
                UNROLLED
                for (ptrdiff_t r = 0; r < MR; ++r) {
                    dst[k * MR + r] = a[r * rs_a + k * cs_a];
                }
            }
        } else {
            for (ptrdiff_t k = 0; k < kc; ++k) {
                for (ptrdiff_t r = 0; r < MR; ++r) {
                    dst[k * MR + r] = r < m ? a[r * rs_a + k * cs_a] : 0;
                }
            }
        }
        list_nonzero(dst, kc);
    }
}

/* A full NR-column micro-panel from B's columns contiguous along K (the
 * forward pass's W^T): the costliest packing, so by vector transposes, VL
 * columns at a time, each read a whole cache line at a time: B's columns
 * are often 4 KiB apart, all in one L1 set, and a line evicted before it
 * is used up must come back. */
static void
pack_b_transposed(real *restrict dst, const real *b, ptrdiff_t cs_b,
                  ptrdiff_t kc)
{
    const ptrdiff_t line = 64 / sizeof(real);
    const ptrdiff_t k_done = kc / line * line;
    for (ptrdiff_t j = 0; j < NR; j += VL) {
        for (ptrdiff_t k = 0; k < k_done; k += line) {
            for (ptrdiff_t kk = k; kk < k + line; kk += VL) {
                transpose_block(dst + kk * NR + j, NR, b + j * cs_b + kk,
                                cs_b, VL);
            }
        }
    }
    for (ptrdiff_t j = 0; j < NR; ++j) {
        for (ptrdiff_t k = k_done; k < kc; ++k) {
            dst[k * NR + j] = b[j * cs_b + k];
        }
    }
}

/* Full micro-panels from B's rows contiguous along N (dW's X, dX's W),
 * CREG_PACKED_PANELS_PER_PASS side by side at a time (blocking.h). */
#define PANELS_PER_PASS CREG_PACKED_PANELS_PER_PASS

static void
pack_b_rows(real *restrict dst, const real *b, ptrdiff_t rs_b, ptrdiff_t kc,
            ptrdiff_t panels)
{
    for (ptrdiff_t p0 = 0; p0 < panels; p0 += PANELS_PER_PASS) {
        const ptrdiff_t pn = panels - p0 < PANELS_PER_PASS ? panels - p0
                                                           : PANELS_PER_PASS;
        for (ptrdiff_t k = 0; k < kc; ++k) {
            for (ptrdiff_t p = p0; p < p0 + pn; ++p) {
                for (ptrdiff_t v = 0; v < NV; ++v) {
                    vstore(dst + p * NR * kc + k * NR + v * VL,
                           vload(b + k * rs_b + p * NR + v * VL));
                }
            }
        }
    }
}

/* k 0 .. kc-1, columns 0 .. nc-1 of B into NR-column micro-panels:
 * dst[p * NR * kc + k * NR + j] = B(k, p * NR + j), zero past nc. */
static void
pack_b(real *restrict dst, const real *B, ptrdiff_t rs_b, ptrdiff_t cs_b,
       ptrdiff_t kc, ptrdiff_t nc)
{
    ptrdiff_t j = 0;
    if (cs_b == 1) {
        j = nc / NR * NR;
        pack_b_rows(dst, B, rs_b, kc, nc / NR);
    }
    for (dst += j * kc; j < nc; j += NR, dst += NR * kc) {
        const ptrdiff_t n = nc - j < NR ? nc - j : NR;
        const real *b = B + j * cs_b;
        if (n == NR && rs_b == 1) {
            pack_b_transposed(dst, b, cs_b, kc);
        } else {
            for (ptrdiff_t k = 0; k < kc; ++k) {
                for (ptrdiff_t c = 0; c < NR; ++c) {
                    dst[k * NR + c] = c < n ? b[k * rs_b + c * cs_b] : 0;
                }
            }
        }
    }
}

/* Stores the m x n corner of an MR x NR tile through a buffer: tiles at
 * the edges of C, or C with non-unit column stride. */
static void
store_partial(real *C, ptrdiff_t rs_c, ptrdiff_t cs_c,
              const real (*tile)[NR], ptrdiff_t m, ptrdiff_t n, real alpha,
              real beta)
{
    for (ptrdiff_t i = 0; i < m; ++i) {
        for (ptrdiff_t j = 0; j < n; ++j) {
            real *c = C + i * rs_c + j * cs_c;
            *c = beta == 0 ? alpha * tile[i][j]
                           : alpha * tile[i][j] + beta * *c;
        }
    }
}

/* acc += the outer product of one k's MR values of A and NR of B. */
static inline __attribute__((always_inline)) void
multiply_add(vec acc[MR][NV], const real *restrict a, const real *restrict b)
{
    vec bv[NV];
    for (int v = 0; v < NV; ++v) {
        bv[v] = vload(b + v * VL);
    }
    UNROLLED
    for (int i = 0; i < MR; ++i) {
        const real s = a[i];
        for (int v = 0; v < NV; ++v) {
            acc[i][v] += s * bv[v];
        }
    }
}

/* One MR x NR tile: C := alpha * a . b (+ beta * C) over kc, from packed
 * micro-panels, a listed (list_nonzero); m x n of it is stored. */
static void
micro_kernel(real *C, ptrdiff_t rs_c, ptrdiff_t cs_c,
             const real *restrict a, const real *restrict b, ptrdiff_t kc,
             ptrdiff_t m, ptrdiff_t n, real alpha, real beta)
{
    const int *list = (const int *)(const void *)(a + MR * kc);
    const ptrdiff_t kept = list[0];
    /* C's rows are far apart (often 4 KiB), out of the prefetchers' view;
     * fetching them now hides the miss behind the k loop. */
    UNROLLED
    for (int i = 0; i < MR; ++i) {
        __builtin_prefetch(C + (i < m ? i : 0) * rs_c, 1);
        __builtin_prefetch(C + (i < m ? i : 0) * rs_c + (n - 1) * cs_c, 1);
    }
    vec acc[MR][NV];
    UNROLLED
    for (int i = 0; i < MR; ++i) {
        for (int v = 0; v < NV; ++v) {
            acc[i][v] = (vec){0};
        }
    }
    if (kept == kc) { /* dense: B's k in a row */
        for (ptrdiff_t k = 0; k < kc; ++k) {
            multiply_add(acc, a + k * MR, b + k * NR);
        }
    } else {
        for (ptrdiff_t t = 0; t < kept; ++t) {
            multiply_add(acc, a + t * MR, b + (ptrdiff_t)list[1 + t] * NR);
        }
    }
    if (m == MR && n == NR && cs_c == 1) {
        UNROLLED
    for (int i = 0; i < MR; ++i) {
            for (int v = 0; v < NV; ++v) {
                real *c = C + i * rs_c + v * VL;
                vec r = alpha * acc[i][v];
                if (beta != 0) {
                    r += beta * vload(c);
                }
                vstore(c, r);
            }
        }
        return;
    }
    real tile[MR][NR];
    UNROLLED
    for (int i = 0; i < MR; ++i) {
        for (int v = 0; v < NV; ++v) {
            vstore(&tile[i][v * VL], acc[i][v]);
        }
    }
    store_partial(C, rs_c, cs_c, (const real (*)[NR])tile, m, n, alpha,
                  beta);
}

/* The ir and jr loops over one packed A block and one packed B block:
 * each A micro-panel against every B micro-panel while it is in L1. */
static void
macro_kernel(real *C, ptrdiff_t rs_c, ptrdiff_t cs_c, const real *pa,
             const real *pb, ptrdiff_t mc, ptrdiff_t nc, ptrdiff_t kc,
             real alpha, real beta)
{
    for (ptrdiff_t i = 0; i < mc; i += MR) {
        const ptrdiff_t m = mc - i < MR ? mc - i : MR;
        for (ptrdiff_t j = 0; j < nc; j += NR) {
            const ptrdiff_t n = nc - j < NR ? nc - j : NR;
            micro_kernel(C + i * rs_c + j * cs_c, rs_c, cs_c,
                         pa + i / MR * panel_reals(kc), pb + j * kc, kc, m,
                         n, alpha, beta);
        }
    }
}

/* The columns of a B block: as many whole micro-panels as fill
 * creg_gemm_b_bytes() at the deepest slice. */
static ptrdiff_t
nc_most(void)
{
    const ptrdiff_t panels = (ptrdiff_t)creg_gemm_b_bytes()
                             / (KC_MAX * NR * (ptrdiff_t)sizeof(real));
    return (panels > 1 ? panels : 1) * NR;
}

/* The MR-row tiles of M rows, and the NR-column panels of N columns. */
static inline __attribute__((always_inline)) ptrdiff_t
row_tiles(ptrdiff_t M)
{
    return (M + MR - 1) / MR;
}

static inline __attribute__((always_inline)) ptrdiff_t
col_panels(ptrdiff_t N)
{
    return (N + NR - 1) / NR;
}

/* Rows of A, rounded up to whole micro-panels. */
static inline __attribute__((always_inline)) ptrdiff_t
padded_rows(ptrdiff_t M)
{
    return row_tiles(M) * MR;
}

/* The whole product for rows 0 .. M-1 and columns 0 .. N-1; with
 * shared_a, A as gemm_pack_shared_a packed it for all a_rows (padded) rows
 * of which these are the rows from a_row0 on (at shared_offset). */
static void
packed_gemm(real *C, ptrdiff_t rs_c, ptrdiff_t cs_c, const real *A,
            ptrdiff_t rs_a, ptrdiff_t cs_a, const real *B, ptrdiff_t rs_b,
            ptrdiff_t cs_b, ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
            real alpha, real beta, const real *shared_a, ptrdiff_t a_rows,
            ptrdiff_t a_row0)
{
    real *own_a = creg_gemm_pack_a(), *pb = creg_gemm_pack_b();
    const ptrdiff_t slice = k_slice(K);
    const ptrdiff_t nc_max = nc_most();
    for (ptrdiff_t pc = 0; pc < K; pc += slice) {
        const ptrdiff_t kc = K - pc < slice ? K - pc : slice;
        for (ptrdiff_t ic = 0; ic < M; ic += MC_MAX) {
            const ptrdiff_t mc = M - ic < MC_MAX ? M - ic : MC_MAX;
            const real *pa = own_a;
            if (shared_a != NULL) {
                pa = shared_a + shared_offset(a_rows / MR, slice, pc,
                                              a_row0 + ic, kc);
            } else {
                pack_a(own_a, A + ic * rs_a + pc * cs_a, rs_a, cs_a, mc, kc);
            }
            for (ptrdiff_t jc = 0; jc < N; jc += nc_max) {
                const ptrdiff_t nc = N - jc < nc_max ? N - jc : nc_max;
                pack_b(pb, B + pc * rs_b + jc * cs_b, rs_b, cs_b, kc, nc);
                macro_kernel(C + ic * rs_c + jc * cs_c, rs_c, cs_c, pa, pb,
                             mc, nc, kc, alpha, pc == 0 ? beta : 1);
            }
        }
    }
}

/* Threads split whichever of the row tiles and column panels are more
 * numerous: rows in whole row tiles (part of one would pack B for a few
 * rows), columns as equal runs of tiles (tile_run). */
static int
splits_rows(ptrdiff_t M, ptrdiff_t N)
{
    return row_tiles(M) >= col_panels(N);
}

real *
KFN(gemm_shared_a)(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K, ptrdiff_t *units)
{
    const ptrdiff_t slice = k_slice(K);
    *units = row_tiles(M) * ((K + slice - 1) / slice);
    const int fits = (double)row_tiles(M) * ((K + slice - 1) / slice)
                         * panel_reals(slice) * sizeof(real)
                     <= CREG_PACKED_A_ROOM(CREG_SHARED_A_BYTES);
    return splits_rows(M, N) || !fits ? NULL : creg_gemm_shared_a();
}

void
KFN(gemm_pack_shared_a)(real *dst, const real *A, ptrdiff_t rs_a,
                        ptrdiff_t cs_a, ptrdiff_t M, ptrdiff_t K,
                        ptrdiff_t first, ptrdiff_t count)
{
    /* unit u: micro-panel u % row_tiles of slice u / row_tiles, where
     * packed_gemm reads it */
    const ptrdiff_t slice = k_slice(K);
    const ptrdiff_t tiles = row_tiles(M);
    for (ptrdiff_t u = first; u < first + count; ++u) {
        const ptrdiff_t pc = u / tiles * slice, i = u % tiles * MR;
        const ptrdiff_t kc = K - pc < slice ? K - pc : slice;
        pack_a(dst + shared_offset(tiles, slice, pc, i, kc),
               A + i * rs_a + pc * cs_a, rs_a, cs_a, M - i < MR ? M - i : MR,
               kc);
    }
}

/* The operands of a product that threads split. */
typedef struct {
    real *C;
    ptrdiff_t rs_c, cs_c;
    const real *A;
    ptrdiff_t rs_a, cs_a;
    const real *B;
    ptrdiff_t rs_b, cs_b, M, N, K;
    real alpha, beta;
    const real *shared_a;
} product;

/* Row tiles [r0, r1) x column panels [p0, p1) of the product. */
static void
tile_block(const product *g, ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t p0,
           ptrdiff_t p1)
{
    const ptrdiff_t i0 = r0 * MR, j0 = p0 * NR;
    const ptrdiff_t i1 = r1 * MR < g->M ? r1 * MR : g->M;
    const ptrdiff_t j1 = p1 * NR < g->N ? p1 * NR : g->N;
    if (i1 <= i0 || j1 <= j0) {
        return; /* a thread of a team larger than the rows */
    }
    packed_gemm(g->C + i0 * g->rs_c + j0 * g->cs_c, g->rs_c, g->cs_c,
                g->A + i0 * g->rs_a, g->rs_a, g->cs_a, g->B + j0 * g->cs_b,
                g->rs_b, g->cs_b, i1 - i0, j1 - j0, g->K, g->alpha, g->beta,
                g->shared_a, padded_rows(g->M), i0);
}

/* Tiles [t0, t1), numbered panel by panel (tile t: row tile t % rows of
 * panel t / rows): the end of one panel, whole panels, the start of
 * another.  Whole panels each left a layer of 800 units at batch 128 (25
 * panels, 11 row tiles) on 16 threads at 78% of the busiest one's work,
 * and one of 300 units (10 panels) at 62%; equal runs of the 275 tiles
 * give each thread 17 or 18.  A panel two threads share is packed by
 * both. */
static void
tile_run(const product *g, ptrdiff_t t0, ptrdiff_t t1, ptrdiff_t rows)
{
    if (t1 <= t0) {
        return;
    }
    ptrdiff_t p0 = t0 / rows;
    const ptrdiff_t r0 = t0 % rows, p1 = t1 / rows, r1 = t1 % rows;
    if (p0 == p1) {
        tile_block(g, r0, r1, p0, p0 + 1);
        return;
    }
    if (r0 > 0) {
        tile_block(g, r0, rows, p0, p0 + 1);
        ++p0;
    }
    if (p1 > p0) {
        tile_block(g, 0, rows, p0, p1);
    }
    if (r1 > 0) {
        tile_block(g, 0, r1, p1, p1 + 1);
    }
}

void
KFN(gemm_packed)(real *C, ptrdiff_t rs_c, ptrdiff_t cs_c, const real *A,
                 ptrdiff_t rs_a, ptrdiff_t cs_a, const real *B,
                 ptrdiff_t rs_b, ptrdiff_t cs_b, ptrdiff_t M, ptrdiff_t N,
                 ptrdiff_t K, real alpha, real beta, int me, int team,
                 const real *shared_a)
{
    /* each thread packs what its share needs, but A when shared (only
     * where threads split the columns: gemm_shared_a) */
    const ptrdiff_t rows = row_tiles(M), panels = col_panels(N);
    const product g = {C, rs_c, cs_c, A, rs_a, cs_a, B, rs_b, cs_b, M, N,
                       K, alpha, beta, shared_a};
    if (splits_rows(M, N)) {
        tile_block(&g, rows * me / team, rows * (me + 1) / team, 0, panels);
    } else {
        const ptrdiff_t tiles = rows * panels;
        tile_run(&g, tiles * me / team, tiles * (me + 1) / team, rows);
    }
}

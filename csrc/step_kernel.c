/* step_kernel.c -- a layer's weight gradient fused with its update.
 *
 * For a panel of m <= CREG_STEP_MR neurons (rows j of W, I inputs each) and
 * a batch of B rows:
 *   g   = scale * sum_b dZ(b, j) X(b, :)        (the data gradient dW row)
 *   then DESIGN.md's step:
 *   g  += l2 w (+ l1 sign(w) for the subgradient method)
 *   v   = mu v - lr g;  w += v   (without momentum or the subgradient:
 *                                 w = (1 - lr l2) w - lr g, network2.py's form)
 *   prox: w = w - clamp(w, -lr l1, lr l1)  (= sign(w) max(|w| - lr l1, 0))
 *   and, for max-norm, the squared norm of each new row, summed in double
 *   lanes (see dvec) that are added up at the end of every chunk of
 *   CREG_STEP_NORM_CHUNK columns: each row's sum is its chunks' sums
 *   added in order, so a team may split a row at chunk boundaries
 *   (update.c) and add the parts to the same bits.  sumsq_stride 0 gives
 *   the row's sum over the call's columns in sumsq[r]; else chunk k of
 *   the call's columns (counted from its first) puts its sum in
 *   sumsq[k * sumsq_stride + r].
 * The gradient tile is summed in registers and the step applied to it before
 * the registers are reused, so dW is never written: one read and one write
 * of W (and V) per step instead of the gradient's extra write and read.
 * The batch is the K of this product and small (<= CREG_STEP_MAX_BATCH), so
 * it is never split: each weight's sum runs over b = 0 .. B-1 in order, and
 * its result does not depend on the panel or thread it falls in.  Batches
 * of CREG_STEP_PACK_BATCH rows or more are first packed (pack_batch), so a
 * tile's rows are one contiguous stream; smaller ones arrive in that layout
 * when the previous step's look-ahead copied them (forward_rows).  Those
 * long batches also skip the rows whose deltas are zero for every neuron
 * of the panel (ReLU's and dropout's zeros; sum_tile says what that
 * keeps).
 * Look-ahead (batch 1, net.c): while a new weight vector is in registers
 * it is also multiplied into the next sample's first-layer pre-activation,
 * so online SGD reads and writes W_0 once per step instead of reading it
 * twice and writing it once.  Longer batches run forward_rows on each
 * panel right after its step (update.c), while its rows are in L1: their
 * sums would not fit in registers here.  Both sum exactly as forward_rows
 * does, so a step gives the same bits whether its forward ran ahead or
 * not.
 * Compiled per precision x instruction set, like gemm_kernel.c (the
 * AVX-512 build with 64-byte vectors); the
 * AVX-512VL build differs from the AVX2 one only in forward_rows' tile
 * (dot_tile.h) and in the registers the compiler may use, never in the
 * operations or their order.
 */
#include "creg.h"
#include "real.h"
#include "simd.h"
#include "kernels.h"
#include "dot_tile.h"
#include "step_rule.h"
#if defined(__SSE2__)
#include <emmintrin.h> /* the baseline's float-to-double widening */
#endif

#define MR CREG_STEP_MR
#define NV CREG_STEP_NV
/* reals in a cache line */
#define LINE ((ptrdiff_t)(64 / sizeof(real)))

/* The switches below must become constants in every variant, so the
 * helpers are always inlined (ALWAYS_INLINE, step_rule.h; GCC otherwise
 * clones them with the switches as run-time tests inside the loops). */

/* The max-norm sums.  A tile row's squares are added in real and those
 * sums in double lanes: whole-row sums in float32 would overflow from
 * |w| ~ 1.8e19, lose every bit of squares below ~1e-19 and carry a rounding
 * per square, where this way the partial sums are one or two roundings
 * from exact and the rest stays in double (widening each float32 square
 * instead would take twice the conversions).  A partial sum that
 * overflows, or a row sum too small to trust, sends the clamp to its exact
 * scaled sum (update.c).
 * A vector of these is as wide as a vec: half a vec's lanes for float32. */
typedef double dvec __attribute__((vector_size(VBYTES)));
#define DVL ((int)(VBYTES / sizeof(double)))

#if defined(CREG_F32)
/* v's low and high halves, as doubles (intrinsics where there are any:
 * GCC 12 widens GNU vectors two lanes or one lane at a time) */
static inline void
widen(dvec *lo, dvec *hi, vec v)
{
#if defined(CREG_ISA_AVX512)
    *lo = (dvec)_mm512_cvtps_pd(_mm512_castps512_ps256((__m512)v));
    *hi = (dvec)_mm512_cvtps_pd(
        _mm256_castpd_ps(_mm512_extractf64x4_pd((__m512d)v, 1)));
#elif defined(CREG_ISA_AVX2)
    *lo = (dvec)_mm256_cvtps_pd(_mm256_castps256_ps128((__m256)v));
    *hi = (dvec)_mm256_cvtps_pd(_mm256_extractf128_ps((__m256)v, 1));
#elif defined(__SSE2__)
    *lo = (dvec)_mm_cvtps_pd((__m128)v);
    *hi = (dvec)_mm_cvtps_pd(_mm_movehl_ps((__m128)v, (__m128)v));
#else
    typedef float half __attribute__((vector_size(VBYTES / 2)));
    half a, b;
    memcpy(&a, &v, sizeof a);
    memcpy(&b, (const char *)&v + sizeof a, sizeof b);
    *lo = __builtin_convertvector(a, dvec);
    *hi = __builtin_convertvector(b, dvec);
#endif
}
#endif

/* n + the squares of one tile row w[0 .. NV-1] (zeros past the row's end),
 * lane by lane (see dvec). */
ALWAYS_INLINE dvec
add_squares(dvec n, const vec *w)
{
#if defined(CREG_F32)
    vec sum = w[0] * w[0];
    for (int u = 1; u < NV; ++u) {
        sum = fused_multiply_add(w[u], w[u], sum);
    }
    dvec lo, hi;
    widen(&lo, &hi, sum);
    return n + lo + hi;
#else
    for (int u = 0; u < NV; ++u) {
        n = (dvec)fused_multiply_add(w[u], w[u], (vec)n);
    }
    return n;
#endif
}

/* One panel's work: rows 0 .. m-1 of W (and V), the batch (pack, X) and
 * the look-ahead's (next.z pointing at the panel's first neuron; next.rows
 * set only at batch 1). */
typedef struct {
    real *W, *V;
    ptrdiff_t ldw;
    const real *pack; /* B x MR: dZ(b, panel row r) at [b MR + r], times
                       * -lr scale under the plain rule; from
                       * CREG_STEP_PACK_BATCH rows only the `kept` rows
                       * with a nonzero value, batch row rows[t] at
                       * [t MR + r] */
    const int *rows;  /* NULL: every batch row, in order */
    ptrdiff_t kept;
    const real *pack_held; /* MR: the same for the pending step's delta */
    const real *X;    /* rows ldx apart, or packed (pack_batch) */
    ptrdiff_t ldx, B, I;
    int packed;
    int m;
    real scale;
    coefficients k;
    CREG_FN(look_ahead) next;
} panel;

/* Steps rows 0 .. m-1 of one tile given their sums acc[r] (sum_tile's;
 * NULL: batch 1, where a row's sum is the single product pack[r] x, formed
 * here so that no gradient tile is kept; with PENDING the held step's
 * product pack_held[r] x_held is applied first, as its own pass did). */
ALWAYS_INLINE void
step_rows(const panel *p, ptrdiff_t j, int n, vec acc[MR][NV], const vec *x,
          const vec *x_held, dvec *norm, vec *ahead, const int full,
          const int flags)
{
    const int momentum = flags & MOMENTUM;
    vec x_next[NV];
    if (flags & AHEAD) {
        vload_cols(x_next, p->next.rows[0] + j, NV, n, full);
        if (p->next.copy != NULL) {
            vstore_cols(p->next.copy + j, x_next, NV, n, full);
        }
    }
    /* unrolled, so norm[r] and ahead[r] stay in registers */
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
        if (r >= p->m) {
            break;
        }
        real *w_row = p->W + r * p->ldw + j;
        real *v_row = momentum ? p->V + r * p->ldw + j : NULL;
        vec w[NV], v[NV];
        vload_cols(w, w_row, NV, n, full);
        if (momentum) {
            vload_cols(v, v_row, NV, n, full);
        }
        for (int u = 0; u < NV; ++u) {
            if (flags & PENDING) {
                w[u] = step(w[u], &v[u], p->pack_held[r] * x_held[u],
                            p->scale, &p->k, momentum, flags & SUBGRADIENT,
                            flags & PROX);
            }
            const vec sum = acc != NULL ? acc[r][u] : p->pack[r] * x[u];
            w[u] = step(w[u], &v[u], sum, p->scale, &p->k, momentum,
                        flags & SUBGRADIENT, flags & PROX);
            if ((flags & AHEAD) && (full || u * VL < n)) {
                ahead[r] += w[u] * x_next[u]; /* as forward_rows sums */
            }
        }
        if (flags & NORMS) {
            norm[r] = add_squares(norm[r], w);
        }
        if ((flags & AHEAD) && p->next.hold) {
            continue; /* the next step's pass applies it (PENDING) */
        }
        vstore_cols(w_row, w, NV, n, full);
        if (momentum) {
            vstore_cols(v_row, v, NV, n, full);
        }
    }
}

/* Where row 0 of the batch's tile at column j starts, and the distance
 * between its rows. */
ALWAYS_INLINE const real *
tile_rows(const panel *p, ptrdiff_t j, ptrdiff_t *stride)
{
    const ptrdiff_t width = NV * VL;
    *stride = p->packed ? width : p->ldx;
    return p->packed ? p->X + (j / width) * p->B * width : p->X + j;
}

/* acc := the sums of pack(b) x_b over the batch, in order, for one tile
 * (all MR rows, columns j .. j + n - 1); with `listed`, over the kept rows
 * only (a row whose MR values are all zero adds zeros: skipping it gives
 * the same sums, but for the sign of a zero sum and the NaN of 0 x inf). */
ALWAYS_INLINE void
sum_tile(vec out[MR][NV], const panel *p, ptrdiff_t j, int n, const int full,
         const int listed)
{
    ptrdiff_t stride;
    const real *X = tile_rows(p, j, &stride);
    const ptrdiff_t count = listed ? p->kept : p->B;
    if (count == 0) { /* every row skipped: a zero gradient */
        for (int r = 0; r < MR; ++r) {
            for (int u = 0; u < NV; ++u) {
                out[r][u] = (vec){0};
            }
        }
        return;
    }
    /* summed in a local tile (the output may alias the operands as far as
     * the compiler knows, which would store it every step) */
    vec acc[MR][NV], x[NV];
    /* started from the first row, not from zeros: a memset of the tile
     * per call costs more than the whole B = 1 step */
    vload_cols(x, X + (listed ? p->rows[0] * stride : 0), NV, n, full);
    for (int r = 0; r < MR; ++r) {
        for (int u = 0; u < NV; ++u) {
            acc[r][u] = p->pack[r] * x[u];
        }
    }
    /* three rows a trip (a batch of 10 is three whole trips after the
     * first row): 1% of a Nielsen step, from the loop's overhead */
#pragma GCC unroll 3
    for (ptrdiff_t b = 1; b < count; ++b) {
        vload_cols(x, X + (listed ? p->rows[b] : b) * stride, NV, n, full);
        for (int r = 0; r < MR; ++r) {
            const vec s = splat(p->pack[b * MR + r]);
            for (int u = 0; u < NV; ++u) {
                acc[r][u] = fused_multiply_add(s, x[u], acc[r][u]);
            }
        }
    }
    /* vector by vector: GCC turned the memcpy this was into a rep movs
     * once the full and the edge tile shared a function (2% of C3) */
    for (int r = 0; r < MR; ++r) {
        for (int u = 0; u < NV; ++u) {
            out[r][u] = acc[r][u];
        }
    }
}

/* The same over the kept rows, out of line: inlined into a variant, the
 * step's constants stay live across the batch loop and push accumulators
 * out of the 16 registers; on its own the loop keeps all twelve in
 * registers.  Worth a call only for long batches, which list their rows.
 * (Not cloned for the full tile's constant width: one function a level.) */
static __attribute__((noinline, noclone)) void
sum_listed_tile(vec acc[MR][NV], const panel *p, ptrdiff_t j, int n)
{
    if (n == NV * VL) {
        sum_tile(acc, p, j, NV * VL, 1, 1);
    } else {
        sum_tile(acc, p, j, n, 0, 1);
    }
}

/* One tile: the panel's rows, columns j .. j + n - 1 (n < the tile width
 * only at the right edge). */
ALWAYS_INLINE void
step_tile(const panel *p, ptrdiff_t j, int n, dvec *norm, vec *ahead,
          const int full, const int flags)
{
    if (flags & AHEAD) { /* look-ahead runs at batch 1 only */
        ptrdiff_t stride;
        vec x[NV], x_held[NV];
        vload_cols(x, tile_rows(p, j, &stride), NV, n, full);
        if (flags & PENDING) {
            vload_cols(x_held, p->next.pending_x + j, NV, n, full);
        }
        step_rows(p, j, n, NULL, x, x_held, norm, ahead, full, flags);
        return;
    }
    /* separate tiles: the one whose address the call takes lives in
     * memory, the other can stay in registers */
    if (p->rows != NULL) {
        vec acc[MR][NV];
        sum_listed_tile(acc, p, j, n);
        step_rows(p, j, n, acc, NULL, NULL, norm, ahead, full, flags);
    } else {
        vec acc[MR][NV];
        sum_tile(acc, p, j, n, full, 0);
        step_rows(p, j, n, acc, NULL, NULL, norm, ahead, full, flags);
    }
}

/* Adds up the max-norm lanes of rows 0 .. m-1 for one chunk of columns
 * (in order, as one number per row) and clears them: the chunk's sum goes
 * to sumsq[chunk * stride + r], or with stride 0 is added to sumsq[r]. */
ALWAYS_INLINE void
fold_norms(dvec *norm, double *sumsq, ptrdiff_t stride, ptrdiff_t chunk,
           int m)
{
    for (int r = 0; r < m; ++r) {
        double lanes[DVL];
        memcpy(lanes, &norm[r], sizeof lanes);
        double total = 0;
        for (int i = 0; i < DVL; ++i) {
            total += lanes[i];
        }
        if (stride == 0) {
            sumsq[r] += total;
        } else {
            sumsq[chunk * stride + r] = total;
        }
        norm[r] = (dvec){0};
    }
}

ALWAYS_INLINE void
step_panel(const panel *p, double *sumsq, ptrdiff_t stride, const int flags)
{
    const ptrdiff_t width = NV * VL;
    dvec norm[MR];
    vec ahead[MR];
    for (int r = 0; r < MR; ++r) {
        norm[r] = (dvec){0};
        ahead[r] = (vec){0};
        if ((flags & NORMS) && stride == 0 && r < p->m) {
            sumsq[r] = 0;
        }
    }
    ptrdiff_t j = 0, chunk = 0;
    for (; j + width <= p->I; j += width) {
        /* a few lines per tile, so the misses overlap the arithmetic
         * instead of queueing all at once (with the all-levels hint:
         * measured 2-3% faster for Nielsen's network than L2 only) */
        for (int f = 0; f < p->next.n_fetch; ++f) {
            /* every line of the tile: a 64-byte-vector tile spans two */
            for (ptrdiff_t c = 0; c < width; c += LINE) {
                __builtin_prefetch(p->next.fetch[f] + j + c, 0, 3);
            }
        }
        step_tile(p, j, (int)width, norm, ahead, 1, flags);
        if ((flags & NORMS) && (j + width) % CREG_STEP_NORM_CHUNK == 0) {
            fold_norms(norm, sumsq, stride, chunk++, p->m);
        }
    }
    if (j < p->I) {
        step_tile(p, j, (int)(p->I - j), norm, ahead, 0, flags);
    }
    if ((flags & NORMS) && p->I % CREG_STEP_NORM_CHUNK != 0) {
        fold_norms(norm, sumsq, stride, chunk, p->m);
    }
    for (int r = 0; (flags & AHEAD) && r < p->m; ++r) {
        p->next.z[r] = vsum(ahead[r]);
    }
}

/* Every combination of switches that occurs gets its own branch-free
 * loops, in its own function (one function holding them all takes minutes
 * to compile under the sanitizers): the rule's six, each alone, with the
 * max-norm sums (_n) and with the look-ahead (_a); with max-norm the
 * caller runs the look-ahead itself, after the clamp.  18 variants, and
 * where the level holds online steps (dispatch.c: 64-byte vectors) 6 more:
 * the look-ahead applying the held step first (_p), never with max-norm.
 * Whether a look-ahead holds its stores is tested at run time, a branch
 * per tile row, so that holding costs no variants of its own. */
#if defined(CREG_ISA_AVX512)
#define EACH_HELD_VARIANT(V) EACH_RULE(V, AHEAD | PENDING, _p)
#else
#define EACH_HELD_VARIANT(V)
#endif
#define EACH_VARIANT(V)                                                       \
    EACH_RULE(V, 0, )                                                         \
    EACH_RULE(V, NORMS, _n)                                                   \
    EACH_RULE(V, AHEAD, _a)                                                   \
    EACH_HELD_VARIANT(V)
/* (The panel is copied to a local whose address the stores to W cannot
 * reach, or every store would reload the coefficients.) */
#define DEFINE_VARIANT(name, f)                                               \
    static __attribute__((noinline)) void variant_##name(                     \
        const panel *p, double *sumsq, ptrdiff_t stride)                      \
    {                                                                         \
        const panel local = *p;                                               \
        step_panel(&local, sumsq, stride, f);                                 \
    }
#define CASE(name, f)                                                         \
    case f:                                                                   \
        variant_##name(&p, sumsq, sumsq_stride);                              \
        break;
EACH_VARIANT(DEFINE_VARIANT)

/* Whether a packed row of MR deltas has a nonzero (or NaN) value. */
ALWAYS_INLINE int
any_nonzero(const real *row)
{
    int nonzero = 0;
    for (int r = 0; r < MR; ++r) {
        nonzero |= row[r] != 0;
    }
    return nonzero;
}

void
KFN(step_panel)(real *W, real *V, ptrdiff_t ldw, const real *dZ,
                ptrdiff_t ldz, const real *X, ptrdiff_t ldx, int packed,
                ptrdiff_t B, ptrdiff_t I, int m, real scale,
                const creg_step_rule *rule, double *sumsq,
                ptrdiff_t sumsq_stride,
                const CREG_FN(look_ahead) *next)
{
    const int ahead = next->rows != NULL;
    const int flags = rule_flags(rule) | (rule->max_norm > 0 ? NORMS : 0)
                      | (ahead ? AHEAD : 0)
                      | (ahead && next->pending_dz != NULL ? PENDING : 0);
    /* dZ(b, j .. j+m-1) packed per b, zeros past m (never stored) */
    const real factor = PLAIN(flags) ? -(real)rule->lr * scale : 1;
    /* Long batches keep only the rows with a nonzero value: ReLU and
     * dropout zero whole rows of a panel's deltas (37% of C3's second
     * layer's after an epoch), and a skipped row saves MR x I
     * multiply-adds.  Shorter ones keep every row, untested. */
    const int listing = !ahead && B >= CREG_STEP_PACK_BATCH;
    real pack[CREG_STEP_MAX_BATCH * MR];
    int rows[CREG_STEP_MAX_BATCH];
    ptrdiff_t kept = 0;
    for (ptrdiff_t b = 0; b < B; ++b) {
        const real *dz = dZ + b * ldz;
        real *row = pack + kept * MR;
        if (m == MR) { /* the usual case, without a test per element */
            for (int r = 0; r < MR; ++r) {
                row[r] = factor * dz[r];
            }
        } else {
            for (int r = 0; r < MR; ++r) {
                row[r] = r < m ? factor * dz[r] : 0;
            }
        }
        rows[kept] = (int)b;
        kept += !listing || any_nonzero(row);
    }
    real pack_held[MR];
    for (int r = 0; r < MR; ++r) {
        pack_held[r] = (flags & PENDING) && r < m
                           ? factor * next->pending_dz[r] : 0;
    }
    const panel p = {
        W, V, ldw, pack, listing ? rows : NULL, kept, pack_held, X, ldx, B,
        I, packed, m, scale, rule_coefficients(rule), *next};
    switch (flags) {
        EACH_VARIANT(CASE)
    default: /* look-ahead with max-norm: left to the caller (which holds
              * no step then, net.c) */
        step_panel(&p, sumsq, sumsq_stride, flags & ~(AHEAD | PENDING));
        break;
    }
}

/* Copies tiles first .. first + count - 1 of the batch X (B x I, rows ldx
 * apart) to Xp, tile after tile, each B rows of the tile width (zeros past
 * I): the layout step_panel reads with packed set.  Long batches are read
 * once per panel; packed, each tile is one contiguous stream instead of B
 * rows on B different pages. */
void
KFN(pack_batch)(real *Xp, const real *X, ptrdiff_t ldx, ptrdiff_t B,
                ptrdiff_t I, ptrdiff_t first, ptrdiff_t count)
{
    const ptrdiff_t width = NV * VL;
    for (ptrdiff_t t = first; t < first + count; ++t) {
        const ptrdiff_t j = t * width;
        const ptrdiff_t n = I - j < width ? I - j : width;
        real *dst = Xp + t * B * width;
        for (ptrdiff_t b = 0; b < B; ++b) {
            const real *src = X + b * ldx + j;
            for (ptrdiff_t c = 0; c < width; ++c) {
                dst[b * width + c] = c < n ? src[c] : 0;
            }
        }
    }
}

/* Z(b, r) for nb input rows and the m rows of W, summed as dot_tile.h
 * sums (the order of the batch-1 look-ahead, so the two agree bit for
 * bit).  Rows of W past m repeat row 0 and are not stored.  The rows are
 * x[b], or with `source` COPY the packed copy (pack_batch's layout, blocks
 * `block` apart); with COPYING they are also stored there as read. */
enum { ROWS, COPYING, COPY };

ALWAYS_INLINE void
forward_tile(real *Z, ptrdiff_t ldz, const real *const *x, const real *W,
             ptrdiff_t ldw, int m, ptrdiff_t I, real *copy, ptrdiff_t block,
             const int nb, const int source)
{
    const real *w[CREG_DOT_TILE_COLS];
    for (int r = 0; r < CREG_DOT_TILE_COLS; ++r) {
        w[r] = W + (r < m ? r : 0) * ldw;
    }
    real sums[CREG_DOT_TILE_ROWS * CREG_DOT_TILE_COLS];
    dot_tile_sums(sums, x, w, I, copy, block, NV * VL, nb, source == COPYING,
                  source == COPY);
    for (int b = 0; b < nb; ++b) {
        /* a constant count: GCC turns a loop to m into a call to memcpy
         * per row (100 per Nielsen step; no change measurable in the
         * epoch, but a call for three stores) */
#pragma GCC unroll 8
        for (int r = 0; r < CREG_DOT_TILE_COLS; ++r) {
            if (r < m) {
                Z[b * ldz + r] = sums[b * CREG_DOT_TILE_COLS + r];
            }
        }
    }
}

/* The tiles of nb input rows against all O neurons: with source COPYING
 * the first tile copies the rows and the others read the copy. */
ALWAYS_INLINE void
forward_row_group(real *Z, ptrdiff_t ldz, const real *const *x,
                  const real *W, ptrdiff_t ldw, ptrdiff_t O, ptrdiff_t I,
                  real *copy, ptrdiff_t block, const int nb, const int source)
{
    for (ptrdiff_t j = 0; j < O; j += CREG_DOT_TILE_COLS) {
        const int m = (int)(O - j < CREG_DOT_TILE_COLS ? O - j
                                                       : CREG_DOT_TILE_COLS);
        if (source == ROWS) {
            forward_tile(Z + j, ldz, x, W + j * ldw, ldw, m, I, NULL, 0, nb,
                         ROWS);
        } else if (j == 0 && source == COPYING) {
            forward_tile(Z + j, ldz, x, W + j * ldw, ldw, m, I, copy, block,
                         nb, COPYING);
        } else {
            forward_tile(Z + j, ldz, x, W + j * ldw, ldw, m, I, copy, block,
                         nb, COPY);
        }
    }
}

/* forward_row_group with `source` made a constant, so that each group
 * size's loop holds only its source's tiles: a run-time source, tested per
 * tile, measured 0-8% slower on C1. */
ALWAYS_INLINE void
forward_group(real *Z, ptrdiff_t ldz, const real *const *x, const real *W,
              ptrdiff_t ldw, ptrdiff_t O, ptrdiff_t I, real *copy,
              ptrdiff_t block, const int nb, int source)
{
    switch (source) {
    case ROWS:
        forward_row_group(Z, ldz, x, W, ldw, O, I, copy, block, nb, ROWS);
        break;
    case COPYING:
        forward_row_group(Z, ldz, x, W, ldw, O, I, copy, block, nb, COPYING);
        break;
    default:
        forward_row_group(Z, ldz, x, W, ldw, O, I, copy, block, nb, COPY);
        break;
    }
}

/* Z (B x O, rows ldz apart) := X . W^T for B input rows, W: O x I with
 * rows ldw apart.  Groups of up to CREG_DOT_TILE_ROWS input rows (a group
 * stays in L1 while W's rows stream past).  With copy set (B must then be
 * under CREG_STEP_PACK_BATCH), the rows of group g, for each g with
 * g % parts == part, are also copied there in pack_batch's layout, the one
 * the next step reads fastest (B x I rounded up to the tile width): calls
 * over `parts` panels share the copy, which overlaps its stores with more
 * arithmetic than one call copying everything (measured 0.5% of a Nielsen
 * step).  The calls for parts first_part .. part - 1 have run, on this
 * thread, so their groups are read from the copy: aligned vectors, where
 * numpy's rows start 16 bytes into a cache line and every 64-byte load
 * from them spans two (benchmarks/README.md). */
void
KFN(forward_rows)(real *Z, ptrdiff_t ldz, const real *const *rows,
                  ptrdiff_t B, const real *W, ptrdiff_t ldw, ptrdiff_t O,
                  ptrdiff_t I, real *copy, int first_part, int part,
                  int parts)
{
    const ptrdiff_t block = B * NV * VL;
    ptrdiff_t group;
    int g = 0;
    for (ptrdiff_t b = 0; b < B; b += group, ++g) {
        const int owner = g % parts;
        const int source = copy == NULL          ? ROWS
                           : owner == part       ? COPYING
                           : owner >= first_part && owner < part ? COPY
                                                                 : ROWS;
        real *z = Z + b * ldz;
        const real *const *x = rows + b;
        /* the group's rows within each block of the copy */
        real *c = copy != NULL ? copy + b * NV * VL : NULL;
        /* 6 rows as 3 + 3 rather than 4 + 2, and 5 as 3 + 2 rather than
         * 4 + 1 */
        const ptrdiff_t rest = B - b;
        group = rest <= CREG_DOT_TILE_ROWS ? rest
                : rest <= 6                ? 3
                                           : CREG_DOT_TILE_ROWS;
        switch (group) {
        case 1:
            forward_group(z, ldz, x, W, ldw, O, I, c, block, 1, source);
            break;
        case 2:
            forward_group(z, ldz, x, W, ldw, O, I, c, block, 2, source);
            break;
        case 3:
            forward_group(z, ldz, x, W, ldw, O, I, c, block, 3, source);
            break;
        default:
            forward_group(z, ldz, x, W, ldw, O, I, c, block,
                          CREG_DOT_TILE_ROWS, source);
            break;
        }
    }
}

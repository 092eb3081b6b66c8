/* step_columns.c -- the first layer's fused step and forward with its
 * weights in columns: W0^T in panels of BW = CB x VL columns (neurons),
 * each panel I rows of BW contiguous elements, so neuron j's weight k is
 * at (j / BW) I BW + k BW + j % BW (columns.c keeps that copy for a
 * training call).  A thread's panels are its own lines, streamed in order.
 *
 * Row-major W0 makes the forward a dot product per (row, neuron), summed
 * a vector of inputs at a time and then across lanes; that form reached
 * 71-76% of the FMA peak on data in L1 here, the outer-product form 83-85%
 * (benchmarks/README.md).  In columns both kernels are outer products:
 *   step    for 4 inputs k at a time, the gradient vectors of CB column
 *           vectors, sum_b x_b[k] dZ(b, cols) (x_b[k] broadcast, dZ's rows
 *           as vectors), then the step rule (step_rule.h);
 *   forward z(b, cols) += x_b[k] W0^T(k, cols), for groups of up to GMAX
 *           rows, k in order.
 * The batch's rows are read where they lie: a broadcast of one element
 * never spans two cache lines, so no aligned copy is made.
 * Each weight's gradient is summed as step_kernel.c sums it (dZ(0) x_0,
 * then fused multiply-adds over b = 1 .. B-1), and each pre-activation
 * runs along k from k = 0, one fused multiply-add per input from zero,
 * however the columns, rows and inputs are blocked; so results do not
 * depend on the team or the vector width, and a step's look-ahead forward
 * gives the bits of forward_columns.
 * Inputs that are zero in every row of the batch (the step) or of a group
 * of its rows (the forward) are left out of the sums (find_used): an
 * image's blank pixels, half of MNIST's at batch 10.  A zero input adds
 * only zeros to a sum, so the sums keep their bits but for the NaN of
 * 0 x inf; its weights still take the rule (decay, penalty, momentum).
 * Compiled for AVX2 (levels 2 and 3, 16 registers) and AVX-512 (level 4,
 * 32), with the blocks of blocking.h.
 */
#include "creg.h"
#include "real.h"
#include "simd.h"
#include "kernels.h"
#include "step_rule.h"

#include <stdint.h>

/* blocking.h's sizes */
#define CB CREG_COLUMNS_CB
#define U CREG_COLUMNS_INPUTS
#define GMAX CREG_COLUMNS_GROUP
#define KC CREG_COLUMNS_CHUNK
_Static_assert(KC <= 64, "a chunk's inputs are the bits of a uint64_t");
#define BW (CB * VL)

/* Where the panel that holds column j (a multiple of BW) starts. */
static inline ptrdiff_t
panel_at(ptrdiff_t j, ptrdiff_t I)
{
    return (j / BW) * I * BW;
}

/* The inputs of a chunk that some row uses (is not zero in): bit k % KC
 * of chunk k / KC, for the first CHUNKS chunks (longer rows are taken
 * whole).  The step's are of the batch's rows, the forward's of each
 * group of them (GROUPS at most: batches under CREG_STEP_PACK_BATCH). */
#define CHUNKS (CREG_COLUMNS_LISTED_INPUTS / KC)
#define GROUPS ((CREG_STEP_PACK_BATCH - 1 + GMAX - 1) / GMAX)
typedef uint64_t chunk_bits[CHUNKS];

/* The number of the lowest bit set in bits (not 0), as the bits below it
 * counted: popcnt, which every AVX2 CPU has.  GCC writes ctz as the tzcnt
 * encoding, which check_wheel.sh counts as BMI (an instruction the
 * baseline lacks), and bsf in inline assembly made the listed loops
 * 15-18% slower on Zen 3, where this is within 2.5% of tzcnt. */
static inline int
lowest_bit(uint64_t bits)
{
    return __builtin_popcountll((bits & -bits) - 1);
}

/* All inputs of a chunk of n (<= 64). */
static inline uint64_t
all_inputs(ptrdiff_t n)
{
    return n == 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1;
}

/* The bits of x[k .. k1 - 1] (at most VL of them; zeros past k1). */
static inline mask
bits_at(const real *x, ptrdiff_t k, ptrdiff_t k1)
{
    if (k >= k1) {
        return (mask)(vec){0};
    }
    return (mask)(k + VL <= k1 ? vload(x + k)
                               : vload_part(x + k, (int)(k1 - k)));
}

/* Whether row x (I inputs) has a zero (NaN is not zero): one vectorized
 * pass, as gemm_packed.c's list_nonzero scans a micro-panel. */
static int
has_zero(const real *x, ptrdiff_t I)
{
    int zeros = 0;
    for (ptrdiff_t k = 0; k < I; ++k) {
        zeros |= x[k] == 0;
    }
    return zeros;
}

/* The inputs k0 .. k1 - 1 (at most 64) that some row x[0 .. rows - 1]
 * uses, from the OR of their bits (a value is zero when its bits but the
 * sign's are); SCAN vectors at a time, so that the ORs stay in registers
 * (16 of them at AVX2). */
#define SCAN (KC / VL < 8 ? KC / VL : 8)
ALWAYS_INLINE uint64_t
inputs_used(const real *const *x, ptrdiff_t rows, ptrdiff_t k0, ptrdiff_t k1,
            const int whole)
{
    const mask magnitude = ~(mask)splat((real)-0.0);
    uint64_t bits = 0;
    for (ptrdiff_t k = k0; k < k1; k += SCAN * VL) {
        mask any[SCAN];
        for (int v = 0; v < SCAN; ++v) {
            any[v] = whole ? (mask)vload(x[0] + k + v * VL)
                           : bits_at(x[0], k + v * VL, k1);
        }
        for (ptrdiff_t b = 1; b < rows; ++b) {
            for (int v = 0; v < SCAN; ++v) {
                any[v] |= whole ? (mask)vload(x[b] + k + v * VL)
                                : bits_at(x[b], k + v * VL, k1);
            }
        }
        for (int v = 0; v < SCAN && k + v * VL < k1; ++v) {
            bits |= (uint64_t)nonzero_bits(any[v] & magnitude)
                    << (k - k0 + v * VL);
        }
    }
    return bits;
}

/* used[c]: the inputs of chunk c used by some row x[0 .. rows - 1], and
 * used itself; or NULL, every input used: where the first row has no zero
 * (dense data, which costs that row's read) or the rows are longer than
 * CREG_COLUMNS_LISTED_INPUTS. */
static const uint64_t *
find_used(uint64_t *used, const real *const *x, ptrdiff_t rows, ptrdiff_t I)
{
    if (I > CREG_COLUMNS_LISTED_INPUTS || !has_zero(x[0], I)) {
        return NULL;
    }
    ptrdiff_t k0 = 0;
    for (; k0 + KC <= I; k0 += KC) {
        used[k0 / KC] = inputs_used(x, rows, k0, k0 + KC, 1);
    }
    if (k0 < I) { /* a short last chunk */
        used[k0 / KC] = inputs_used(x, rows, k0, I, 0);
    }
    return used;
}

/* The groups of a batch of B rows that the forward sums together: equal
 * sizes (10 rows as 5 + 5, not 8 + 2); group i starts at row
 * group_start(B, i). */
static inline ptrdiff_t
groups_of(ptrdiff_t B)
{
    return (B + GMAX - 1) / GMAX;
}

static inline ptrdiff_t
group_start(ptrdiff_t B, ptrdiff_t i)
{
    return B * i / groups_of(B);
}

/* find_used for each group of a batch's rows. */
typedef struct {
    const uint64_t *group[GROUPS];
    chunk_bits room[GROUPS];
} group_inputs;

static void
find_used_by_group(group_inputs *used, const real *const *x, ptrdiff_t B,
                   ptrdiff_t I)
{
    for (ptrdiff_t i = 0; i < groups_of(B); ++i) {
        used->group[i] = find_used(used->room[i], x + group_start(B, i),
                                   group_start(B, i + 1) - group_start(B, i),
                                   I);
    }
}

/* acc[g][c] += x_g[k] W0^T(k, c), for G rows and nc column vectors of the
 * panel WT (constants at each call). */
ALWAYS_INLINE void
forward_input(vec (*acc)[CB], const real *const *x, const real *WT,
              ptrdiff_t k, const int G, const int nc)
{
    vec w[CB];
    for (int c = 0; c < nc; ++c) {
        w[c] = vload(WT + k * BW + c * VL);
        KEEP_IN_REGISTER(w[c]);
    }
    for (int g = 0; g < G; ++g) {
        vec s = splat(x[g][k]);
        KEEP_IN_REGISTER(s);
        for (int c = 0; c < nc; ++c) {
            acc[g][c] = fused_multiply_add(s, w[c], acc[g][c]);
        }
    }
}

/* z[g CB + c] += x_g[k] W0^T(k, c) over k0 <= k < k1 (k0 a multiple of
 * KC), chunk by chunk, leaving out the inputs the G rows do not use
 * (used, or NULL: none left out).  A product of zero adds only a zero: the
 * sums keep their bits, but for the NaN of 0 x inf. */
ALWAYS_INLINE void
forward_block(vec *z, const real *const *x, const real *WT, ptrdiff_t k0,
              ptrdiff_t k1, const uint64_t *used, const int G, const int nc)
{
    vec acc[GMAX][CB];
    for (int g = 0; g < G; ++g) {
        for (int c = 0; c < nc; ++c) {
            acc[g][c] = z[g * CB + c];
        }
    }
    for (ptrdiff_t c0 = k0; c0 < k1; c0 += KC) {
        const ptrdiff_t c1 = c0 + KC < k1 ? c0 + KC : k1;
        const uint64_t bits = used != NULL ? used[c0 / KC]
                                           : all_inputs(c1 - c0);
        if (bits == all_inputs(c1 - c0)) {
            for (ptrdiff_t k = c0; k < c1; ++k) {
                forward_input(acc, x, WT, k, G, nc);
            }
        } else {
            for (uint64_t left = bits; left != 0; left &= left - 1) {
                forward_input(acc, x, WT, c0 + lowest_bit(left), G, nc);
            }
        }
    }
    for (int g = 0; g < G; ++g) {
        for (int c = 0; c < nc; ++c) {
            z[g * CB + c] = acc[g][c];
        }
    }
}

#define FORWARD_CASE(G)                                                       \
    case G:                                                                   \
        if (G <= GMAX && nc == CB) {                                          \
            forward_block(zg, xg, WT, k0, k1, ug, G, CB);                     \
        } else if (G <= GMAX) {                                               \
            forward_block(zg, xg, WT, k0, k1, ug, G, 1);                      \
        }                                                                     \
        break;

/* forward_block for B rows (any count: groups_of(B)), with the inputs
 * each group uses (find_used_by_group). */
static __attribute__((noinline)) void
forward_rows_part(vec *z, const real *const *x, ptrdiff_t B, const real *WT,
                  ptrdiff_t k0, ptrdiff_t k1, const group_inputs *used,
                  int nc)
{
    for (ptrdiff_t i = 0; i < groups_of(B); ++i) {
        const ptrdiff_t b = group_start(B, i);
        const ptrdiff_t G = group_start(B, i + 1) - b;
        vec *zg = z + b * CB;
        const real *const *xg = x + b;
        const uint64_t *ug = used->group[i];
        switch (G) {
            FORWARD_CASE(1)
            FORWARD_CASE(2)
            FORWARD_CASE(3)
            FORWARD_CASE(4)
            FORWARD_CASE(5)
            FORWARD_CASE(6)
            FORWARD_CASE(7)
            FORWARD_CASE(8)
            FORWARD_CASE(9)
            FORWARD_CASE(10)
        }
    }
}

/* Z(b, j) for the block's columns j0 .. j0 + n - 1 from its sums. */
static void
store_sums(real *Z, ptrdiff_t ldz, const vec *z, ptrdiff_t B, ptrdiff_t j0,
           int n)
{
    for (ptrdiff_t b = 0; b < B; ++b) {
        vstore_cols(Z + b * ldz + j0, z + b * CB, CB, n, 0);
    }
}

void
KFN(forward_columns)(real *Z, ptrdiff_t ldz, const real *const *rows,
                     ptrdiff_t B, const real *WT, ptrdiff_t I, ptrdiff_t j0,
                     ptrdiff_t j1)
{
    vec z[CREG_STEP_PACK_BATCH * CB];
    group_inputs used;
    find_used_by_group(&used, rows, B, I);
    for (ptrdiff_t j = j0; j < j1; j += CB * VL) {
        const int n = (int)(j1 - j < CB * VL ? j1 - j : CB * VL);
        const int nc = (n + VL - 1) / VL;
        memset(z, 0, sizeof(vec) * CB * (size_t)B);
        forward_rows_part(z, rows, B, WT + panel_at(j, I), 0, I, &used, nc);
        store_sums(Z, ldz, z, B, j, n);
    }
}

/* One block's step: CB (or nc) column vectors of W0^T from column j. */
typedef struct {
    real *WT, *VT;
    const vec *d;             /* d[b CB + c]: dZ(b, the block's columns),
                               * times -lr scale under the plain rule */
    const real *const *x;     /* the batch's rows */
    const uint64_t *used;     /* the inputs they use (NULL: all) */
    const group_inputs *next_used; /* those of the look-ahead's groups */
    ptrdiff_t B;
    real scale;
    coefficients k;
} block;

/* The rule applied to the gradient vector g of W0^T(k, column vector c). */
ALWAYS_INLINE void
step_weights(const block *p, ptrdiff_t k, int c, vec g, const int flags)
{
    const int momentum = flags & MOMENTUM;
    real *w = p->WT + k * BW + c * VL;
    real *v = momentum ? p->VT + k * BW + c * VL : NULL;
    vec vv = {0};
    if (momentum) {
        vv = vload(v);
    }
    vstore(w, step(vload(w), &vv, g, p->scale, &p->k, momentum,
                   flags & SUBGRADIENT, flags & PROX));
    if (momentum) {
        vstore(v, vv);
    }
}

/* The step of inputs ks[0 .. u_n - 1] (u_n <= U, a constant), given the
 * block's dZ vectors d[b][c]: in registers when B is a constant (bb > 0),
 * else each loaded once per row into registers. */
ALWAYS_INLINE void
step_inputs(const block *p, const vec (*d)[CB], ptrdiff_t B,
            const ptrdiff_t *ks, const int u_n, const int bb, const int nc,
            const int flags)
{
    vec acc[U][CB];
    for (int u = 0; u < u_n; ++u) {
        const vec s = splat(p->x[0][ks[u]]);
        for (int c = 0; c < nc; ++c) {
            acc[u][c] = d[0][c] * s;
        }
    }
    for (ptrdiff_t b = 1; b < B; ++b) {
        const real *xb = p->x[b];
        vec db[CB];
        for (int c = 0; c < nc; ++c) {
            db[c] = d[b][c];
            if (bb == 0) { /* (a copy of registers would cost moves) */
                KEEP_IN_REGISTER(db[c]);
            }
        }
        for (int u = 0; u < u_n; ++u) {
            vec s = splat(xb[ks[u]]);
            KEEP_IN_REGISTER(s);
            for (int c = 0; c < nc; ++c) {
                acc[u][c] = fused_multiply_add(db[c], s, acc[u][c]);
            }
        }
    }
    for (int u = 0; u < u_n; ++u) {
        for (int c = 0; c < nc; ++c) {
            step_weights(p, ks[u], c, acc[u][c], flags);
        }
    }
}

/* The lines of the rows fetch[0 .. n_fetch - 1] in inputs k0 .. k1 - 1,
 * row by row within each line (each row's first line first). */
typedef struct {
    const real *const *rows;
    int n_rows;
    ptrdiff_t k0;
    int count; /* lines in all */
} fetch_plan;

/* Where the next line of a plan is: its row and its offset, counted
 * without a division per line (two per line were 5% of C1's step). */
typedef struct {
    int done, row;
    ptrdiff_t at;
} fetch_cursor;

static inline void
fetch_lines(const fetch_plan *f, fetch_cursor *q, int n)
{
    const ptrdiff_t line = 64 / (ptrdiff_t)sizeof(real);
    for (int i = 0; i < n && q->done < f->count; ++i, ++q->done) {
        __builtin_prefetch(f->rows[q->row] + q->at, 0, 3);
        if (++q->row == f->n_rows) {
            q->row = 0;
            q->at += line;
        }
    }
}

/* Inputs k0 .. k1 - 1 (at most KC), and f's lines a few per trip (a burst
 * of them would stall on the line fill buffers).  With B a constant
 * (bb > 0) the dZ vectors are copied to a local array, which stays in
 * registers across the inputs: 4 broadcasts per 8 multiply-adds instead of
 * 7 loads.  An input that is zero in every row of the batch has a zero
 * gradient: its weights take the rule alone (the decay, the prox, the
 * momentum), so the sums of the others are all that is left out (MNIST's
 * pixels: half of them at batch 10, benchmarks/README.md). */
ALWAYS_INLINE void
step_chunk(const block *p, ptrdiff_t k0, ptrdiff_t k1, const fetch_plan *f,
           const int bb, const int nc, const int flags)
{
    vec local[CREG_STEP_PACK_BATCH][CB];
    const vec (*d)[CB] = (const vec (*)[CB])p->d;
    if (bb > 0) {
        for (int b = 0; b < bb; ++b) {
            for (int c = 0; c < nc; ++c) {
                local[b][c] = p->d[b * CB + c];
            }
        }
        d = (const vec (*)[CB])local;
    }
    const ptrdiff_t B = bb > 0 ? bb : p->B;
    const uint64_t all = all_inputs(k1 - k0);
    const uint64_t used = p->used != NULL ? p->used[k0 / KC] : all;
    const int trips = __builtin_popcountll(used) / U;
    const int per_trip = trips > 0 ? (f->count + trips - 1) / trips : 0;
    fetch_cursor q = {0, 0, f->k0};
    ptrdiff_t ks[U];
    if (used == all) {
        ptrdiff_t k = k0;
        for (; k + U <= k1; k += U) {
            fetch_lines(f, &q, per_trip);
            for (int u = 0; u < U; ++u) {
                ks[u] = k + u;
            }
            step_inputs(p, d, B, ks, U, bb, nc, flags);
        }
        for (; k < k1; ++k) {
            step_inputs(p, d, B, &k, 1, bb, nc, flags);
        }
    } else {
        uint64_t left = used;
        while (__builtin_popcountll(left) >= U) {
            fetch_lines(f, &q, per_trip);
            for (int u = 0; u < U; ++u, left &= left - 1) {
                ks[u] = k0 + lowest_bit(left);
            }
            step_inputs(p, d, B, ks, U, bb, nc, flags);
        }
        for (; left != 0; left &= left - 1) {
            ks[0] = k0 + lowest_bit(left);
            step_inputs(p, d, B, ks, 1, bb, nc, flags);
        }
        for (uint64_t zero = all & ~used; zero != 0; zero &= zero - 1) {
            for (int c = 0; c < nc; ++c) {
                step_weights(p, k0 + lowest_bit(zero), c, (vec){0},
                             flags);
            }
        }
    }
    fetch_lines(f, &q, f->count);
}

/* step_chunk with the batch made a constant up to
 * CREG_COLUMNS_CONSTANT_BATCH rows. */
#define CHUNK_CASE(bb)                                                        \
    case bb:                                                                  \
        step_chunk(p, k0, k1, f, bb, nc, flags);                              \
        break;
ALWAYS_INLINE void
step_batch(const block *p, ptrdiff_t k0, ptrdiff_t k1, const fetch_plan *f,
           const int nc, const int flags)
{
#if CREG_COLUMNS_CONSTANT_BATCH == 0
    step_chunk(p, k0, k1, f, 0, nc, flags);
#else
    switch (p->B) {
        CHUNK_CASE(1)
        CHUNK_CASE(2)
        CHUNK_CASE(3)
        CHUNK_CASE(4)
        CHUNK_CASE(5)
        CHUNK_CASE(6)
        CHUNK_CASE(7)
        CHUNK_CASE(8)
        CHUNK_CASE(9)
        CHUNK_CASE(10)
        CHUNK_CASE(CREG_COLUMNS_CONSTANT_BATCH)
    default:
        step_chunk(p, k0, k1, f, 0, nc, flags);
        break;
    }
#endif
}

/* The block's step over all I inputs, chunk by chunk, each chunk followed
 * by the look-ahead's forward over it (z: the next batch's sums). */
ALWAYS_INLINE void
step_block(const block *p, ptrdiff_t I, const CREG_FN(look_ahead) *next,
           vec *z, int fetch, const int nc, const int flags)
{
    const ptrdiff_t line = 64 / (ptrdiff_t)sizeof(real);
    for (ptrdiff_t k0 = 0; k0 < I; k0 += KC) {
        const ptrdiff_t k1 = k0 + KC < I ? k0 + KC : I;
        /* the rows of the batch after next, a chunk's lines at a time, so
         * the misses overlap the arithmetic */
        const int lines = (int)((k1 - k0 + line - 1) / line);
        const fetch_plan f = {next->fetch, next->n_fetch, k0,
                              fetch ? next->n_fetch * lines : 0};
        if (nc == CB) {
            step_batch(p, k0, k1, &f, CB, flags);
        } else { /* a block of one vector: the last, or a narrow layer's */
            step_chunk(p, k0, k1, &f, 0, 1, flags);
        }
        if (next->rows != NULL) {
            forward_rows_part(z, next->rows, next->B, p->WT, k0, k1,
                              p->next_used, nc);
        }
    }
}

/* Every combination of the rule's switches gets its own loops. */
#define EACH_VARIANT(V) EACH_RULE(V, 0, )
/* (The block is copied to a local whose address the stores to W0^T
 * cannot reach, or every store would reload the coefficients.) */
#define DEFINE_VARIANT(name, f)                                               \
    static __attribute__((noinline)) void columns_##name(                     \
        const block *p, ptrdiff_t I, const CREG_FN(look_ahead) *next,         \
        vec *z, int fetching, int nc)                                         \
    {                                                                         \
        const block local = *p;                                               \
        if (nc == CB) {                                                       \
            step_block(&local, I, next, z, fetching, CB, f);                  \
        } else {                                                              \
            step_block(&local, I, next, z, fetching, 1, f);                   \
        }                                                                     \
    }
#define CASE(name, f)                                                         \
    case f:                                                                   \
        columns_##name(&p, I, next, z, fetching, nc);                         \
        break;
EACH_VARIANT(DEFINE_VARIANT)

void
KFN(step_columns)(real *WT, real *VT, const real *dZ,
                  ptrdiff_t ldz, const real *const *rows, ptrdiff_t B,
                  ptrdiff_t I, ptrdiff_t j0, ptrdiff_t j1, real scale,
                  const creg_step_rule *rule,
                  const CREG_FN(look_ahead) *next)
{
    const int flags = rule_flags(rule);
    const real factor = PLAIN(flags) ? -(real)rule->lr * scale : 1;
    const coefficients k = rule_coefficients(rule);
    vec d[CREG_STEP_PACK_BATCH * CB];
    vec z[CREG_STEP_PACK_BATCH * CB];
    /* the inputs each batch uses, found once for all the call's blocks */
    chunk_bits room;
    const uint64_t *used = find_used(room, rows, B, I);
    group_inputs next_used;
    if (next->rows != NULL) {
        find_used_by_group(&next_used, next->rows, next->B, I);
    }
    for (ptrdiff_t j = j0; j < j1; j += CB * VL) {
        const int n = (int)(j1 - j < CB * VL ? j1 - j : CB * VL);
        const int nc = (n + VL - 1) / VL;
        for (ptrdiff_t b = 0; b < B; ++b) {
            vload_cols(d + b * CB, dZ + b * ldz + j, nc, n, 0);
            for (int c = 0; c < nc; ++c) {
                d[b * CB + c] *= factor;
            }
        }
        if (next->rows != NULL) { /* the look-ahead's sums start at 0 */
            memset(z, 0, sizeof(vec) * CB * (size_t)next->B);
        }
        const block p = {WT + panel_at(j, I),
                         VT != NULL ? VT + panel_at(j, I) : NULL, d, rows,
                         used, &next_used, B, scale, k};
        /* the first block's thread fetches the later rows */
        const int fetching = j == 0;
        switch (flags) {
            EACH_VARIANT(CASE)
        default:
            break;
        }
        if (next->rows != NULL) {
            store_sums(next->z, ldz, z, next->B, j, n);
        }
    }
}

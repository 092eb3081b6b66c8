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
 * depend on the team, and a step's look-ahead forward gives the bits of
 * forward_columns.
 * Compiled for the AVX-512 level only: its 32 vector registers hold the
 * blocks (blocking.h).
 */
#include "creg.h"
#include "real.h"
#include "simd.h"
#include "kernels.h"
#include "step_rule.h"

/* blocking.h's sizes */
#define CB CREG_COLUMNS_CB
#define U CREG_COLUMNS_INPUTS
#define GMAX CREG_COLUMNS_GROUP
#define KC CREG_COLUMNS_CHUNK
#define BW (CB * VL)

/* Where the panel that holds column j (a multiple of BW) starts. */
static inline ptrdiff_t
panel_at(ptrdiff_t j, ptrdiff_t I)
{
    return (j / BW) * I * BW;
}

/* z[g CB + c] += x_g[k] W0^T(k, c) over k0 <= k < k1, for G rows and nc
 * column vectors of the panel WT (constants at each call). */
ALWAYS_INLINE void
forward_block(vec *z, const real *const *x, const real *WT, ptrdiff_t k0,
              ptrdiff_t k1, const int G, const int nc)
{
    vec acc[GMAX][CB];
    for (int g = 0; g < G; ++g) {
        for (int c = 0; c < nc; ++c) {
            acc[g][c] = z[g * CB + c];
        }
    }
    for (ptrdiff_t k = k0; k < k1; ++k) {
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
    for (int g = 0; g < G; ++g) {
        for (int c = 0; c < nc; ++c) {
            z[g * CB + c] = acc[g][c];
        }
    }
}

#define FORWARD_CASE(G)                                                       \
    case G:                                                                   \
        if (nc == CB) {                                                       \
            forward_block(zg, xg, WT, k0, k1, G, CB);                         \
        } else {                                                              \
            forward_block(zg, xg, WT, k0, k1, G, 1);                          \
        }                                                                     \
        break;

/* forward_block for B rows (any count: groups of up to GMAX). */
static __attribute__((noinline)) void
forward_rows_part(vec *z, const real *const *x, ptrdiff_t B, const real *WT,
                  ptrdiff_t k0, ptrdiff_t k1, int nc)
{
    /* groups of equal size (10 rows as 5 + 5, not 8 + 2) */
    const ptrdiff_t groups = (B + GMAX - 1) / GMAX;
    for (ptrdiff_t i = 0, b = 0; i < groups; ++i) {
        const ptrdiff_t G = B * (i + 1) / groups - b;
        vec *zg = z + b * CB;
        const real *const *xg = x + b;
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
            FORWARD_CASE(GMAX)
        }
        b += G;
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
    for (ptrdiff_t j = j0; j < j1; j += CB * VL) {
        const int n = (int)(j1 - j < CB * VL ? j1 - j : CB * VL);
        const int nc = (n + VL - 1) / VL;
        memset(z, 0, sizeof(vec) * CB * (size_t)B);
        forward_rows_part(z, rows, B, WT + panel_at(j, I), 0, I, nc);
        store_sums(Z, ldz, z, B, j, n);
    }
}

/* One block's step: CB (or nc) column vectors of W0^T from column j. */
typedef struct {
    real *WT, *VT;
    const vec *d;             /* d[b CB + c]: dZ(b, the block's columns),
                               * times -lr scale under the plain rule */
    const real *const *x;     /* the batch's rows */
    ptrdiff_t B;
    real scale;
    coefficients k;
} block;

/* The step of inputs k .. k + u_n - 1 (u_n <= U, a constant), given the
 * block's dZ vectors d[b][c]: in registers when B is a constant (bb > 0),
 * else each loaded once per row into registers. */
ALWAYS_INLINE void
step_inputs(const block *p, const vec (*d)[CB], ptrdiff_t B, ptrdiff_t k,
            const int u_n, const int bb, const int nc, const int flags)
{
    const int momentum = flags & MOMENTUM;
    vec acc[U][CB];
    for (int u = 0; u < u_n; ++u) {
        const vec s = splat(p->x[0][k + u]);
        for (int c = 0; c < nc; ++c) {
            acc[u][c] = d[0][c] * s;
        }
    }
    for (ptrdiff_t b = 1; b < B; ++b) {
        const real *xb = p->x[b] + k;
        vec db[CB];
        for (int c = 0; c < nc; ++c) {
            db[c] = d[b][c];
            if (bb == 0) { /* (a copy of registers would cost moves) */
                KEEP_IN_REGISTER(db[c]);
            }
        }
        for (int u = 0; u < u_n; ++u) {
            vec s = splat(xb[u]);
            KEEP_IN_REGISTER(s);
            for (int c = 0; c < nc; ++c) {
                acc[u][c] = fused_multiply_add(db[c], s, acc[u][c]);
            }
        }
    }
    for (int u = 0; u < u_n; ++u) {
        for (int c = 0; c < nc; ++c) {
            real *w = p->WT + (k + u) * BW + c * VL;
            real *v = momentum ? p->VT + (k + u) * BW + c * VL : NULL;
            vec vv = {0};
            if (momentum) {
                vv = vload(v);
            }
            vstore(w, step(vload(w), &vv, acc[u][c], p->scale, &p->k,
                           momentum, flags & SUBGRADIENT, flags & PROX));
            if (momentum) {
                vstore(v, vv);
            }
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

/* Inputs k0 .. k1 - 1, and f's lines a few per trip (a burst of them
 * would stall on the line fill buffers).  With B a constant (bb > 0) the
 * dZ vectors are copied to a local array, which stays in registers across
 * the inputs: 4 broadcasts per 8 multiply-adds instead of 7 loads. */
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
    const int trips = (int)((k1 - k0) / U);
    const int per_trip = trips > 0 ? (f->count + trips - 1) / trips : 0;
    fetch_cursor q = {0, 0, f->k0};
    ptrdiff_t k = k0;
    for (; k + U <= k1; k += U) {
        fetch_lines(f, &q, per_trip);
        step_inputs(p, d, B, k, U, bb, nc, flags);
    }
    for (; k < k1; ++k) {
        step_inputs(p, d, B, k, 1, bb, nc, flags);
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
                              nc);
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
                         B, scale, k};
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

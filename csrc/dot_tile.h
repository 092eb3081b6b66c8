/* dot_tile.h -- the register tile of dot products along contiguous rows,
 * shared by gemm_kernel.c (gemm_dot: Z = X . W^T as a library call) and
 * step_kernel.c (forward_rows: the forward of small batches in training).
 * Included by per-ISA sources, after simd.h.
 *
 * CREG_DOT_TILE_ROWS rows a_i against CREG_DOT_TILE_COLS rows b_j
 * (blocking.h): one accumulator each, each operand loaded once per vector
 * of columns.  Each sum runs along its
 * row a vector at a time, the last (partial) vector zero-filled, then
 * across the lanes in vsum's order: the same whatever the tile, so results
 * do not depend on how rows are grouped into tiles.
 */
#ifndef CREG_DOT_TILE_H
#define CREG_DOT_TILE_H

/* Where a tile-major copy keeps element k of its row i: blocks of `width`
 * columns (a constant multiple of VL), each holding every row's part of
 * those columns, `block` elements apart; row i's part is at i * width. */
static inline __attribute__((always_inline)) real *
tile_major(real *copy, ptrdiff_t block, int i, ptrdiff_t k, const int width)
{
    return copy + (k / width) * block + i * width + k % width;
}

/* sums[i CREG_DOT_TILE_COLS + j] := a[i] . b[j] over K elements, for the
 * na (<= CREG_DOT_TILE_ROWS, a constant at each call) rows a: summed along
 * the rows a vector at a time, then across the lanes (vsum_each).  With
 * `copying` (a constant), the a rows are also stored to copy as they are
 * read, tile major (tile_major: `width` columns, blocks `block` apart);
 * with `from_copy` (a constant) they are read from such a copy instead
 * (a unused): the same sums, from aligned vectors wherever the rows lie. */
static inline __attribute__((always_inline)) void
dot_tile_sums(real sums[CREG_DOT_TILE_ROWS * CREG_DOT_TILE_COLS],
              const real *const *a, const real *const *b, ptrdiff_t K,
              real *copy, ptrdiff_t block, const int width, const int na,
              const int copying, const int from_copy)
{
    vec acc[CREG_DOT_TILE_ROWS][CREG_DOT_TILE_COLS];
    const real *ar[CREG_DOT_TILE_ROWS];
    for (int i = 0; i < na; ++i) {
        /* locals: the copy's stores cannot move them */
        ar[i] = from_copy ? NULL : a[i];
        for (int j = 0; j < CREG_DOT_TILE_COLS; ++j) {
            acc[i][j] = (vec){0};
        }
    }
    ptrdiff_t k = 0;
    for (; k + VL <= K; k += VL) {
        vec bv[CREG_DOT_TILE_COLS];
        for (int j = 0; j < CREG_DOT_TILE_COLS; ++j) {
            bv[j] = vload(b[j] + k);
            KEEP_IN_REGISTER(bv[j]);
        }
        for (int i = 0; i < na; ++i) {
            const vec av = vload(from_copy ? tile_major(copy, block, i, k,
                                                        width)
                                           : ar[i] + k);
            if (copying) {
                vstore(tile_major(copy, block, i, k, width), av);
            }
            for (int j = 0; j < CREG_DOT_TILE_COLS; ++j) {
                acc[i][j] += av * bv[j];
            }
        }
    }
    if (k < K) {
        const int rest = (int)(K - k);
        vec bv[CREG_DOT_TILE_COLS];
        for (int j = 0; j < CREG_DOT_TILE_COLS; ++j) {
            bv[j] = vload_part(b[j] + k, rest);
        }
        for (int i = 0; i < na; ++i) {
            const vec av = vload_part(from_copy ? tile_major(copy, block, i,
                                                             k, width)
                                                : ar[i] + k,
                                      rest);
            if (copying) {
                vstore_part(tile_major(copy, block, i, k, width), av, rest);
            }
            for (int j = 0; j < CREG_DOT_TILE_COLS; ++j) {
                acc[i][j] += av * bv[j];
            }
        }
    }
    vsum_each(sums, acc[0], na * CREG_DOT_TILE_COLS);
}

#endif

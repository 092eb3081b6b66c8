/* kernels_typed.h -- the typed half of kernels.h, written once.
 *
 * Included twice by kernels.h with KREAL = float / double and KT(name) =
 * creg_name_f32 / creg_name_f64.  No include guard on purpose.
 */

/* What a small batch's step of layer 0 also does in its pass over W
 * (update_from_batch): the next batch's forward, z (B x O, no bias) :=
 * rows . W_new^T, bitwise as dense_forward computes it; if copy is not
 * NULL, a copy of those rows there, the next step's input, in the packed
 * layout of the step kernels (x_packed; B x I rounded up to the tile
 * width, at most creg_padded(I)); and a prefetch of the n_fetch rows
 * fetch[*] (I wide), a line per tile of the step.  rows == NULL: no
 * forward or copy.
 * Online SGD (B = 1, the forward in the step's pass, no max-norm) may
 * also defer a step's stores where the level holds online steps
 * (kernels.holds_online_steps): with hold set, the pass keeps the new
 * weights (and velocities) in registers only, and the next step's pass
 * first applies that pending step again, from its layer-0 delta
 * pending_dz (this panel's first neuron; NULL: none pending) and input
 * row pending_x, then its own, and stores both: half the writes of W,
 * the same bits (net.c). */
typedef struct {
    const KREAL *const *rows;
    ptrdiff_t B;
    KREAL *z;
    KREAL *copy;
    const KREAL *const *fetch;
    int n_fetch;
    const KREAL *pending_dz, *pending_x;
    int hold;
} KT(look_ahead);

/* noise.c: dropout with its stream chosen (plan_dropout) for one layer
 * and step: unit i is kept, with mask scale, if its hash in the stream
 * `key` is at least drop_below.  dropout_units masks units first ..
 * first + count - 1 (M := the mask, H := A * M), the same bits however a
 * layer's units are split. */
typedef struct {
    KREAL scale;
    uint32_t drop_below;
    uint64_t key;
} KT(dropout_plan);
void KT(plan_dropout)(KT(dropout_plan) *plan, const creg_noise *noise,
                      uint64_t step, int layer);
void KT(dropout_units)(KREAL *H, KREAL *M, const KREAL *A, ptrdiff_t first,
                       ptrdiff_t count, const KT(dropout_plan) *plan);

/* input_noise of elements first .. first + count - 1 of X and Xn. */
void KT(input_noise_units)(KREAL *Xn, const KREAL *X, ptrdiff_t first,
                           ptrdiff_t count, const creg_noise *noise,
                           uint64_t step);

/* dense.c: bias_gradient of the columns j0 .. j1 - 1 alone (the same
 * bits: each column is summed over the rows in order). */
void KT(bias_gradient_columns)(KREAL *db, const KREAL *dZ, ptrdiff_t B,
                               ptrdiff_t O, ptrdiff_t j0, ptrdiff_t j1,
                               KREAL scale);
/* dense.c: dense_forward without the bias: Z (B x O) := X . W^T. */
void KT(dense_product)(KREAL *Z, const KREAL *X, const KREAL *W, ptrdiff_t B,
                       ptrdiff_t I, ptrdiff_t O, int n_threads);
/* The team request with which dense_product splits B rows by groups at the
 * active level (then any split gives the same bits), or 0 where it runs
 * the GEMM instead; this thread's share of the rows on that path; and
 * rows [first, first + count) of the product alone. */
int KT(dense_product_by_rows)(ptrdiff_t B, ptrdiff_t I, ptrdiff_t O,
                              int n_threads);
void KT(dense_rows_share)(ptrdiff_t B, ptrdiff_t *first, ptrdiff_t *count);
void KT(dense_product_rows)(KREAL *Z, const KREAL *X, const KREAL *W,
                            ptrdiff_t I, ptrdiff_t O, ptrdiff_t first,
                            ptrdiff_t count);

/* layer_output.c: the rest of a layer's forward once Z holds X . W^T,
 * over the team's rows: Z += b; with `check`, whether every entry of Z is
 * finite; A := f(Z) (A may be Z); and with drop not NULL, its dropout
 * (H, M).  Returns 0 if checked and not finite, else 1. */
int KT(layer_output)(KREAL *A, KREAL *Z, KREAL *H, KREAL *M, const KREAL *b,
                     ptrdiff_t B, ptrdiff_t O, creg_activation act, int check,
                     const KT(dropout_plan) *drop, int n_threads);
/* activation.c: activation_backward on the calling thread alone, for a
 * caller that may itself run on a team (its share functions split the
 * elements among the team they find themselves in). */
void KT(activation_backward_here)(KREAL *dZ, const KREAL *dA, const KREAL *M,
                                  const KREAL *A, ptrdiff_t count,
                                  creg_activation act);
/* layer_output for rows [first, first + rows) alone, on this thread;
 * clears *finite if checked and not finite. */
void KT(layer_output_rows)(KREAL *A, KREAL *Z, KREAL *H, KREAL *M,
                           const KREAL *b, ptrdiff_t first, ptrdiff_t rows,
                           ptrdiff_t O, creg_activation act, int check,
                           const KT(dropout_plan) *drop, int *finite);
/* Whether all `count` values are finite. */
int KT(all_finite)(const KREAL *v, ptrdiff_t count);

/* loss.c: whether the cost's sum over rows is the sum of per-row costs
 * (log-likelihood, quadratic; the cross-entropy sums all outputs in one
 * run), and one row's cost for those. */
int KT(cost_by_rows)(const creg_net *net);
double KT(cost_row)(const KREAL *z, const KREAL *a, const KREAL *y,
                    ptrdiff_t O, const creg_net *net);

/* update.c: 1 if update_from_batch serves batches of B rows at the active
 * level (0: the caller stores dW and calls update). */
int KT(update_fuses)(ptrdiff_t B);
/* The same step as update, from the layer's batch instead of a stored dW:
 * dW = scale * dZ^T . X (dZ: B x O, X: B x I) is summed and applied tile by
 * tile; db := the bias gradient (bias_gradient), summed by the panel
 * that steps its neurons (scratch for the caller).  X is row-major, or with
 * x_packed the copy a look-ahead made.  next (NULL for none) is the
 * look-ahead's work, for next->B <= B < CREG_STEP_PACK_BATCH.
 * scratch holds B x (I rounded up to CREG_STEP_TILE_MAX) elements. */
void KT(update_from_batch)(KREAL *W, KREAL *b, KREAL *VW, KREAL *Vb,
                           KREAL *db, const KREAL *dZ, const KREAL *X,
                           int x_packed, ptrdiff_t B, ptrdiff_t O,
                           ptrdiff_t I, KREAL scale,
                           const creg_step_rule *rule,
                           const KT(look_ahead) *next, KREAL *scratch,
                           int n_threads);

/* update.c: the step a look-ahead held (kernels_typed.h's pending_dz, O
 * values, and pending_x), stored on its own: when the step that would have
 * applied it does not run (a refused batch). */
void KT(apply_held_step)(KREAL *W, KREAL *VW, const KREAL *dz,
                         const KREAL *x, ptrdiff_t O, ptrdiff_t I,
                         const creg_step_rule *rule);

/* update.c: steps 2-3 of the rule for O biases (never decayed). */
void KT(bias_step)(KREAL *b, KREAL *Vb, const KREAL *db, ptrdiff_t O,
                   const creg_step_rule *rule);

/* columns.c: the first layer in columns for small batches (W0^T in panels
 * of the level's columns_width neurons, each I rows, in the train
 * scratch past the parameters; V0^T after it).  columns_use: whether
 * train_batches takes this path, a function of the level, the first
 * layer's width, the batch size and the rule alone, so every call of a
 * fit agrees; train_scratch_plan: the train scratch's layout for it
 * (workspace.h).  columns_in /
 * columns_out: W0 to W0^T and back.
 * columns_forward: Z (B x O) := rows . W0^T, summed as the look-ahead sums
 * (the first step of a call).  update_columns: update_from_batch on W0^T,
 * from the batch's rows. */
int KT(columns_use)(const creg_net *net, ptrdiff_t batch_size,
                    const creg_step_rule *rule);
void KT(train_scratch_plan)(creg_train_scratch_layout *plan,
                            const creg_net *net, ptrdiff_t batch_size,
                            const creg_step_rule *rule);
void KT(columns_in)(KREAL *WT, const KREAL *W, ptrdiff_t O, ptrdiff_t I);
void KT(columns_out)(KREAL *W, const KREAL *WT, ptrdiff_t O, ptrdiff_t I);
void KT(columns_forward)(KREAL *Z, const KREAL *const *rows, ptrdiff_t B,
                         const KREAL *WT, ptrdiff_t O, ptrdiff_t I,
                         int n_threads);
void KT(update_columns)(KREAL *WT, KREAL *b, KREAL *VT, KREAL *Vb,
                        KREAL *db, const KREAL *dZ,
                        const KREAL *const *rows, ptrdiff_t B, ptrdiff_t O,
                        ptrdiff_t I, KREAL scale, const creg_step_rule *rule,
                        const KT(look_ahead) *next, int n_threads);

/* The kernel types (see the files that define them for the operations).
 * gemm_kernel.c: C := alpha A.B^T (dot) or alpha A.B (axpy) (+ beta C),
 * tiles tile .. tile + n_tiles - 1 of the grid *_tiles(M, N) counts. */
typedef void KT(gemm_dot_kernel)(KREAL *C, ptrdiff_t ldc, const KREAL *A,
                                 ptrdiff_t lda, const KREAL *B, ptrdiff_t ldb,
                                 ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                                 KREAL alpha, KREAL beta, ptrdiff_t tile,
                                 ptrdiff_t n_tiles);
typedef void KT(gemm_axpy_kernel)(KREAL *C, ptrdiff_t ldc, const KREAL *A,
                                  ptrdiff_t rs_a, ptrdiff_t cs_a,
                                  const KREAL *B, ptrdiff_t ldb, ptrdiff_t M,
                                  ptrdiff_t N, ptrdiff_t K, KREAL alpha,
                                  KREAL beta, ptrdiff_t tile,
                                  ptrdiff_t n_tiles);
typedef ptrdiff_t KT(gemm_tiles_kernel)(ptrdiff_t M, ptrdiff_t N);
/* gemm_packed.c: the whole strided product, thread me of team computing
 * its share; shared_a, if not NULL, is A packed by gemm_pack_shared_a. */
typedef void KT(gemm_packed_kernel)(KREAL *C, ptrdiff_t rs_c, ptrdiff_t cs_c,
                                    const KREAL *A, ptrdiff_t rs_a,
                                    ptrdiff_t cs_a, const KREAL *B,
                                    ptrdiff_t rs_b, ptrdiff_t cs_b,
                                    ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                                    KREAL alpha, KREAL beta, int me,
                                    int team, const KREAL *shared_a);
/* When a team splits C's columns, every thread needs all of A packed:
 * the calling thread's buffer for packing it once (NULL when the team
 * would split the rows instead, or A does not fit), and in *units the
 * pieces its packing cuts into. */
typedef KREAL *KT(gemm_shared_a_kernel)(ptrdiff_t M, ptrdiff_t N,
                                        ptrdiff_t K, ptrdiff_t *units);
/* Packs units first .. first + count - 1 of A (M x K) into dst. */
typedef void KT(gemm_pack_shared_a_kernel)(KREAL *dst, const KREAL *A,
                                           ptrdiff_t rs_a, ptrdiff_t cs_a,
                                           ptrdiff_t M, ptrdiff_t K,
                                           ptrdiff_t first, ptrdiff_t count);
/* sparse_kernel.c: rows first .. first + rows - 1 of Z := X . W^T + b
 * through the pattern's nonzero weights (sparse.c), in one scratch slot;
 * with check_x, returns 1 if one of those rows of X holds NaN or inf. */
typedef int KT(sparse_rows_kernel)(KREAL *Z, KREAL *scratch, const KREAL *X,
                                   const KREAL *values, const KREAL *b,
                                   const creg_sparse_pattern *pattern,
                                   ptrdiff_t first, ptrdiff_t rows,
                                   int check_x);
/* step_kernel.c: one panel's fused gradient and step (max-norm sums per
 * row, or per row and chunk of columns with sumsq_stride); the batch
 * packed tile by tile; forward rows (Z := rows . W^T). */
typedef void KT(step_panel_kernel)(KREAL *W, KREAL *V, ptrdiff_t ldw,
                                   const KREAL *dZ, ptrdiff_t ldz,
                                   const KREAL *X, ptrdiff_t ldx, int packed,
                                   ptrdiff_t B, ptrdiff_t I, int m,
                                   KREAL scale, const creg_step_rule *rule,
                                   double *sumsq, ptrdiff_t sumsq_stride,
                                   const KT(look_ahead) *next);
typedef void KT(pack_batch_kernel)(KREAL *Xp, const KREAL *X, ptrdiff_t ldx,
                                   ptrdiff_t B, ptrdiff_t I, ptrdiff_t first,
                                   ptrdiff_t count);
typedef void KT(forward_rows_kernel)(KREAL *Z, ptrdiff_t ldz,
                                     const KREAL *const *rows, ptrdiff_t B,
                                     const KREAL *W, ptrdiff_t ldw,
                                     ptrdiff_t O, ptrdiff_t I, KREAL *copy,
                                     int first_part, int part, int parts);
/* step_columns.c (AVX2 and AVX-512): the first layer with its weights in
 * columns (W0^T in panels; columns.c), for its columns j0 .. j1 - 1
 * (j0 a multiple of the vector width): the fused step of the batch's rows
 * with next's look-ahead forward (next->z, next->B x O), and the forward
 * alone.  dZ and Z are B x O. */
typedef void KT(step_columns_kernel)(KREAL *WT, KREAL *VT,
                                     const KREAL *dZ, ptrdiff_t O,
                                     const KREAL *const *rows, ptrdiff_t B,
                                     ptrdiff_t I, ptrdiff_t j0, ptrdiff_t j1,
                                     KREAL scale, const creg_step_rule *rule,
                                     const KT(look_ahead) *next);
typedef void KT(forward_columns_kernel)(KREAL *Z, ptrdiff_t O,
                                        const KREAL *const *rows,
                                        ptrdiff_t B, const KREAL *WT,
                                        ptrdiff_t I,
                                        ptrdiff_t j0, ptrdiff_t j1);
/* sigmoid_kernel.c: out[i] := f(in[i]). */
typedef void KT(map_kernel)(KREAL *out, const KREAL *in, ptrdiff_t count);

/* One row of the kernel table.  A NULL entry means the level has no such
 * kernel and the caller runs its portable reference loops (gemm.c's,
 * update.c's, libm's): level 0 is all NULL but the dropout hashes, whose
 * portable loop is itself an entry. */
typedef struct {
    KT(gemm_dot_kernel) *gemm_dot;
    KT(gemm_tiles_kernel) *gemm_dot_tiles;
    KT(gemm_axpy_kernel) *gemm_axpy;
    KT(gemm_tiles_kernel) *gemm_axpy_tiles;
    KT(gemm_packed_kernel) *gemm_packed; /* large shapes, CREG_PACKED_MIN_* */
    KT(gemm_shared_a_kernel) *gemm_shared_a;
    KT(gemm_pack_shared_a_kernel) *gemm_pack_shared_a;
    KT(step_panel_kernel) *step_panel;
    KT(pack_batch_kernel) *pack_batch;
    KT(forward_rows_kernel) *forward_rows;
    KT(sparse_rows_kernel) *sparse_rows; /* sparse predict's tiles */
    KT(step_columns_kernel) *step_columns; /* small batches' layer 0 */
    KT(forward_columns_kernel) *forward_columns;
    ptrdiff_t step_tile_width; /* CREG_STEP_TILE_WIDTH of the step kernels */
    ptrdiff_t columns_width;   /* CREG_COLUMNS_WIDTH of step_columns's */
    /* step_panel applies look_ahead's pending_dz (its _p variants) */
    int holds_online_steps;
    KT(map_kernel) *sigmoid;           /* float32 only */
    KT(map_kernel) *log1p_exp_neg_abs; /* float32 only */
    creg_hash_kernel *dropout_hashes;
} KT(kernels);

/* The active row (dispatch.c); NULL until a level is set. */
extern const KT(kernels) *KT(active_kernels);

/* The kernels each instruction set's build defines (KFN names). */
#define CREG_DECLARE_KERNELS(isa)                                             \
    KT(gemm_dot_kernel) KT(gemm_dot_##isa);                                   \
    KT(gemm_tiles_kernel) KT(gemm_dot_tiles_##isa);                           \
    KT(gemm_axpy_kernel) KT(gemm_axpy_##isa);                                 \
    KT(gemm_tiles_kernel) KT(gemm_axpy_tiles_##isa);                          \
    KT(gemm_packed_kernel) KT(gemm_packed_##isa);                             \
    KT(gemm_shared_a_kernel) KT(gemm_shared_a_##isa);                         \
    KT(gemm_pack_shared_a_kernel) KT(gemm_pack_shared_a_##isa);               \
    KT(step_panel_kernel) KT(step_panel_##isa);                               \
    KT(pack_batch_kernel) KT(pack_batch_##isa);                               \
    KT(forward_rows_kernel) KT(forward_rows_##isa);                           \
    KT(map_kernel) KT(sigmoid_##isa);                                         \
    KT(map_kernel) KT(log1p_exp_neg_abs_##isa);                               \
    KT(sparse_rows_kernel) KT(sparse_rows_##isa);
CREG_DECLARE_KERNELS(base)
CREG_DECLARE_KERNELS(avx2)
CREG_DECLARE_KERNELS(avx512vl)
CREG_DECLARE_KERNELS(avx512)
#undef CREG_DECLARE_KERNELS
KT(step_columns_kernel) KT(step_columns_avx512);
KT(forward_columns_kernel) KT(forward_columns_avx512);
KT(step_columns_kernel) KT(step_columns_avx2);
KT(forward_columns_kernel) KT(forward_columns_avx2);

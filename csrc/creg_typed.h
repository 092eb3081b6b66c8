/* creg_typed.h -- typed prototypes, written once.
 *
 * Included twice by creg.h with CREG_TREAL = float / double and
 * CREG_TFN(name) = creg_name_f32 / creg_name_f64.  No include guard on
 * purpose.
 *
 * Dimension legend: B = rows in a batch, I = input features of a layer,
 * O = output features (neurons) of a layer, n = samples in a data set.
 * Argument order: outputs, inputs, saved forward values, sizes, scalars,
 * n_threads.  n_threads <= 0 means "OpenMP's default".
 */

/* gemm.c -- C := alpha * A.B (+ beta * C), all operands strided.
 * C: M x N (rs_c, cs_c); A: M x K (rs_a, cs_a); B: K x N (rs_b, cs_b).
 * beta == 0 never reads C.  Each C element is summed over k in a fixed
 * order by one thread, so results do not depend on n_threads. */
void CREG_TFN(gemm)(CREG_TREAL *C, ptrdiff_t rs_c, ptrdiff_t cs_c,
                    const CREG_TREAL *A, ptrdiff_t rs_a, ptrdiff_t cs_a,
                    const CREG_TREAL *B, ptrdiff_t rs_b, ptrdiff_t cs_b,
                    ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                    CREG_TREAL alpha, CREG_TREAL beta, int n_threads);

/* activation.c -- A (B x O) := f(Z) elementwise (row-wise for softmax).
 * A may equal Z (in place). */
void CREG_TFN(activation_forward)(CREG_TREAL *A, const CREG_TREAL *Z,
                                  ptrdiff_t B, ptrdiff_t O,
                                  creg_activation act);
/* dZ (count) := dA * M * f'(z), f' taken from the stored output A; M is
 * the dropout mask that followed the activation, or NULL.  dZ may equal dA.
 * Not for softmax (its Jacobian is fused into the cost). */
void CREG_TFN(activation_backward)(CREG_TREAL *dZ, const CREG_TREAL *dA,
                                   const CREG_TREAL *M, const CREG_TREAL *A,
                                   ptrdiff_t count, creg_activation act,
                                   int n_threads);

/* loss.c -- sum over the B rows of the per-sample cost, from the output
 * layer's pre-activation Z and activation A (B x O) and the targets Y. */
double CREG_TFN(cost_forward)(const CREG_TREAL *Z, const CREG_TREAL *A,
                              const CREG_TREAL *Y, ptrdiff_t B, ptrdiff_t O,
                              const creg_net *net);
/* dZ (B x O) := per-sample output delta dC_x/dz (not divided by B). */
void CREG_TFN(cost_backward)(CREG_TREAL *dZ, const CREG_TREAL *A,
                             const CREG_TREAL *Y, ptrdiff_t B, ptrdiff_t O,
                             const creg_net *net);

/* dense.c -- Z (B x O) := X (B x I) . W^T (W: O x I) + b (O).  Overwrites Z. */
void CREG_TFN(dense_forward)(CREG_TREAL *Z, const CREG_TREAL *X,
                             const CREG_TREAL *W, const CREG_TREAL *b,
                             ptrdiff_t B, ptrdiff_t I, ptrdiff_t O,
                             int n_threads);
/* dW (O x I) := scale * dZ^T . X;  db (O) := scale * column sums of dZ;
 * dX (B x I) := dZ . W unless dX is NULL.  Overwrites all three. */
void CREG_TFN(dense_backward)(CREG_TREAL *dX, CREG_TREAL *dW, CREG_TREAL *db,
                              const CREG_TREAL *dZ, const CREG_TREAL *X,
                              const CREG_TREAL *W, ptrdiff_t B, ptrdiff_t I,
                              ptrdiff_t O, CREG_TREAL scale, int n_threads);
/* Z (B x O) += b (O) per row: dense_forward's second half. */
void CREG_TFN(add_bias)(CREG_TREAL *Z, const CREG_TREAL *b, ptrdiff_t B,
                        ptrdiff_t O);
/* The two parts of dense_backward that do not touch dW. */
void CREG_TFN(bias_gradient)(CREG_TREAL *db, const CREG_TREAL *dZ,
                             ptrdiff_t B, ptrdiff_t O, CREG_TREAL scale);
void CREG_TFN(input_gradient)(CREG_TREAL *dX, const CREG_TREAL *dZ,
                              const CREG_TREAL *W, ptrdiff_t B, ptrdiff_t I,
                              ptrdiff_t O, int n_threads);

/* update.c -- one step of DESIGN.md's rule for one layer, in one pass over
 * each weight row: W, b (O x I, O) and their velocities VW, Vb are updated
 * in place from the batch-mean data gradients dW, db.  VW and Vb are read
 * only when rule->momentum != 0. */
void CREG_TFN(update)(CREG_TREAL *W, CREG_TREAL *b, CREG_TREAL *VW,
                      CREG_TREAL *Vb, const CREG_TREAL *dW,
                      const CREG_TREAL *db, ptrdiff_t O, ptrdiff_t I,
                      const creg_step_rule *rule, int n_threads);

/* noise.c -- M (count) := 1/(1-rate) for kept units, 0 for dropped ones,
 * drawn from (noise->seed, DROPOUT + 16 layer, noise->epoch, step, index);
 * H (count) := A * M. */
void CREG_TFN(dropout_forward)(CREG_TREAL *H, CREG_TREAL *M,
                               const CREG_TREAL *A, ptrdiff_t count,
                               const creg_noise *noise, uint64_t step,
                               int layer, int n_threads);
/* Xn (count) := X + input_noise * N(0, 1), element i's normal drawn by a
 * ziggurat from the stream (seed, NOISE, epoch, step) at index i (and, for
 * the 1% of draws it rejects or sends to the tail, at i + c 2^40, c = 1,
 * 2, ...).  Xn may equal X. */
void CREG_TFN(input_noise)(CREG_TREAL *Xn, const CREG_TREAL *X,
                           ptrdiff_t count, const creg_noise *noise,
                           uint64_t step);

/* net.c -- whole-network passes over a flat params buffer (see creg.h).
 * ws must hold creg_workspace_size(net, rows) elements for the largest
 * batch or chunk of rows passed. */

/* grads := batch-mean gradient of the data cost at params for the B rows of
 * X (B x sizes[0]) and Y (B x sizes[L]); *cost_sum := summed cost.
 * A query, like cost(): a cost that is not finite is summed as found and
 * the gradient is what backprop gives (NaN or inf only where its own sums
 * are), so it returns CREG_OK. */
int CREG_TFN(gradient)(CREG_TREAL *grads, double *cost_sum,
                       CREG_TREAL *ws, const CREG_TREAL *params,
                       const CREG_TREAL *X, const CREG_TREAL *Y,
                       ptrdiff_t B, const creg_net *net, int n_threads);

/* The elements of train_batches' grads at this batch size and rule (any
 * lr): the parameters', and room for the first layer where it trains in
 * columns (columns.c). */
ptrdiff_t CREG_TFN(train_scratch)(const creg_net *net, ptrdiff_t batch_size,
                                  const creg_step_rule *rule);

/* Runs mini-batches first_batch .. first_batch + n_batches - 1 of an epoch
 * over n samples, in the sample order `order` (NULL = given order): for each
 * one input noise and dropout (as `noise` says, step = batch index), the
 * gradient, then the update of every layer.  Any cut of an epoch into calls
 * (consecutive first_batch ranges) gives the same bits as one call.
 * Stops with CREG_ENONFINITE at the first batch whose cost or layer-0
 * pre-activation is not finite (that batch's update is not applied); the
 * latter also catches NaN or inf in X, which makes its row of X . W_0^T
 * non-finite whatever W_0 is.  If sums is not NULL, each batch adds the
 * cost and correct rows of its own forward pass (with the batch's dropout
 * and noise, before its update): the epoch's running metrics; NULL only
 * checks that the cost is finite.  grads is scratch of
 * train_scratch(net, batch_size, rule) elements. */
int CREG_TFN(train_batches)(CREG_TREAL *params, CREG_TREAL *velocity,
                            CREG_TREAL *grads, CREG_TREAL *ws,
                            const CREG_TREAL *X,
                            const CREG_TREAL *Y, const int64_t *order,
                            ptrdiff_t n, ptrdiff_t batch_size,
                            ptrdiff_t first_batch, ptrdiff_t n_batches,
                            const creg_net *net, const creg_step_rule *rule,
                            const creg_noise *noise, creg_pass_sums *sums,
                            int n_threads);

/* out (n x sizes[L]) := the network's output activations for X (n x
 * sizes[0]), chunk_rows rows at a time; out may be NULL when only the sums
 * are wanted.  If Y is not NULL, sums += the data cost and correct rows
 * against Y (n x sizes[L]).  Returns CREG_ENONFINITE, having computed
 * everything, if some row's first-layer pre-activation is not finite (as
 * a row of X with NaN or inf makes it), else CREG_OK. */
int CREG_TFN(evaluate)(CREG_TREAL *out, creg_pass_sums *sums,
                       CREG_TREAL *ws, const CREG_TREAL *params,
                       const CREG_TREAL *X, const CREG_TREAL *Y, ptrdiff_t n,
                       ptrdiff_t chunk_rows, const creg_net *net,
                       int n_threads);

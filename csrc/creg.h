/* creg.h -- the only public C header of creg.
 *
 * Status codes, the untyped network/hyper-parameter descriptors, and the
 * entry points.  Internals (the kernel table, the blocking, the workspace
 * layout, the fused step's look-ahead) are in kernels.h, blocking.h and
 * workspace.h.  Typed prototypes are written once in creg_typed.h and included
 * here twice (float -> _f32, double -> _f64) through CREG_TREAL/CREG_TFN.
 *
 * Layout of the flat parameter buffer `params` (and of `grads`, `velocity`):
 * for each layer l in order, W_l (O x I, row-major, row j = neuron j's
 * incoming weights) followed by b_l (O).
 *
 * C never validates user input (Python does), never prints, never exits.
 * Functions that can fail return an int status.
 */
#ifndef CREG_H
#define CREG_H

#include <stddef.h>
#include <stdint.h>

#define CREG_OK 0
#define CREG_ENONFINITE (-1) /* a non-finite cost appeared in training */
#define CREG_EINVAL (-2)     /* reserved for debug-build argument checks */

#define CREG_MAX_LAYERS 64

typedef enum {
    CREG_ACT_SIGMOID = 0,
    CREG_ACT_TANH = 1,
    CREG_ACT_RELU = 2,
    CREG_ACT_LINEAR = 3,
    CREG_ACT_SOFTMAX = 4
} creg_activation;

typedef enum {
    CREG_COST_CROSS_ENTROPY = 0,  /* sigmoid output */
    CREG_COST_LOG_LIKELIHOOD = 1, /* softmax output */
    CREG_COST_QUADRATIC = 2       /* sigmoid or linear output */
} creg_cost;

/* The architecture.  sizes[0] = inputs, sizes[n_layers] = outputs. */
typedef struct {
    int n_layers;
    ptrdiff_t sizes[CREG_MAX_LAYERS + 1];
    creg_activation hidden;
    creg_activation output;
    creg_cost cost;
} creg_net;

/* One fit's step rule (DESIGN.md, "Semantics"); strengths already scaled. */
typedef struct {
    double lr;       /* eta */
    double momentum; /* mu; 0 means no velocity buffer is read or written */
    double l2;       /* lambda2' */
    double l1;       /* lambda1' */
    int l1_prox;     /* 1: soft-threshold after the step; 0: subgradient */
    double max_norm; /* c; <= 0 means no clamp */
} creg_step_rule;

/* The training noise of one epoch: dropout on hidden activations and
 * Gaussian noise on the inputs, drawn from (seed, epoch, step, layer,
 * index) so the bits do not depend on threads.  Zeros turn both off. */
typedef struct {
    double dropout;     /* probability of dropping a hidden unit, [0, 1) */
    double input_noise; /* sigma of the N(0, sigma^2) added to each input */
    uint64_t seed;
    uint64_t epoch;     /* absolute epoch index of the network */
} creg_noise;

/* What the rows of a pass add up to: the summed per-sample data cost and
 * the number of rows whose predicted class is the target's (Network's
 * rule: the first largest output, or output > 0.5 for a single unit; not
 * counted for a linear output) or, with per_label set (multi-label
 * sigmoid targets), of the (row, unit) entries where output > 0.5 agrees
 * with target > 0.5.  train_batches and evaluate add to it, a batch or
 * chunk at a time in row order, so a pass cut into several calls sums to
 * the same bits as one call. */
typedef struct {
    double cost;
    int64_t correct;
    int per_label; /* set by the caller, read only */
} creg_pass_sums;

/* Random streams: one per use of the seed. */
#define CREG_STREAM_SHUFFLE 1
#define CREG_STREAM_DROPOUT 2 /* + layer index * 16 */
#define CREG_STREAM_NOISE 3

const char *creg_strerror(int status);

/* Number of parameters (weights and biases) of the network. */
ptrdiff_t creg_param_count(const creg_net *net);

/* Number of `real` elements of workspace needed for batches of up to
 * max_rows rows: max_rows times the size for one row. */
ptrdiff_t creg_workspace_size(const creg_net *net, ptrdiff_t max_rows);

/* Kernel selection (dispatch.c): 0 the portable reference, 1
 * baseline-width vectors, 2 AVX2+FMA, 3 AVX2+FMA with the step kernels
 * built for AVX-512VL (same bits as 2), 4 AVX-512 with 64-byte vectors.
 * creg_set_kernel_level clamps to what this build and CPU support (a
 * negative level asks for the best) and returns the level in effect.
 * Call it before training; it is not synchronized with running kernels.
 * creg_kernel_name: "unknown" past the table; creg_kernel_vector_bits:
 * the width of the level's GEMM and step vectors (0: scalar loops, or
 * past the table). */
int creg_best_kernel_level(void);
int creg_set_kernel_level(int level);
int creg_kernel_level(void);
const char *creg_kernel_name(int level);
int creg_kernel_vector_bits(int level);
/* The bytes of B that a block of the packed GEMM (levels 2 and up) takes
 * on this CPU, a share of its L2 (blocking.h); 0 in a build without the
 * packed GEMM. */
size_t creg_packed_b_bytes(void);

/* Counter-based random numbers: the key of the stream (seed, stream, epoch,
 * step); element `index` of it is creg_hash_at(key, index) in rng.h.  The
 * same (seed, counters) give the same bits on every thread and machine. */
uint64_t creg_stream_key(uint64_t seed, uint64_t stream, uint64_t epoch,
                         uint64_t step);

/* order (n) := a permutation of 0..n-1 drawn from (seed, epoch).  Serial. */
void creg_shuffle(int64_t *order, ptrdiff_t n, uint64_t seed, uint64_t epoch);

/* Typed prototypes, once per precision. */
#define CREG_TREAL float
#define CREG_TFN(name) creg_##name##_f32
#include "creg_typed.h"
#undef CREG_TREAL
#undef CREG_TFN

#define CREG_TREAL double
#define CREG_TFN(name) creg_##name##_f64
#include "creg_typed.h"
#undef CREG_TREAL
#undef CREG_TFN

#endif

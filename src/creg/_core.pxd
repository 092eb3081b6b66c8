# Declarations of creg's C API (csrc/creg.h); f32/f64 in adjacent pairs.
from libc.stdint cimport int32_t, int64_t, uint64_t

cdef extern from "creg.h" nogil:
    int CREG_OK
    int CREG_ENONFINITE
    int CREG_MAX_LAYERS

    ctypedef enum creg_activation:
        pass
    ctypedef enum creg_cost:
        pass

    ctypedef struct creg_net:
        int n_layers
        Py_ssize_t sizes[65]
        creg_activation hidden
        creg_activation output
        creg_cost cost

    ctypedef struct creg_step_rule:
        double lr
        double momentum
        double l2
        double l1
        int l1_prox
        double max_norm

    ctypedef struct creg_noise:
        double dropout
        double input_noise
        uint64_t seed
        uint64_t epoch

    ctypedef struct creg_pass_sums:
        double cost
        int64_t correct
        int per_label

    const char *creg_strerror(int status) noexcept
    int creg_best_kernel_level() noexcept
    int creg_set_kernel_level(int level) noexcept
    int creg_kernel_level() noexcept
    const char *creg_kernel_name(int level) noexcept
    int creg_kernel_vector_bits(int level) noexcept
    size_t creg_packed_b_bytes() noexcept
    Py_ssize_t creg_param_count(const creg_net *net) noexcept
    Py_ssize_t creg_workspace_size(const creg_net *net, Py_ssize_t max_rows) noexcept
    void creg_shuffle(int64_t *order, Py_ssize_t n, uint64_t seed, uint64_t epoch) noexcept

    void creg_gemm_f32(float *C, Py_ssize_t rs_c, Py_ssize_t cs_c,
                       const float *A, Py_ssize_t rs_a, Py_ssize_t cs_a,
                       const float *B, Py_ssize_t rs_b, Py_ssize_t cs_b,
                       Py_ssize_t M, Py_ssize_t N, Py_ssize_t K,
                       float alpha, float beta, int n_threads) noexcept
    void creg_gemm_f64(double *C, Py_ssize_t rs_c, Py_ssize_t cs_c,
                       const double *A, Py_ssize_t rs_a, Py_ssize_t cs_a,
                       const double *B, Py_ssize_t rs_b, Py_ssize_t cs_b,
                       Py_ssize_t M, Py_ssize_t N, Py_ssize_t K,
                       double alpha, double beta, int n_threads) noexcept

    int creg_gradient_f32(float *grads, double *cost_sum, float *ws,
                          const float *params, const float *X, const float *Y,
                          Py_ssize_t B, const creg_net *net, int n_threads) noexcept
    int creg_gradient_f64(double *grads, double *cost_sum, double *ws,
                          const double *params, const double *X, const double *Y,
                          Py_ssize_t B, const creg_net *net, int n_threads) noexcept

    Py_ssize_t creg_train_scratch_f32(const creg_net *net, Py_ssize_t batch_size,
                                      const creg_step_rule *rule) noexcept
    Py_ssize_t creg_train_scratch_f64(const creg_net *net, Py_ssize_t batch_size,
                                      const creg_step_rule *rule) noexcept

    int creg_train_batches_f32(float *params, float *velocity, float *grads,
                               float *ws, const float *X,
                               const float *Y, const int64_t *order,
                               Py_ssize_t n, Py_ssize_t batch_size,
                               Py_ssize_t first_batch, Py_ssize_t n_batches,
                               const creg_net *net, const creg_step_rule *rule,
                               const creg_noise *noise, creg_pass_sums *sums,
                               int n_threads) noexcept
    int creg_train_batches_f64(double *params, double *velocity, double *grads,
                               double *ws, const double *X,
                               const double *Y, const int64_t *order,
                               Py_ssize_t n, Py_ssize_t batch_size,
                               Py_ssize_t first_batch, Py_ssize_t n_batches,
                               const creg_net *net, const creg_step_rule *rule,
                               const creg_noise *noise, creg_pass_sums *sums,
                               int n_threads) noexcept

    int creg_evaluate_f32(float *out, creg_pass_sums *sums, float *ws,
                           const float *params, const float *X, const float *Y,
                           Py_ssize_t n, Py_ssize_t chunk_rows,
                           const creg_net *net, int n_threads) noexcept
    int creg_evaluate_f64(double *out, creg_pass_sums *sums, double *ws,
                           const double *params, const double *X, const double *Y,
                           Py_ssize_t n, Py_ssize_t chunk_rows,
                           const creg_net *net, int n_threads) noexcept

    void creg_dropout_forward_f32(float *H, float *M, const float *A,
                                  Py_ssize_t count, const creg_noise *noise,
                                  uint64_t step, int layer,
                                  int n_threads) noexcept
    void creg_dropout_forward_f64(double *H, double *M, const double *A,
                                  Py_ssize_t count, const creg_noise *noise,
                                  uint64_t step, int layer,
                                  int n_threads) noexcept

    void creg_input_noise_f32(float *Xn, const float *X, Py_ssize_t count,
                              const creg_noise *noise, uint64_t step) noexcept
    void creg_input_noise_f64(double *Xn, const double *X, Py_ssize_t count,
                              const creg_noise *noise, uint64_t step) noexcept

cdef extern from "normal_table.h" nogil:
    double CREG_NORMAL_R
    double CREG_NORMAL_V
    const double creg_normal_x[257]
    const double creg_normal_f[257]

cdef extern from "team.h" nogil:
    enum: CREG_TEAM_WATCH
    double CREG_TEAM_LOOK_SECONDS
    double CREG_TEAM_LATE_FLOOR
    double CREG_TEAM_LATE_SHARE
    double CREG_TEAM_HOLD_MIN
    double CREG_TEAM_HOLD_MAX
    enum: CREG_TEAM_CONFIRM_RUNS

    ctypedef struct creg_team_clock:
        double start
        double arrive[CREG_TEAM_WATCH]
        double leave[CREG_TEAM_WATCH]

    ctypedef struct creg_team_load:
        int runnable
        int ours
        int cpus

    ctypedef struct creg_team_policy:
        pass

    int creg_team_decide(creg_team_policy *p, int most, double now,
                         creg_team_load load) noexcept
    int creg_team_late(const creg_team_clock *clock, int team) noexcept
    void creg_team_watch(creg_team_policy *p, int team, int late,
                         double now) noexcept
    void creg_team_counts(long long *decided, long long *held) noexcept
    int creg_team_size(int request) noexcept
    void creg_team_run_empty(int team) noexcept
    creg_team_load creg_team_look(int most) noexcept

cdef extern from "sparse.h" nogil:
    int CREG_EINVAL
    enum: CREG_SPARSE_TILE_ROWS

    enum: CREG_SPARSE_BLOCK_INPUTS

    ctypedef struct creg_sparse_pattern:
        const int64_t *row_start
        const int32_t *cols
        const int64_t *used
        const int64_t *splits
        Py_ssize_t I
        Py_ssize_t O
        Py_ssize_t U
        Py_ssize_t n_blocks

    int creg_sparse_slots(int n_threads) noexcept
    Py_ssize_t creg_sparse_slot_size(Py_ssize_t U, Py_ssize_t O) noexcept
    int creg_sparse_forward_f32(float *A, float *scratch, int slots,
                                const float *X,
                                const float *values, const float *b,
                                const creg_sparse_pattern *pattern,
                                Py_ssize_t B, creg_activation act,
                                int n_threads, int check_x) noexcept
    int creg_sparse_forward_f64(double *A, double *scratch, int slots,
                                const double *X,
                                const double *values, const double *b,
                                const creg_sparse_pattern *pattern,
                                Py_ssize_t B, creg_activation act,
                                int n_threads, int check_x) noexcept

# cython: language_level=3, boundscheck=False, wraparound=False
"""Thin wrappers over creg's C kernels.

Typed memoryviews enforce dtype and C-contiguity; each wrapper checks the
O(1) shape facts that keep C inside its buffers (real checks that raise
ValueError, never `assert`, which `python -O` removes), releases the GIL for
the call, and turns a C status into an exception.  No loops over data here
and no value checks: Python's _validation does those, once.  The network, the
step rule and the noise come by name, as creg._descriptors' dataclasses.
"""
from cython cimport floating
from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.string cimport memset
from openmp cimport omp_get_max_threads, omp_get_num_procs

from creg._core cimport *
from creg._descriptors import ACTIVATION_CODES, COST_CODES

MAX_LAYERS = CREG_MAX_LAYERS


# Why a cap: libgomp keeps per-thread team data on the stack, so 10**6
# threads crash it; no CPU creg runs on has more hardware threads.
MAX_THREADS = 1024


cdef int _fail(str what) except -1:
    raise ValueError(f"creg._core: {what}")


cdef int _require(bint ok, str what) except -1:
    # constant messages only: an f-string argument would be formatted on
    # every call; checks that quote values use `if not ...: _fail(...)`
    if not ok:
        _fail(what)
    return 0


cdef int _check(int status) except -1:
    # FloatingPointError, not ArithmeticError: the caller tells divergence
    # from an OverflowError (e.g. an int too large for C) by this class.
    if status == CREG_ENONFINITE:
        raise FloatingPointError(creg_strerror(status).decode())
    if status != CREG_OK:
        raise RuntimeError(creg_strerror(status).decode())
    return 0


cdef creg_net _net(spec) except *:
    """The creg_net of a NetSpec."""
    cdef creg_net net
    sizes = spec.sizes
    if not 1 <= len(sizes) - 1 <= CREG_MAX_LAYERS:
        raise ValueError("unsupported number of layers")
    net.n_layers = len(sizes) - 1
    for i, s in enumerate(sizes):
        net.sizes[i] = s
    net.hidden = <creg_activation>ACTIVATION_CODES[spec.hidden]
    net.output = <creg_activation>ACTIVATION_CODES[spec.output]
    net.cost = <creg_cost>COST_CODES[spec.cost]
    return net


cdef creg_noise _noise(noise) except *:
    """The creg_noise of a Noise."""
    cdef creg_noise c
    c.dropout = noise.dropout
    c.input_noise = noise.input_noise
    c.seed = noise.seed
    c.epoch = noise.epoch
    return c


cdef creg_step_rule _rule(rule) except *:
    """The creg_step_rule of a StepRule."""
    cdef creg_step_rule c
    c.lr = rule.lr
    c.momentum = rule.momentum
    c.l2 = rule.l2
    c.l1 = rule.l1
    c.l1_prox = bool(rule.l1_prox)
    c.max_norm = rule.max_norm
    return c


cdef class PassSums:
    """What the rows of a pass add up to (creg_pass_sums): the summed
    per-sample data cost and the number of rows whose predicted class is
    the target's (0 for a linear output), or with per_label the (row,
    unit) entries on the target's side of 0.5.  train_batches and evaluate
    add to it, so one instance follows a pass over several calls."""
    cdef creg_pass_sums sums

    def __cinit__(self, bint per_label=False):
        self.sums.cost = 0
        self.sums.correct = 0
        self.sums.per_label = per_label

    @property
    def cost(self):
        return self.sums.cost

    @property
    def correct(self):
        return self.sums.correct


def set_kernel_level(int level):
    """Choose the kernel table's row: 0 the portable reference loops
    everywhere, 1 baseline vectors, 2 AVX2+FMA, 3 AVX2+FMA with the step
    kernels built for AVX-512VL, 4 AVX-512 with 64-byte vectors;
    negative = the best this CPU supports.
    Returns the level in effect (clamped to what is supported)."""
    return creg_set_kernel_level(level)


def kernel_level():
    return creg_kernel_level()


def best_kernel_level():
    return creg_best_kernel_level()


def kernel_name(int level):
    return creg_kernel_name(level).decode()


def kernel_vector_bits(int level):
    return creg_kernel_vector_bits(level)


def packed_b_bytes():
    return creg_packed_b_bytes()


def param_count(spec):
    cdef creg_net net = _net(spec)
    return creg_param_count(&net)


def workspace_size(spec, Py_ssize_t rows):
    cdef creg_net net = _net(spec)
    return creg_workspace_size(&net, rows)


def train_scratch_size(spec, Py_ssize_t batch_size, rule, dtype):
    """Elements of train_batches' grads at this batch size, under this
    StepRule (whatever its lr), in this numpy dtype."""
    cdef creg_net net = _net(spec)
    cdef creg_step_rule r = _rule(rule)
    if dtype == "float32":
        return creg_train_scratch_f32(&net, batch_size, &r)
    return creg_train_scratch_f64(&net, batch_size, &r)


def shuffle(int64_t[::1] order, uint64_t seed, uint64_t epoch):
    if order.shape[0] == 0:
        return
    with nogil:
        creg_shuffle(&order[0], order.shape[0], seed, epoch)


def gemm(floating[:, :] C, const floating[:, :] A, const floating[:, :] B,
         floating alpha, floating beta, int n_threads):
    """C := alpha A.B + beta C on strided 2-D views (element strides)."""
    cdef Py_ssize_t M = C.shape[0], N = C.shape[1], K = A.shape[1]
    cdef Py_ssize_t s = sizeof(floating)
    _require(A.shape[0] == M and B.shape[0] == K and B.shape[1] == N,
             "gemm needs C (M, N), A (M, K) and B (K, N)")
    _require(M > 0 and N > 0 and K > 0, "gemm needs M, N, K >= 1")
    _require(C.strides[0] % s == 0 and C.strides[1] % s == 0
             and A.strides[0] % s == 0 and A.strides[1] % s == 0
             and B.strides[0] % s == 0 and B.strides[1] % s == 0,
             "gemm needs strides that are whole elements")
    _require_threads(n_threads)
    with nogil:
        if floating is float:
            creg_gemm_f32(&C[0, 0], C.strides[0] // s, C.strides[1] // s,
                          &A[0, 0], A.strides[0] // s, A.strides[1] // s,
                          &B[0, 0], B.strides[0] // s, B.strides[1] // s,
                          M, N, K, alpha, beta, n_threads)
        else:
            creg_gemm_f64(&C[0, 0], C.strides[0] // s, C.strides[1] // s,
                          &A[0, 0], A.strides[0] // s, A.strides[1] // s,
                          &B[0, 0], B.strides[0] // s, B.strides[1] // s,
                          M, N, K, alpha, beta, n_threads)


cdef int _require_threads(int n_threads) except -1:
    if not 0 <= n_threads <= MAX_THREADS:
        _fail(f"n_threads must be in [0, {MAX_THREADS}]; got {n_threads}")
    return 0


cdef int _check_net_buffers(creg_net *net, Py_ssize_t n_params,
                            Py_ssize_t n_ws, Py_ssize_t rows,
                            Py_ssize_t x_cols, Py_ssize_t y_cols,
                            int n_threads) except -1:
    cdef Py_ssize_t per_row = creg_workspace_size(net, 1)
    cdef Py_ssize_t count = creg_param_count(net)
    if rows <= 0:
        _fail(f"a pass needs at least one row; got {rows}")
    if n_params != count:
        _fail(f"params has {n_params} elements; the network has {count}")
    # workspace_size is rows times a per-row size: divide instead of
    # multiplying, so no row count can overflow the comparison
    if n_ws // rows < per_row:
        _fail(f"the workspace holds {n_ws} elements, less than the "
              f"{per_row} x {rows} rows a pass needs")
    if x_cols != net.sizes[0]:
        _fail(f"X has {x_cols} columns; the network takes {net.sizes[0]}")
    if y_cols != net.sizes[net.n_layers]:
        _fail(f"the targets/outputs have {y_cols} columns; the network "
              f"has {net.sizes[net.n_layers]} outputs")
    _require_threads(n_threads)
    return 0


def gradient(floating[::1] grads, floating[::1] ws,
             const floating[::1] params, const floating[:, ::1] X,
             const floating[:, ::1] Y, spec, int n_threads):
    """grads := batch-mean data gradient; returns the summed cost."""
    cdef creg_net net = _net(spec)
    cdef double cost = 0
    cdef int status
    cdef Py_ssize_t B = X.shape[0]
    _check_net_buffers(&net, params.shape[0], ws.shape[0], B, X.shape[1],
                       Y.shape[1], n_threads)
    _require(grads.shape[0] == params.shape[0],
             "grads must have as many elements as params")
    _require(Y.shape[0] == B, "X and Y must have the same number of rows")
    with nogil:
        if floating is float:
            status = creg_gradient_f32(&grads[0], &cost, &ws[0], &params[0],
                                       &X[0, 0], &Y[0, 0], B, &net, n_threads)
        else:
            status = creg_gradient_f64(&grads[0], &cost, &ws[0], &params[0],
                                       &X[0, 0], &Y[0, 0], B, &net, n_threads)
    _check(status)
    return cost


def train_batches(floating[::1] params, floating[::1] velocity,
                  floating[::1] grads, floating[::1] ws,
                  const floating[:, ::1] X, const floating[:, ::1] Y,
                  const int64_t[::1] order, *, Py_ssize_t batch_size,
                  Py_ssize_t first_batch, Py_ssize_t n_batches, net, rule,
                  noise, int n_threads, PassSums sums=None):
    """Runs n_batches mini-batches of an epoch from batch first_batch, in
    the row order `order` (None = given order); net is a NetSpec, rule a
    StepRule, noise a Noise.  sums, if given, adds each batch's cost and
    correct rows as trained (the running metrics)."""
    cdef creg_net c_net = _net(net)
    cdef creg_noise c_noise = _noise(noise)
    cdef creg_step_rule r = _rule(rule)
    cdef creg_pass_sums *sums_ptr = NULL
    cdef int status
    cdef Py_ssize_t n = X.shape[0]
    cdef const int64_t *order_ptr = NULL
    cdef Py_ssize_t scratch
    _check_net_buffers(&c_net, params.shape[0], ws.shape[0], batch_size,
                       X.shape[1], Y.shape[1], n_threads)
    if floating is float:
        scratch = creg_train_scratch_f32(&c_net, batch_size, &r)
    else:
        scratch = creg_train_scratch_f64(&c_net, batch_size, &r)
    _require(grads.shape[0] == scratch, "grads must have "
             "train_scratch_size(net, batch_size, rule, dtype) elements")
    _require(Y.shape[0] == n, "X and Y must have the same number of rows")
    _require(r.momentum == 0 or velocity.shape[0] == params.shape[0],
             "momentum needs a velocity buffer as long as params")
    _require(velocity.shape[0] > 0, "velocity must not be empty")
    _require(batch_size <= n and first_batch >= 0 and n_batches >= 0,
             "batch_size, first_batch and n_batches out of range")
    if not (n_batches == 0 or first_batch < (n - 1) // batch_size + 1
            and n_batches <= (n - 1) // batch_size + 1 - first_batch):
        _fail(f"batches [{first_batch}, {first_batch} + {n_batches}) are "
              f"not all in an epoch of {n} rows in batches of {batch_size}")
    if order is not None:
        _require(order.shape[0] == n, "order must have one entry per row")
        order_ptr = &order[0]
    if sums is not None:
        sums_ptr = &sums.sums
    with nogil:
        if floating is float:
            status = creg_train_batches_f32(
                &params[0], &velocity[0], &grads[0], &ws[0], &X[0, 0],
                &Y[0, 0], order_ptr, n, batch_size, first_batch, n_batches,
                &c_net, &r, &c_noise, sums_ptr, n_threads)
        else:
            status = creg_train_batches_f64(
                &params[0], &velocity[0], &grads[0], &ws[0], &X[0, 0],
                &Y[0, 0], order_ptr, n, batch_size, first_batch, n_batches,
                &c_net, &r, &c_noise, sums_ptr, n_threads)
    _check(status)


def evaluate(floating[::1] ws, const floating[::1] params,
             const floating[:, ::1] X, const floating[:, ::1] Y, *,
             floating[:, ::1] out=None, Py_ssize_t chunk_rows, net,
             int n_threads, PassSums sums=None):
    """out := output activations of X (out None: not kept); with targets
    Y, sums adds their cost and correct rows.  Returns whether every row's
    first-layer pre-activation was finite (a row of X with NaN or inf makes
    it not).  (out comes last: a fused function takes its type from the
    first argument, which may not be None.)"""
    cdef creg_net c_net = _net(net)
    cdef Py_ssize_t n = X.shape[0]
    cdef Py_ssize_t out_cols = c_net.sizes[c_net.n_layers]
    cdef floating *out_ptr = NULL
    cdef const floating *y_ptr = NULL
    cdef creg_pass_sums *sums_ptr = NULL
    if out is not None:
        out_cols = out.shape[1]
        _require(out.shape[0] == n, "out must have one row per row of X")
        out_ptr = &out[0, 0]
    _check_net_buffers(&c_net, params.shape[0], ws.shape[0], chunk_rows,
                       X.shape[1], out_cols, n_threads)
    _require(n > 0, "X must have at least one row")
    if Y is not None:
        _require(Y.shape[0] == n and Y.shape[1] == out_cols,
                 "Y must have one row per row of X and one column per "
                 "output")
        _require(sums is not None, "targets Y need sums to add to")
        y_ptr = &Y[0, 0]
        sums_ptr = &sums.sums
    cdef int status
    with nogil:
        if floating is float:
            status = creg_evaluate_f32(out_ptr, sums_ptr, &ws[0], &params[0],
                                       &X[0, 0], y_ptr, n, chunk_rows, &c_net,
                                       n_threads)
        else:
            status = creg_evaluate_f64(out_ptr, sums_ptr, &ws[0], &params[0],
                                       &X[0, 0], y_ptr, n, chunk_rows, &c_net,
                                       n_threads)
    return status == CREG_OK


def dropout_forward(floating[::1] H, floating[::1] M, const floating[::1] A,
                    noise_spec, uint64_t step, int layer,
                    int n_threads=1):
    """The dropout of training, exposed so tests can see the mask used:
    M := 1/(1-rate) kept or 0 dropped; H := A * M.  noise_spec: a Noise."""
    cdef creg_noise noise = _noise(noise_spec)
    _require(H.shape[0] == M.shape[0] == A.shape[0] > 0,
             "H, M and A must have the same length, at least 1")
    _require(0 <= noise.dropout < 1, "dropout must be in [0, 1)")
    _require_threads(n_threads)
    with nogil:
        if floating is float:
            creg_dropout_forward_f32(&H[0], &M[0], &A[0], A.shape[0], &noise,
                                     step, layer, n_threads)
        else:
            creg_dropout_forward_f64(&H[0], &M[0], &A[0], A.shape[0], &noise,
                                     step, layer, n_threads)


def input_noise(floating[::1] Xn, const floating[::1] X, noise_spec,
                uint64_t step):
    """The input noise of training: Xn := X + input_noise * N(0, 1).
    noise_spec: a Noise."""
    cdef creg_noise noise = _noise(noise_spec)
    _require(Xn.shape[0] == X.shape[0] > 0,
             "Xn and X must have the same length, at least 1")
    with nogil:
        if floating is float:
            creg_input_noise_f32(&Xn[0], &X[0], X.shape[0], &noise, step)
        else:
            creg_input_noise_f64(&Xn[0], &X[0], X.shape[0], &noise, step)


def normal_table():
    """input_noise's ziggurat (normal_table.h), for the tests: the layers'
    widths X and heights F (257 each), R and V."""
    X = [creg_normal_x[i] for i in range(257)]
    F = [creg_normal_f[i] for i in range(257)]
    return X, F, CREG_NORMAL_R, CREG_NORMAL_V


# team.c's constants, for the tests of its policy
TEAM_WATCH = CREG_TEAM_WATCH
TEAM_LOOK_SECONDS = CREG_TEAM_LOOK_SECONDS
TEAM_LATE_FLOOR = CREG_TEAM_LATE_FLOOR
TEAM_LATE_SHARE = CREG_TEAM_LATE_SHARE
TEAM_HOLD_MIN = CREG_TEAM_HOLD_MIN
TEAM_HOLD_MAX = CREG_TEAM_HOLD_MAX
TEAM_CONFIRM_RUNS = CREG_TEAM_CONFIRM_RUNS


def team_policy(list events):
    """team.c's default-team policy from its start over made-up events, for
    the tests: ("decide", most, now, runnable, ours, cpus) appends the team
    it gives a default request (the load, `ours` of its runnable tasks
    ours, counts when a look is due); ("ran", team, late, now) reports a
    team with `late` late threads."""
    cdef creg_team_policy policy
    memset(&policy, 0, sizeof(policy))
    cdef creg_team_load load
    teams = []
    for event in events:
        if event[0] == "decide":
            _, most, now, load.runnable, load.ours, load.cpus = event
            _require(most >= 1, "most must be at least 1")
            teams.append(creg_team_decide(&policy, most, now, load))
        elif event[0] == "ran":
            _, team, late, now = event
            _require(0 <= late < team, "late must be in [0, team)")
            creg_team_watch(&policy, team, late, now)
        else:
            _fail(f"unknown event {event[0]!r}")
    return teams


def team_counts():
    """(default teams decided, those held below the default size) in this
    process so far: whether other processes made creg use fewer threads."""
    cdef long long decided, held
    creg_team_counts(&decided, &held)
    return decided, held


def default_team():
    """OpenMP's default thread count for the calling thread
    (OMP_NUM_THREADS, a threadpoolctl limit set in this thread, a
    torch.set_num_threads on a shared runtime), at most the usable CPUs:
    the team n_threads=None asks for, before the contention policy holds
    it back (creg_team_size)."""
    return max(1, min(omp_get_max_threads(), omp_get_num_procs()))


def team_size(int request):
    """The process's team for a request (creg_team_size): k > 0 exactly k,
    -T a default team of at most T, decided on the machine's real load."""
    _require(request != 0, "request must not be 0")
    cdef int team
    with nogil:
        team = creg_team_size(request)
    return team


def team_run_empty(int team):
    """Runs an empty region of exactly `team` threads, which the policy
    watches like any other (its threads, their lateness)."""
    _require(team >= 1, "team must be at least 1")
    with nogil:
        creg_team_run_empty(team)


def team_look(int most):
    """(runnable, ours, cpus): the load a default team of at most `most`
    would be decided on now (runnable -1 where it cannot be read); `ours`
    counts this process's running threads of the last team only where
    they could change the decision, else it is 1."""
    _require(most >= 1, "most must be at least 1")
    cdef creg_team_load load
    with nogil:
        load = creg_team_look(most)
    return load.runnable, load.ours, load.cpus


def team_late(double start, arrive, leave):
    """creg_team_late for a made-up clock: the team's threads' arrival and
    finish times (the master's first), at most CREG_TEAM_WATCH."""
    cdef creg_team_clock clock
    cdef Py_ssize_t team = len(arrive)
    _require(1 <= team <= CREG_TEAM_WATCH and len(leave) == team,
             "arrive and leave need one time per thread, at most 64")
    clock.start = start
    for t in range(team):
        clock.arrive[t] = arrive[t]
        clock.leave[t] = leave[t]
    return creg_team_late(&clock, <int>team)


SPARSE_BLOCK_INPUTS = CREG_SPARSE_BLOCK_INPUTS


def sparse_slots(int n_threads):
    """Scratch slots sparse_forward needs for n_threads."""
    _require_threads(n_threads)
    return creg_sparse_slots(n_threads)


def sparse_slot_size(Py_ssize_t U, Py_ssize_t O):
    """Elements of one scratch slot for U used inputs and O outputs."""
    _require(U >= 0 and O >= 1, "sparse_slot_size needs U >= 0, O >= 1")
    return creg_sparse_slot_size(U, O)


def sparse_forward(floating[:, ::1] A, floating[::1] scratch,
                   const floating[:, ::1] X, const floating[::1] values,
                   const floating[::1] b, const int64_t[::1] row_start,
                   const int32_t[::1] cols, const int64_t[::1] used,
                   const int64_t[:, ::1] splits, str activation,
                   int n_threads, bint check_x=False):
    """A := act(X . W^T + b) with W as compressed rows: neuron o's weights
    values[row_start[o]:row_start[o+1]] at inputs used[cols[...]], split by
    blocks of SPARSE_BLOCK_INPUTS used inputs at splits[o] (the C header
    sparse.h).  The indices themselves are checked in C.  Returns False
    when check_x found NaN or inf in X (A is then undefined), else True."""
    cdef creg_sparse_pattern p
    cdef creg_activation act = <creg_activation>ACTIVATION_CODES[activation]
    cdef Py_ssize_t B = X.shape[0]
    cdef int status
    p.O = row_start.shape[0] - 1
    p.I = X.shape[1]
    p.U = used.shape[0]
    p.n_blocks = (p.U + CREG_SPARSE_BLOCK_INPUTS - 1) \
        // CREG_SPARSE_BLOCK_INPUTS
    _require(B >= 1 and p.O >= 1, "sparse_forward needs rows and outputs")
    _require(A.shape[0] == B and A.shape[1] == p.O and b.shape[0] == p.O,
             "sparse_forward needs A (B, O) and b (O)")
    _require(values.shape[0] == cols.shape[0] == row_start[p.O] >= 0,
             "values and cols need row_start[O] entries")
    _require(splits.shape[0] == p.O and splits.shape[1] == p.n_blocks + 1,
             "splits needs O rows of ceil(U / SPARSE_BLOCK_INPUTS) + 1")
    _require_threads(n_threads)
    cdef int slots = creg_sparse_slots(n_threads)
    if scratch.shape[0] // creg_sparse_slot_size(p.U, p.O) < slots:
        _fail("the scratch holds fewer slots than sparse_slots asks")
    p.row_start = &row_start[0]
    p.cols = &cols[0] if cols.shape[0] else NULL
    p.used = &used[0] if p.U else NULL
    p.splits = &splits[0, 0]
    with nogil:
        if floating is float:
            status = creg_sparse_forward_f32(
                &A[0, 0], &scratch[0], slots, &X[0, 0],
                &values[0] if values.shape[0] else NULL, &b[0], &p, B, act,
                n_threads, check_x)
        else:
            status = creg_sparse_forward_f64(
                &A[0, 0], &scratch[0], slots, &X[0, 0],
                &values[0] if values.shape[0] else NULL, &b[0], &p, B, act,
                n_threads, check_x)
    if status == CREG_EINVAL:
        _fail("sparse_forward: an index of the pattern is out of range")
    if status == CREG_ENONFINITE:
        return False
    _check(status)
    return True

"""The one place where user input is checked and converted.

Every public entry point calls these before it changes any state, so a
refused call leaves the network and the inputs exactly as they were.
Messages name the argument and say what was expected; where scikit-learn
has a standard wording (RELIABILITY.md, section 0) it is reused verbatim so
the same tests pass for both.

Exception kinds follow scikit-learn: TypeError for a wrong kind of value
(a string where a number is needed, sparse or non-numeric data), ValueError
for a value of the right kind that is out of range or inconsistent,
MemoryError (naming the bytes) for an allocation that cannot succeed.
"""
import functools
import math
import numbers
import os
import warnings

import numpy as np

from creg._core import MAX_THREADS
from creg._threads import effective_n_threads

HIDDEN = ("sigmoid", "tanh", "relu")
OUTPUT = ("sigmoid", "softmax", "linear")
COSTS = ("cross_entropy", "log_likelihood", "quadratic")
INITS = ("normalized", "large", "he", "glorot")
DTYPES = ("float32", "float64")
PENALTY_SCALES = ("n", "none")
L1_METHODS = ("prox", "subgradient")

# Which output layers each cost is defined for (DESIGN.md, "Costs").
COST_OUTPUTS = {
    "cross_entropy": ("sigmoid",),
    "log_likelihood": ("softmax",),
    "quadratic": ("sigmoid", "linear"),
}

# Why: the epoch counter keys the shuffle and noise streams as a C uint64;
# 2**63 leaves room for any run and matches the seed's range.
EPOCH_LIMIT = 2**63

# Why: rows of a softmax target are probabilities; float32 data summed over
# many classes is off by far less than this, a wrong encoding by far more.
_ROW_SUM_TOLERANCE = 1e-3


# ------------------------------------------------------- hyper-parameters


def choice(name, value, allowed):
    """A name from an allow-list; the message lists the valid ones.
    Not a string at all: TypeError; a string not in the list: ValueError."""
    if not isinstance(value, str) or value not in allowed:
        error = ValueError if isinstance(value, str) else TypeError
        raise error(
            f"{name} must be one of {', '.join(map(repr, allowed))}; "
            f"got {value!r}")
    return value


def _real(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {value!r}")
    try:
        value = float(value)
    except OverflowError:  # an int beyond float range, e.g. 10**400
        raise ValueError(f"{name} must be finite; got {value!r}") from None
    if not math.isfinite(value):  # NaN is never "in range"
        raise ValueError(f"{name} must be finite; got {value!r}")
    return value


def positive(name, value):
    value = _real(name, value)
    if not value > 0:
        raise ValueError(f"{name} must be > 0; got {value!r}")
    return value


def non_negative(name, value):
    value = _real(name, value)
    if not value >= 0:
        raise ValueError(f"{name} must be >= 0; got {value!r}")
    return value


def rate(name, value):
    """A probability-like rate in [0, 1)."""
    value = _real(name, value)
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1); got {value!r}")
    return value


def _integer(name, value):
    # bool is an Integral, but True is never meant as a count.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {value!r}")
    return int(value)


def positive_int(name, value):
    value = _integer(name, value)
    if value < 1:
        raise ValueError(f"{name} must be >= 1; got {value!r}")
    return value


def non_negative_int(name, value, below=None):
    """An int >= 0, and < `below` when given."""
    value = _integer(name, value)
    if value < 0:
        raise ValueError(f"{name} must be >= 0; got {value!r}")
    if below is not None and value >= below:
        raise ValueError(f"{name} must be < {below}; got {value!r}")
    return value


def boolean(name, value):
    """True or False (numpy bools too); anything else is a TypeError, so a
    string like "no" is not silently truthy."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def batch_size(value, n_samples):
    """A positive int, clipped to n_samples with a warning (as sklearn's
    MLP does: a batch larger than the data is one full batch)."""
    value = positive_int("batch_size", value)
    if value > n_samples:
        warnings.warn(
            f"Got `batch_size`={value} larger than sample size {n_samples}. "
            "It is going to be clipped", UserWarning, stacklevel=3)
        return n_samples
    return value


def seed(value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"seed must be an integer; got {value!r}")
    if not 0 <= value < 2**63:
        raise ValueError(f"seed must be in [0, 2**63); got {value!r}")
    return int(value)


def _usable_cpus():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def n_threads(value):
    """None (OpenMP's default), an int in [1, MAX_THREADS], or a negative
    int counting back from the usable CPUs (-1 = all of them, -2 = all but
    one), as in scikit-learn; resolved by the thread policy in _threads."""
    if value is not None:
        value = _integer("n_threads", value)
        if value == 0:
            raise ValueError(
                "n_threads = 0 is invalid: n_threads must be >= 1, or "
                "negative to count back from the usable CPUs (-1 = all)")
        if value > MAX_THREADS:
            raise ValueError(
                f"n_threads must be at most {MAX_THREADS}; got {value} "
                f"(this machine has {_usable_cpus()} usable CPUs)")
        if value < 0:
            cpus = _usable_cpus()
            if cpus + 1 + value < 1:
                raise ValueError(
                    f"n_threads must be >= 1 or in [-{cpus}, -1] on this "
                    f"machine ({cpus} usable CPUs); got {value}")
            value = cpus + 1 + value
    return effective_n_threads(value)


# ----------------------------------------------------------------- memory


def _human(nbytes):
    """1536 -> "1.5 KiB" (numpy's MemoryError style), up to EiB."""
    value, unit = float(nbytes), "bytes"
    for bigger in ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{nbytes} bytes" if unit == "bytes" else f"{value:.3g} {unit}"


def _read_kib(path, key):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


@functools.lru_cache(maxsize=1)
def _machine_memory():
    """RAM + swap in bytes (None if unknown), and the cgroup's limit."""
    total = _read_kib("/proc/meminfo", "MemTotal")
    if total is not None:
        total += _read_kib("/proc/meminfo", "SwapTotal") or 0
    else:
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (AttributeError, ValueError, OSError):
            total = None
    cgroup = None
    for path in ("/sys/fs/cgroup/memory.max",
                 "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as f:
                text = f.read().strip()
            cgroup = int(text)
            break
        except (OSError, ValueError):
            continue
    return total, cgroup


def _available_now():
    """Memory the kernel could hand out now without the OOM killer: RAM
    that is free or reclaimable (MemAvailable) plus free swap."""
    available = _read_kib("/proc/meminfo", "MemAvailable")
    if available is None:
        return None
    return available + (_read_kib("/proc/meminfo", "SwapFree") or 0)


def _memory_limit():
    """(bytes, why): the most that one call may still allocate and
    plausibly get.  Anything larger is refused up front: on Linux an
    overcommitted huge np.empty can "succeed" and the process is then
    killed by the OOM killer when the pages are touched, which is worse
    than any exception."""
    limits = [(2**63 - 1, "a 64-bit address space")]
    total, cgroup = _machine_memory()
    if total:
        limits.append((total, "this machine's memory (RAM + swap)"))
    available = _available_now()
    if available is not None:
        limits.append((available, "the memory available now (RAM + swap)"))
    if cgroup:
        limits.append((cgroup, "this process's cgroup memory limit"))
    try:
        import resource
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY and soft > 0:
            used = _read_kib("/proc/self/status", "VmSize") or 0
            limits.append((max(soft - used, 0),
                           "the address space left under RLIMIT_AS"))
    except (ImportError, ValueError, OSError):
        pass
    return min(limits)


def _too_big(what, nbytes, limit, why):
    return MemoryError(
        f"Unable to allocate {_human(nbytes)} ({nbytes} bytes) for {what}: "
        f"more than the {_human(limit)} ({limit} bytes) of {why}")


def check_allocation(what, count, dtype, extra=0):
    """Refuse (MemoryError naming the bytes) an allocation of `count`
    elements of `dtype` that cannot succeed together with `extra` bytes
    of scratch the same call needs; the byte count is a Python int, so it
    never overflows.  Returns the bytes of the allocation itself."""
    nbytes = int(count) * np.dtype(dtype).itemsize
    check_budget(what, nbytes + int(extra))
    return nbytes


def check_budget(what, nbytes):
    """Refuse (MemoryError naming the bytes) a call that will allocate
    `nbytes` in all, before it allocates any of them."""
    limit, why = _memory_limit()
    if nbytes > limit:
        raise _too_big(what, nbytes, limit, why)


# Byte alignment of creg's own buffers: a cache line, so that the kernels'
# vector loads of rows whose length is a multiple of 16 floats (MNIST's 784)
# never straddle two lines (that costs the small-batch kernels 20%).
_ALIGN = 64


def empty(what, count, dtype, extra=0):
    """np.empty(count, dtype) starting on a 64-byte boundary, or MemoryError
    naming the bytes: refused up front when it cannot fit (with `extra`
    bytes of scratch the caller needs next), re-raised with the count when
    malloc fails."""
    nbytes = check_allocation(what, count, dtype, extra)
    itemsize = np.dtype(dtype).itemsize
    try:
        buffer = np.empty(int(count) + _ALIGN // itemsize, dtype)
    except MemoryError:
        raise MemoryError(
            f"Unable to allocate {_human(nbytes)} ({nbytes} bytes) for "
            f"{what}") from None
    start = (-buffer.ctypes.data % _ALIGN) // itemsize
    return buffer[start:start + int(count)]


# ------------------------------------------------------------ architecture


def n_params(sizes):
    """Number of parameters, sum of n_out * (n_in + 1), in Python ints."""
    return sum(n_out * (n_in + 1) for n_in, n_out in zip(sizes, sizes[1:]))


def sizes(value, max_layers, dtype=None):
    """Layer widths as a tuple of ints.  The parameter buffer they need is
    checked against the memory that could be allocated (with `dtype`'s
    item size, or float32's, the smallest, when not given), so absurd sizes
    raise MemoryError before anything is allocated or any C size
    arithmetic can overflow."""
    if isinstance(value, (str, bytes)):
        raise TypeError(
            f"sizes must be a sequence of layer widths; got {value!r}")
    try:
        sizes = list(value)
    except TypeError:
        raise TypeError(
            f"sizes must be a sequence of layer widths; got {value!r}") from None
    if not 2 <= len(sizes) <= max_layers + 1:
        need = ("the network needs at least an input and an output layer; "
                if len(sizes) < 2 else "")
        raise ValueError(
            f"{need}sizes must list between 2 and {max_layers + 1} layer "
            f"widths (inputs, hidden..., outputs); got {len(sizes)}")
    sizes = tuple(positive_int(f"sizes[{i}]", s) for i, s in enumerate(sizes))
    count = n_params(sizes)
    itemsize = np.dtype(dtype if dtype is not None else np.float32).itemsize
    nbytes = count * itemsize
    limit, why = _memory_limit()
    if nbytes > limit:
        kind = (np.dtype(dtype).name if dtype is not None
                else "float32, the smallest dtype")
        raise _too_big(
            f"the {count} parameters of a network with sizes {list(sizes)} "
            f"(as {kind})", nbytes, limit, why)
    return sizes


def cost_fits_output(cost, output):
    if output not in COST_OUTPUTS[cost]:
        raise ValueError(
            f"cost={cost!r} needs output="
            f"{' or '.join(map(repr, COST_OUTPUTS[cost]))}; got "
            f"output={output!r}")


def parameter_values(name, value, shape, dtype):
    """A replacement for one weight or bias array: the right shape, real
    numbers, finite in `dtype`.  Returns it converted to `dtype`."""
    array = _as_numeric_array(name, value)
    if array.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}; got "
                         f"{array.shape}")
    if array.dtype.kind == "f" and array.dtype != dtype:
        _check_finite(name, array)
    with np.errstate(over="ignore"):
        converted = np.asarray(array, dtype=dtype)
    _check_finite(name, converted)
    return converted


# -------------------------------------------------------------------- data


def _is_sparse(value):
    return hasattr(value, "tocsr") or hasattr(value, "todense")


def _as_numeric_array(name, value, labels=False):
    """`value` as a real numeric ndarray (bool/int/uint/float kept, object
    arrays of numbers converted to float64); nothing is copied unless it
    must be.  Refuses None, sparse, strings, dates, structured and
    complex data."""
    unknown = " (Unknown label type)" if labels else ""
    if value is None:
        raise TypeError(f"{name} must be an array-like of numbers; got None")
    if _is_sparse(value):
        raise TypeError(
            f"Sparse data was passed for {name}, but dense data is required "
            "(creg does not support sparse input). Use '.toarray()' to "
            "convert to a dense numpy array.")
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested lists, ...
        raise type(exc)(
            f"{name} could not be converted to a numeric array: {exc}"
        ) from None
    kind = array.dtype.kind
    if kind in "biuf":
        return array
    if kind == "c":
        raise ValueError(f"Complex data not supported in {name}")
    if kind != "O":
        raise TypeError(f"{name} must be numeric; got an array of dtype "
                        f"{array.dtype}{unknown}")
    for item in array.flat:
        if isinstance(item, (str, bytes)):
            raise TypeError(f"{name} must be numeric; it holds the string "
                            f"{item!r}{unknown}")
        if isinstance(item, numbers.Complex) and \
                not isinstance(item, numbers.Real):
            raise ValueError(f"Complex data not supported in {name}")
    try:
        return array.astype(np.float64)
    except OverflowError:  # a Python int beyond float64
        raise ValueError(
            f"Input {name} contains infinity or a value too large for "
            "dtype('float64').") from None
    except (TypeError, ValueError) as exc:
        # numpy's own words, e.g. "float() argument must be a string or a
        # real number, not 'dict'", which sklearn's checks match.
        raise TypeError(f"{name} must be numeric: {exc}{unknown}") from None


def _check_finite(name, array):
    if array.dtype.kind in "biu" or array.size == 0:
        return
    # min and max see every NaN and inf without a temporary the size of X
    if not (np.isfinite(array.min()) and np.isfinite(array.max())):
        if np.isnan(array).any():
            raise ValueError(f"Input {name} contains NaN.")
        raise ValueError(
            f"Input {name} contains infinity or a value too large for "
            f"dtype({array.dtype.name!r}).")


def _two_d(name, array):
    if array.ndim == 2:
        return
    got = "scalar" if array.ndim == 0 else f"{array.ndim}D"
    raise ValueError(
        f"Expected 2D array, got {got} array instead: {name} has shape "
        f"{array.shape}. Reshape your data either using "
        "array.reshape(-1, 1) if your data has a single feature or "
        "array.reshape(1, -1) if it contains a single sample.")


def _contiguous(array, dtype, avoid):
    """C-contiguous, aligned, native-order `dtype`, and not sharing memory
    with `avoid` (a buffer the caller will write while reading this)."""
    with np.errstate(over="ignore"):
        converted = np.ascontiguousarray(array, dtype=dtype)
    if not converted.flags.aligned or (
            avoid is not None and np.may_share_memory(converted, avoid)):
        converted = converted.copy()
    return converted


def matrix(X, name="X", *, dtype=None):
    """Any 2-D real matrix (no width expected) as a C-contiguous, aligned,
    finite array of `dtype`; dtype=None keeps a float dtype and converts
    ints, bools and objects holding numbers to float64.  For helpers such
    as creg.expand that take data but no network."""
    array = _as_numeric_array(name, X)
    _two_d(name, array)
    if dtype is None:
        dtype = (array.dtype.newbyteorder("=") if array.dtype.kind == "f"
                 else np.float64)
    dtype = np.dtype(dtype)
    if array.dtype.kind == "f" and array.dtype != dtype:
        _check_finite(name, array)
    converted = _contiguous(array, dtype, None)
    _check_finite(name, converted)
    return converted


def features(X, dtype, n_features, name="X", *, avoid=None, finite=True):
    """X as a C-contiguous, aligned (n, n_features) array of `dtype`;
    copies only when it must (or when it may share memory with `avoid`,
    e.g. the parameters fit is about to overwrite).  finite=False leaves
    the NaN/inf check to the caller (fit: its first epoch finds them, and
    then calls this again on the result to raise the same error)."""
    array = _as_numeric_array(name, X)
    _two_d(name, array)
    for axis, what in ((0, "sample(s)"), (1, "feature(s)")):
        if array.shape[axis] == 0:
            raise ValueError(
                f"Found array with 0 {what} (shape={array.shape}) while a "
                f"minimum of 1 is required ({name}).")
    if array.shape[1] != n_features:
        raise ValueError(
            f"{name} has {array.shape[1]} features, but the network is "
            f"expecting {n_features} features as input.")
    if finite and array.dtype.kind == "f" and array.dtype != dtype:
        _check_finite(name, array)  # before the cast can hide or make inf
    converted = _contiguous(array, dtype, avoid)
    if finite:
        _check_finite(name, converted)  # e.g. 1e39 became inf in float32
    return converted


def _check_target_range(name, Y, output):
    """A sigmoid or softmax output cannot produce values outside [0, 1],
    and cross-entropy is undefined for such targets; softmax targets are
    distributions, so each row sums to 1."""
    if output not in ("sigmoid", "softmax"):
        return
    low, high = Y.min(), Y.max()
    if low < 0 or high > 1:
        raise ValueError(
            f"targets in {name} must lie in [0, 1] for a {output} output "
            f"(it cannot produce other values); got values in "
            f"[{low}, {high}]")
    if output == "softmax":
        sums = Y.sum(axis=1, dtype=np.float64)
        bad = np.abs(sums - 1) > _ROW_SUM_TOLERANCE
        if bad.any():
            row = int(np.argmax(bad))
            raise ValueError(
                f"each row of {name} must sum to 1 for a softmax output "
                f"(a one-hot row or class probabilities); row {row} sums to "
                f"{sums[row]}")


def targets(y, n_samples, n_outputs, output, dtype, name="y", *,
            avoid=None):
    """The target matrix (n_samples, n_outputs) of `dtype`.

    Integer class labels of shape (n,) are one-hot encoded (a single sigmoid
    output takes 0/1 labels as is); a linear single output takes a 1-D target
    as a column; otherwise a float matrix of the output's width is expected.
    Targets of a sigmoid or softmax output must lie in [0, 1], and softmax
    rows must sum to 1.
    """
    if y is None:
        raise ValueError(f"Network requires {name} to be passed, but the "
                         f"target {name} is None")
    array = _as_numeric_array(name, y, labels=True)
    if array.ndim == 0 or array.ndim > 2:
        raise ValueError(
            f"{name} must have shape ({n_samples},) or ({n_samples}, "
            f"{n_outputs}); got shape {array.shape}")
    if array.shape[0] != n_samples:
        raise ValueError(
            f"X and {name} have different numbers of samples: {n_samples} "
            f"and {array.shape[0]} (Found input variables with inconsistent "
            f"numbers of samples: [{n_samples}, {array.shape[0]}])")
    _check_finite(name, array)
    if array.ndim == 2:
        if array.shape[1] != n_outputs:
            hint = (f"; pass class labels as a 1-D array of shape "
                    f"({n_samples},)" if array.shape[1] == 1 else "")
            raise ValueError(
                f"{name} has {array.shape[1]} columns, but the network has "
                f"{n_outputs} outputs{hint}")
        Y = features(array, dtype, n_outputs, name, avoid=avoid)
        _check_target_range(name, Y, output)
        return Y
    if output == "linear" or n_outputs == 1:
        if n_outputs != 1:
            raise ValueError(
                f"a 1-D {name} needs a single output unit, or give a "
                f"({n_samples}, {n_outputs}) target matrix")
        Y = features(array.reshape(-1, 1), dtype, 1, name, avoid=avoid)
        _check_target_range(name, Y, output)
        return Y
    labels = class_labels(array, n_outputs, name)
    Y = np.zeros((n_samples, n_outputs), dtype=dtype)
    Y[np.arange(n_samples), labels] = 1
    return Y


def class_labels(y, n_classes, name="y"):
    """Integral labels in [0, n_classes) as an int64 vector."""
    array = _as_numeric_array(name, y, labels=True)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class labels; got "
                         f"shape {array.shape}")
    if array.dtype.kind == "b":
        raise ValueError(
            f"{name} holds class labels and must be integers in "
            f"[0, {n_classes}); got booleans (use {name}.astype(int) if "
            "False and True mean classes 0 and 1)")
    if array.dtype.kind == "f":
        _check_finite(name, array)
        if not np.array_equal(array, np.round(array)):
            raise ValueError(
                f"{name} holds class labels and must be integral; got "
                "non-integer values (Unknown label type: continuous)")
    if array.size:
        outside = (array < 0) | (array >= n_classes)
        if outside.any():
            bad = np.unique(array[outside])
            shown = ", ".join(str(v.item() if array.dtype.kind != "f"
                                  else int(v)) for v in bad[:5])
            more = f" and {bad.size - 5} more" if bad.size > 5 else ""
            raise ValueError(
                f"labels in {name} must be in [0, {n_classes}) for a network "
                f"with {n_classes} outputs; got {shown}{more} (values in "
                f"[{array.min()}, {array.max()}])")
    return array.astype(np.int64)

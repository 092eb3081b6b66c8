"""The one place where user input is checked and converted.

Every public entry point calls these before it changes any state, so a
refused call leaves the network and the inputs exactly as they were.
Messages name the argument and say what was expected; where scikit-learn
has a standard wording (for NaN, empty or 1-D data, mismatched samples,
unknown label types) it is reused verbatim, so the same checks pass for
creg's Network and its scikit-learn estimators.

Exception kinds follow scikit-learn: TypeError for a wrong kind of value
(a string where a number is needed, sparse or non-numeric data), ValueError
for a value of the right kind that is out of range or inconsistent,
MemoryError (naming the bytes) for an allocation that cannot succeed.
"""
import datetime
import difflib
import functools
import inspect
import math
import numbers
import os
from typing import Any, Callable, TypeVar, cast

import numpy as np

from creg import _warnings
from creg._core import MAX_THREADS
from creg._threads import effective_n_threads

HIDDEN = ("sigmoid", "tanh", "relu")
OUTPUT = ("sigmoid", "softmax", "linear")
COSTS = ("cross_entropy", "log_likelihood", "quadratic")
INITS = ("normalized", "large", "he", "glorot")
DTYPES = ("float32", "float64")
PENALTY_SCALES = ("n", "none")
L1_METHODS = ("prox", "subgradient")

# Which output layers each cost is defined for.
COST_OUTPUTS = {
    "cross_entropy": ("sigmoid",),
    "log_likelihood": ("softmax",),
    "quadratic": ("sigmoid", "linear"),
}
# The cost each output takes when none is named.
OUTPUT_COST = {"softmax": "log_likelihood", "sigmoid": "cross_entropy",
               "linear": "quadratic"}

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
    return str(value)  # a subclass (numpy's str_) is not str to Cython


def float_dtype(value):
    """np.dtype float32 or float64 from any spelling numpy reads as one
    (np.float64, "f8", "double", "single"); byte-swapped ones are not."""
    try:
        resolved = None if value is None else np.dtype(value)
    except (TypeError, ValueError, SyntaxError):  # "f4,(" is a struct
        resolved = None
    if resolved is not None and resolved.name in DTYPES and \
            resolved.isnative:
        return resolved
    # a type is named by its dtype: np.float16 as 'float16'
    shown = value if resolved is None or isinstance(value, str) \
        else str(resolved)
    raise ValueError(f"dtype must be one of {', '.join(map(repr, DTYPES))}"
                     f"; got {shown!r}")


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


def positive_int(name, value, below=None):
    """An int >= 1, and < `below` when given."""
    value = _integer(name, value)
    if value < 1:
        raise ValueError(f"{name} must be >= 1; got {value!r}")
    if below is not None and value >= below:
        raise ValueError(f"{name} must be < {below}; got {value!r}")
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


def verbose(value):
    """True or False, or a verbosity level as Keras and scikit-learn take
    (0 is quiet, 1 and up print): whether to print."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if not isinstance(value, numbers.Integral):
        raise TypeError(f"verbose must be True, False or an int >= 0; got "
                        f"{value!r}")
    if value < 0:
        raise ValueError(f"verbose must be True, False or an int >= 0; got "
                         f"{value!r}")
    return value > 0


def batch_size(value, n_samples):
    """A positive int, clipped to n_samples with a warning (as sklearn's
    MLP does: a batch larger than the data is one full batch)."""
    value = positive_int("batch_size", value)
    if value > n_samples:
        _warnings.warn(
            f"Got `batch_size`={value} larger than sample size {n_samples}. "
            "It is going to be clipped")
        return n_samples
    return value


def seed(value, name="seed"):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {value!r}")
    if not 0 <= value < 2**63:
        raise ValueError(f"{name} must be in [0, 2**63); got {value!r}")
    return int(value)


def _usable_cpus():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def pool_threads(value, name="n_threads"):
    """The threads of one of creg's own pools (a sweep's runs, a cv
    path's chains, CregSearchCV's fits) for n_threads=value: as given,
    else the team a fit's n_threads=None asks for (OMP_NUM_THREADS, which
    a Dask worker sets to 1, or a threadpoolctl limit; at most the
    usable CPUs).  The pool's threads are Python's, which neither fork
    nor OMP_STACKSIZE limits: the policy applies to each fit's team."""
    from creg import _core
    return _thread_count(value, name) or _core.default_team()


def n_threads(value, name="n_threads"):
    """None (OpenMP's default), an int in [1, MAX_THREADS], or a negative
    int counting back from the usable CPUs (-1 = all of them, -2 = all but
    one; at least one, as scikit-learn and joblib count, so that -4 from a
    16-core machine's code runs on 2 cores); resolved by the thread policy
    in _threads.  `name` is the argument's (CregSearchCV's n_jobs)."""
    return effective_n_threads(_thread_count(value, name))


def _thread_count(value, name):
    """n_threads' value checked, negatives counted back: None or >= 1."""
    if value is not None:
        value = _integer(name, value)
        if value == 0:
            raise ValueError(
                f"{name} = 0 is invalid: {name} must be >= 1, or "
                "negative to count back from the usable CPUs (-1 = all)")
        if value > MAX_THREADS:
            raise ValueError(
                f"{name} must be at most {MAX_THREADS}; got {value} "
                f"(this machine has {_usable_cpus()} usable CPUs)")
        if value < 0:
            value = max(_usable_cpus() + 1 + value, 1)
    return value


# ----------------------------------------------------------------- memory


def _human(nbytes):
    """1536 -> "1.5 KiB" (numpy's MemoryError style), up to EiB."""
    value, unit = float(nbytes), "bytes"
    for bigger in ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{nbytes} bytes" if unit == "bytes" else f"{value:.3g} {unit}"


def _read_kibs(path, *keys):
    """The byte values of `keys` in a /proc file of "Key: N kB" lines, in
    one read (None for a key it lacks, or all None if unreadable)."""
    found = dict.fromkeys(keys)
    try:
        with open(path) as f:
            for line in f:
                key = line.split(":", 1)[0]
                if key in found:
                    found[key] = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return tuple(found[key] for key in keys)


def _read_kib(path, key):
    return _read_kibs(path, key)[0]


@functools.lru_cache(maxsize=1)
def _machine_memory():
    """RAM + swap in bytes (None if unknown), and the cgroup's limit."""
    total, swap = _read_kibs("/proc/meminfo", "MemTotal", "SwapTotal")
    if total is not None:
        total += swap or 0
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
    available, swap = _read_kibs("/proc/meminfo", "MemAvailable",
                                 "SwapFree")
    if available is None:
        return None
    return available + (swap or 0)


# Calls that allocate less are not held against the memory available now:
# reading it (/proc/meminfo) took 0.1 ms, a sixth of a 1,000-row predict
# of [784, 30, 10] and, eight times per fit, a quarter of a C1 fit's own
# cost, and a machine with less than this left is past saving by a refusal.
_AVAILABLE_CHECK_MIN = 64 * 2**20


def _memory_limit(nbytes):
    """(bytes, why): the most that one call about to allocate `nbytes`
    may still allocate and plausibly get.  Anything larger is refused up
    front: on Linux an overcommitted huge np.empty can "succeed" and the
    process is then killed by the OOM killer when the pages are touched,
    which is worse than any exception."""
    limits = [(2**63 - 1, "a 64-bit address space")]
    total, cgroup = _machine_memory()
    if total:
        limits.append((total, "this machine's memory (RAM + swap)"))
    available = (_available_now() if nbytes >= _AVAILABLE_CHECK_MIN
                 else None)
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
    limit, why = _memory_limit(nbytes)
    if nbytes > limit:
        raise _too_big(what, nbytes, limit, why)


def rows_that_fit(rows, row_bytes, extra=0):
    """`rows`, or fewer (at least one) where they would take more than
    half the memory a call may still allocate beside `extra` bytes (the
    rest for what the call and its threads' stacks need besides)."""
    nbytes = rows * row_bytes + extra
    if nbytes < _AVAILABLE_CHECK_MIN:
        return rows
    limit, _ = _memory_limit(nbytes)
    return max(1, min(rows, (limit - extra) // 2 // max(1, row_bytes)))


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
    limit, why = _memory_limit(nbytes)
    if nbytes > limit:
        kind = (np.dtype(dtype).name if dtype is not None
                else "float32, the smallest dtype")
        raise _too_big(
            f"the {count} parameters of a network with sizes {list(sizes)} "
            f"(as {kind})", nbytes, limit, why)
    return sizes


def cost_fits_output(cost, output, names=("cost", "output")):
    """`names`: how the user set them (arguments, or a network's
    attributes set since: net.cost_name, net.output)."""
    cost_is, output_is = names
    if output not in COST_OUTPUTS[cost]:
        raise ValueError(
            f"{cost_is}={cost!r} needs {output_is}="
            f"{' or '.join(map(repr, COST_OUTPUTS[cost]))}; got "
            f"{output_is}={output!r}")


def output_width(output, n_outputs):
    """A softmax over one unit always outputs 1: nothing to learn."""
    if output == "softmax" and n_outputs < 2:
        raise ValueError(
            "a softmax output needs at least 2 units (one unit always "
            "outputs 1); for two classes use 2 softmax units, or 1 unit with "
            "output='sigmoid'")


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


def dense(name, value):
    """Refuses a scipy.sparse matrix or array for `name` (TypeError)."""
    if _is_sparse(value):
        raise TypeError(
            f"Sparse data was passed for {name}, but dense data is required "
            "(creg does not support sparse input). Use '.toarray()' to "
            "convert to a dense numpy array.")


_TIMES = (np.datetime64, np.timedelta64, datetime.date, datetime.time,
          datetime.timedelta)


def no_times(name, value):
    """Refuses dates and times in the array-like `name` (TypeError), which
    numpy's and scikit-learn's conversions take as their tick counts (NaT
    as -9.2e18); anything else is left to the checks that follow."""
    dtypes = getattr(value, "dtypes", None)  # a DataFrame's columns
    if dtypes is not None and not isinstance(value, np.ndarray):
        for dtype in dtypes:
            if getattr(dtype, "kind", None) in ("m", "M"):
                raise TypeError(f"{name} must be numeric; it has a column "
                                f"of {dtype}")
        return
    if _is_sparse(value):
        return
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):  # ragged: the next check names it
        return
    if array.dtype.kind in "mM":
        raise TypeError(f"{name} must be numeric; got an array of dtype "
                        f"{array.dtype}")
    if array.dtype.kind == "O":
        for item in array.flat:
            if isinstance(item, _TIMES):
                raise _time_in(name, item)


_RAGGED = "its nested sequences are ragged (of different lengths)"


def converted(name, value):
    """np.asarray(value); ValueError naming `name` for ragged nested
    sequences, which numpy before 1.24 made an object array of (with a
    warning) instead of refusing them."""
    array = _array(name, value, "an array")
    if _ragged(array):
        raise ValueError(f"{name} could not be converted to an array: "
                         f"{_RAGGED}")
    return array


def _array(name, value, what):
    """np.asarray(value), its error naming `name` (ragged nested lists)."""
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"{name} could not be converted to {what}: {exc}"
                        ) from None


def _ragged(array):
    """Whether an object array holds sequences of different lengths, or
    sequences beside scalars."""
    if array.dtype.kind != "O":
        return False
    lengths = {len(item) if isinstance(item, (list, tuple)) or (
        isinstance(item, np.ndarray) and item.ndim) else None
        for item in array.flat}
    return len(lengths) > 1 and lengths != {None}


def _time_in(name, item, unknown=""):
    # float() would take numpy's as their tick counts (NaT: -9.2e18)
    return TypeError(f"{name} must be numeric; it holds the time "
                     f"{item!r}{unknown}")


def _as_numeric_array(name, value, labels=False):
    """`value` as a real numeric ndarray (bool/int/uint/float kept, object
    arrays of numbers converted to float64); nothing is copied unless it
    must be.  Refuses None, sparse, strings, dates, structured and
    complex data."""
    unknown = (" (Unknown label type). Network takes integer class labels "
               "from 0; creg.sklearn.CregClassifier takes labels of any "
               "type, strings included" if labels else "")
    if value is None:
        raise TypeError(f"{name} must be an array-like of numbers; got None")
    dense(name, value)
    array = _array(name, value, "a numeric array")
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
        if isinstance(item, _TIMES):
            raise _time_in(name, item, unknown)
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
        # pandas' missing value (nullable dtypes) is a NaN to the user
        if any(type(item).__name__ == "NAType" for item in array.flat):
            raise ValueError(f"Input {name} contains NaN.") from None
        if _ragged(array):  # numpy < 1.24 made it an object array
            raise ValueError(f"{name} could not be converted to a numeric "
                             f"array: {_RAGGED}") from None
        # numpy's own words, e.g. "float() argument must be a string or a
        # real number, not 'dict'", which sklearn's checks match.
        raise TypeError(f"{name} must be numeric: {exc}{unknown}") from None


def all_finite(array):
    """Whether no value of the numeric array is NaN or inf."""
    if array.dtype.kind in "biu" or array.size == 0:
        return True
    # One pass and no temporary the size of X: a NaN or inf makes the sum
    # non-finite; a sum that overflowed from finite values (near the
    # dtype's largest) is told apart by min and max.
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(array, axis=None)
    return bool(np.isfinite(total)
                or (np.isfinite(array.min()) and np.isfinite(array.max())))


# Elements per block of the NaN scan: a 1 MB mask at a time.
_NAN_SCAN_ELEMENTS = 1 << 20


def _has_nan(array):
    """Whether the array holds a NaN, found a block of rows at a time: a
    mask the size of an X near the memory's size would turn the NaN's
    ValueError into a MemoryError."""
    if array.ndim == 0:
        return bool(np.isnan(array))
    rows = max(1, _NAN_SCAN_ELEMENTS // max(1, array[:1].size))
    return any(np.isnan(array[start:start + rows]).any()
               for start in range(0, len(array), rows))


def _check_finite(name, array):
    if not all_finite(array):
        if _has_nan(array):
            raise ValueError(f"Input {name} contains NaN.")
        raise ValueError(
            f"Input {name} contains infinity or a value too large for "
            f"dtype({array.dtype.name!r}).")


def _two_d(name, array):
    if array.ndim == 2:
        return
    got = "scalar" if array.ndim == 0 else f"{array.ndim}D"
    if array.ndim > 2:  # images and the like: one row per sample
        fix = (f"Reshape your data to one row per sample with "
               f"{name}.reshape(len({name}), -1), which gives shape "
               f"({array.shape[0]}, {math.prod(array.shape[1:])}).")
    else:
        fix = ("Reshape your data either using array.reshape(-1, 1) if "
               "your data has a single feature or array.reshape(1, -1) if "
               "it contains a single sample.")
    raise ValueError(f"Expected 2D array, got {got} array instead: {name} "
                     f"has shape {array.shape}. {fix}")


def at_most_2d(X, caller):
    """An array with more than 2 dimensions (images, say) is refused with
    the reshape that makes it one row per sample; for callers that leave
    the rest of the checking to scikit-learn."""
    ndim = getattr(X, "ndim", 2)
    if isinstance(ndim, int) and ndim > 2:
        raise ValueError(
            f"Found array with dim {ndim}, while dim <= 2 is required by "
            f"{caller}. Reshape your data to one row per sample with "
            "X.reshape(len(X), -1).")


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


def nonempty_2d(name, X):
    """X as a numeric array of at least one row and one column, as it is
    (no copy, no cast)."""
    array = _as_numeric_array(name, X)
    _two_d(name, array)
    for axis, what in ((0, "sample(s)"), (1, "feature(s)")):
        if array.shape[axis] == 0:
            raise ValueError(
                f"Found array with 0 {what} (shape={array.shape}) while a "
                f"minimum of 1 is required ({name}).")
    return array


def validation_pair(validation_data):
    """(X_val, y_val) from fit's validation_data (a pair, or any two-item
    iterable, read once)."""
    try:
        X_val, y_val = validation_data
    except (TypeError, ValueError):
        raise TypeError("validation_data must be a pair (X_val, y_val)"
                        ) from None
    return X_val, y_val


def features(X, dtype, n_features, name="X", *, avoid=None, finite=True,
             hint=""):
    """X as a C-contiguous, aligned (n, n_features) array of `dtype`;
    copies only when it must (or when it may share memory with `avoid`,
    e.g. the parameters fit is about to overwrite).  finite=False leaves
    the NaN/inf check to the caller (fit: its first epoch finds them, and
    then calls this again on the result to raise the same error).  hint
    ends the message of a wrong width."""
    array = nonempty_2d(name, X)
    if array.shape[1] != n_features:
        raise ValueError(
            f"{name} has {array.shape[1]} features, but the network is "
            f"expecting {n_features} features as input.{hint}")
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


# One-hot targets are rows of an identity up to this many classes (8 MiB
# in float64); past it the identity grows as classes squared.
_IDENTITY_MAX_OUTPUTS = 1024


def targets(y, n_samples, n_outputs, output, dtype, name="y", *,
            rows_of="X", avoid=None):
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
            f"Found input variables with inconsistent numbers of samples: "
            f"[{n_samples}, {array.shape[0]}] (the rows of {rows_of} and "
            f"{name})")
    _check_finite(name, array)
    if array.ndim == 2:
        if array.shape[1] != n_outputs:
            hint = (f"; pass class labels as a 1-D array of shape "
                    f"({n_samples},)" if array.shape[1] == 1
                    and output != "linear" else "")
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
    if n_outputs <= _IDENTITY_MAX_OUTPUTS:
        # rows of the identity: half the time of zeros and a scatter
        return np.eye(n_outputs, dtype=dtype).take(labels, axis=0)
    Y = empty(f"the one-hot targets of {name}", labels.size * n_outputs,
              dtype).reshape(labels.size, n_outputs)
    Y.fill(0)
    Y[np.arange(labels.size), labels] = 1
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
            example = float(array[array != np.round(array)][0])
            raise ValueError(
                f"{name} must hold integer class labels; got {example!r} "
                "among others (Unknown label type: continuous)")
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


# ---------------------------------------------------------------- training


def halves_on_plateau(schedule):
    """Whether an lr_schedule is "halve_on_plateau" (not == on any value:
    numpy compares an array elementwise)."""
    return isinstance(schedule, str) and schedule == "halve_on_plateau"


def lr_schedule(value):
    """None, "halve_on_plateau", or a callable taking (epoch, history)."""
    if value is None or halves_on_plateau(value):
        return value
    if not callable(value):
        error = ValueError if isinstance(value, str) else TypeError
        raise error(
            "lr_schedule must be None, 'halve_on_plateau' or a callable "
            f"lr_schedule(epoch, history) that returns the epoch's lr; got "
            f"{value!r}")
    try:
        inspect.signature(value).bind(0, None)
    except TypeError as exc:
        name = getattr(value, "__qualname__", repr(value))
        raise TypeError(
            "a callable lr_schedule is called as lr_schedule(epoch, "
            f"history) and returns the epoch's lr; {name} cannot take those "
            f"two arguments ({exc})") from None
    except ValueError:  # no signature to read (some builtins): trust it
        pass
    return value


def learning_rate(value, dtype):
    """lr: a number > 0 that is neither inf nor 0 in the network's dtype
    (1e-300 is 0 in float32, where the weights would never change)."""
    value = _held_in(dtype, "lr", positive("lr", value))
    if np.dtype(dtype).type(value) == 0:
        raise ValueError(
            f"lr={value!r} is 0 in {np.dtype(dtype).name}: the weights would "
            "never change; use a larger lr or dtype='float64'")
    return value


def input_noise(value, dtype):
    """input_noise: a number >= 0 that the network's dtype holds (1e39 is
    inf in float32, and every noisy input with it)."""
    return _held_in(dtype, "input_noise",
                    non_negative("input_noise", value))


def penalty_strength(name, value, scale, dtype):
    """The strength fit steps with, value * scale (l2' = l2/n under
    penalty_scale="n"), refused where `dtype` cannot hold it: 1e39 is inf
    in float32, where the update would zero or blow up every weight."""
    strength = value * scale
    shown = f"{name}={value!r}" + (
        "" if scale == 1 else f" (a per-step strength of {strength:.3g})")
    return _held_in(dtype, name, strength, shown)


def _held_in(dtype, name, value, shown=None):
    """value, refused where it is inf in `dtype`; `shown` says what it is
    (default: name=value)."""
    with np.errstate(over="ignore"):
        held = np.dtype(dtype).type(value)
    if np.isinf(held):
        raise ValueError(
            f"{shown or f'{name}={value!r}'} is inf in "
            f"{np.dtype(dtype).name}: beyond the dtype's range; use a "
            f"smaller {name} or dtype='float64'")
    return value


def scheduled_lr(value, epoch, dtype):
    """The lr a callable lr_schedule returned for 0-based `epoch`."""
    try:
        return learning_rate(value, dtype)
    except (TypeError, ValueError) as exc:
        raise type(exc)(
            f"lr_schedule({epoch}, history) returned {value!r}; a schedule "
            "must return the epoch's lr, a finite number > 0 that the "
            f"network's dtype can hold ({exc})") from None


def early_stopping(value):
    """True or False (None counts as False): whether fit stops early, after
    `patience` epochs.  (A creg.EarlyStopping is taken before this.)"""
    if value is None:
        return False
    if not isinstance(value, (bool, np.bool_)):
        hint = (f" The number of epochs to wait for a better validation "
                f"accuracy is patience: fit(..., early_stopping=True, "
                f"patience={value!r}), or creg.EarlyStopping({value!r})"
                if isinstance(value, numbers.Integral) else "")
        raise TypeError(f"early_stopping must be True, False or a "
                        f"creg.EarlyStopping; got {value!r}.{hint}")
    return bool(value)


def patience(value, own_patience, schedule):
    """fit's patience, 10 for None; refused where nothing reads it: beside
    an EarlyStopping (own_patience), which has its own, unless the
    "halve_on_plateau" schedule waits it."""
    if value is None:
        return 10
    value = positive_int("patience", value)
    if own_patience and not halves_on_plateau(schedule):
        raise ValueError(
            f"patience={value} is not used with an EarlyStopping, which has "
            f"its own: early_stopping=creg.EarlyStopping({value})")
    return value


def reads_patience(early_stopping, schedule):
    """Whether a fit with these settings reads its patience."""
    return bool(early_stopping) or halves_on_plateau(schedule)


def patience_read(value, read):
    """Refuses a patience given (not None) that nothing reads (`read`:
    reads_patience's answer): it was ignored."""
    if value is not None and not read:
        raise ValueError(
            f"patience={value!r} is used only with early_stopping=True or "
            "lr_schedule='halve_on_plateau'; neither is on")


def needs_validation_data(early_stopping, schedule, why=""):
    """early_stopping (True or an EarlyStopping, as given) and
    lr_schedule="halve_on_plateau" watch the validation accuracy, so they
    cannot run without validation data; `why` leads the message."""
    stopper = ("early_stopping=True"
               if isinstance(early_stopping, (bool, np.bool_))
               else f"early_stopping={early_stopping!r}")
    watching = [f for f, on in ((stopper, bool(early_stopping)),
                                ("lr_schedule='halve_on_plateau'",
                                 halves_on_plateau(schedule))) if on]
    if watching:
        verb = "watches" if len(watching) == 1 else "watch"
        raise ValueError(
            f"{why}{' and '.join(watching)} {verb} the validation accuracy "
            "and cannot run without validation_data=(X_val, y_val): hold out "
            "some training rows (e.g. with sklearn.model_selection."
            "train_test_split), let CregClassifier(early_stopping=True) "
            "hold them out, or give early_stopping=creg.EarlyStopping("
            "score=...) a score of your own")


def input_scale(sample, X, warn=True):
    """The largest root-mean-square of a column of X, as `sample` (rows of
    X) shows it; where `warn` and columns are above INPUT_SCALE_LIMIT
    there, measured again for those over all of X (a rare large value
    the sample holds is no scale; the pass is for data that may warn
    only), and above it, an InputScaleWarning with the fix."""
    limit = _warnings.INPUT_SCALE_LIMIT
    scale, widest = _widest_column(sample, X, limit, measure=warn)
    if widest is None:
        return scale
    column, scale = widest
    if scale > limit:
        values = X[:, column]
        largest = float(np.abs(values).max())
        interval = "[0, 1]" if values.min() >= 0 else "[-1, 1]"
        _warnings.warn(
            f"column {column} of X has a root-mean-square of "
            f"{_warnings.rounded(scale)} (values up to {largest:.3g}): on "
            "that scale sigmoid and tanh units saturate and ReLU networks "
            "blow up. Scale the inputs to about unit size: "
            "sklearn.preprocessing.StandardScaler, or "
            f"X / {largest:.3g} for values in {interval}",
            _warnings.InputScaleWarning)
    return scale


def validation_scale(sample, X_val, x_scale):
    """An InputScaleWarning where a column of X_val (`sample`: rows of
    it) is far larger than X's largest, `x_scale`: validation rows not
    preprocessed as X was, whose costs a fit would take for divergence."""
    limit = _warnings.INPUT_SCALE_LIMIT * max(x_scale, 1.0)
    widest = _widest_column(sample, X_val, limit)[1]
    if widest is not None and widest[1] > limit:
        _warnings.warn(
            f"column {widest[0]} of X_val has a root-mean-square of "
            f"{_warnings.rounded(widest[1])}, where X's columns have at "
            f"most {_warnings.rounded(x_scale)}: scale X_val as X was "
            "scaled (the same StandardScaler's transform)",
            _warnings.InputScaleWarning)


def largest_rms(A):
    """The largest root-mean-square of a column of the 2-D array A."""
    return math.sqrt(_mean_squares(A).max())


def _mean_squares(A):
    """The mean square of each column of A, in float64: float32 squares
    of finite values overflow (inf where float64's do too)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.einsum("ij,ij->j", A, A, dtype=np.float64) / A.shape[0]


def _widest_column(sample, X, limit, measure=True):
    """(the largest root-mean-square of a column in `sample`, rows of X;
    (its column, its root-mean-square over all of X) for the widest of
    the columns above `limit` there, else None).  Where `measure` is
    false, NaN or inf is in the sample (the first epoch refuses it, with
    the error predict would give) or no column is above `limit`, there
    is no pass over X."""
    mean_square = _mean_squares(sample)
    scale = math.sqrt(mean_square.max())
    wide = np.flatnonzero(mean_square > limit * limit)
    if not measure or not wide.size or not np.isfinite(sample).all():
        return scale, None
    rms = _root_mean_squares(X, wide, np.abs(sample[:, wide]).max(axis=0))
    if not np.isfinite(rms).all():
        return scale, None
    return scale, (int(wide[np.argmax(rms)]), float(rms.max()))


def _root_mean_squares(X, columns, unit):
    """The root-mean-squares of those columns of X, in blocks of about a
    million elements, each divided by its `unit` (a magnitude the column
    reaches: squares past 1e154 overflow float64)."""
    total = np.zeros(columns.size)
    rows = max(1, 2**20 // columns.size)
    for start in range(0, X.shape[0], rows):
        block = X[start:start + rows][:, columns] / unit
        total += np.einsum("ij,ij->j", block, block)
    return unit * np.sqrt(total / X.shape[0])


def chance_accuracy(Y, output):
    """The accuracy of always predicting the most frequent class of the
    target matrix Y (or a sample of its rows); None where accuracy has no
    chance level (a linear output, rows with several classes)."""
    if output == "linear":
        return None
    if Y.shape[1] == 1:
        share = float(np.mean(Y[:, 0] > 0.5))
        return max(share, 1 - share)
    if np.any(np.abs(Y.sum(axis=1) - 1) > _ROW_SUM_TOLERANCE):
        return None
    counts = np.bincount(Y.argmax(axis=1), minlength=Y.shape[1])
    return float(counts.max() / Y.shape[0])


def constant_cost(Y, cost):
    """The cost (per row, without penalties) of the best constant
    prediction of the target matrix Y: its mean row.  For a softmax, the
    entropy of the class shares; for sigmoid units, their binary
    entropies; for the quadratic cost, half the columns' variances."""
    if cost == "quadratic":
        return float(0.5 * Y.var(axis=0, dtype=np.float64).sum())
    shares = Y.mean(axis=0, dtype=np.float64)
    if cost == "cross_entropy":  # each unit's share of 0s too
        shares = np.concatenate([shares, 1 - shares])
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.where(shares > 0, -shares * np.log(shares),
                              0.0).sum())


# ---------------------------------------------------- other libraries' names

# creg's name for each concept in each call that takes it: "Network" is
# the constructor, "fit" and "cost" Network's methods, "estimator" the
# constructors of CregClassifier and CregRegressor.
_CONCEPTS = {
    "the learning rate": {"fit": "lr", "estimator": "lr"},
    "the number of epochs": {"fit": "epochs", "estimator": "epochs"},
    "the mini-batch size": {"fit": "batch_size", "estimator": "batch_size"},
    "the L2 penalty": {"fit": "l2", "cost": "l2", "estimator": "l2"},
    "the L1 penalty": {"fit": "l1", "cost": "l1", "estimator": "l1"},
    "the penalty's scale": {"fit": "penalty_scale", "cost": "penalty_scale",
                            "estimator": "penalty_scale"},
    "momentum": {"fit": "momentum", "estimator": "momentum"},
    "dropout": {"fit": "dropout", "estimator": "dropout"},
    "Gaussian input noise": {"fit": "input_noise",
                             "estimator": "input_noise"},
    "the max-norm bound": {"fit": "max_norm", "estimator": "max_norm"},
    "the learning-rate schedule": {"fit": "lr_schedule"},
    "early stopping": {"fit": "early_stopping", "estimator": "early_stopping"},
    "the patience of early stopping": {"fit": "patience",
                                       "estimator": "n_iter_no_change"},
    "validation data": {"fit": "validation_data",
                        "estimator": "validation_fraction"},
    "shuffling": {"fit": "shuffle", "estimator": "shuffle"},
    "the number of threads": {"fit": "n_threads", "estimator": "n_threads"},
    "printing progress": {"fit": "verbose", "estimator": "verbose"},
    "the layer sizes": {"Network": "sizes",
                        "estimator": "hidden_layer_sizes"},
    "the hidden layers' activation": {"Network": "hidden",
                                      "estimator": "hidden"},
    "the output layer's activation": {"Network": "output"},
    "the cost": {"Network": "cost"},
    "the initial weights": {"Network": "init", "estimator": "init"},
    "the seed": {"Network": "seed", "estimator": "random_state"},
    "the dtype": {"Network": "dtype", "estimator": "dtype"},
}

_DECAY_NOTE = (", on another scale: l2=creg.convert_penalty(weight_decay, "
               "'pytorch', 'creg_n', n=len(X)) gives the same step as "
               "PyTorch's SGD with the biases in a parameter group of "
               "weight_decay=0: creg never decays them")
_ALPHA_NOTE = (", on another scale: l2=creg.convert_penalty(alpha, 'sklearn', "
               "'creg_n', n=len(X), batch_size=200) gives the step of "
               "MLPClassifier's alpha at its batch size of 200")

# Names other libraries (scikit-learn, Keras, PyTorch, Nielsen's
# network2, ...) use, with the concept each means and what differs.
_FOREIGN = {
    "learning_rate": ("the learning rate", None),
    "learning_rate_init": ("the learning rate", None),
    "eta": ("the learning rate", None),
    "step_size": ("the learning rate", None),
    "epoch": ("the number of epochs", None),
    "n_epochs": ("the number of epochs", None),
    "num_epochs": ("the number of epochs", None),
    "nb_epoch": ("the number of epochs", None),
    "max_iter": ("the number of epochs", None),
    "max_epochs": ("the number of epochs", None),
    "batch": ("the mini-batch size", None),
    "mini_batch_size": ("the mini-batch size", None),
    "minibatch_size": ("the mini-batch size", None),
    "weight_decay": ("the L2 penalty", _DECAY_NOTE),
    "alpha": ("the L2 penalty", _ALPHA_NOTE),
    "lmbda": ("the L2 penalty", " (network2's lmbda is creg's l2 as is)"),
    "lambda_": ("the L2 penalty", None),
    "l2_lambda": ("the L2 penalty", None),
    "l2_reg": ("the L2 penalty", None),
    "l2_penalty": ("the L2 penalty", None),
    "reg": ("the L2 penalty", " (CS231n's reg is l2 with "
                              "penalty_scale='none')"),
    "kernel_regularizer": ("the L2 penalty", None),
    "l1_lambda": ("the L1 penalty", None),
    "l1_reg": ("the L1 penalty", None),
    "l1_penalty": ("the L1 penalty", None),
    "l1_ratio": ("the L1 penalty", " (creg takes the strengths l1 and l2, "
                                   "not a ratio)"),
    "nesterov": ("momentum", " (creg's momentum is the classical one; "
                             "there is no Nesterov variant)"),
    "nesterovs_momentum": ("momentum", " (creg's momentum is the classical "
                                       "one; there is no Nesterov variant)"),
    "dropout_rate": ("dropout", None),
    "drop_rate": ("dropout", None),
    "keep_prob": ("dropout", " (the probability of dropping a unit: "
                             "dropout = 1 - keep_prob)"),
    "noise": ("Gaussian input noise", None),
    "gaussian_noise": ("Gaussian input noise", None),
    "noise_std": ("Gaussian input noise", None),
    "maxnorm": ("the max-norm bound", None),
    "kernel_constraint": ("the max-norm bound", None),
    "lr_decay": ("the learning-rate schedule", " (a callable "
                 "lr_schedule(epoch, history) returns each epoch's lr)"),
    "decay": ("the learning-rate schedule", " (a callable "
              "lr_schedule(epoch, history) returns each epoch's lr)"),
    "scheduler": ("the learning-rate schedule", None),
    "callbacks": ("the learning-rate schedule", " (the one per-epoch hook: "
                  "a callable lr_schedule(epoch, history))"),
    "n_iter_no_change": ("the patience of early stopping", None),
    "patience": ("the patience of early stopping", None),
    "validation_split": ("validation data", None),
    "validation_fraction": ("validation data", None),
    "validation_data": ("validation data", None),
    "eval_set": ("validation data", None),
    "n_jobs": ("the number of threads", None),
    "num_threads": ("the number of threads", None),
    "nthreads": ("the number of threads", None),
    "workers": ("the number of threads", None),
    "verbosity": ("printing progress", None),
    "hidden_layer_sizes": ("the layer sizes", None),
    "layers": ("the layer sizes", None),
    "units": ("the layer sizes", None),
    "activation": ("the hidden layers' activation", None),
    "hidden_activation": ("the hidden layers' activation", None),
    "output_activation": ("the output layer's activation", None),
    "out_activation": ("the output layer's activation", None),
    "loss": ("the cost", None),
    "criterion": ("the cost", None),
    "kernel_initializer": ("the initial weights", None),
    "initializer": ("the initial weights", None),
    "random_state": ("the seed", None),
    "seed": ("the seed", None),
    "precision": ("the dtype", None),
    "optimizer": (None, "creg trains by mini-batch SGD, with momentum= for "
                        "classical momentum; there is no optimizer choice"),
    "solver": (None, "creg trains by mini-batch SGD, with momentum= for "
                     "classical momentum; there is no solver choice"),
    "tol": (None, "creg runs the given epochs, or stops early with "
                  "early_stopping=True; there is no tolerance"),
    "sample_weight": (None, "creg does not weight samples; repeat rows to "
                            "weight them"),
    "class_weight": (None, "creg does not weight classes; repeat the rows "
                           "of rare classes to weight them"),
    "warm_start": (None, "an estimator's partial_fit trains on from its "
                         "weights (fit starts over); a Network's fit "
                         "always trains on"),
    "classes": (None, "classes= is for an estimator's first partial_fit; "
                      "a Network takes the labels 0 .. sizes[-1]-1"),
}

# What a concept's creg argument holds, where that is not what the same
# concept's argument holds in other libraries or in creg's other calls.
_HOLDS = {
    ("validation data", "fit"): " (a pair (X_val, y_val))",
    ("validation data", "estimator"): (
        " (the fraction of the training rows held out with "
        "early_stopping=True)"),
}

# Where each call is written, for "it is set in ..." hints.
_WHERE = {"Network": "creg.Network(sizes, {}=...)",
          "fit": "net.fit(X, y, {}=...)", "cost": "net.cost(X, y, {}=...)"}


def _concept(name):
    """(concept, note) for a name creg does not take where it was given:
    another library's name, or creg's own name for another call."""
    if name in _FOREIGN:
        return _FOREIGN[name]
    return next(((c, None) for c, names in _CONCEPTS.items()
                 if name in names.values()), (None, None))


def unexpected_keyword(name, call, owner, accepted=None):
    """The message for keyword `name` that `call` does not take.

    `call` is "Network", "fit" or "cost" (Network's constructor and
    methods), "estimator" (an estimator's constructor or set_params) or
    "estimator fit" (its fit and partial_fit, which take no options);
    `owner` is the call as the user wrote it, e.g. "Network.fit";
    `accepted` the names it takes (by default creg's names of its
    concepts), of which a misspelt name's closest is suggested.
    """
    head = f"{owner}() got an unexpected keyword argument {name!r}"
    concept, note = _concept(name)
    note = note or ""
    if concept is None and not note:
        if accepted is None:
            accepted = {names[call] for names in _CONCEPTS.values()
                        if call in names}
        close = difflib.get_close_matches(name, sorted(accepted), n=1)
        return head + (f"; did you mean {close[0]!r}?" if close else "")
    if concept is None:
        return f"{head}: {note}"
    names = _CONCEPTS[concept]
    if call == "estimator fit":
        if "estimator" not in names:
            return f"{head}: the estimators do not take {concept}"
        estimator = owner.split(".")[0]
        creg_name = names["estimator"]
        return (f"{head}: creg calls {concept} {creg_name!r}{note}, a "
                f"parameter of the estimator: {estimator}({creg_name}=...) "
                f"or set_params({creg_name}=...) before fit")
    if call in names:
        holds = _HOLDS.get((concept, call), "")
        return f"{head}: creg calls {concept} {names[call]!r}{holds}{note}"
    if call != "estimator":
        places = ["creg.Network(sizes, ...)" if n == "sizes"
                  else _WHERE[c].format(n) for c, n in names.items()
                  if c in _WHERE]
        verb = "are" if concept == "the layer sizes" else "is"
        return (f"{head}: {concept} {verb} set in {' or '.join(places)}"
                f"{note}")
    if concept in ("the output layer's activation", "the cost"):
        return (f"{head}: CregClassifier has a softmax output with the "
                "log-likelihood cost and CregRegressor a linear one with the "
                "quadratic cost; creg.Network takes others")
    return (f"{head}: the estimators have no "
            f"{concept.removeprefix('the ')}; creg.Network's fit takes "
            f"{names['fit']}=")


def _by_keyword(signature, exc):
    """For too many positional arguments, which ones the call takes by
    position (Keras's fit takes batch_size and epochs after x and y)."""
    if "too many positional" not in str(exc):
        return ""
    kinds = inspect.Parameter.POSITIONAL_OR_KEYWORD, \
        inspect.Parameter.POSITIONAL_ONLY
    params = list(signature.parameters.values())[1:]
    by_position = [p.name for p in params if p.kind in kinds]
    by_keyword = [p.name for p in params
                  if p.kind == inspect.Parameter.KEYWORD_ONLY]
    if not by_keyword:
        return ""
    taken = ", ".join(by_position) or "nothing"
    return (f"; it takes {taken} by position and the others by keyword, "
            f"as in {by_keyword[0]}=...")


_Method = TypeVar("_Method", bound=Callable[..., Any])


def keywords(call: str) -> Callable[[_Method], _Method]:
    """Decorator for a public method (`call` as in unexpected_keyword): a
    keyword it does not take raises a TypeError that names creg's
    argument for it, and every argument error names the public class
    (CregClassifier, not the base it inherits the method from)."""
    def decorate(method: _Method) -> _Method:
        signature = inspect.signature(method)

        @functools.wraps(method)
        def checked(self, *args, **kwargs):
            owner = type(self).__name__
            if method.__name__ != "__init__":
                owner += "." + method.__name__
            for name in kwargs:
                if name not in signature.parameters:
                    raise TypeError(unexpected_keyword(
                        name, call, owner, list(signature.parameters)[1:]))
            try:
                signature.bind(self, *args, **kwargs)
            except TypeError as exc:
                raise TypeError(f"{owner}(): {exc}"
                                f"{_by_keyword(signature, exc)}") from None
            return method(self, *args, **kwargs)
        return cast(_Method, checked)
    return decorate

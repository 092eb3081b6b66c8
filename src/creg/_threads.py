"""The single thread policy: how many OpenMP threads a call may use.

libgomp is not fork-safe: a child forked after the parent ran a parallel
region hangs in its first one (GCC bug 60035).  A forked child therefore
runs creg on one thread (which never touches the thread pool), whatever
n_threads the caller asks for.

OMP_STACKSIZE sets the stack of OpenMP's own threads, and creg's kernels
keep their packed panels there (up to 50 KB a frame): below
_STACK_NEEDED a team overflows it and the process dies (SIGSEGV at
OMP_STACKSIZE=32K).  Such a stack runs creg on the calling thread alone,
whose stack the variable does not set.
"""
import os
import re

from creg import _warnings

_in_forked_child = False

_STACK_NEEDED = 256 * 1024  # bytes; creg's deepest frames take ~100 KiB
_PTHREAD_STACK_MIN = 16384  # below it libgomp refuses the value
_STACK_UNITS = {"": 10, "b": 0, "k": 10, "m": 20, "g": 30}  # shifts


def omp_stack_setting(environ=os.environ):
    """(variable, value, bytes) of the stack libgomp gives its threads, as
    libgomp reads OMP_STACKSIZE, else GOMP_STACKSIZE: digits, perhaps
    after a +, and a unit (B, K, M or G; K without one); None where
    neither holds a value it takes (its threads get the system's
    default)."""
    for name in ("OMP_STACKSIZE", "GOMP_STACKSIZE"):
        value = environ.get(name)
        if value is None:
            continue
        # strtoul's reading: a sign may lead ("-" wraps to a huge value,
        # which libgomp refuses)
        match = re.fullmatch(r"\s*\+?(\d+)\s*([bkmgBKMG]?)\s*", value)
        if match:
            size = int(match[1]) << _STACK_UNITS[match[2].lower()]
            if size >= _PTHREAD_STACK_MIN:
                return name, value.strip(), size
            return None
    return None


def _stack_too_small():
    """The OMP_STACKSIZE-style setting that is too small for creg's
    kernels, or None."""
    setting = omp_stack_setting()
    return setting if setting and setting[2] < _STACK_NEEDED else None


# read once, as libgomp reads it when it loads
_small_stack = _stack_too_small()


def _after_fork_in_child():
    global _in_forked_child
    _in_forked_child = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def effective_n_threads(n_threads):
    """The n_threads to pass to C: 0 lets OpenMP decide (OMP_NUM_THREADS,
    threadpoolctl, core count).  A forked child always gets 1: even an
    explicit n_threads=2 would hang there if the parent had run a team
    (it warns once that it runs on one thread); so does a stack too small
    for creg's kernels."""
    if _in_forked_child:
        if n_threads is not None and n_threads > 1:
            _warn_once(
                f"creg runs on one thread in a forked child process (asked "
                f"for n_threads={n_threads}): libgomp's threads do not "
                "survive fork(). Use the 'spawn' or 'forkserver' start "
                "method to use more threads in child processes.")
        return 1
    if _small_stack is not None:
        if n_threads is None or n_threads > 1:
            name, value, _ = _small_stack
            _warn_once(
                f"creg runs on one thread: {name}={value} gives OpenMP's "
                f"threads less stack than creg's kernels need "
                f"({_STACK_NEEDED // 1024}K); unset it or set at least "
                f"{name}={_STACK_NEEDED // 1024}K to use more threads.")
        return 1
    return 0 if n_threads is None else n_threads


_warned = False  # once a process: creg runs on one thread, whyever


def _warn_once(message):
    global _warned
    if not _warned:
        _warned = True
        _warnings.warn(message)

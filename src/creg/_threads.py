"""The single thread policy: how many OpenMP threads a call may use.

libgomp is not fork-safe: a child forked after the parent ran a parallel
region hangs in its first one (GCC bug 60035).  A forked child therefore
runs creg on one thread (which never touches the thread pool), whatever
n_threads the caller asks for.
"""
import os

from creg import _warnings

_in_forked_child = False


def _after_fork_in_child():
    global _in_forked_child
    _in_forked_child = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def effective_n_threads(n_threads):
    """The n_threads to pass to C: 0 lets OpenMP decide (OMP_NUM_THREADS,
    threadpoolctl, core count).  A forked child always gets 1: even an
    explicit n_threads=2 would hang there if the parent had run a team
    (it warns once that it runs on one thread)."""
    if _in_forked_child:
        if n_threads is not None and n_threads > 1:
            _warn_once_in_child(n_threads)
        return 1
    return 0 if n_threads is None else n_threads


_warned_in_child = False


def _warn_once_in_child(n_threads):
    global _warned_in_child
    if not _warned_in_child:
        _warned_in_child = True
        _warnings.warn(
            f"creg runs on one thread in a forked child process (asked "
            f"for n_threads={n_threads}): libgomp's threads do not survive "
            "fork(). Use the 'spawn' or 'forkserver' start method to use "
            "more threads in child processes.")

"""The single thread policy: how many OpenMP threads a call may use.

libgomp is not fork-safe: a child forked after the parent ran a parallel
region hangs in its first one (GCC bug 60035).  A forked child therefore
runs creg on one thread (which never touches the thread pool) unless the
caller asks for more explicitly.
"""
import os

_in_forked_child = False


def _after_fork_in_child():
    global _in_forked_child
    _in_forked_child = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def effective_n_threads(n_threads):
    """The n_threads to pass to C: 0 lets OpenMP decide (OMP_NUM_THREADS,
    threadpoolctl, core count), except in a forked child where it is 1."""
    if n_threads is not None:
        return n_threads
    return 1 if _in_forked_child else 0

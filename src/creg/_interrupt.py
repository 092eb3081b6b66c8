"""A stop request that a sweep sends to the fits running in its threads.

Ctrl-C raises KeyboardInterrupt in the main thread only.  A sweep (and
CregSearchCV) runs its fits in worker threads, so it sets an event that
each worker's fit reads
between its calls into C (about every 50 ms): the fit then raises
KeyboardInterrupt in its own thread, as Ctrl-C would in a plain fit.  The
event is per thread, so fits in other threads of the program never see it.
"""
import contextlib
import threading

_local = threading.local()


def requested():
    """True when the thread's sweep has asked its fits to stop."""
    event = getattr(_local, "event", None)
    return event is not None and event.is_set()


def bind(event):
    """Fits run in this thread stop once `event` is set, from now on (the
    initializer of a pool's dedicated worker threads)."""
    _local.event = event


@contextlib.contextmanager
def stop_when(event):
    """Fits run in this thread inside the block stop once `event` is set."""
    bind(event)
    try:
        yield
    finally:
        _local.event = None

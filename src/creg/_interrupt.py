"""A stop request that a sweep sends to the fits running in its threads.

Ctrl-C raises KeyboardInterrupt in the main thread only.  A sweep (and
CregSearchCV) runs its fits in worker threads, so it sets an event that
each worker's fit reads
between its calls into C (about every 50 ms): the fit then raises
KeyboardInterrupt in its own thread, as Ctrl-C would in a plain fit.  The
event is per thread, so fits in other threads of the program never see it.
The caller's side, a wait that Ctrl-C can interrupt, is _pool's.
"""
import contextlib
import signal
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


@contextlib.contextmanager
def deferred():
    """Ctrl-C held back for the block, then raised: a thread pool's
    submits start threads, and CPython's threading, interrupted inside,
    leaves a lock held (a worker blocked for ever, a sweep that never
    returns).  Only in the main thread under Python's own SIGINT handler:
    a handler the program installed is left to do its work."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    caught = []
    signal.signal(signal.SIGINT, lambda *_: caught.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if caught:
            raise KeyboardInterrupt

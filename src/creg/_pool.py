"""The thread pool of a sweep's runs and a cv path's chains.

concurrent.futures' pool does not fit a library call that may run in any
thread of a program: its workers are joined when the program exits, so a
sweep in a daemon thread held the exit until every queued run had
trained, and it refuses work once the main thread has returned, so a
sweep in a thread the program still waits for failed with "cannot
schedule new futures after interpreter shutdown".  This pool's workers
are daemon threads: the caller, which waits for them, is the one the
program waits for, or not.

The caller's side takes no lock a Ctrl-C could leave held: the calls
that ended come back through a queue (a futures.wait, interrupted inside,
left a future's lock taken and the sweep hung), one at a time (it also
went over every pending future each time, quadratic in the runs).
"""
import queue
import threading

_POLL_SECONDS = 0.05  # how often the caller's thread looks up from its wait


class DaemonPool:
    """Runs calls on up to `workers` daemon threads, in submission order.

    Threads start at submit (callers hold Ctrl-C back around it: see
    _interrupt.deferred); `wait` returns when every call has ended, and
    `shutdown` drops the calls not started and waits for the rest.
    """

    def __init__(self, workers, name):
        self._workers, self._name = workers, name
        self._calls = queue.SimpleQueue()  # (fn, args), then one None
        self._ended = queue.SimpleQueue()  # per call, its error or None
        self._threads = []
        self._submitted = 0

    def submit(self, fn, *args):
        """Runs fn(*args) on a worker."""
        self._calls.put((fn, args))
        self._submitted += 1
        if len(self._threads) < self._workers:
            thread = threading.Thread(
                target=self._work, daemon=True,
                name=f"{self._name}_{len(self._threads)}")
            # known before it starts: one interrupted inside start()
            # runs all the same, and shutdown must wait for it
            self._threads.append(thread)
            thread.start()

    def _work(self):
        while (call := self._calls.get()) is not None:
            fn, args = call
            try:
                fn(*args)
            except BaseException as exc:  # the caller's wait raises it
                self._ended.put(exc)
            else:
                self._ended.put(None)
            del call, fn, args
        self._calls.put(None)  # the end, for the next worker too

    def wait(self, on_poll=None):
        """Returns once every call submitted has ended, looking up every
        50 ms so that Ctrl-C reaches the caller's thread (a plain wait
        would hold it); raises the first error a call raised, and calls
        on_poll() after each look."""
        left = self._submitted
        while left:
            try:
                error = self._ended.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                pass
            else:
                left -= 1
                if error is not None:
                    raise error
            if on_poll is not None:
                on_poll()

    def shutdown(self):
        """Drops the calls not started and waits for the running ones."""
        try:
            while True:
                self._calls.get_nowait()
        except queue.Empty:
            pass
        finally:  # however the drop ended, every worker meets the end
            self._calls.put(None)
        for thread in self._threads:
            if thread.ident is not None:  # it started
                thread.join()

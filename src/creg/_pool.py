"""The thread pool of a sweep's runs and a cv path's chains.

concurrent.futures' pool does not fit a library call that may run in any
thread of a program: its workers are joined when the program exits, so a
sweep in a daemon thread held the exit until every queued run had
trained, and it refuses work once the main thread has returned, so a
sweep in a thread the program still waits for failed with "cannot
schedule new futures after interpreter shutdown".  This pool's workers
are daemon threads: the caller, which waits for them, is the one the
program waits for, or not.
"""
import queue
import threading
from concurrent import futures


class DaemonPool:
    """Runs calls on up to `workers` daemon threads, in submission order.

    Threads start at submit (callers hold Ctrl-C back around it: see
    _interrupt.deferred); shutdown cancels what has not started and waits
    for the rest.
    """

    def __init__(self, workers, name):
        self._workers, self._name = workers, name
        self._queue = queue.SimpleQueue()
        self._threads = []

    def submit(self, fn, *args):
        """A concurrent.futures.Future of fn(*args)."""
        future = futures.Future()
        self._queue.put((future, fn, args))
        if len(self._threads) < self._workers:
            thread = threading.Thread(
                target=self._work, daemon=True,
                name=f"{self._name}_{len(self._threads)}")
            thread.start()
            self._threads.append(thread)
        return future

    def _work(self):
        while (item := self._queue.get()) is not None:
            future, fn, args = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args)
            except BaseException as exc:  # the caller's result() raises it
                future.set_exception(exc)
            else:
                future.set_result(result)
            del item, future  # the result is the caller's alone now

    def shutdown(self):
        """Cancels the calls not started and waits for the running ones."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            item[0].cancel()
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()

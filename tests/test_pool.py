"""The daemon thread pool of sweeps and cv paths: every call's end comes
back once, errors reach the caller, and no interruption anywhere leaves a
worker behind."""
import queue
import threading

import pytest

from creg._pool import DaemonPool


def _pool_threads(name):
    return [t for t in threading.enumerate() if t.name.startswith(name)]


def _gone(name):
    """Whether the pool's workers all ended (joined with a deadline, so a
    stuck worker fails the test instead of hanging it)."""
    for thread in _pool_threads(name):
        thread.join(30)
    return not _pool_threads(name)


def test_calls_run_once_and_the_first_error_reaches_the_caller():
    ran, lock = [], threading.Lock()

    def call(i):
        with lock:
            ran.append(i)
        if i == 5:
            raise ValueError("run 5")

    pool = DaemonPool(3, "creg-test-a")
    for i in range(40):
        pool.submit(call, i)
    with pytest.raises(ValueError, match="run 5"):
        pool.wait()
    pool.shutdown()
    assert sorted(ran) == sorted(set(ran)) and 5 in ran
    assert _gone("creg-test-a")
    polls = []
    pool = DaemonPool(2, "creg-test-b")
    for i in range(10):
        pool.submit(call, i + 10)
    pool.wait(lambda: polls.append(1))
    pool.shutdown()
    assert sorted(ran[-10:]) == list(range(10, 20)) and polls


class _InterruptedDrop(queue.SimpleQueue):
    """A queue whose drop at shutdown meets a second Ctrl-C."""

    def get_nowait(self):
        raise KeyboardInterrupt


def test_a_ctrl_c_in_shutdown_leaves_no_worker():
    # the workers waited for ever for ends that were never queued
    started = threading.Event()
    pool = DaemonPool(2, "creg-test-c")
    pool._calls = _InterruptedDrop()
    for _ in range(6):
        pool.submit(started.wait, 30)
    started.set()
    with pytest.raises(KeyboardInterrupt):
        pool.shutdown()
    assert _gone("creg-test-c")


def test_a_ctrl_c_inside_thread_start_leaves_no_worker(monkeypatch):
    # a thread started and then interrupted was unknown to shutdown
    start = threading.Thread.start

    def start_then_interrupt(thread):
        start(thread)
        raise KeyboardInterrupt

    pool = DaemonPool(2, "creg-test-d")
    monkeypatch.setattr(threading.Thread, "start", start_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        pool.submit(len, "")
    monkeypatch.undo()
    pool.shutdown()
    assert _gone("creg-test-d")

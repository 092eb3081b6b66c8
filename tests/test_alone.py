"""conftest's `alone` lock for pytest-xdist: an `alone` test runs with no
other test beside it, and a test waiting to be alone is not kept waiting
by tests that start after it.  flock locks of separate opens exclude each
other within one process too, so threads stand in for the workers.  And
its count of workers for -n auto."""
import os
import subprocess
import sys
import threading
import time

import pytest

from conftest import _room

pytestmark = pytest.mark.skipif(sys.platform == "win32",
                                reason="flock: POSIX only")
WAIT = 0.3  # long enough for a thread that could enter to have entered


def enter(directory, alone, entered, leave):
    """A thread that enters the room, notes it and stays until `leave`."""
    def body():
        with _room(directory, alone):
            entered.set()
            leave.wait()
    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread


def test_shared_tests_run_side_by_side(tmp_path):
    leave = threading.Event()
    first, second = threading.Event(), threading.Event()
    threads = [enter(tmp_path, False, first, leave),
               enter(tmp_path, False, second, leave)]
    assert first.wait(WAIT * 10) and second.wait(WAIT * 10)
    leave.set()
    for thread in threads:
        thread.join()


@pytest.mark.parametrize("first_alone", [True, False])
def test_an_alone_test_excludes_and_waits_for_others(tmp_path, first_alone):
    leave_first, leave_second = threading.Event(), threading.Event()
    first, second = threading.Event(), threading.Event()
    threads = [enter(tmp_path, first_alone, first, leave_first)]
    assert first.wait(WAIT * 10)
    threads.append(enter(tmp_path, not first_alone, second, leave_second))
    time.sleep(WAIT)
    assert not second.is_set()
    leave_first.set()
    assert second.wait(WAIT * 10)
    leave_second.set()
    for thread in threads:
        thread.join()


def test_a_waiting_alone_test_goes_before_later_ones(tmp_path):
    leave = [threading.Event() for _ in range(3)]
    entered = [threading.Event() for _ in range(3)]
    threads = [enter(tmp_path, False, entered[0], leave[0])]
    assert entered[0].wait(WAIT * 10)
    threads.append(enter(tmp_path, True, entered[1], leave[1]))
    time.sleep(WAIT)  # the alone test waits at the door
    threads.append(enter(tmp_path, False, entered[2], leave[2]))
    time.sleep(WAIT)
    # a shared test arriving now could join the first; it waits instead
    assert not entered[1].is_set() and not entered[2].is_set()
    leave[0].set()
    assert entered[1].wait(WAIT * 10)
    time.sleep(WAIT)
    assert not entered[2].is_set()
    leave[1].set()
    assert entered[2].wait(WAIT * 10)
    leave[2].set()
    for thread in threads:
        thread.join()


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"),
                    reason="no CPU affinity to restrict")
def test_auto_starts_a_worker_per_usable_cpu():
    """Confined to one CPU, `-n auto` starts one worker, whatever the
    machine's cores (xdist's own count, psutil's, gave two here)."""
    pytest.importorskip("xdist")
    cpu = min(os.sched_getaffinity(0))
    here = os.path.dirname(os.path.abspath(__file__))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "auto", "-p", "no:cacheprovider",
         "-k", "side_by_side", os.path.join(here, "test_alone.py")],
        capture_output=True, text=True, timeout=300,
        preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "created: 1/1 worker" in run.stdout, run.stdout


def test_the_suite_collects_without_pytest_xdist():
    # conftest's xdist hook, unmarked optional, stopped every run without
    # pytest-xdist (cibuildwheel's test step) with an INTERNALERROR
    here = os.path.dirname(os.path.abspath(__file__))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q",
         "-p", "no:xdist", "-p", "no:cacheprovider",
         os.path.join(here, "test_alone.py")],
        capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "INTERNALERROR" not in run.stdout + run.stderr

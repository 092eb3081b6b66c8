"""Memory: no leak over many fit/predict/save/load cycles, and no
allocation inside the training loop (RELIABILITY G, issue 4)."""
import os
import subprocess
import sys
import textwrap

import pytest
from conftest import UNDER_ASAN

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads /proc/self/statm")

LEAK_CHECK = textwrap.dedent("""
    import os, tempfile
    import numpy as np
    import creg

    def rss_mib():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    rng = np.random.default_rng(0)
    X, y = rng.random((60, 20)), rng.integers(0, 3, 60)
    path = os.path.join(tempfile.mkdtemp(), "net.creg")

    def cycle(i):
        net = creg.Network([20, 16, 3], hidden="sigmoid", output="softmax",
                           init="normalized", seed=i % 7)
        net.fit(X, y, epochs=1, batch_size=20, lr=0.5, l1=0.1, max_norm=2.0,
                dropout=0.2, validation_data=(X[:20], y[:20]))
        net.predict(X)
        creg.load(net.save(path)).predict_proba(X)

    for i in range(300):          # warm up allocator pools and caches
        cycle(i)
    before = rss_mib()
    for i in range(2000):
        cycle(i)
    print(rss_mib() - before)
""")


@pytest.mark.skipif(UNDER_ASAN,
                    reason="under ASan freed memory sits in its quarantine, "
                    "so RSS cannot show a leak (tools/sanitize.sh)")
def test_no_leak_over_thousands_of_fit_predict_save_load_cycles():
    done = subprocess.run([sys.executable, "-c", LEAK_CHECK], text=True,
                          capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    growth = float(done.stdout.split()[-1])
    print(f"RSS growth over 2000 cycles: {growth:.2f} MiB")
    assert growth < 1.0  # a 1 KiB leak per cycle would be ~2 MiB


STEP_LOOP = textwrap.dedent("""
    import resource
    import warnings
    import numpy as np
    import creg

    # random labels: fit warns that the network is barely learning, and
    # formatting that warning once can raise the peak by a few pages,
    # which is Python's allocation, not the step loop's
    warnings.simplefilter("ignore")

    rng = np.random.default_rng(0)
    X, y = rng.random((4000, 300)), rng.integers(0, 10, 4000)
    peaks = []

    def schedule(epoch, history):
        peaks.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        return 0.1

    net = creg.Network([300, 200, 10], hidden="sigmoid", output="softmax",
                       init="normalized")
    net.fit(X, y, epochs=11, batch_size=32, momentum=0.9, dropout=0.3,
            l1=0.5, max_norm=3.0, lr_schedule=schedule)
    print(peaks[2], peaks[10])
""")


def test_peak_rss_does_not_grow_between_epoch_2_and_epoch_10():
    done = subprocess.run([sys.executable, "-c", STEP_LOOP], text=True,
                          capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    at_2, at_10 = map(int, done.stdout.split())
    assert at_10 == at_2, (at_2, at_10)  # KiB of peak resident memory


@pytest.mark.parametrize("failure", ["diverges", "finds NaN in X"])
def test_a_failed_fit_leaves_no_reference_cycle(failure):
    # the error's traceback held a frame holding the error: each failed
    # fit's copies of X lived until a collection (39 MiB a fit for
    # 20,000 rows of 500 columns)
    import gc
    import types

    import numpy as np

    import creg
    rng = np.random.default_rng(0)
    X, y = rng.random((200, 5)), rng.integers(0, 3, 200)
    if failure != "diverges":
        X[-1, 0] = np.nan

    def attempt():
        net = creg.Network([5, 8, 3], seed=1)
        with pytest.raises((creg.DivergenceError, ValueError)):
            net.fit(X, y, epochs=1, lr=1e15 if failure == "diverges" else 0.1)

    def ours(thing):
        """Part of a failed fit: its error, a frame of creg, a copy of X
        (other tests' threads, say dask's, leave garbage of their own)."""
        if isinstance(thing, types.FrameType):
            return f"{os.sep}creg{os.sep}" in thing.f_code.co_filename
        return isinstance(thing, (creg.DivergenceError, ArithmeticError,
                                  ValueError)) or (
            isinstance(thing, np.ndarray) and thing.shape == X.shape)

    attempt()  # first calls may make lasting objects
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection frees, kept
    try:
        for _ in range(3):
            attempt()
        gc.collect()
        left = [thing for thing in gc.garbage if ours(thing)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert left == []


def test_save_holds_one_copy_of_the_parameters(tmp_path):
    # save copied the parameters and then that copy into a bytes object:
    # twice the model on top of it, 256 MB for a 128 MB model
    import tracemalloc

    import creg
    net = creg.Network([1000, 2000, 10], seed=0)
    net.save(tmp_path / "warm.creg")  # first calls may make lasting objects
    tracemalloc.start()
    try:
        net.save(tmp_path / "model.creg")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert net.params.nbytes < peak < 1.5 * net.params.nbytes
    assert creg.load(tmp_path / "model.creg").params.tobytes() == \
        net.params.tobytes()

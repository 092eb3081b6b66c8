"""Faults creg must survive: Ctrl-C, fork, threads (RELIABILITY.md)."""
import contextlib
import copy
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import creg

CHILD = textwrap.dedent("""
    import sys, time
    import numpy as np
    import creg
    rng = np.random.default_rng(0)
    X, y = rng.random((20000, 200)), rng.integers(0, 10, 20000)
    net = creg.Network([200, 300, 10], dtype="float64", **creg.NIELSEN)
    print("fitting", flush=True)
    try:
        net.fit(X, y, epochs=1000, batch_size=10, lr=0.5,
                n_threads=int(sys.argv[1]))
    except KeyboardInterrupt:
        stopped = time.time()
        assert np.isfinite(net.params).all()
        net.fit(X[:100], y[:100], epochs=1, lr=0.5)      # still usable
        print(f"interrupted {stopped!r}", flush=True)
""")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("n_threads", [1, 2])
def test_ctrl_c_stops_fit_promptly_and_leaves_a_usable_network(n_threads,
                                                              ctrl_c):
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(n_threads)],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "fitting"
        time.sleep(1.0)
        sent = time.time()
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 0, out
    latency = float(out.split()[-1]) - sent
    print(f"Ctrl-C latency with {n_threads} thread(s): {1e3 * latency:.0f} ms")
    assert latency < 2.0  # a hang, not a slow machine, fails this


FORK_PARENT = textwrap.dedent("""
    import multiprocessing as mp, sys, warnings
    import numpy as np
    import creg

    def child(seed):
        rng = np.random.default_rng(seed)
        X, y = rng.random((512, 300)), rng.integers(0, 10, 512)
        net = creg.Network([300, 400, 10], **creg.NIELSEN)
        asked = None if sys.argv[1] == "default" else int(sys.argv[1])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            net.fit(X, y, epochs=1, batch_size=256, lr=0.5,
                    n_threads=asked)
        # asking for threads gets one, and says so
        said = any("one thread" in str(w.message) for w in caught)
        assert said == (asked is not None), caught
        return net.accuracy(X, y)

    if __name__ == "__main__":
        rng = np.random.default_rng(0)
        X, y = rng.random((512, 300)), rng.integers(0, 10, 512)
        creg.Network([300, 400, 10], **creg.NIELSEN).fit(
            X, y, epochs=1, batch_size=256, lr=0.5,
            n_threads=2)   # libgomp pool up
        with mp.get_context("fork").Pool(2) as pool:
            print(pool.map(child, [1, 2]))
""")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.parametrize("child_threads", ["default", "2"])
def test_forked_child_fits_after_a_threaded_parent(tmp_path, child_threads):
    """Before the fork clamp, a child asking for n_threads=2 hung."""
    script = tmp_path / "fork_parent.py"
    script.write_text(FORK_PARENT)
    done = subprocess.run([sys.executable, str(script), child_threads],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("[")


FORK_WHILE_HELD = textwrap.dedent("""
    import os, sys, threading, warnings
    import numpy as np
    import creg
    try:
        from creg import sklearn as creg_sklearn
    except ImportError:  # no scikit-learn: the rest still runs
        creg_sklearn = None

    warnings.simplefilter("ignore", DeprecationWarning)  # fork, threads
    rng = np.random.default_rng(0)
    X, y = rng.random((60, 6)), rng.integers(0, 3, 60)
    net = creg.Network([6, 5, 3], seed=0)
    stopper = creg.EarlyStopping(patience=3)
    est = creg_sklearn and creg_sklearn.CregClassifier(epochs=1)
    inside, forked = threading.Event(), threading.Event()

    def schedule(epoch, history):
        inside.set()
        forked.wait(60)
        return 0.1

    def hold_all():
        with (creg_sklearn._one_fit_at_a_time(est) if est
              else open(os.devnull)):
            net.fit(X, y, epochs=1, lr_schedule=schedule,
                    early_stopping=stopper, validation_data=(X, y))

    worker = threading.Thread(target=hold_all)
    worker.start()
    inside.wait(60)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            net.fit(X, y, epochs=1)
            net.save(sys.argv[1])
            creg.Network([6, 5, 3]).fit(X, y, epochs=2, early_stopping=stopper,
                                        validation_data=(X, y))
            if est:
                est.fit(X, y)
            code = 0
        except BaseException as exc:
            print(type(exc).__name__, exc, flush=True)
        os._exit(code)
    forked.set()
    worker.join()
    print("child", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
""")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_uses_what_another_thread_held(tmp_path):
    """A child forked while another thread fitted a network (holding it, its
    EarlyStopping and its estimator) could never fit or save them: the
    holder does not exist in the child."""
    script = tmp_path / "fork_while_held.py"
    script.write_text(FORK_WHILE_HELD)
    done = subprocess.run([sys.executable, str(script),
                           str(tmp_path / "m.creg")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "child 0", done.stdout
    assert creg.load(tmp_path / "m.creg").epochs_trained == 1


def _problem(seed, n=400):
    rng = np.random.default_rng(seed)
    return rng.random((n, 50)), rng.integers(0, 5, n)


def test_fits_on_different_networks_run_in_parallel_threads():
    def fit(seed):
        net = creg.Network([50, 40, 5], seed=seed, **creg.NIELSEN)
        net.fit(*_problem(seed), epochs=3, n_threads=1, lr=0.5)
        return net.params

    expected = [fit(s) for s in range(4)]
    results = [None] * 4
    threads = [threading.Thread(target=lambda s=s: results.__setitem__(
        s, fit(s))) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.array_equal(a, b) for a, b in zip(results, expected))


def test_predict_from_many_threads_on_one_network():
    net = creg.Network([50, 40, 5], **creg.NIELSEN)
    X, _ = _problem(0, n=3000)
    expected = net.predict_proba(X)
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        net.predict_proba(X))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 6
    assert all(np.array_equal(r, expected) for r in results)


@contextlib.contextmanager
def _training_in_another_thread(net, X, y):
    """While a thread fits net for 3 epochs (entered once it holds fit's
    lock; left when it has ended)."""
    worker = threading.Thread(target=lambda: net.fit(X, y, epochs=3, lr=0.5))
    worker.start()
    try:
        deadline = time.time() + 10
        while net._fit_thread is None and time.time() < deadline:
            time.sleep(0.001)
        yield
    finally:
        worker.join()


def test_second_concurrent_fit_on_one_network_is_refused():
    net = creg.Network([50, 40, 5], **creg.NIELSEN)
    X, y = _problem(0, n=20000)
    with _training_in_another_thread(net, X, y):
        with pytest.raises(RuntimeError, match="already running on this "
                           "network in another thread"):
            net.fit(X[:10], y[:10], epochs=1, lr=0.5)
    assert net.epochs_trained == 3


def test_a_fit_from_fit_s_own_callback_is_refused_as_such():
    net = creg.Network([50, 4, 5], **creg.NIELSEN)
    X, y = _problem(0, n=40)

    def schedule(epoch, history):
        net.fit(X, y, epochs=1)
        return 0.5

    with pytest.raises(RuntimeError, match="already running on this network "
                       r"from its own callback \(lr_schedule or a score\)"):
        net.fit(X, y, epochs=2, lr_schedule=schedule)


@pytest.mark.parametrize("setting, value", [
    ("hidden", "tanh"), ("hidden", "softmax"), ("output", "linear"),
    ("output", "softmax"), ("cost_name", "quadratic")])
def test_settings_changed_by_fit_s_own_callback_are_refused(setting, value):
    """Changed between epochs, the metrics read the new setting while the
    training went on with the old one (or with one the network refuses)."""
    net = creg.Network([50, 4, 5], **creg.NIELSEN)
    X, y = _problem(0, n=40)

    def schedule(epoch, history):
        if epoch == at:
            setattr(net, setting, value)
        return 0.5

    for at in (1, 0):  # the schedule runs before the first epoch too
        before = net.epochs_trained
        with pytest.raises(ValueError, match="changed during fit"):
            net.fit(X, y, epochs=3, lr_schedule=schedule)
        assert net.epochs_trained == before + at
        setattr(net, setting, {"hidden": "sigmoid", "output": "sigmoid",
                               "cost_name": "cross_entropy"}[setting])


def test_save_waits_for_no_fit_but_its_own_callbacks(tmp_path):
    # while another thread trains, a file would hold weights no epoch had
    # under a stale epochs_trained: refused; fit's own callbacks, between
    # its epochs, save what the epoch ended with
    net = creg.Network([50, 40, 5], **creg.NIELSEN)
    X, y = _problem(0, n=20000)
    copies = {"save": lambda: net.save(tmp_path / "during.creg"),
              "save_network2": lambda: net.save_network2(tmp_path / "n2"),
              "to_onnx": lambda: net.to_onnx(tmp_path / "during.onnx"),
              "to_torch": net.to_torch,
              "to_keras_weights": net.to_keras_weights,
              "compress": net.compress,
              r"pickling \(or copy.deepcopy\)": lambda: pickle.dumps(net),
              "copy.deepcopy": lambda: copy.deepcopy(net)}
    with _training_in_another_thread(net, X, y):
        for name, make in copies.items():
            with pytest.raises(RuntimeError, match=f"{name.split()[0]}.* "
                               "cannot run while fit trains this network "
                               "in another thread"):
                make()
    assert not list(tmp_path.iterdir())

    def schedule(epoch, history):
        if epoch:
            saved.append((creg.load(net.save(tmp_path / f"{epoch}.creg")),
                          net.params.copy()))
        return 0.5
    saved = []
    net.fit(X[:2000], y[:2000], epochs=3, lr_schedule=schedule)
    assert [s.epochs_trained for s, _ in saved] == [4, 5]
    for loaded, params in saved:
        assert np.array_equal(loaded.params, params)


def test_a_fit_or_save_started_during_a_save_waits_for_it(tmp_path,
                                                          monkeypatch):
    from creg import _persist
    net = creg.Network([50, 40, 5], **creg.NIELSEN)
    X, y = _problem(0, n=2000)
    writing, release = threading.Event(), threading.Event()
    save_network = _persist.save_network

    def slow_save(network, path):
        writing.set()
        release.wait(10)
        return save_network(network, path)
    monkeypatch.setattr(_persist, "save_network", slow_save)
    saver = threading.Thread(target=net.save, args=(tmp_path / "a.creg",))
    saver.start()
    assert writing.wait(10)
    errors = []
    trainer = threading.Thread(target=lambda: errors.extend(
        _raised(net.fit, X, y, epochs=1, lr=0.5)))
    trainer.start()
    second = threading.Thread(target=lambda: errors.extend(
        _raised(net.save, tmp_path / "b.creg")))
    second.start()  # a second save waits too
    time.sleep(0.2)
    assert trainer.is_alive() and net.epochs_trained == 0  # it waits
    assert second.is_alive()
    release.set()
    for thread in (saver, trainer, second):
        thread.join()
    assert not errors and net.epochs_trained == 1
    assert creg.load(tmp_path / "a.creg").epochs_trained == 0
    assert creg.load(tmp_path / "b.creg").epochs_trained in (0, 1)


def _interrupt_on_return_of(method_name, owner):
    """A KeyboardInterrupt where CPython runs a pending SIGINT handler: as
    the C method owner.method_name returns (a profile hook, once)."""
    def hook(frame, event, arg):
        if event == "c_return" and getattr(arg, "__self__", None) is owner \
                and arg.__name__ == method_name:
            sys.setprofile(None)
            raise KeyboardInterrupt
    sys.setprofile(hook)


def _in_another_thread(call):
    """call's exceptions, or 'blocked' when it had not ended in 20 s."""
    errors = []
    worker = threading.Thread(target=lambda: errors.extend(_raised(call)),
                              daemon=True)
    worker.start()
    worker.join(20)
    return ["blocked"] if worker.is_alive() else errors


@pytest.mark.parametrize("interrupted", ["fit", "save", "early_stopping"])
def test_ctrl_c_just_after_a_lock_is_taken_leaves_it_free(interrupted,
                                                           tmp_path):
    """A Ctrl-C just after fit or save took the network's lock, or fit its
    EarlyStopping, left them taken: every later fit and save waited 600 s
    and then said a fit was running in another thread."""
    from creg import early_stopping
    net = creg.Network([50, 4, 5], **creg.NIELSEN)
    X, y = _problem(0, n=40)
    stop = creg.EarlyStopping(3)
    calls = {"fit": lambda: net.fit(X, y, epochs=1, lr=0.5),
             "save": lambda: net.save(tmp_path / "a.creg"),
             "early_stopping": lambda: net.fit(
                 X, y, epochs=1, lr=0.5, early_stopping=stop,
                 validation_data=(X, y))}
    if interrupted == "early_stopping":
        _interrupt_on_return_of("__exit__", early_stopping._IN_USE._lock)
    else:
        _interrupt_on_return_of("acquire", net._fit_lock)
    try:
        with pytest.raises(KeyboardInterrupt):
            calls[interrupted]()
    finally:
        sys.setprofile(None)
    for name, call in calls.items():
        assert _in_another_thread(call) == [], name


def _interrupt_at_event(k, made_by=None):
    """A KeyboardInterrupt at the k-th (1-based) Python call or C return,
    where CPython may run a pending SIGINT handler; with `made_by` (a
    code object's qualified name), of those that function makes itself."""
    seen = 0

    def hook(frame, event, arg):
        nonlocal seen
        caller = frame.f_back if event == "call" else frame
        if event in ("call", "c_return") and (
                made_by is None or caller is not None
                and caller.f_code.co_qualname == made_by):
            seen += 1
            if seen == k:
                sys.setprofile(None)
                raise KeyboardInterrupt
    sys.setprofile(hook)


@pytest.mark.filterwarnings("ignore::creg.TrainingWarning")
@pytest.mark.parametrize("caller", ["Network", "CregClassifier"])
def test_ctrl_c_anywhere_in_a_fit_leaves_nothing_held(caller):
    """A Ctrl-C in fit's clean-up (10,000 random SIGALRMs left 17 networks
    refusing fits, 4 locks and 13 claims held): at every point where one
    can land, the network, its lock, the EarlyStopping and the estimator
    are free afterwards."""
    from creg import early_stopping
    if caller == "CregClassifier":
        pytest.importorskip("sklearn")
        from creg.sklearn import _FITTING, CregClassifier
    X, y = _problem(0, n=40)
    X = X[:, :4]

    def interrupted_at(k):
        """Whether the k-th event of a fit came before its end."""
        net = creg.Network([4, 3, 5], seed=0)
        stop = creg.EarlyStopping(2)
        clf = (CregClassifier((3,), epochs=2, early_stopping=True,
                              validation_fraction=0.2, random_state=0)
               if caller == "CregClassifier" else None)
        interrupted = False
        try:
            _interrupt_at_event(k)
            if clf is None:
                net.fit(X, y, epochs=1, validation_data=(X, y),
                        early_stopping=stop)
            else:
                clf.fit(X, y)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            sys.setprofile(None)
        if clf is not None:
            assert clf not in _FITTING, k
            net = getattr(clf, "network_", net)
        assert net._fit_thread is None and not net._fit_lock._is_owned(), k
        assert stop not in early_stopping._IN_USE, k
        return interrupted

    k = 1
    while interrupted_at(k):
        k += 1
    assert k > 500  # the events of a whole fit were tried
    assert not early_stopping._IN_USE._owners
    if caller == "CregClassifier":
        assert not _FITTING._owners


@pytest.mark.filterwarnings("ignore::creg.TrainingWarning")
def test_ctrl_c_in_a_search_leaves_its_parameters():
    """A Ctrl-C as the search put back its own parameters, which it had
    swapped for a one-thread estimator: every later search ran with that
    one and handed back a best_estimator_ of one thread."""
    pytest.importorskip("sklearn")
    from creg.sklearn import CregClassifier, CregSearchCV
    X, y = _problem(0, n=24)
    estimator = CregClassifier((3,), epochs=1, random_state=0, n_threads=2)
    k = 1
    while True:
        search = CregSearchCV(estimator, {"l2": [0.0, 1.0]}, cv=2, n_jobs=1)
        try:
            _interrupt_at_event(k, "CregSearchCV.fit")
            search.fit(X, y)
            break
        except KeyboardInterrupt:  # as it was, or done
            assert search.estimator is estimator and search.n_jobs == 1, k
            assert not hasattr(search, "cv_results_") or \
                search.best_estimator_.n_threads == 2, k
        finally:
            sys.setprofile(None)
        k += 1
    assert k > 5 and search.best_estimator_.n_threads == 2


@pytest.mark.filterwarnings("ignore::creg.TrainingWarning")
def test_ctrl_c_as_partial_fit_extends_the_history_keeps_it_whole():
    # history_ was extended in place, list by list: a Ctrl-C between two
    # left lists of different lengths for good
    pytest.importorskip("sklearn")
    from creg.sklearn import CregClassifier
    X, y = _problem(0, n=30)
    k = 1
    while True:
        clf = CregClassifier((5,), random_state=0, batch_size=10)
        clf.partial_fit(X, y, classes=range(5))
        before = {name: len(v) for name, v in vars(clf.history_).items()
                  if isinstance(v, list)}
        try:
            _interrupt_at_event(k, "_extend_history")
            clf.partial_fit(X, y)
            break
        except KeyboardInterrupt:
            assert {name: len(v) for name, v in vars(clf.history_).items()
                    if isinstance(v, list)} == before, k
            assert clf.n_iter_ == 1, k
        finally:
            sys.setprofile(None)
        k += 1
    assert k > 5 and clf.n_iter_ == 2


def test_ctrl_c_held_back_is_raised_after_the_block(python_s_sigint_handler):
    from creg import _interrupt
    reached = False
    with pytest.raises(KeyboardInterrupt):
        with _interrupt.deferred():
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):  # where CPython would raise it
                pass
            reached = True
    assert reached
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize("call", ["sweep", "regularization_path"])
def test_ctrl_c_while_threads_start_is_held_back(call, monkeypatch,
                                                 python_s_sigint_handler):
    """A Ctrl-C inside a submit, where CPython starts the pool's threads,
    could leave a lock of theirs held: the sweep's shutdown then waited
    for ever.  The submits run with it held back, and it stops the runs
    once they are all submitted."""
    from creg._pool import DaemonPool
    submit, handlers = DaemonPool.submit, []

    def submit_and_interrupt(pool, *args, **kwargs):
        handlers.append(signal.getsignal(signal.SIGINT))
        os.kill(os.getpid(), signal.SIGINT)
        return submit(pool, *args, **kwargs)
    monkeypatch.setattr(DaemonPool, "submit", submit_and_interrupt)
    X, y = _problem(0, n=60)
    if call == "sweep":
        result = creg.sweep(X, y, [50, 4, 5], {"lr": [0.1, 0.2, 0.3]},
                            epochs=2, n_threads=2)
        assert result.interrupted
    else:
        with pytest.raises(KeyboardInterrupt):
            creg.regularization_path(X, y, [50, 4, 5], l2=[1.0, 0.1],
                                     cv=2, epochs=2, n_threads=2)
    assert len(handlers) >= 2
    assert signal.default_int_handler not in handlers
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert not [t for t in threading.enumerate()
                if t.name.startswith(("creg-sweep", "creg-path"))]


def _raised(call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except Exception as exc:  # handed to the test's thread
        return [exc]
    return []


SMALL_STACK = textwrap.dedent("""
    import warnings
    import numpy as np
    import creg

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((600, 300)), rng.integers(0, 10, 600)
    weights = set()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n_threads in (None, 2, 1):
            net = creg.Network([300, 1024, 10], seed=0, dtype="float64")
            net.fit(X, y, epochs=1, lr=0.01, n_threads=n_threads,
                    batch_size=64)
            weights.add(net.params.tobytes())
    said = sum("OMP_STACKSIZE=" in str(w.message) for w in caught)
    threads = creg.show_config(as_dict=True)["threads"]
    print(len(weights), said, threads["source"].startswith("OMP_STACKSIZE"))
""")


@pytest.mark.parametrize("stack, expected", [("32K", "1 1 True"),
                                             ("4M", "1 0 False")])
def test_a_small_openmp_stack_runs_on_one_thread(tmp_path, stack, expected):
    # OMP_STACKSIZE=32K: creg's kernels overflowed the team's stacks and
    # the process died with SIGSEGV
    script = tmp_path / "small_stack.py"
    script.write_text(SMALL_STACK)
    done = subprocess.run([sys.executable, str(script)], capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "OMP_STACKSIZE": stack})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == expected.split()


@pytest.mark.parametrize("environ, expected", [
    ({}, None),
    ({"OMP_STACKSIZE": "32K"}, ("OMP_STACKSIZE", "32K", 32768)),
    ({"OMP_STACKSIZE": " 64 k "}, ("OMP_STACKSIZE", "64 k", 65536)),
    ({"OMP_STACKSIZE": "40000"}, ("OMP_STACKSIZE", "40000", 40000 << 10)),
    ({"OMP_STACKSIZE": "20000B"}, ("OMP_STACKSIZE", "20000B", 20000)),
    ({"OMP_STACKSIZE": "2m"}, ("OMP_STACKSIZE", "2m", 2 << 20)),
    ({"OMP_STACKSIZE": "1G"}, ("OMP_STACKSIZE", "1G", 1 << 30)),
    ({"OMP_STACKSIZE": "+32K"}, ("OMP_STACKSIZE", "+32K", 32768)),
    ({"OMP_STACKSIZE": "-32K"}, None),
    # libgomp ignores a value it cannot read, or one below 16 KiB
    ({"OMP_STACKSIZE": "big"}, None),
    ({"OMP_STACKSIZE": "12K"}, None),
    ({"OMP_STACKSIZE": "2x", "GOMP_STACKSIZE": "48K"},
     ("GOMP_STACKSIZE", "48K", 49152)),
    ({"OMP_STACKSIZE": "8M", "GOMP_STACKSIZE": "48K"},
     ("OMP_STACKSIZE", "8M", 8 << 20)),
])
def test_the_openmp_stack_is_read_as_libgomp_reads_it(environ, expected):
    from creg import _threads
    assert _threads.omp_stack_setting(environ) == expected


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_keeps_its_pools_threads():
    # a sweep's or a search's pool runs one-thread fits on Python threads,
    # which fork does not break: only a fit's own team is cut to one
    script = textwrap.dedent("""
        import os, warnings
        from creg import _validation as check
        warnings.simplefilter("ignore")
        pid = os.fork()
        if pid == 0:
            os._exit(0 if (check.pool_threads(2), check.n_threads(2))
                     == (2, 1) else 3)
        print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
    """)
    done = subprocess.run([sys.executable, "-c", script],
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "0", done.stderr


DAEMON_SWEEP = textwrap.dedent("""
    import sys, threading, time, warnings
    import numpy as np
    import creg

    warnings.simplefilter("ignore")  # the runs' own, beside the point
    log = open(sys.argv[1], "a", buffering=1)
    started = threading.Event()
    rng = np.random.default_rng(0)
    X, y = rng.random((200, 6)), rng.integers(0, 3, 200)

    def schedule(epoch, history):
        log.write("epoch\\n")
        started.set()
        return 0.1

    def work():
        if not daemon:  # the pool starts after the main thread returned
            time.sleep(0.5)
        if sys.argv[2] == "sweep":
            creg.sweep(X, y, [6, 5, 3], {"l2": [0.0, 1.0, 2.0, 3.0]},
                       epochs=epochs, lr_schedule=schedule)
        else:
            creg.regularization_path(X, y, [6, 5, 3], l2=[0.0, 1.0],
                                     epochs=epochs, cv=2,
                                     lr_schedule=schedule)
        log.write("after\\n")

    daemon = sys.argv[3] == "daemon"
    epochs = 10**5 if daemon else 100  # minutes of runs left at exit
    worker = threading.Thread(target=work, daemon=daemon)
    worker.start()
    if daemon:
        started.wait(60)
""")


@pytest.mark.parametrize("pool", ["sweep", "path"])
@pytest.mark.parametrize("daemon", ["daemon", "joined"])
def test_a_pool_in_a_daemon_thread_stops_when_the_program_exits(
        tmp_path, pool, daemon):
    # Python's exit waited for the pool's workers, which trained every
    # queued run of a sweep run in a daemon thread; a thread the program
    # waits for could not start a pool once the main thread had returned
    script, log = tmp_path / "daemon_pool.py", tmp_path / "epochs.log"
    script.write_text(DAEMON_SWEEP)
    done = subprocess.run([sys.executable, str(script), str(log), pool,
                           daemon], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and not done.stderr, done.stderr
    lines = log.read_text().split()
    total = 400 if pool == "sweep" else 600  # 3 paths of 2 strengths
    if daemon == "daemon":
        assert "after" not in lines and lines.count("epoch") < 10**5
    else:
        assert lines == ["epoch"] * total + ["after"]

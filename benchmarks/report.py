#!/usr/bin/env python
"""The benchmark report of issue 4: creg against its peers, one table.

    python benchmarks/report.py                 # everything (~12-15 min)
    python benchmarks/report.py --quick         # a 1-2 minute look
    python benchmarks/report.py --configs C1,C4 --threads 1 \
        --contenders creg,numpy,torch --rounds 5

Prints, as markdown on stdout (progress goes to stderr):

1. seconds per epoch for each configuration x contender x thread count
   (best of N rounds; creg's headline is the wall time of
   ``fit(X, y, epochs=1)``, beside its training part and their ratio),
   creg's ratio to each peer, the time of the bare
   OpenBLAS GEMMs of the same epoch, the FLOP limit (the epoch's GEMM
   FLOPs / numpy's sgemm GFLOP/s at 1024^3 measured in the same run) and
   creg's share of that peak; with three or more thread counts
   (``--threads 1,2,4,8,16``) also one table per configuration with the
   thread counts across, as an issue quotes a scaling run;
2. GEMM GFLOP/s of ``creg._core.gemm`` and ``numpy.matmul`` at the three
   shapes of every layer of every configuration and at 1024^3;
3. creg's default thread count beside other work: ``predict_proba`` of
   1,000 rows and fits of C1 and C3 at ``n_threads=1``, at the default and
   at every core, idle, beside a spinning process and right after numpy
   calls on every core (contention.py);
4. the machine: CPU, cores, its vector width (CPU flags) and 512-bit FMA
   units (measured by fma_probe.c: cpuid does not say), compiler and
   flags, creg's kernel level, numpy/BLAS, torch, scikit-learn, and how
   busy the machine was.

How it measures:

- Every contender runs in its own worker process (this script with
  ``--worker KIND``), so thread pools (creg's OpenMP, PyTorch's OpenMP and
  MKL, OpenBLAS's pthreads) never compete inside one process. The workers
  of numpy, scikit-learn and the bare GEMMs run with OPENBLAS_CORETYPE and
  OPENBLAS_L2_SIZE removed from their environment (set on some machines
  here for old OpenBLAS builds; they slow a current one); the report names
  the OpenBLAS kernel that then runs. Workers start without the shell's
  OMP/OPENBLAS/MKL_NUM_THREADS; creg and PyTorch set their thread count
  per measurement (``n_threads``, ``torch.set_num_threads``), and the
  BLAS-bound contenders get one worker per thread count T, started with
  OPENBLAS_NUM_THREADS=MKL_NUM_THREADS=T (and held to T by threadpoolctl
  when it is installed).
- Rounds are interleaved: each round visits every configuration,
  contender and thread count once, in an order rotated from round to
  round, so a busy spell on this shared machine hits everyone alike; a
  contender's thread counts run back to back, so that its speed-up from
  threads compares samples taken seconds apart. The table shows
  the best round. Each (contender, configuration, threads) first runs an
  untimed warm-up epoch on a slice of the data.
- Before any timing, each peer is checked to do creg's epoch
  (equal_work.py) and creg's gemm to equal numpy.matmul.
- Other processes' CPU use is measured during every sample (/proc/stat
  minus the worker's own time); a † marks a best sample during which
  they kept more than a quarter of a core busy.
"""
import argparse
import importlib.metadata
import json
import os
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from configs import CONFIGS, THREADS, epoch_gemm_flops, layer_gemms  # noqa
import machine  # noqa: E402
import peers  # noqa: E402

PEAK_SHAPE = (1024, 1024, 1024)
DEFAULT_ROUNDS = {"C1": 5, "C2": 5, "C3": 2, "C4": 3}
# Online SGD costs the same per sample at any n: C4 is timed on a quarter
# of its rows by default (its PyTorch and scikit-learn epochs take 30-50 s)
# and scaled to the full n; the report says so under the table.
DEFAULT_SCALE = {"C4": 0.25}
QUICK_SCALE = 0.1
BUSY_MARK = 0.25  # cores used by other processes that earn a †
# predict_proba of 1,000 rows takes a millisecond: more rounds of it
PREDICT_ROUNDS_FACTOR = 20
# Configurations creg trains on one thread at any n_threads (their steps
# are too small to split; tests/test_threads.py checks that no team starts;
# C2's steps take a team of up to 3).
ONE_THREAD_CONFIGS = ("C1", "C4")
LABELS = {"creg": "creg", "numpy": "numpy", "torch": "PyTorch",
          "sklearn": "scikit-learn", "blas": "OpenBLAS GEMMs alone"}
# Which worker process runs what.
WORKER_OF = {"creg": "creg", "numpy": "numpy", "torch": "torch",
             "sklearn": "sklearn", "blas": "blas"}
NUMPY_WORKERS = ("numpy", "sklearn", "blas", "check")
# Workers whose BLAS does the work get one process per thread count, with
# OPENBLAS_NUM_THREADS (and MKL_NUM_THREADS) set to it: exact even without
# threadpoolctl, which then only confirms it.
BLAS_WORKERS = ("numpy", "sklearn", "blas")


# ====================================================== the worker side


def _info():
    info = {"creg_kernel": machine.creg_kernel()}
    import numpy as np
    info["numpy"] = np.__version__
    info["blas"] = machine.blas_info()
    for name in ("torch", "sklearn"):
        try:
            module = __import__(name)
        except ImportError:
            continue
        info[name] = module.__version__
        if name == "torch":
            config = module.__config__.show()
            info["torch_blas"] = ("MKL" if "Math Kernel Library" in config
                                  else "see torch.__config__")
            info["torch_threads"] = module.get_num_threads()
    return info


class Worker:
    """State of one worker process: data and runners, built on demand."""

    def __init__(self):
        self.data, self.runners = {}, {}

    def _data(self, name):
        """The config's data; C1, C2 and C4 share theirs (same n and
        shapes, same seed: the same arrays)."""
        from configs import make_data
        config = CONFIGS[name]
        key = (config.n, config.sizes[0], config.sizes[-1])
        if key not in self.data:
            self.data[key] = make_data(config.n, config.sizes)
        return self.data[key]

    def _runner(self, contender, name, n, threads):
        key = (contender, name, n, threads)
        if key not in self.runners:
            X, y = self._data(name)
            self.runners[key] = peers.RUNNERS[contender](
                CONFIGS[name], X[:n], y[:n], threads)
        return self.runners[key]

    def epoch(self, contender, config, n, threads, warmup):
        if warmup:
            c = CONFIGS[config]
            small = min(n, max(20 * c.batch_size, 2000))
            runner = self._runner(contender, config, small, threads)
            runner.prepare()
            runner.epoch()
            self.runners.pop((contender, config, small, threads))
        runner = self._runner(contender, config, n, threads)
        runner.prepare()
        return runner.epoch()

    def gemm(self, contender, kind, M, N, K, threads, min_seconds):
        import numpy as np
        C, A, B = peers.gemm_operands(kind, M, N, K,
                                      np.random.default_rng(0))
        call = peers.gemm_call(contender, C, A, B, threads)
        with peers.blas_threads(threads):
            seconds = peers.time_gemm(call, min_seconds)
        return {"seconds": seconds, "gflops": 2 * M * N * K / seconds / 1e9}

    def contention(self, workload, condition, rounds, scale):
        import contention
        threads = [1, None, contention.all_threads()]
        samples = contention.measure(contention.Workload(workload, scale),
                                     threads, rounds, condition)
        held = samples.pop("held")
        return {"samples": [[t, v] for t, v in samples.items()],
                "held": held, "threads": threads}

    def check(self, contender, config):
        import equal_work
        if contender == "gemm":
            for kind, M, N, K in gemm_rows(list(CONFIGS)):
                equal_work.check_gemm(kind, M, N, K)
        else:
            equal_work.CHECKS[contender](CONFIGS[config])
        return {"ok": True}


def worker_main():
    """Answer one JSON request per stdin line with one JSON line."""
    out = sys.stdout
    sys.stdout = sys.stderr  # stray prints must not break the protocol
    state = Worker()
    for line in sys.stdin:
        request = json.loads(line)
        op = request.pop("op")
        try:
            reply = _info() if op == "info" else getattr(state, op)(**request)
        except Exception:  # noqa: BLE001  (sent back to the parent)
            reply = {"error": traceback.format_exc()}
        out.write(json.dumps(reply) + "\n")
        out.flush()


# ====================================================== the parent side


class WorkerError(RuntimeError):
    pass


def _cpu_ticks(pid):
    """utime + stime of a process, in clock ticks."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


def _busy_ticks():
    """Non-idle CPU ticks of the whole machine (0 without /proc)."""
    try:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0
    return sum(values) - values[3] - values[4]  # minus idle and iowait


class Process:
    """A worker process and its pipe."""

    def __init__(self, kind, threads=None):
        env = dict(os.environ)
        for var in machine.THREAD_VARS:
            env.pop(var, None)
        if threads is not None:
            env["OPENBLAS_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
        if kind in NUMPY_WORKERS:
            for var in machine.OPENBLAS_TUNING_VARS:
                env.pop(var, None)
        self.kind = kind
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker",
             kind], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
            text=True, bufsize=1)
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") \
            else 100

    def ask(self, op, **request):
        self.proc.stdin.write(json.dumps({"op": op, **request}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise WorkerError(f"worker {self.kind} died")
        reply = json.loads(line)
        if "error" in reply:
            raise WorkerError(reply["error"])
        return reply

    def measure(self, op, **request):
        """ask(), plus the CPU that other processes used meanwhile, in
        cores (busy ticks of the machine minus this worker's)."""
        busy, own = _busy_ticks(), _cpu_ticks(self.proc.pid)
        start = time.perf_counter()
        reply = self.ask(op, **request)
        wall = time.perf_counter() - start
        other = (_busy_ticks() - busy) - (_cpu_ticks(self.proc.pid) - own)
        reply["others_cores"] = max(0.0, other / self.tick / wall)
        return reply

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)


def gemm_rows(configs):
    """(kind, M, N, K) of the GEMM table: every layer's three GEMMs of
    each configuration (deduplicated), then 1024^3."""
    rows = []
    for name in configs:
        config = CONFIGS[name]
        for _, kind, M, N, K in layer_gemms(config.sizes, config.batch_size):
            if (kind, M, N, K) not in rows:
                rows.append((kind, M, N, K))
    rows.append(("square", *PEAK_SHAPE))
    return rows


def gemm_labels(configs):
    """(kind, M, N, K) -> 'C1 L0 forward, C2 ...' for the table."""
    labels = {}
    for name in configs:
        config = CONFIGS[name]
        for layer, kind, M, N, K in layer_gemms(config.sizes,
                                                config.batch_size):
            labels.setdefault((kind, M, N, K), []).append(
                f"{name} L{layer}")
    return labels


def rotate(items, r):
    items = list(items)
    return items[r % len(items):] + items[:r % len(items)] if items else []


def log(*args):
    print(*args, file=sys.stderr, flush=True)


class Report:
    def __init__(self, args):
        self.args = args
        self.workers = {}
        self.epochs = {}      # (config, contender, threads) -> [samples]
        self.gemms = {}       # (contender, kind, M, N, K, threads) -> [...]
        self.skipped = {}     # contender -> why
        self.failed = {}      # (contender, config) -> message
        self.info = {}
        self.contention = {}  # (workload, condition) -> worker's reply
        self.fma = None       # machine.fma_units(), measured in run()

    def worker(self, kind, threads=None):
        key = (kind, threads if kind in BLAS_WORKERS else None)
        if key not in self.workers:
            self.workers[key] = Process(*key)
        return self.workers[key]

    def close(self):
        for proc in self.workers.values():
            proc.close()
        self.workers.clear()

    # ---------------------------------------------------------- stages
    def find_peers(self):
        for contender in self.args.contenders:
            ok, why = peers.available(contender)
            if not ok:
                self.skipped[contender] = why

    def check(self):
        checker = Process("check")
        try:
            for contender in self.args.contenders:
                if (contender in self.skipped
                        or contender not in ("numpy", "torch", "sklearn")):
                    continue
                for name in self.args.configs:
                    try:
                        checker.ask("check", contender=contender,
                                    config=name)
                        log(f"check {contender} {name}: same epoch as creg")
                    except WorkerError as exc:
                        self.failed[(contender, name)] = str(exc)
                        log(f"check {contender} {name} FAILED:\n{exc}")
            if self.args.gemm:
                checker.ask("check", contender="gemm", config="")
                log("check gemm: creg equals numpy.matmul at every shape")
        finally:
            checker.close()

    def wait_idle(self):
        """With --wait-idle S: wait (at most S seconds) until other
        processes use less than BUSY_MARK of a core (our workers are idle
        between samples, so the machine's busy time is theirs)."""
        deadline = time.perf_counter() + self.args.wait_idle
        tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        while time.perf_counter() < deadline:
            busy = _busy_ticks()
            time.sleep(0.5)
            if (_busy_ticks() - busy) / tick / 0.5 < BUSY_MARK:
                return

    def n_used(self, name):
        config = CONFIGS[name]
        scale = self.args.scale_of.get(name, self.args.scale)
        if scale >= 1:
            return config.n
        batches = max(2, round(config.n * scale / config.batch_size))
        return min(config.n, batches * config.batch_size)

    def time_epochs(self):
        contenders = [c for c in self.args.contenders
                      if c not in self.skipped]
        warm = set()
        rounds = max(self.args.rounds_of(name) for name in self.args.configs)
        for r in range(rounds):
            for name in self.args.configs:
                if r >= self.args.rounds_of(name):
                    continue
                n = self.n_used(name)
                # a contender's thread counts back to back: its speed-up
                # compares samples seconds apart, not a round apart
                for contender in rotate(contenders, r):
                    for threads in rotate(self.args.threads, r):
                        if (contender, name) in self.failed:
                            continue
                        key = (name, contender, threads)
                        self.wait_idle()
                        try:
                            proc = self.worker(WORKER_OF[contender], threads)
                            sample = proc.measure(
                                "epoch", contender=contender, config=name,
                                n=n, threads=threads,
                                warmup=key not in warm)
                        except WorkerError as exc:
                            self.failed[(contender, name)] = str(exc)
                            log(f"{contender} {name} failed:\n{exc}")
                            continue
                        warm.add(key)
                        factor = CONFIGS[name].n / n
                        for field in ("seconds", "train_seconds"):
                            if field in sample:
                                sample[field] *= factor
                        self.epochs.setdefault(key, []).append(sample)
                        log(f"round {r + 1} {name} {threads}T {contender}: "
                            f"{sample['seconds']:.3f} s"
                            + (f" (train {sample['train_seconds']:.3f} s)"
                               if "train_seconds" in sample else "")
                            + f"  others {sample['others_cores']:.2f} cores")
                        time.sleep(0.2)  # let spinning OpenMP threads sleep

    def time_gemms(self):
        rows = gemm_rows(self.args.configs) if self.args.gemm \
            else [("square", *PEAK_SHAPE)]
        contenders = ["creg", "numpy"] if self.args.gemm else ["numpy"]
        contenders = [c for c in contenders if c not in self.skipped]
        for r in range(self.args.gemm_rounds):
            for kind, M, N, K in rows:
                self.wait_idle()
                for threads in rotate(self.args.threads, r):
                    for contender in rotate(contenders, r):
                        proc = self.worker("creg" if contender == "creg"
                                           else "blas", threads)
                        sample = proc.measure(
                            "gemm", contender=contender, kind=kind, M=M, N=N,
                            K=K, threads=threads,
                            min_seconds=self.args.gemm_seconds)
                        self.gemms.setdefault(
                            (contender, kind, M, N, K, threads),
                            []).append(sample)
            log(f"GEMM round {r + 1} done")

    def time_contention(self):
        """contention.py's table: one fresh creg worker per condition, so
        that no condition inherits another's view of the machine."""
        import contention
        for condition in contention.CONDITIONS:
            proc = Process("creg")
            try:
                for workload in contention.WORKLOADS:
                    rounds = self.args.contention_rounds * (
                        PREDICT_ROUNDS_FACTOR if workload == "predict" else 1)
                    reply = proc.ask("contention", workload=workload,
                                     condition=condition, rounds=rounds,
                                     scale=self.args.contention_scale)
                    self.contention[(workload, condition)] = reply
                    medians = {t: sorted(v)[len(v) // 2]
                               for t, v in reply["samples"]}
                    log(f"contention {workload} {condition}: " + ", ".join(
                        f"n_threads={t}: {m * 1e3:.2f} ms"
                        for t, m in medians.items()))
            finally:
                proc.close()

    def run(self):
        start = time.perf_counter()
        busy = _busy_ticks()
        try:
            self.find_peers()
            if self.args.check:
                self.check()
            if self.args.epochs:
                self.time_epochs()
            self.time_gemms()
            self.fma = machine.fma_units()
            if self.args.contention:
                self.time_contention()
            for kind in ("creg", "blas", "torch", "sklearn"):
                if kind == "blas" or any(k[0] == kind for k in self.workers):
                    try:
                        self.info[kind] = self.worker(
                            kind, max(self.args.threads)).ask("info")
                    except WorkerError as exc:
                        self.info[kind] = {"error": str(exc)}
        finally:
            self.close()
        self.wall = time.perf_counter() - start
        tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.machine_busy = (_busy_ticks() - busy) / tick / self.wall

    # --------------------------------------------------------- results
    def best(self, key, field="seconds"):
        samples = [s for s in self.epochs.get(key, []) if field in s]
        if not samples:
            return None
        return min(samples, key=lambda s: s[field])

    def peak(self, threads):
        samples = self.gemms.get(("numpy", "square", *PEAK_SHAPE, threads))
        return max(s["gflops"] for s in samples) if samples else None

    def gemm_best(self, contender, kind, M, N, K, threads):
        samples = self.gemms.get((contender, kind, M, N, K, threads))
        return max(samples, key=lambda s: s["gflops"]) if samples else None


# ======================================================== the tables


def fmt_seconds(value):
    if value is None:
        return "–"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def fmt_ratio(value):
    if value is None:
        return "–"
    return f"{value:.0f}×" if value >= 20 else f"{value:.2g}×"


def cell(rep, key, field="seconds"):
    sample = rep.best(key, field)
    if sample is None:
        contender = key[1]
        if contender in rep.skipped:
            return "skipped"
        if (contender, key[0]) in rep.failed:
            return "failed"
        return "–"
    mark = " †" if sample["others_cores"] > BUSY_MARK else ""
    return fmt_seconds(sample[field]) + mark


def epoch_table(rep):
    args = rep.args
    peers = [c for c in ("numpy", "torch", "sklearn", "blas")
             if c in args.contenders]
    head = ["config", "threads"]
    if "creg" in args.contenders:
        head += ["creg fit", "creg training only", "fit ÷ training"]
    head += [LABELS[c] for c in peers]
    head += ["FLOP limit", "creg % of sgemm peak"]
    lines = ["| " + " | ".join(head) + " |",
             "|" + "---|" * len(head)]
    for name in args.configs:
        config = CONFIGS[name]
        flops = epoch_gemm_flops(config)
        for threads in args.threads:
            row = [name, str(threads)]
            if "creg" in args.contenders:
                fit = rep.best((name, "creg", threads))
                row += [cell(rep, (name, "creg", threads)),
                        cell(rep, (name, "creg", threads), "train_seconds"),
                        f"{fit['seconds'] / fit['train_seconds']:.2f}"
                        if fit else "–"]
            row += [cell(rep, (name, c, threads)) for c in peers]
            peak = rep.peak(threads)
            limit = flops / (peak * 1e9) if peak else None
            train = rep.best((name, "creg", threads), "train_seconds")
            row.append(fmt_seconds(limit))
            row.append(f"{100 * limit / train['train_seconds']:.0f}%"
                       if limit and train else "–")
            lines.append("| " + " | ".join(row) + " |")
    return lines


def ratio_table(rep):
    args = rep.args
    peers = [c for c in ("numpy", "torch", "sklearn", "blas")
             if c in args.contenders]
    head = ["config", "threads"] + [f"{LABELS[c]} ÷ creg" for c in peers]
    if len(args.threads) > 1:
        head.append(f"creg speed-up over {args.threads[0]} thread")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in args.configs:
        for threads in args.threads:
            creg = rep.best((name, "creg", threads))
            train = rep.best((name, "creg", threads), "train_seconds")
            row = [name, str(threads)]
            for c in peers:
                peer = rep.best((name, c, threads))
                if not (peer and creg and train):
                    row.append("–")
                    continue
                whole_fit = peer["seconds"] / creg["seconds"]
                training = peer["seconds"] / train["train_seconds"]
                row.append(f"{fmt_ratio(whole_fit)} / "
                           f"{fmt_ratio(training)}")
            if len(args.threads) > 1:
                one = rep.best((name, "creg", args.threads[0]))
                one_t = rep.best((name, "creg", args.threads[0]),
                                 "train_seconds")
                if one and creg and train and one_t:
                    row.append(
                        f"{fmt_ratio(one['seconds'] / creg['seconds'])} / "
                        + fmt_ratio(one_t["train_seconds"]
                                    / train["train_seconds"]))
                else:
                    row.append("–")
            lines.append("| " + " | ".join(row) + " |")
    return lines


def scaling_tables(rep):
    """One table per configuration, thread counts across: seconds per
    epoch of each contender, the FLOP limit, creg's share of the sgemm
    peak and its speed-up over the first thread count."""
    args = rep.args
    cores = machine.usable_cores()
    over = [t for t in args.threads if t > cores]
    head = [f"{t}" + (" ‡" if t in over else "") for t in args.threads]
    first = args.threads[0]
    out = []
    for name in args.configs:
        flops = epoch_gemm_flops(CONFIGS[name])
        lines = ["| " + " | ".join([f"{name}, s/epoch"] + head) + " |",
                 "|" + "---|" * (len(head) + 1)]
        rows = []
        if "creg" in args.contenders:
            rows += [("creg fit", "creg", "seconds"),
                     ("creg training", "creg", "train_seconds")]
        rows += [(LABELS[c], c, "seconds")
                 for c in ("blas", "numpy", "torch", "sklearn")
                 if c in args.contenders]
        for label, contender, field in rows:
            lines.append("| " + " | ".join(
                [label] + [cell(rep, (name, contender, t), field)
                           for t in args.threads]) + " |")
        limits = {t: flops / (rep.peak(t) * 1e9) if rep.peak(t) else None
                  for t in args.threads}
        lines.append("| " + " | ".join(
            ["FLOP limit (same-run sgemm peak)"]
            + [fmt_seconds(limits[t]) for t in args.threads]) + " |")
        if "creg" in args.contenders:
            train = {t: rep.best((name, "creg", t), "train_seconds")
                     for t in args.threads}
            lines.append("| " + " | ".join(
                ["creg training % of peak"]
                + [f"{100 * limits[t] / train[t]['train_seconds']:.0f}%"
                   if limits[t] and train[t] else "–"
                   for t in args.threads]) + " |")
            base = train[first]
            lines.append("| " + " | ".join(
                [f"creg training speed-up over {first} thread"]
                + [fmt_ratio(base["train_seconds"] / train[t]
                             ["train_seconds"]) if base and train[t] else "–"
                   for t in args.threads]) + " |")
        out += lines + [""]
    if over:
        out.append(f"‡ more threads than the {cores} usable cores: the "
                   "threads share cores.")
        out.append("")
    return out


GEMM_WHAT = {"forward": "Z = X·Wᵀ", "dW": "dW = dZᵀ·X",
             "dX": "dX = dZ·W", "square": "C = A·B"}


def gemm_table(rep):
    args = rep.args
    labels = gemm_labels(args.configs)
    head = ["GEMM", "M×N×K"]
    for t in args.threads:
        head += [f"creg {t}T", f"numpy {t}T", f"creg ÷ numpy {t}T"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for kind, M, N, K in gemm_rows(args.configs):
        where = ", ".join(labels.get((kind, M, N, K), ["square"]))
        row = [f"{where}: {GEMM_WHAT[kind]}", f"{M}×{N}×{K}"]
        for t in args.threads:
            c = rep.gemm_best("creg", kind, M, N, K, t)
            n = rep.gemm_best("numpy", kind, M, N, K, t)
            row += [f"{c['gflops']:.1f}" if c else "–",
                    f"{n['gflops']:.1f}" if n else "–",
                    f"{c['gflops'] / n['gflops']:.2f}" if c and n else "–"]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def fma_line(fma):
    """machine.fma_units()'s measurement as a sentence."""
    if fma is None:
        return "FMA units unknown (fma_probe.c runs on x86-64 with AVX2)"
    g256, g512, units = fma
    rates = f"{g256:.0f} GFLOP/s at 256 bits"
    if g512:
        rates += f", {g512:.0f} at 512 bits"
    return (f"FMA units measured, not read from cpuid: {units}; one core's "
            f"float32 FMA peak {rates} (fma_probe.c, best of 31)")


def machine_section(rep):
    compiler, flags = machine.creg_build()

    def absent(contender, distribution):
        """A peer no worker reported on (its versions come from its own
        workers): installed or not, read from its package metadata (the
        sweep section may still run it in this process)."""
        try:
            version = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"
        return version + (", no epoch worker ran it"
                          if contender in rep.args.contenders
                          else ", not among this run's contenders")

    creg_info = rep.info.get("creg", {})
    blas = rep.info.get("blas", {})
    torch = rep.info.get("torch", {})
    sk = rep.info.get("sklearn", {})
    env = machine.thread_env()
    removed = [v for v in machine.OPENBLAS_TUNING_VARS if v in env]
    lines = [
        f"- CPU: {machine.cpu_model()} "
        f"({', '.join(machine.cpu_flags()) or 'no AVX2'}), "
        f"{machine.usable_cores()} usable cores",
        f"- vectors: {machine.vector_width()} (CPU flags); "
        + fma_line(rep.fma),
        f"- creg {machine.git_revision()}: {compiler}, {flags}; GEMM "
        f"kernels `{creg_info.get('creg_kernel') or machine.creg_kernel()}`"
        " (chosen at run time)",
        f"- numpy {blas.get('numpy', '?')}, BLAS: {blas.get('blas', '?')}"
        + (f" (run with {' and '.join(removed)} unset)" if removed else ""),
        (f"- PyTorch {torch['torch']} ({torch.get('torch_blas')})"
         if "torch" in torch else "- PyTorch: " + absent("torch", "torch")),
        (f"- scikit-learn {sk['sklearn']}" if "sklearn" in sk
         else "- scikit-learn: " + absent("sklearn", "scikit-learn")),
        "- threads: creg `n_threads=T`, PyTorch `torch.set_num_threads(T)`,"
        " numpy/scikit-learn/GEMMs one process per T with "
        "OPENBLAS_NUM_THREADS=T"
        + (" and threadpoolctl `limits=T`" if peers.HAVE_THREADPOOLCTL
           else "")
        + "; thread env "
        "of this shell: "
        + (", ".join(f"{k}={v}" for k, v in env.items()) or "none")
        + " (removed for the workers); creg's OpenMP threads bound to "
        f"cores: {machine.omp_binding() or '?'}",
        f"- machine load: {rep.machine_busy:.2f} of {machine.usable_cores()}"
        f" cores busy on average over the {rep.wall / 60:.1f} min run "
        "(this report included)",
    ]
    return lines


CONTENTION_WHAT = {
    "idle": "nothing started",
    "spinner": "1 spinning process",
    "after numpy": "after numpy.matmul on all cores",
}


def fmt_call(seconds, workload):
    return (f"{seconds * 1e3:.2f} ms" if workload == "predict"
            else fmt_seconds(seconds))


def contention_table(rep):
    """Median per call at n_threads=1, the default and every core."""
    import contention
    head = ["workload", "condition", "n_threads=1", "default",
            "default ÷ 1", "all cores", "all ÷ 1", "default teams held"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for workload in contention.WORKLOADS:
        for condition in contention.CONDITIONS:
            reply = rep.contention.get((workload, condition))
            if reply is None:
                continue
            medians = {t: statistics.median(v) for t, v in reply["samples"]}
            every = reply["threads"][-1]
            held, decided = reply["held"]
            lines.append("| " + " | ".join([
                workload if condition == contention.CONDITIONS[0] else "",
                CONTENTION_WHAT[condition],
                fmt_call(medians[1], workload),
                fmt_call(medians[None], workload),
                f"{medians[None] / medians[1]:.2f}",
                f"{fmt_call(medians[every], workload)} ({every})",
                f"{medians[every] / medians[1]:.2f}",
                f"{held} of {decided}"]) + " |")
    return lines


def contention_section(rep):
    import contention
    rounds = rep.args.contention_rounds
    scale = rep.args.contention_scale
    return ["### Default threads beside other work (medians of "
            f"{rounds} alternating rounds; predict "
            f"{rounds * PREDICT_ROUNDS_FACTOR})",
            ""] + contention_table(rep) + [
        "",
        f"- predict = `predict_proba` of {contention.PREDICT_ROWS:,} rows "
        "through C1's [784, 30, 10]; C1 fit and C3 fit = `fit(epochs=1)` "
        f"on their first {int(contention.C1_ROWS * scale):,}"
        f" and {int(contention.C3_ROWS * scale):,} rows "
        "(fit's monitor pass included).",
        "- default = `n_threads=None`: creg holds its team back while other "
        "processes hold cores (csrc/team.h); all cores = an explicit "
        "`n_threads` of OpenMP's default team, which creg never changes. "
        "\"default teams held\" counts the default teams that ran on fewer "
        "threads, of those decided.",
        "- 1 spinning process = `python -c \"while True: pass\"` for the "
        "whole measurement; after numpy = an untimed "
        f"{contention.MATMUL_SIZE}² float32 `numpy.matmul` (OpenBLAS on "
        "every core) before each call.",
        ""]


def print_report(rep):
    args = rep.args
    out = []
    if args.epochs:
        out += ["### Seconds per epoch (float32, best of "
                + ", ".join(f"{n}: {args.rounds_of(n)}" for n in args.configs)
                + " interleaved rounds)", ""]
        out += epoch_table(rep)
        out += ["", "### creg's speed-up (peer time ÷ creg time: creg's "
                "fit / its training only)", ""]
        out += ratio_table(rep)
        out += [""]
        if len(args.threads) > 2:
            out += ["### Scaling with threads (seconds per epoch, best "
                    "rounds)", ""] + scaling_tables(rep)
        notes = []
        for name in args.configs:
            config = CONFIGS[name]
            n = rep.n_used(name)
            line = (f"- {name}: {config.summary}, n={config.n:,}, "
                    f"{epoch_gemm_flops(config) / 1e9:.1f} GFLOP of GEMMs "
                    "per epoch")
            if n < config.n:
                line += (f"; timed on the first {n:,} rows and scaled "
                         f"×{config.n / n:.3g} to n={config.n:,} "
                         "(per-sample normalisation)")
            notes.append(line + ".")
        out += notes
        for (contender, name), why in sorted(peers.LIMITATIONS.items()):
            if contender in args.contenders and name in args.configs:
                out.append(f"- {LABELS[contender]} on {name}: {why}.")
        for contender, why in rep.skipped.items():
            out.append(f"- {LABELS[contender]} skipped: {why}.")
        for (contender, name), why in rep.failed.items():
            out.append(f"- {LABELS[contender]} {name} failed: "
                       f"{why.strip().splitlines()[-1]}")
        out += [
            "- creg fit = wall time of `Network.fit(..., epochs=1)`: "
            "argument checks, the epoch and its history, whose training "
            "metrics are the running means of the training pass (no extra "
            "pass over X); creg training only = `sum(history.seconds)`; "
            "fit ÷ training = the two in fit's best sample.",
            "- OpenBLAS GEMMs alone = numpy.matmul into preallocated "
            "outputs for exactly the GEMMs of the epoch (per step: forward "
            "of every layer, dW of every layer, dX of every layer but the "
            "first), called from Python. FLOP limit = those FLOPs ÷ numpy's "
            "sgemm GFLOP/s at 1024³ at the same thread count; creg % = FLOP "
            "limit ÷ creg training only.",
            f"- † = other processes used more than {BUSY_MARK} core during "
            "that best sample."]
        alone = [name for name in ONE_THREAD_CONFIGS if name in args.configs]
        if alone and max(args.threads) > 1:
            its, their = ("its", "Its") if len(alone) == 1 else \
                ("their", "Their")
            out.append(
                f"- creg trains {', '.join(alone)} on one thread whatever "
                f"n_threads is: {its} steps are too small to split, and no "
                f"OpenMP team starts (tests/test_threads.py). {their} rows "
                "at 1 and 2 threads time the same code, so they differ by "
                "the machine's noise alone.")
        out.append("")
    peak = ", ".join(f"{t}T {rep.peak(t):.1f}" for t in args.threads
                     if rep.peak(t))
    if args.gemm:
        out += [f"### GEMM GFLOP/s (float32, best of {args.gemm_rounds} "
                "rounds)", ""]
        out += gemm_table(rep)
        out += ["", "Operands are the strided views training uses "
                "(Z = X·Wᵀ with Wᵀ a transposed view, dW = dZᵀ·X with dZᵀ a "
                "transposed view); creg: "
                "`creg._core.gemm(C, A, B, 1, 0, T)`, numpy: "
                "`numpy.matmul(A, B, out=C)`.", ""]
    out += [f"numpy sgemm peak at 1024³ (GFLOP/s): {peak or '–'}", ""]
    if args.contention:
        out += contention_section(rep)
    out += ["### Machine", ""] + machine_section(rep)
    print("\n".join(out))


# =========================================================== arguments


def parse(argv):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\nPrints")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--configs", default=",".join(CONFIGS),
                   help="comma-separated subset of C1,C2,C3,C4")
    p.add_argument("--threads", default=",".join(map(str, THREADS)))
    p.add_argument("--contenders",
                   default="creg,numpy,torch,sklearn,blas",
                   help="subset of creg,numpy,torch,sklearn,blas")
    p.add_argument("--rounds", default=None,
                   help="rounds for every config (N) or per config "
                        "(C1=5,C3=2); default "
                        + ",".join(f"{k}={v}"
                                   for k, v in DEFAULT_ROUNDS.items()))
    p.add_argument("--scale", default=None,
                   help="fraction of n to time, for all configs (0.25) or "
                        "per config (C3=0.25); times are scaled back to "
                        "the full n; default "
                        + ",".join(f"{k}={v}"
                                   for k, v in DEFAULT_SCALE.items())
                        + " (C4=1 for the full n)")
    p.add_argument("--gemm-rounds", type=int, default=3)
    p.add_argument("--gemm-seconds", type=float, default=0.05,
                   help="length of one GEMM timing (best of 3 per round)")
    p.add_argument("--no-gemm", dest="gemm", action="store_false",
                   help="skip the GEMM table (the 1024³ peak is still "
                        "measured)")
    p.add_argument("--no-epochs", dest="epochs", action="store_false")
    p.add_argument("--no-contention", dest="contention",
                   action="store_false",
                   help="skip the table of creg's default thread count "
                        "beside other work")
    p.add_argument("--contention-rounds", type=int, default=9,
                   help="rounds of each contention workload (predict: 20 "
                        "times as many)")
    p.add_argument("--contention-scale", type=float, default=1.0,
                   help="fraction of the contention fits' rows "
                        "(contention.py: C1_ROWS, C3_ROWS)")
    p.add_argument("--no-check", dest="check", action="store_false",
                   help="skip the equal-work checks")
    p.add_argument("--quick", action="store_true",
                   help=f"n × {QUICK_SCALE}, one round, short GEMM timings")
    p.add_argument("--wait-idle", type=float, default=0.0, metavar="S",
                   help="before each epoch sample, wait up to S seconds "
                        "for other processes to leave the CPUs idle")
    p.add_argument("--no-sweep", dest="sweep", action="store_false",
                   help="skip the 16-point sweep section (sweep_work.py)")
    p.add_argument("--sweep-rounds", type=int, default=7)
    p.add_argument("--sweep-torch-rounds", type=int, default=3,
                   help="rounds that include PyTorch's 16 epochs (slow)")
    p.add_argument("--json", help="write every sample to this file")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return args
    args.configs = [c.strip().upper() for c in args.configs.split(",")]
    unknown = [c for c in args.configs if c not in CONFIGS]
    if unknown:
        p.error(f"unknown configs {unknown}; choose from {list(CONFIGS)}")
    args.threads = [int(t) for t in args.threads.split(",")]
    args.contenders = [c.strip() for c in args.contenders.split(",")]
    bad = [c for c in args.contenders if c not in peers.CONTENDERS]
    if bad:
        p.error(f"unknown contenders {bad}")
    rounds = dict(DEFAULT_ROUNDS)
    scale_spec, args.scale = args.scale, 1.0
    args.scale_of = dict(DEFAULT_SCALE)
    if args.quick:
        args.scale_of = {}
        rounds = dict.fromkeys(CONFIGS, 1)
        args.scale = QUICK_SCALE
        args.gemm_rounds = 1
        args.contention_rounds = min(args.contention_rounds, 3)
        args.contention_scale = min(args.contention_scale, 0.25)
        args.gemm_seconds = min(args.gemm_seconds, 0.02)
    for part in (args.rounds or "").split(","):
        if part:
            name, _, value = part.rpartition("=")
            rounds.update({name.upper(): int(value)} if name
                          else dict.fromkeys(CONFIGS, int(value)))
    for part in (scale_spec or "").split(","):
        name, _, value = part.rpartition("=")
        if name:
            args.scale_of[name.upper()] = float(value)
        elif value:  # one fraction for every config
            args.scale, args.scale_of = float(value), {}
    args.rounds_of = lambda name: rounds[name]
    return args


def main(argv=None):
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.worker:
        worker_main()
        return
    rep = Report(args)
    rep.run()
    print_report(rep)
    if args.sweep:
        import sweep_work
        n = max(1000, round(sweep_work.CONFIG.n * args.scale))
        rounds = 1 if args.quick else args.sweep_rounds
        print("\n".join(sweep_work.report_section(
            n, rounds, min(rounds, args.sweep_torch_rounds), log)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"epochs": {"|".join(map(str, k)): v
                                  for k, v in rep.epochs.items()},
                       "gemms": {"|".join(map(str, k)): v
                                 for k, v in rep.gemms.items()},
                       "contention": {"|".join(k): v for k, v
                                      in rep.contention.items()},
                       "info": rep.info, "skipped": rep.skipped,
                       "failed": rep.failed}, f, indent=1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Parallel regions, barriers and the time outside them, per training step.

    python benchmarks/regions.py                  # C1 and C3, 1 and 2 threads
    python benchmarks/regions.py --configs C3 --threads 2,4 --rows 6016

What one shuffled training epoch (``_core.train_batches``, the SGD steps
without fit's monitor pass) spends inside OpenMP parallel regions and
outside them (the serial tail: whatever one thread does while the others
wait), how many regions and barriers each step runs, and how late the
team's workers arrive. A team of 16 threads can only shorten the time
inside regions, so the time outside bounds what many cores can gain.

How: regions_shim.c, compiled here with the C compiler into a temporary
directory and preloaded (LD_PRELOAD) into a child process, wraps libgomp's
GOMP_parallel and GOMP_barrier, which creg's extension calls through its
PLT. Nothing in creg's build changes. Linux, GCC/libgomp builds only
(clang's libomp enters regions through __kmpc_fork_call). Explicit
n_threads, so creg's default-team policy does not change the team.

With --by-region, a table per row follows: each region of a step in
order, by the function it ran (the compiler's outlined ``*._omp_fn.N``
named by ``nm`` where the extension keeps its symbols), with the medians
over the steps of its length, the serial time before it (since the
previous region ended), its latest worker's lateness and the master's
wait at its end.
"""
import argparse
import ctypes
import functools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from configs import CONFIGS, make_data, one_hot  # noqa: E402

DEFAULT_ROWS = {"C1": 10_000, "C2": 10_000, "C3": 3_840, "C4": 2_000}
FIELDS = ("regions", "barriers", "inside", "late", "master_wait", "team",
          "own")


def train_epoch(config, X, Y, n_threads):
    """One shuffled epoch of `config` through _core.train_batches, as
    Network.fit runs it; returns its wall seconds."""
    import numpy as np

    import creg
    from creg import _core
    from creg._descriptors import Noise, StepRule
    net = creg.Network(list(config.sizes), dtype="float32", seed=0,
                       **config.net)
    n, bs = X.shape[0], config.batch_size
    rule = config.scaled_rule(n)
    step = StepRule(lr=rule["lr"], momentum=rule.get("momentum", 0.0),
                    l2=rule["l2"], l1=rule["l1"], l1_prox=1,
                    max_norm=rule.get("max_norm", 0.0))
    noise = Noise(dropout=rule.get("dropout", 0.0),
                  input_noise=rule.get("input_noise", 0.0), seed=0, epoch=0)
    order = np.empty(n, np.int64)
    _core.shuffle(order, 0, 0)
    velocity = np.zeros_like(net.params)
    start = time.perf_counter()
    _core.train_batches(net.params, velocity, net._train_scratch(bs, step),
                        net._workspace(bs), X, Y, order, batch_size=bs,
                        first_batch=0, n_batches=-(-n // bs), net=net._spec,
                        rule=step, noise=noise, n_threads=n_threads)
    return time.perf_counter() - start


RECORD_FIELDS = ("gap", "inside", "late", "master_wait", "team")


def records(shim):
    """[(object path, function offset, {field: value})] of the regions
    since the shim's last reset."""
    values = (ctypes.c_double * len(RECORD_FIELDS))()
    path = ctypes.c_char_p()
    out = []
    for i in range(shim.regions_count()):
        offset = shim.regions_record(i, values, ctypes.byref(path))
        out.append(((path.value or b"").decode(), offset,
                    dict(zip(RECORD_FIELDS, values))))
    return out


@functools.lru_cache(maxsize=None)
def function_names(path):
    """{offset: name} of the functions in an object's symbol table
    (empty if nm is missing or the object is stripped)."""
    try:
        listed = subprocess.run(["nm", "--defined-only", path],
                                capture_output=True, text=True).stdout
    except OSError:
        listed = ""
    return {int(parts[0], 16): parts[2]
            for parts in map(str.split, listed.splitlines())
            if len(parts) == 3 and parts[1] in "tT"}


def region_table(name, threads, steps, recs):
    """The regions of a step in order, medians over the steps."""
    lines = [f"{name}, {threads} threads: the regions of a step (medians "
             f"over {steps} steps; µs)", "",
             "| # | region | team | inside | serial before it | "
             "latest worker late | master waits |", "|" + "---|" * 7]
    if not recs or len(recs) % steps:
        return lines[:1] + [f"{len(recs)} regions in {steps} steps: no "
                            "fixed order to show", ""]
    per_step = len(recs) // steps
    for k in range(per_step):
        at = recs[k::per_step]
        path, offset = at[0][0], at[0][1]
        label = function_names(path).get(offset, f"+{offset:#x}")
        m = {field: statistics.median(r[2][field] for r in at)
             for field in RECORD_FIELDS}
        lines.append(f"| {k + 1} | {label} | {m['team']:.0f} | "
                     f"{m['inside'] * 1e6:.1f} | {m['gap'] * 1e6:.1f} | "
                     f"{m['late'] * 1e6:.1f} | "
                     f"{m['master_wait'] * 1e6:.1f} |")
    return lines + [""]


def inside(args):
    """Runs in the preloaded child: one table row per config x threads."""
    shim = ctypes.CDLL(os.environ["LD_PRELOAD"])
    shim.regions_record.restype = ctypes.c_ulong
    totals = (ctypes.c_double * len(FIELDS))()
    tables = []
    for name in args.configs:
        config = CONFIGS[name]
        rows = args.rows or DEFAULT_ROWS[name]
        rows -= rows % config.batch_size
        X, y = make_data(rows, config.sizes)
        Y = one_hot(y, config.sizes[-1])
        steps = rows // config.batch_size
        for threads in args.threads:
            train_epoch(config, X[:4 * config.batch_size],
                        Y[:4 * config.batch_size], threads)  # warm-up
            best = None
            for _ in range(args.repeat):
                shim.regions_reset()
                wall = train_epoch(config, X, Y, threads)
                shim.regions_read(totals)
                if best is None or wall < best[0]:
                    best = (wall, dict(zip(FIELDS, totals)),
                            records(shim) if args.by_region else None)
            print(row(name, threads, steps, *best[:2]), flush=True)
            if args.by_region and best[1]["regions"]:
                tables += region_table(name, threads, steps, best[2])
    if tables:
        print("\n" + "\n".join(tables), flush=True)


def row(name, threads, steps, wall, t):
    per_step = wall / steps * 1e3
    regions = t["regions"]
    inside_ms = t["inside"] / steps * 1e3
    # the shim's own bookkeeping is creg's time neither inside nor out
    per_step -= t["own"] / steps * 1e3
    outside_ms = per_step - inside_ms
    late = t["late"] / regions * 1e6 if regions else 0
    wait = t["master_wait"] / regions * 1e6 if regions else 0
    return (f"| {name} | {threads} | {steps} | {per_step:.3f} | "
            f"{regions / steps:.2f} | {t['barriers'] / steps:.2f} | "
            f"{(t['barriers'] + regions) / steps:.2f} | {inside_ms:.3f} | "
            f"{outside_ms:.3f} | {100 * outside_ms / per_step:.0f}% | "
            f"{late:.0f} | {wait:.0f} |")


HEAD = ("| config | threads | steps | ms/step | regions/step | "
        "omp-for barriers/step | barriers/step incl. region ends | "
        "ms/step in regions | ms/step outside | outside share | "
        "worker late µs/region | master waits µs/region |\n"
        "|" + "---|" * 12)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    p.add_argument("--configs", default="C1,C3")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--rows", type=int, default=None,
                   help="rows of the epoch (default "
                        + ", ".join(f"{k} {v:,}"
                                    for k, v in DEFAULT_ROWS.items()) + ")")
    p.add_argument("--repeat", type=int, default=3,
                   help="epochs per row; the fastest is shown")
    p.add_argument("--by-region", action="store_true",
                   help="also each region of a step: its function, length, "
                        "the serial time before it and the waits")
    p.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.configs = [c.strip().upper() for c in args.configs.split(",")]
    args.threads = [int(t) for t in args.threads.split(",")]
    if args.inside:
        inside(args)
        return
    if not sys.platform.startswith("linux"):
        sys.exit("regions.py needs Linux (LD_PRELOAD, libgomp)")
    with tempfile.TemporaryDirectory() as tmp:
        shim = Path(tmp) / "regions_shim.so"
        subprocess.run([os.environ.get("CC", "cc"), "-O2", "-shared",
                        "-fPIC", "-o", str(shim),
                        str(HERE / "regions_shim.c"), "-fopenmp", "-ldl"],
                       check=True)
        env = dict(os.environ, LD_PRELOAD=str(shim))
        print(HEAD, flush=True)
        subprocess.run([sys.executable, __file__, "--inside",
                        *(argv if argv is not None else sys.argv[1:])],
                       env=env, check=True)


if __name__ == "__main__":
    main()

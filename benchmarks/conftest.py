"""pytest setup for benchmarks/: collect bench_*.py, size the runs, report
the machine.

pyproject.toml keeps testpaths = ["tests"] and the default python_files
(test_*.py), so `python -m pytest` never runs benchmarks. An ini option
cannot be changed from a conftest, so this file collects bench_*.py itself
(pytest_collect_file). `python -m pytest benchmarks` then runs every
benchmark, and naming one file on the command line works as usual.

How much data an epoch benchmark uses (the ``bench_n`` fixture):

- ``CREG_BENCH_SCALE=F`` in the environment: F x the configuration's n
  (1 = the full n of issue 4; rounded to whole batches);
- otherwise with ``--benchmark-disable`` (the CI smoke test): a few
  batches per configuration (SMOKE_N), so the whole directory runs in
  well under a minute;
- otherwise DEFAULT_SCALE x n.

Benchmark numbers mean nothing without the machine and the build, so the
header of every run (and the machine_info of --benchmark-json) carries the
CPU model, core count, compiler, flags, creg's kernel level and the thread
settings.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
pytest.register_assert_rewrite("equal_work")

import machine  # noqa: E402

DEFAULT_SCALE = 0.1
SMOKE_N = {"C1": 500, "C2": 500, "C3": 256, "C4": 100}

# Without threadpoolctl the peers' BLAS cannot be told its thread count
# per benchmark, so it is pinned to one thread before numpy is imported
# (an exported value wins) and the 2-thread numpy rows are skipped.
try:  # threadpoolctl does not import numpy
    import threadpoolctl  # noqa: F401
    HAVE_THREADPOOLCTL = True
except ImportError:
    HAVE_THREADPOOLCTL = False
if not HAVE_THREADPOOLCTL and "numpy" not in sys.modules:
    for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")


def pytest_collect_file(file_path, parent):
    if (file_path.suffix == ".py" and file_path.name.startswith("bench_")
            and not parent.session.isinitpath(file_path)):
        # Named on the command line, pytest's python plugin collects it.
        return pytest.Module.from_parent(parent, path=file_path)
    return None


def pytest_report_header(config):
    return machine.machine_lines() + [
        f"epoch data: {describe_scale(config)}; BLAS threads "
        + ("set per benchmark (threadpoolctl)" if HAVE_THREADPOOLCTL else
           "pinned to 1 (no threadpoolctl)")]


def describe_scale(config):
    scale = os.environ.get("CREG_BENCH_SCALE")
    if scale:
        return f"CREG_BENCH_SCALE={scale} x n"
    if config.getoption("benchmark_disable", False):
        return "smoke sizes " + ", ".join(f"{k} n={v}"
                                          for k, v in SMOKE_N.items())
    return f"{DEFAULT_SCALE} x n (set CREG_BENCH_SCALE=1 for the full n)"


def pytest_benchmark_update_machine_info(config, machine_info):
    compiler, flags = machine.creg_build()
    machine_info["creg"] = {
        "cpu_model": machine.cpu_model(),
        "cores_usable": machine.usable_cores(),
        "compiler": compiler,
        "flags": flags,
        "kernel": machine.creg_kernel(),
        "revision": machine.git_revision(),
        "thread_env": machine.thread_env(),
        "blas": machine.blas_info(),
    }


@pytest.fixture(scope="session")
def bench_n(request):
    """bench_n(config) -> the number of rows an epoch benchmark uses."""
    scale = os.environ.get("CREG_BENCH_SCALE")
    smoke = request.config.getoption("benchmark_disable", False)

    def n_for(config):
        if scale is None and smoke:
            return min(config.n, SMOKE_N[config.name])
        fraction = float(scale) if scale is not None else DEFAULT_SCALE
        batches = max(2, round(config.n * fraction / config.batch_size))
        return min(config.n, batches * config.batch_size)
    return n_for

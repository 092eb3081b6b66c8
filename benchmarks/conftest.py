"""pytest setup for benchmarks/: collect bench_*.py and report the machine.

pyproject.toml keeps testpaths = ["tests"] and the default python_files
(test_*.py), so `python -m pytest` never runs benchmarks. An ini option
cannot be changed from a conftest, so this file collects bench_*.py itself
(pytest_collect_file). `python -m pytest benchmarks` then runs every
benchmark, and naming one file on the command line works as usual.

Benchmark numbers mean nothing without the machine and the build, so the
header of every run (and the machine_info of --benchmark-json) carries the
CPU model, core count, compiler, flags and the thread settings.
"""
import os
import platform
import re
import sys
from pathlib import Path

import pytest

pytest.register_assert_rewrite("bench_epoch")

# The peers run on one core, like creg with n_threads=1. BLAS reads these
# when numpy is first imported, which has not happened yet when pytest
# loads this file. An exported value wins; the header shows what was used.
BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
if "numpy" not in sys.modules:
    for _var in BLAS_THREAD_VARS:
        os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parents[1]


def pytest_collect_file(file_path, parent):
    if (file_path.suffix == ".py" and file_path.name.startswith("bench_")
            and not parent.session.isinitpath(file_path)):
        # Named on the command line, pytest's python plugin collects it.
        return pytest.Module.from_parent(parent, path=file_path)
    return None


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count()


def creg_build():
    """(compiler, flags) of the installed creg._core, best effort.

    The compiler is read from the extension's .comment section (GCC and
    clang write their version there); the flags from the CMake cache of
    the build tree, when there is one.
    """
    compiler = flags = "unknown"
    try:
        import creg._core as core
        data = Path(core.__file__).read_bytes()
        found = re.findall(
            rb"(GCC: \([^)]*\) [\w.\-]+|clang version [\w.\-]+)", data)
        if found:
            compiler = found[-1].decode()
    except (ImportError, OSError):
        pass
    for cache in sorted(ROOT.glob("build/*/CMakeCache.txt")):
        entries = dict(re.findall(r"^(CMAKE_[A-Z_]+):[A-Z]+=(.*)$",
                                  cache.read_text(), re.MULTILINE))
        build_type = entries.get("CMAKE_BUILD_TYPE", "")
        flags = " ".join(filter(None, (
            entries.get("CMAKE_C_FLAGS", ""),
            entries.get(f"CMAKE_C_FLAGS_{build_type.upper()}", ""))))
        flags = f"{build_type}: {flags or '(none)'} ({cache.parent.name})"
        break
    return compiler, flags


def thread_env():
    """The thread-count variables set in the environment."""
    names = ("OMP_NUM_THREADS", *BLAS_THREAD_VARS)
    return {k: os.environ[k] for k in names if k in os.environ}


def machine_lines():
    compiler, flags = creg_build()
    env = ", ".join(f"{k}={v}" for k, v in thread_env().items())
    return [
        (f"cpu: {cpu_model()}; cores usable: {usable_cores()} "
         f"(os.cpu_count {os.cpu_count()})"),
        f"creg build: {compiler}; flags {flags}",
        f"thread env: {env or 'none set'}",
    ]


def pytest_report_header(config):
    return machine_lines()


def pytest_benchmark_update_machine_info(config, machine_info):
    compiler, flags = creg_build()
    machine_info["creg"] = {
        "cpu_model": cpu_model(),
        "cores_usable": usable_cores(),
        "compiler": compiler,
        "flags": flags,
        "thread_env": thread_env(),
    }

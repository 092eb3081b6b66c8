"""What a benchmark number needs next to it: the machine and the build.

Used by conftest.py (pytest header, --benchmark-json machine_info) and by
report.py. Nothing here imports numpy at module level: conftest.py must be
able to set BLAS variables before numpy is first imported.
"""
import importlib.util
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# Set on some machines of this workplace for old OpenBLAS builds; they slow
# a current numpy, so report.py unsets both for its numpy processes.
OPENBLAS_TUNING_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags():
    """The SIMD flags that matter for the kernels, from /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    have = set(line.split(":", 1)[1].split())
                    return [x for x in ("avx2", "fma", "avx512f")
                            if x in have]
    except OSError:
        pass
    return []


def vector_width():
    """The widest SIMD vectors the CPU has, from its flags: "512-bit
    (AVX-512F)", "256-bit (AVX2+FMA)", ... ("unknown" without /proc)."""
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return "unknown"
    have = set()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            have = set(line.split(":", 1)[1].split())
            break
    if "avx512f" in have:
        return "512-bit (AVX-512F)"
    if "avx2" in have:
        return "256-bit (AVX2" + ("+FMA)" if "fma" in have else ")")
    if "sve" in have:
        return "SVE (length set by the CPU) and 128-bit NEON"
    if "asimd" in have:
        return "128-bit (NEON)"
    if "sse2" in have:
        return "128-bit (SSE2)"
    return "unknown"


def fma_units():
    """What fma_probe.c measures on one core: (GFLOP/s at 256 bits, at 512
    bits or None, a sentence on the 512-bit FMA units), or None where it
    cannot run (not x86-64, no C compiler, no AVX2+FMA).

    cpuid does not tell how many FMA units a core has; the ratio of the
    512-bit to the 256-bit FMA rate does (every AVX2 core retires two
    256-bit FMAs a cycle)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        exe = Path(tmp) / "fma_probe"
        try:
            subprocess.run([os.environ.get("CC", "cc"), "-O2", "-o", str(exe),
                            str(Path(__file__).with_name("fma_probe.c"))],
                           check=True, capture_output=True)
            line = subprocess.run([str(exe)], check=True, capture_output=True,
                                  text=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return None
    g256, g512 = (float(v) for v in line.split())
    if g256 <= 0:
        return None
    if g512 <= 0:
        return g256, None, "no AVX-512"
    ratio = g512 / g256
    if ratio >= 1.6:
        units = "two 512-bit FMA units per core"
    elif ratio <= 1.25:
        units = ("one 512-bit FMA unit per core (or 256-bit halves): "
                 "512-bit FMAs run at the 256-bit rate")
    else:
        units = ("between one and two 512-bit FMA units' rate (a busy "
                 "machine?)")
    return g256, g512, f"{units} (512/256-bit rate {ratio:.2f})"


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
    spec = importlib.util.find_spec("creg._core")
    if spec is not None and spec.origin:
        try:
            data = Path(spec.origin).read_bytes()
            found = re.findall(
                rb"(GCC: \([^)]*\) [\w.\-]+|clang version [\w.\-]+)", data)
            if found:
                compiler = found[-1].decode()
        except OSError:
            pass
    for cache in sorted(ROOT.glob("build/*/CMakeCache.txt")):
        entries = dict(re.findall(r"^(CMAKE_[A-Z_]+):[A-Z]+=(.*)$",
                                  cache.read_text(), re.MULTILINE))
        build_type = entries.get("CMAKE_BUILD_TYPE", "")
        flags = " ".join(filter(None, (
            entries.get("CMAKE_C_FLAGS", ""),
            entries.get(f"CMAKE_C_FLAGS_{build_type.upper()}", ""))))
        flags = f"{build_type}: {flags or '(none)'}"
        break
    return compiler, flags


def creg_kernel():
    """creg's GEMM kernel level in effect, by name ("" if not built)."""
    try:
        from creg import _core
    except ImportError:
        return ""
    return _core.kernel_name(_core.kernel_level())


def omp_binding():
    """Whether creg's OpenMP threads are bound to cores (show_config's
    "binding": "false" unless OMP_PROC_BIND asks), or "" if not built."""
    try:
        import creg
    except ImportError:
        return ""
    return creg.show_config(as_dict=True)["threads"]["binding"]


def git_revision():
    try:
        rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short",
                              "HEAD"], capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status",
                                "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return rev + (" + uncommitted changes" if dirty else "")


def thread_env():
    """The thread-count and OpenBLAS tuning variables that are set."""
    names = (*THREAD_VARS, *OPENBLAS_TUNING_VARS)
    return {k: os.environ[k] for k in names if k in os.environ}


def blas_info():
    """numpy's BLAS as threadpoolctl sees it: 'openblas 0.3.x (kernel
    SkylakeX, pthreads)', or what numpy's config says without it."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        import numpy as np
        try:
            cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
            return f"{cfg.get('name')} {cfg.get('version')}"
        except Exception:  # noqa: BLE001  (best effort, any numpy)
            return "unknown (threadpoolctl not installed)"
    importlib.import_module("numpy")  # loads the BLAS it reports
    found = [f"{i['internal_api']} {i['version']} (kernel "
             f"{i.get('architecture')}, {i.get('threading_layer')}, "
             f"{i['num_threads']} threads max)"
             for i in threadpool_info() if i["user_api"] == "blas"]
    return "; ".join(found) or "none found"


def machine_lines():
    compiler, flags = creg_build()
    env = ", ".join(f"{k}={v}" for k, v in thread_env().items())
    return [
        (f"cpu: {cpu_model()} ({', '.join(cpu_flags()) or 'no AVX2'}); "
         f"vectors {vector_width()}; "
         f"cores usable: {usable_cores()} (os.cpu_count {os.cpu_count()})"),
        (f"creg build: {compiler}; flags {flags}; GEMM kernels "
         f"{creg_kernel() or 'unknown'} (chosen at run time)"),
        f"python {sys.version.split()[0]}; thread env: {env or 'none set'}",
    ]

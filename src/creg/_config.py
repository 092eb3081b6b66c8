"""creg.show_config(): how this creg was built and what it runs with.

Everything is looked up when called, never at import: the version, Python
and numpy, the compiler and flags recorded by CMake at build time
(creg/_build_info.py), the OpenMP runtime creg's extension is linked
against (its file, found from the extension itself; threadpoolctl's view of
it when threadpoolctl is installed), the default thread count and the GEMM
kernels chosen at run time.  A lookup that fails reports "unknown" instead
of raising.
"""
import ctypes
import importlib
import os
import platform
import sys
from typing import Any, Literal, Optional, TextIO, overload

Config = dict[str, dict[str, Any]]

_UNKNOWN = "unknown"
_RUNTIMES = ("libgomp", "libiomp", "libomp", "vcomp")


def _build_info() -> dict[str, str]:
    """CMake's record of the build (creg/_build_info.py, generated when
    the extension is built; absent from the source tree)."""
    try:
        module = importlib.import_module("creg._build_info")
    except ImportError:
        return {}
    return {str(k): str(v) for k, v in getattr(module, "info", {}).items()}


class _DlInfo(ctypes.Structure):
    _fields_ = [("dli_fname", ctypes.c_char_p),
                ("dli_fbase", ctypes.c_void_p),
                ("dli_sname", ctypes.c_char_p),
                ("dli_saddr", ctypes.c_void_p)]


# omp_get_proc_bind()'s values (OpenMP 4.0, omp_proc_bind_t; 2 is
# "master" before OpenMP 5.1)
_PROC_BIND = {0: "false", 1: "true", 2: "primary", 3: "close", 4: "spread"}


def _omp_library_of_extension() -> Optional[tuple[str, int, str]]:
    """(realpath, omp_get_max_threads(), omp_get_proc_bind()'s name) of
    the OpenMP runtime creg._core resolves its OpenMP symbols from: dlsym
    on the extension's handle (which searches it and its dependencies),
    then dladdr.  Linux and macOS; None elsewhere or on any failure."""
    if os.name != "posix":
        return None
    try:
        from creg import _core

        extension = ctypes.CDLL(_core.__file__)
        symbol = extension.omp_get_max_threads
        symbol.restype = ctypes.c_int
        symbol.argtypes = []
        dladdr = ctypes.CDLL(None).dladdr
        dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(_DlInfo)]
        dladdr.restype = ctypes.c_int
        info = _DlInfo()
        address = ctypes.cast(symbol, ctypes.c_void_p).value
        if not dladdr(address, ctypes.byref(info)) or not info.dli_fname:
            return None
        path = os.path.realpath(os.fsdecode(info.dli_fname))
        return path, int(symbol()), _proc_bind(extension)
    except Exception:
        return None


def _proc_bind(extension: ctypes.CDLL) -> str:
    """omp_get_proc_bind()'s name, from the runtime the extension
    resolves it in (OpenMP 4.0; unknown in older runtimes)."""
    try:
        bind = extension.omp_get_proc_bind
        bind.restype = ctypes.c_int
        bind.argtypes = []
        return _PROC_BIND.get(int(bind()), _UNKNOWN)
    except Exception:
        return _UNKNOWN


def _runtime_name(path: str) -> str:
    base = os.path.basename(path).lower()
    for name in _RUNTIMES:
        if base.startswith(name):
            return name
    return _UNKNOWN


def _runtime_from_build(build: dict[str, str]) -> str:
    """The runtime the build linked, from CMake's OpenMP record."""
    record = (build.get("openmp_libraries", "") + " "
              + build.get("openmp_flags", "")).lower()
    if "iomp" in record:
        return "libiomp"
    if "gomp" in record:
        return "libgomp"
    if "libomp" in record:
        return "libomp"
    if build.get("c_compiler", "").startswith("MSVC"):
        return "vcomp"
    return _UNKNOWN


def _version_of(module_name: str) -> str:
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return "not installed"
    return str(getattr(module, "__version__", _UNKNOWN))


def _threadpoolctl_entry(path: Optional[str]) -> Optional[dict[str, Any]]:
    """threadpoolctl's record of creg's OpenMP runtime, or None."""
    try:
        import threadpoolctl
    except ImportError:
        return None
    try:
        openmp = [dict(entry) for entry in threadpoolctl.threadpool_info()
                  if entry.get("user_api") == "openmp"]
    except Exception:
        return None
    if path is not None:
        for entry in openmp:
            if os.path.realpath(entry.get("filepath", "")) == path:
                return entry
        return None
    # No path to match (Windows): the only OpenMP runtime, if just one.
    return openmp[0] if len(openmp) == 1 else None


def _openmp_and_threads(
        build: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    from creg import _threads
    from creg._validation import _usable_cpus

    found = _omp_library_of_extension()
    path: Optional[str] = found[0] if found else None
    max_threads: Optional[int] = found[1] if found else None
    entry = _threadpoolctl_entry(path)
    if entry is not None:
        path = path or entry.get("filepath")
        runtime = entry.get("prefix") or _runtime_name(path or "")
        max_threads = entry.get("num_threads", max_threads)
        seen_by = "threadpoolctl " + _version_of("threadpoolctl")
    else:
        runtime = _runtime_name(path) if path else _UNKNOWN
        if runtime == _UNKNOWN:
            runtime = _runtime_from_build(build)
        seen_by = "creg._core" if path else "build record"
    openmp = {
        "runtime": runtime,
        "filepath": path or _UNKNOWN,
        "spec_version": build.get("openmp_version") or _UNKNOWN,
        "seen_by": seen_by,
    }

    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if _threads._in_forked_child:
        default, source = 1, "forked child: creg runs on 1 thread"
    elif _threads._small_stack is not None:
        name, value, _ = _threads._small_stack
        default, source = 1, f"{name}={value} too small: creg runs on 1 thread"
    elif max_threads is not None:
        default = int(max_threads)
        source = "omp_get_max_threads()"
        if env.isdigit() and int(env) > 0:  # libgomp ignores the rest
            source += " (OMP_NUM_THREADS=" + env + ")"
    elif env.isdigit() and int(env) > 0:
        default, source = int(env), "OMP_NUM_THREADS"
    else:
        try:
            default = len(os.sched_getaffinity(0))
            source = "usable CPUs"
        except (AttributeError, OSError):
            default, source = os.cpu_count() or 1, "os.cpu_count()"
    usable = _usable_cpus()
    if default > usable:  # a default team never has more (csrc/team.c)
        default = usable
        source += f", at most the {usable} usable CPUs"
    # bound teams help a machine of one's own and hurt a shared one
    # (docs/reliability.rst)
    binding = found[2] if found else _UNKNOWN
    bind_env = os.environ.get("OMP_PROC_BIND", "").strip()
    if bind_env and binding != _UNKNOWN:
        binding += f" (OMP_PROC_BIND={bind_env})"
    threads = {"default": default, "source": source,
               "cpu_count": os.cpu_count(), "binding": binding}
    return openmp, threads


def _block_size(nbytes: int) -> str:
    """The packed GEMM's B block: a quarter of the core's L2, as C read
    it from the CPU."""
    return f"{nbytes // 1024} KiB" if nbytes else "none (no packed GEMM)"


def _compiled_kernels(build: dict[str, str]) -> str:
    """The kernel builds compiled in, from the build record."""
    isas = build.get("simd_kernels")
    if isas is None:
        return _UNKNOWN
    if not isas:
        return "reference only"
    names = {"BASE": "baseline vectors", "AVX2": "avx2+fma",
             "AVX512VL": "avx512vl (step kernels)",
             "AVX512": "avx512 (64-byte vectors)"}
    return ", ".join(names.get(isa, isa) for isa in isas.split())


def _simd(build: dict[str, str]) -> dict[str, Any]:
    from creg import _core

    import creg
    from creg import _kernel_level

    level = _core.kernel_level()
    best = _core.best_kernel_level()
    return {
        "kernel_level": level,
        "kernel": _core.kernel_name(level),
        "vector_bits": _core.kernel_vector_bits(level),
        "gemm_b_block": _block_size(_core.packed_b_bytes()),
        "chosen_by": creg._kernel_level_source,
        "best_level": best,
        "best": _core.kernel_name(best),
        "supported": ", ".join(
            f"{i} {name}"
            for i, name in enumerate(_kernel_level.level_names())),
        "CREG_KERNEL_LEVEL": os.environ.get(_kernel_level.LEVEL_VARIABLE, ""),
        "CREG_DISABLE_SIMD": os.environ.get(
            _kernel_level.DISABLE_VARIABLE, ""),
        "compiled": _compiled_kernels(build),
    }


def config() -> Config:
    """show_config's information as a dict of dicts (see show_config)."""
    import creg

    build = _build_info()
    openmp, threads = _openmp_and_threads(build)
    return {
        "creg": {
            "version": creg.__version__,
            "path": os.path.dirname(os.path.abspath(creg.__file__)),
        },
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
            "machine": platform.platform(),
        },
        "dependencies": {
            "numpy": _version_of("numpy"),
            "threadpoolctl": _version_of("threadpoolctl"),
        },
        "build": {
            "compiler": build.get("c_compiler", _UNKNOWN),
            "compiler_path": build.get("c_compiler_path", _UNKNOWN),
            "build_type": build.get("build_type", _UNKNOWN),
            "c_flags": build.get("c_flags", _UNKNOWN),
            "openmp_flags": build.get("openmp_flags", _UNKNOWN),
            "avx2_kernel_flags": build.get("avx2_flags", _UNKNOWN) or "-",
            "avx512vl_kernel_flags": build.get("avx512vl_flags", _UNKNOWN)
            or "-",
            "avx512_kernel_flags": build.get("avx512_flags", _UNKNOWN)
            or "-",
            "target": build.get("target", _UNKNOWN),
            "cmake": build.get("cmake", _UNKNOWN),
            "cython": build.get("cython", _UNKNOWN),
        },
        "openmp": openmp,
        "threads": threads,
        "simd": _simd(build),
    }


@overload
def show_config(*, as_dict: Literal[True],
                file: Optional[TextIO] = None) -> Config: ...


@overload
def show_config(*, as_dict: Literal[False] = False,
                file: Optional[TextIO] = None) -> None: ...


@overload
def show_config(*, as_dict: bool,
                file: Optional[TextIO] = None) -> Optional[Config]: ...


def show_config(*, as_dict: bool = False,
                file: Optional[TextIO] = None) -> Optional[Config]:
    """Print how creg was built and what it will run with.

    Reports creg's version, Python and numpy, the C compiler and flags
    CMake built the extension with, the OpenMP runtime it is linked against
    (its file, as seen from the extension and, when installed, by
    threadpoolctl), the default number of threads (``omp_get_max_threads()``:
    ``OMP_NUM_THREADS`` or the usable CPUs; lowered inside
    ``threadpoolctl.threadpool_limits``), whether OpenMP binds its threads
    to cores (``omp_get_proc_bind()``: ``false`` unless ``OMP_PROC_BIND``
    asks) and the GEMM kernels chosen at run
    time (0 reference, 1 baseline vectors, 2 AVX2+FMA, 3 AVX2+FMA with
    the training step kernels built for AVX-512VL, 4 AVX-512 with 512-bit
    vectors), their vector width, and what chose them: the best level
    the CPU supports, or ``CREG_KERNEL_LEVEL`` (a level's name or number,
    to force one the CPU supports), or ``CREG_DISABLE_SIMD=1`` (level 0);
    and the block of the packed GEMM's right operand, a quarter of the
    core's L2 cache as the CPU reports it.

    Parameters
    ----------
    as_dict : bool, default False
        Return the information as a dict of dicts (sections ``creg``,
        ``python``, ``dependencies``, ``build``, ``openmp``, ``threads``,
        ``simd``) instead of printing it.
    file : file-like, optional
        Where to print (default ``sys.stdout``).

    Returns
    -------
    dict or None
        The dict when ``as_dict`` is true, else None.

    Examples
    --------
    >>> import creg
    >>> creg.show_config()                          # doctest: +SKIP
    >>> creg.show_config(as_dict=True)["simd"]["kernel"]  # doctest: +SKIP
    'avx2+fma'
    """
    if file is not None and not callable(getattr(file, "write", None)):
        raise TypeError("file must be a text stream with write() (as "
                        f"print's); got {file!r}")
    info = config()
    if as_dict:
        return info
    for section, values in info.items():  # file=None: print's sys.stdout
        print(f"{section}:", file=file)
        width = max(len(key) for key in values)
        for key, value in values.items():
            print(f"  {key:<{width}}  {value}", file=file)
    return None

"""creg.show_config(): what it prints and returns matches the running creg."""
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import creg
from creg import _core

SECTIONS = ["creg", "python", "dependencies", "build", "openmp", "threads",
            "simd"]


def _environment(**env):
    """os.environ without the kernel-level variables (the suite itself may
    run under one of them), then env."""
    environ = {key: value for key, value in os.environ.items()
               if key not in ("CREG_DISABLE_SIMD", "CREG_KERNEL_LEVEL")}
    return dict(environ, **env)


def _config_in_subprocess(**env):
    """show_config(as_dict=True) from a fresh interpreter with env set."""
    environ = _environment(**env)
    code = ("import json, creg; "
            "print(json.dumps(creg.show_config(as_dict=True)))")
    out = subprocess.run([sys.executable, "-c", code], env=environ,
                         capture_output=True, text=True, timeout=120,
                         check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_as_dict_matches_the_running_creg():
    config = creg.show_config(as_dict=True)
    assert list(config) == SECTIONS
    assert config["creg"]["version"] == creg.__version__
    assert config["python"]["version"].startswith(
        ".".join(map(str, sys.version_info[:3])))
    assert config["dependencies"]["numpy"] == np.__version__
    simd = config["simd"]
    assert simd["kernel_level"] == _core.kernel_level()
    assert simd["kernel"] == _core.kernel_name(_core.kernel_level())
    assert simd["best_level"] == _core.best_kernel_level()
    assert simd["best"] == _core.kernel_name(_core.best_kernel_level())
    assert config["threads"]["default"] >= 1
    json.dumps(config)  # plain data only


def test_build_record_names_compiler_flags_and_kernels():
    build = creg.show_config(as_dict=True)["build"]
    for key in ("compiler", "build_type", "c_flags", "openmp_flags",
                "target", "cmake", "cython"):
        assert build[key] not in ("", "unknown"), (key, build)
    assert "-march=native" not in build["c_flags"]
    assert build["build_type"] == "Release"
    compiled = creg.show_config(as_dict=True)["simd"]["compiled"]
    if _core.best_kernel_level() >= 2:
        assert "avx2+fma" in compiled
        assert "-mavx2" in build["avx2_kernel_flags"]
    if _core.best_kernel_level() >= 3:
        assert "avx512vl" in compiled
        assert "-mavx512vl" in build["avx512vl_kernel_flags"]
        assert "-mavx2" in build["avx512vl_kernel_flags"]
    if _core.best_kernel_level() >= 4:
        assert "avx512 (64-byte vectors)" in compiled
        assert "-mavx512f" in build["avx512_kernel_flags"]
        assert "-mprefer-vector-width=512" in build["avx512_kernel_flags"]


def test_openmp_runtime_is_named():
    openmp = creg.show_config(as_dict=True)["openmp"]
    assert openmp["runtime"] in ("libgomp", "libomp", "libiomp", "vcomp")
    if os.name == "posix":
        assert os.path.exists(openmp["filepath"])


def test_printed_report_has_every_section_and_the_kernel():
    out = io.StringIO()
    assert creg.show_config(file=out) is None
    text = out.getvalue()
    for section in SECTIONS:
        assert f"\n{section}:\n" in "\n" + text
    kernel = _core.kernel_name(_core.kernel_level())
    assert any(line.split() == ["kernel", kernel]
               for line in text.splitlines()), text
    assert creg.__version__ in text


def test_default_threads_follow_omp_num_threads():
    usable = len(os.sched_getaffinity(0)) if hasattr(
        os, "sched_getaffinity") else os.cpu_count()
    config = _config_in_subprocess(OMP_NUM_THREADS="3")
    assert config["threads"]["default"] == min(3, usable)
    config = _config_in_subprocess(OMP_NUM_THREADS="1")
    assert config["threads"]["default"] == 1
    # never more than the CPUs, as the default team (csrc/team.c)
    config = _config_in_subprocess(OMP_NUM_THREADS=str(usable + 5))
    assert config["threads"]["default"] == usable
    assert config["threads"]["source"].endswith(
        f", at most the {usable} usable CPUs")


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="the binding is read through dlsym on Linux")
def test_binding_is_what_openmp_reports():
    environ = {k: v for k, v in os.environ.items()
               if k not in ("OMP_PROC_BIND", "OMP_PLACES")}
    code = ("import json, creg; "
            "print(json.dumps(creg.show_config(as_dict=True)))")

    def binding(**env):
        out = subprocess.run([sys.executable, "-c", code],
                             env=dict(environ, **env), capture_output=True,
                             text=True, timeout=120, check=True).stdout
        return json.loads(out.strip().splitlines()[-1])["threads"]["binding"]

    assert binding() == "false"
    assert binding(OMP_PROC_BIND="close", OMP_PLACES="cores") == \
        "close (OMP_PROC_BIND=close)"
    assert binding(OMP_PROC_BIND="spread") == "spread (OMP_PROC_BIND=spread)"


def test_simd_disabled_by_environment():
    config = _config_in_subprocess(CREG_DISABLE_SIMD="1")
    assert config["simd"]["kernel_level"] == 0
    assert config["simd"]["kernel"] == "reference"
    assert config["simd"]["best_level"] == _core.best_kernel_level()
    assert config["simd"]["CREG_DISABLE_SIMD"] == "1"
    assert config["simd"]["chosen_by"] == "CREG_DISABLE_SIMD=1"


@pytest.mark.parametrize("value, disables", [
    ("0", False), ("false", False), ("No", False), (" off ", False),
    ("", False), ("1", True), ("TRUE", True), ("yes", True), ("on", True)])
def test_disable_simd_reads_yes_and_no_words(value, disables):
    from creg import _kernel_level
    try:
        chosen = _kernel_level.choose({"CREG_DISABLE_SIMD": value})
        level = _core.kernel_level()
    finally:
        _kernel_level.choose(os.environ)
    assert (level == 0) == (disables or _core.best_kernel_level() == 0)
    assert chosen.startswith("CREG_DISABLE_SIMD=") == disables


def test_disable_simd_warns_of_another_value_and_takes_it_as_set():
    from creg import _kernel_level
    try:
        with pytest.warns(creg.CregWarning, match="CREG_DISABLE_SIMD='maybe' "
                          "is neither 1/true/yes/on nor 0/false/no/off"):
            _kernel_level.choose({"CREG_DISABLE_SIMD": "maybe"})
        assert _core.kernel_level() == 0
    finally:
        _kernel_level.choose(os.environ)


def _levels_of_this_cpu():
    return [(level, _core.kernel_name(level))
            for level in range(_core.best_kernel_level() + 1)]


def test_every_supported_level_can_be_forced_by_name_or_number():
    for level, name in _levels_of_this_cpu():
        for value in (name, str(level), f" {name.upper()} "):
            simd = _config_in_subprocess(CREG_KERNEL_LEVEL=value)["simd"]
            assert simd["kernel_level"] == level, value
            assert simd["kernel"] == name
            assert simd["chosen_by"] == f"CREG_KERNEL_LEVEL={value}"
            assert simd["vector_bits"] == _core.kernel_vector_bits(level)


def test_default_level_is_the_best_and_reports_its_width():
    simd = _config_in_subprocess()["simd"]
    assert simd["kernel_level"] == _core.best_kernel_level()
    assert simd["chosen_by"] == "the best level this CPU supports"
    widths = {"reference": 0, "sse2": 128, "neon": 128, "avx2+fma": 256,
              "avx512vl": 256, "avx512": 512}
    for level, name in _levels_of_this_cpu():
        assert _core.kernel_vector_bits(level) == widths[name]
        assert f"{level} {name}" in simd["supported"]
    assert _core.kernel_vector_bits(-1) == 0
    assert _core.kernel_vector_bits(99) == 0


def _import_warnings(**env):
    environ = _environment(**env)
    code = ("import warnings; warnings.simplefilter('always'); "
            "import creg; from creg import _core; "
            "print(_core.kernel_level())")
    done = subprocess.run([sys.executable, "-c", code], env=environ,
                          capture_output=True, text=True, timeout=120,
                          check=True)
    return int(done.stdout.split()[-1]), done.stderr


def test_a_level_the_cpu_cannot_run_warns_and_keeps_the_best():
    best = _core.best_kernel_level()
    # '²' and '٣' are digits to str.isdigit that int() refuses or reads
    for value in ("avx9000", str(best + 1), "-1", "level 2", "\u00b2",
                  "\u0663"):
        level, stderr = _import_warnings(CREG_KERNEL_LEVEL=value)
        assert level == best, value
        assert "CregWarning" in stderr and "CREG_KERNEL_LEVEL" in stderr
        assert _core.kernel_name(best) in stderr


def test_disable_simd_wins_over_a_forced_level():
    level, stderr = _import_warnings(CREG_KERNEL_LEVEL=str(
        _core.best_kernel_level()), CREG_DISABLE_SIMD="1")
    assert level == 0 and "Warning" not in stderr


def test_the_packed_gemm_block_is_a_quarter_of_the_l2_the_os_reports():
    """The C side reads the L2 size from the CPU; the OS's view of the same
    cache (glibc's sysconf) must give the same block where both exist."""
    block = _core.packed_b_bytes()
    simd = creg.show_config(as_dict=True)["simd"]
    if block == 0:  # a build without the packed GEMM (no AVX2 kernels)
        assert simd["gemm_b_block"] == "none (no packed GEMM)"
        assert "avx2" not in simd["compiled"]
        return
    assert simd["gemm_b_block"] == f"{block // 1024} KiB"
    assert 128 * 1024 <= block <= 1024 * 1024
    try:
        l2 = os.sysconf("SC_LEVEL2_CACHE_SIZE")
    except (AttributeError, ValueError, OSError):
        l2 = 0
    if l2 > 0:
        assert block == min(max(l2 // 4, 128 * 1024), 1024 * 1024)


@pytest.mark.parametrize("file", ["out.txt", 3])
def test_a_file_without_write_is_named(file):
    with pytest.raises(TypeError, match="file must be a text stream"):
        creg.show_config(file=file)

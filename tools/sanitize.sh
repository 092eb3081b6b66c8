#!/usr/bin/env bash
# Build creg with AddressSanitizer + UndefinedBehaviorSanitizer and run the
# whole test suite (python -m pytest tests) under them.
#
#   tools/sanitize.sh [extra pytest arguments, e.g. -x or -k persist]
#
# Everything happens in a fresh scratch directory (a new venv without system
# site packages, the CMake build tree, the logs); the repository and the
# Python environment you develop in are only read, never written.
#
#   PYTHON=python3.12 tools/sanitize.sh      interpreter for the venv
#   CREG_SANITIZE_DIR=/path tools/sanitize.sh scratch dir (default: mktemp)
#   CREG_SANITIZE_KEEP=1 tools/sanitize.sh    keep the scratch dir on success
#
# Exit status: 0 only if the build succeeded, every test passed and no process
# (pytest or any subprocess a test started) wrote a sanitizer report.
# Assumes GCC (the compiler CMake picks here) and its libasan/libubsan.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}
CC=${CC:-gcc}
WORK=${CREG_SANITIZE_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/creg-sanitize.XXXXXX")}
VENV=$WORK/venv      # created fresh each run
BUILD=$WORK/build    # scikit-build-core's CMake tree (not the repo's build/)
LOGS=$WORK/logs      # one file per sanitizer report, from any process
RUN=$WORK/run        # empty cwd for pytest, so `import creg` finds the venv's
rm -rf "$VENV" "$BUILD" "$LOGS" "$RUN"
mkdir -p "$LOGS" "$RUN"

t_start=$SECONDS
step() { printf '\n== %s (%ds)\n' "$*" $((SECONDS - t_start)); }
die() { printf '\nsanitize.sh: FAILED: %s\n(scratch dir kept: %s)\n' "$*" "$WORK" >&2; exit 2; }

# ---------------------------------------------------------------- venv
step "fresh venv in $VENV"
"$PYTHON" -m venv "$VENV"          # no --system-site-packages: nothing leaks in
VPY=$VENV/bin/python
# The build runs without isolation, so its requirements go in the venv too,
# read from pyproject.toml (build-system.requires, project.dependencies and
# the "test" extra) so this list cannot fall behind; cmake and ninja as well,
# so the build does not depend on what is on PATH.
reqs=$("$VPY" - "$REPO/pyproject.toml" <<'PY'
import sys
try:
    import tomllib
except ImportError:      # Python < 3.11: the fixed list below
    print("scikit-build-core cython cython-cmake numpy pytest pytest-benchmark")
    sys.exit()
with open(sys.argv[1], "rb") as f:
    meta = tomllib.load(f)
reqs = (meta["build-system"]["requires"] + meta["project"]["dependencies"]
        + meta["project"]["optional-dependencies"]["test"])
print("\n".join(reqs))
PY
) || die "reading $REPO/pyproject.toml"
mapfile -t reqs <<<"$reqs"
if ! { "$VPY" -m pip install --upgrade pip &&
        "$VPY" -m pip install "${reqs[@]}" cmake ninja
      } >"$WORK/deps.log" 2>&1; then
    tail -n 40 "$WORK/deps.log" >&2
    die "installing the build and test dependencies (see $WORK/deps.log)"
fi
# Optional: packages some tests skip without (pytest.importorskip), so that
# the run covers those tests too. Best effort, one by one.
for pkg in scipy pandas scikit-learn threadpoolctl; do
    "$VPY" -m pip install "$pkg" >>"$WORK/deps.log" 2>&1 \
        || echo "note: $pkg not installed; the tests needing it skip"
done
t_deps=$SECONDS

# ---------------------------------------------------------------- build
step "building creg with CREG_SANITIZE=ON (log: $WORK/build.log)"
# Non-editable: the wheel is installed into the venv's site-packages.
if ! "$VPY" -m pip install --no-build-isolation --no-deps -v \
        -Ccmake.define.CREG_SANITIZE=ON -Cbuild-dir="$BUILD" \
        "$REPO" >"$WORK/build.log" 2>&1; then
    tail -n 60 "$WORK/build.log" >&2
    die "build (see $WORK/build.log)"
fi
t_build=$SECONDS

# The installed extension must be the venv's and be linked against the
# sanitizer runtimes (else the option did not reach CMake and the run below
# would check nothing). find_spec locates the package without importing it:
# importing needs the environment set below.
PKG=$(cd "$RUN" && "$VPY" -c 'import importlib.util as u, os
print(os.path.dirname(u.find_spec("creg").origin))') || die "creg is not installed in the venv"
cores=("$PKG"/_core*.so)
CORE=${cores[0]}
[ -e "$CORE" ] || die "no _core*.so in $PKG"
case $CORE in "$VENV"/*) ;; *) die "creg._core is $CORE, not the venv's" ;; esac
LIBS=$(ldd "$CORE")   # (not piped into grep -q: with pipefail, SIGPIPE fails it)
for rt in libasan libubsan; do
    grep -q "$rt" <<<"$LIBS" || die "$CORE is not linked against $rt"
done
echo "instrumented extension: $CORE"

# ---------------------------------------------------------------- environment
# These settings are given only to the Python processes under test (through
# `san` below, and inherited by every subprocess the tests start), never to
# the build or to the tools this script runs.
#
# CPython is not built with ASan, so the ASan runtime must be the first library
# in the process or it refuses to start ("ASan runtime does not come first");
# preloading it also makes ASan's malloc/free and memcpy interceptors cover the
# whole process. GCC keeps UBSan in a separate runtime (libubsan): preload it
# too so it is initialised at start-up rather than when _core is dlopen'ed.
ASAN_RT=$("$CC" -print-file-name=libasan.so)
UBSAN_RT=$("$CC" -print-file-name=libubsan.so)
[ -e "$ASAN_RT" ] && [ -e "$UBSAN_RT" ] || die "$CC has no libasan.so/libubsan.so"
PRELOAD="$ASAN_RT:$UBSAN_RT"

# detect_leaks=0            CPython frees little at exit by design, so
#                           LeakSanitizer would report thousands of its
#                           allocations; leaks are a separate goal (RSS tests).
# halt_on_error=1           stop at the first error (ASan's default; explicit).
# allocator_may_return_null=1  an impossible malloc returns NULL, as in a normal
#                           build, instead of ASan aborting: the tests ask for
#                           absurd sizes and expect MemoryError (numpy does the
#                           same in its sanitizer CI).
# exitcode=86               a process ASan stops exits with 86, distinct
#                           from pytest's codes.
# log_path=...              every report, from pytest and from each subprocess
#                           the tests start (the env is inherited), goes to
#                           its own file LOGS/asan.<pid>: a child whose stderr
#                           a test captures or throws away (SIGKILL tests)
#                           cannot hide a report. Printed below.
ASAN_OPTS="detect_leaks=0:halt_on_error=1:allocator_may_return_null=1:exitcode=86:log_path=$LOGS/asan"
# -fno-sanitize-recover=undefined already makes any UB fatal; halt_on_error=1
# says so at run time too; exitcode=87 marks such a stop. print_stacktrace=1
# gives the call chain. UBSan ignores its log_path when GCC's ASan runtime
# is loaded first (tried), so its reports go to stderr: pytest runs with -s
# (children inherit the real stderr instead of a per-test capture that a
# passing test discards) and its output is scanned for "runtime error:".
UBSAN_OPTS="print_stacktrace=1:halt_on_error=1:exitcode=87"
# No suppressions: libgomp's thread pool (including the fork test), numpy,
# scipy and scikit-learn, all uninstrumented, gave no report. If one ever
# does, suppress it narrowly (suppressions=FILE, one line per frame and a
# comment saying why), never by turning a check off.
#
# PYTHONMALLOC=malloc: Python's own allocations go through malloc (not
# pymalloc's arenas), so ASan also sees out-of-bounds accesses to Python
# objects from _core.pyx. PYTHONDONTWRITEBYTECODE=1: no __pycache__ written
# into the repository's tests/.
san() {
    env LD_PRELOAD="$PRELOAD" ASAN_OPTIONS="$ASAN_OPTS" UBSAN_OPTIONS="$UBSAN_OPTS" \
        PYTHONMALLOC=malloc PYTHONDONTWRITEBYTECODE=1 "$@"
}

# Self-check of the plumbing, so a clean run cannot mean "nothing checked":
# an out-of-bounds read (caught by ASan's memcpy interceptor) and a signed
# overflow in a tiny UBSan-instrumented library must each stop the process
# and leave a report (in LOGS, or on stderr for UBSan).
san "$VPY" -c 'import ctypes; libc = ctypes.CDLL(None); libc.malloc.restype = ctypes.c_void_p
ctypes.string_at(libc.malloc(8), 64)' >/dev/null 2>&1 && die "ASan self-check did not stop"
ls "$LOGS"/asan.* >/dev/null 2>&1 || die "ASan self-check left no report in $LOGS"
printf 'int creg_selfcheck(int x) { return x + 1; }\n' >"$WORK/ubsan_check.c"
"$CC" -shared -fPIC -fsanitize=undefined -fno-sanitize-recover=undefined \
    -o "$WORK/ubsan_check.so" "$WORK/ubsan_check.c" || die "compiling the UBSan self-check"
set +e
san "$VPY" -c 'import ctypes, sys; ctypes.CDLL(sys.argv[1]).creg_selfcheck(2**31 - 1)' \
    "$WORK/ubsan_check.so" >"$WORK/ubsan_check.log" 2>&1
rc=$?
set -e
[ "$rc" -eq 87 ] && grep -q ': runtime error: ' "$WORK/ubsan_check.log" \
    || die "UBSan self-check: exit $rc, see $WORK/ubsan_check.log"
rm -f "$LOGS"/*
# And `import creg` from pytest's cwd must resolve to the venv's build.
(cd "$RUN" && san "$VPY" -c 'import creg._core as m, sys
sys.exit(m.__file__ != sys.argv[1])' "$CORE") || die "import creg._core under the sanitizers"

# ---------------------------------------------------------------- tests
# One pytest process per usable CPU (pytest-xdist, of the "test" extra;
# tests/conftest.py counts them for -n auto): under
# the sanitizers the suite is mostly Python on one core, not creg's
# threads (2 cores: 593 s in one process, 421 s in two).  Tests marked
# `alone` still run with nothing beside them (tests/conftest.py).  A
# report stops its worker, which fails the test it ran; ASan's go to LOGS
# as before, and UBSan's to the stderr the workers share with pytest
# (checked: numpy's CI drops xdist for fear of captured reports, which
# -s rules out here).  -n 0 in the arguments runs the suite in one
# process.
step "python -m pytest $REPO/tests under ASan+UBSan"
set +e
(cd "$RUN" && san "$VPY" -m pytest "$REPO/tests" --rootdir="$REPO" -s \
    -p no:cacheprovider --basetemp="$WORK/pytest-tmp" -n auto "$@") 2>&1 \
    | tee "$WORK/pytest.log"
status=${PIPESTATUS[0]}
set -e
t_tests=$SECONDS

# ---------------------------------------------------------------- summary
reports=$(find "$LOGS" -type f | sort)
n_asan=$(printf '%s' "$reports" | grep -c . || true)
n_ubsan=$(grep -c ': runtime error: ' "$WORK/pytest.log" || true)
for f in $reports; do
    printf '\n---- sanitizer report %s\n' "$f" >&2
    head -n 80 "$f" >&2
done
if [ "$n_ubsan" -gt 0 ]; then
    printf '\n---- UBSan reports in %s\n' "$WORK/pytest.log" >&2
    { grep -A 30 ': runtime error: ' "$WORK/pytest.log" | head -n 120 >&2; } || true
fi
n_reports=$((n_asan + n_ubsan))
echo
echo "== sanitize.sh summary"
echo "  venv + dependencies: $((t_deps - t_start)) s"
echo "  sanitizer build:     $((t_build - t_deps)) s"
echo "  tests under ASan+UBSan: $((t_tests - t_build)) s (total $((t_tests - t_start)) s)"
echo "  pytest exit status:  $status"
echo "  ASan reports:        $n_asan (files in $LOGS)"
echo "  UBSan reports:       $n_ubsan (in $WORK/pytest.log)"
if [ "$status" -ne 0 ] || [ "$n_reports" -gt 0 ]; then
    echo "  RESULT: FAILED (scratch dir kept: $WORK)"
    [ "$status" -ne 0 ] && exit "$status"
    exit 1
fi
echo "  RESULT: clean"
if [ "${CREG_SANITIZE_KEEP:-0}" != 1 ] && [ -z "${CREG_SANITIZE_DIR:-}" ]; then
    rm -rf "$WORK"
fi

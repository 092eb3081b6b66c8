#!/bin/bash
# device_report.sh -- issue 16's and 18's many-core measurements in one
# command, for a lent 16-core machine (benchmarks/README.md, "A 16-core
# machine"): builds creg from this checkout, then runs report.py's scaling
# tables for C1 and C3, the GEMM table and the 16-point sweep, then
# regions.py on C3, and writes everything to $OUT (./device_out without
# one).
#
# That machine has Python, numpy, PyTorch, scikit-learn, Cython,
# scikit-build-core, CMake and ninja but no package index: carry a
# cython-cmake wheel in .whl (see the README section).  Sized to end in
# about 5 minutes on 16 cores, inside one 10-minute command.
#
#   tools/device_report.sh              # threads 1,2,4,8,16
#   tools/device_report.sh 1,2          # a dry run on a small machine
set -uo pipefail

threads=${1:-1,2,4,8,16}
out=${OUT:-device_out}
mkdir -p "$out"
cd "$(dirname "$0")/.." || exit 1

if compgen -G ".whl/*.whl" > /dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile \
        --no-cache-dir --upgrade --target /tmp/creg_site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/creg_site${PYTHONPATH:+:$PYTHONPATH}
fi
start=$(date +%s)
python3 -m pip install --no-build-isolation --no-deps . \
    > "$out/build.log" 2>&1 || { tail -n 30 "$out/build.log"; exit 1; }
echo "build: $(( $(date +%s) - start )) s"

# creg imported from the install, not from ./src
(cd /tmp && python3 -c "import creg; creg.show_config()") > "$out/config.txt"
lscpu > "$out/lscpu.txt" 2>&1

# numpy's OpenBLAS at its own choice of kernel (the brief's rule)
PYTHONUNBUFFERED=1 env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
    python3 benchmarks/report.py --threads "$threads" --configs C1,C3 \
    --contenders creg,blas,torch --rounds C1=3,C3=2 --scale C3=0.25 \
    --gemm-rounds 2 --no-contention --sweep-rounds 3 \
    --sweep-torch-rounds 1 --json "$out/samples.json" \
    > "$out/report.md" 2> "$out/report.err"
status=$?
echo "report: exit $status, $(( $(date +%s) - start )) s in all"
tail -n 5 "$out/report.err"

# C3's parallel regions, barriers and serial tail per step at each thread
# count, and each region's length, serial time before it and waits
# (regions.py; under a minute): what the report's scaling leaves
# unexplained
timeout 120 python3 benchmarks/regions.py --configs C3 --threads "$threads" \
    --rows 6016 --repeat 3 --by-region > "$out/regions.md" 2>&1
echo "regions: exit $?, $(( $(date +%s) - start )) s in all"

# what subnormal floats cost this CPU (benchmarks/README.md, "Subnormal
# floats"; about 20 s)
timeout 120 python3 benchmarks/subnormals.py > "$out/subnormals.md" 2>&1
echo "subnormals: exit $?, $(( $(date +%s) - start )) s in all"
exit $status

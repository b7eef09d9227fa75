#!/usr/bin/env bash
# Run the numpy reference for the linear-regression grid (regression_numpy.py)
# with Debian's python3 + python3-numpy on OpenBLAS. Extra arguments go to the
# script, e.g.: run_regression_baseline.sh --impl fast --dims 10 --samples 100
#
# OpenBLAS kernels: unset OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE and let OpenBLAS
# detect the CPU, except where it gets that wrong: on some Intel Xeons with
# AVX-512, Debian's OpenBLAS 0.3.21 falls back to its Prescott (SSE3) kernels,
# about 2x slower. When the CPU has avx512f and OpenBLAS reports Prescott, the
# run uses OPENBLAS_CORETYPE=SkylakeX and says so (openblas_coretype_override=).
# Set OPENBLAS_NUM_THREADS to pin the thread count (default: one per core).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

source "$here/debian-python.sh"
require_packages python3-numpy libopenblas0-pthread python3-threadpoolctl time

require_openblas

# The core type OpenBLAS picks, as threadpoolctl reports it.
core() { "$py" -c 'import numpy, threadpoolctl; print(next((i.get("architecture", "?") for i in threadpoolctl.threadpool_info() if i.get("internal_api") == "openblas"), "?"))'; }
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
detected="$(core)"
override=none
if grep -qw avx512f /proc/cpuinfo && [[ "$detected" == Prescott ]]; then
  export OPENBLAS_CORETYPE=SkylakeX
  override="SkylakeX (CPU has avx512f but OpenBLAS detected Prescott)"
fi
echo "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1) cores=$(nproc) avx512f=$(grep -qw avx512f /proc/cpuinfo && echo yes || echo no)"
echo "openblas_detected_core=$detected"
echo "openblas_coretype_override=$override"
echo "openblas_core=$(core)"
echo "openblas_num_threads=${OPENBLAS_NUM_THREADS:-default (one per core)}"
echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
"$py" "$here/regression_numpy.py" "$@"
echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)"

#!/usr/bin/env bash
# Run the numpy reference for the linear-regression grid (regression_numpy.py)
# with Debian's python3 + python3-numpy on OpenBLAS. Extra arguments go to the
# script, e.g.: run_regression_baseline.sh --impl fast --dims 10 --samples 100
#
# OpenBLAS kernels as tune_openblas (debian-python.sh) picks them: detected,
# or SkylakeX where OpenBLAS mistakes an AVX-512 Xeon for Prescott (said so).
# Set OPENBLAS_NUM_THREADS to pin the thread count (default: one per core).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

source "$here/debian-python.sh"
require_packages python3-numpy libopenblas0-pthread python3-threadpoolctl time

require_openblas

tune_openblas
echo "openblas_num_threads=${OPENBLAS_NUM_THREADS:-default (one per core)}"
echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
"$py" "$here/regression_numpy.py" "$@"
echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)"

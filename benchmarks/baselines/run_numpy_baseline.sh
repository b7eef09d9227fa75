#!/usr/bin/env bash
# Run the numpy reference for the multivariate-Gaussian grid with Debian's
# python3 + python3-numpy on OpenBLAS. Extra arguments go to the script,
# e.g.: run_numpy_baseline.sh --dims 3 --samples 10 --settings replace
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

source "$here/debian-python.sh"
require_packages python3-numpy libopenblas0-pthread python3-threadpoolctl

require_openblas
# The kernels OpenBLAS runs: detected, or SkylakeX where it mistakes an AVX-512 Xeon for Prescott (said so).
tune_openblas
echo "openblas_num_threads=${OPENBLAS_NUM_THREADS:-default (one per core)}"
echo "load_before=$(uptime)"
"$py" "$here/gaussian_numpy.py" "$@"
echo "load_after=$(uptime)"

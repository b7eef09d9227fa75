#!/usr/bin/env bash
# Run the numpy reference for the multivariate-Gaussian grid with Debian's
# python3 + python3-numpy on OpenBLAS. Extra arguments go to the script,
# e.g.: run_numpy_baseline.sh --dims 3 --samples 10 --settings replace
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

source "$here/debian-python.sh"
require_packages python3-numpy libopenblas0-pthread

require_openblas

echo "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1) cores=$(nproc)"
echo "openblas_num_threads=${OPENBLAS_NUM_THREADS:-default (one per core)}"
echo "load_before=$(uptime)"
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, when set on a machine, pin OpenBLAS to
# slower kernels; let it detect the CPU itself.
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$py" "$here/gaussian_numpy.py" "$@"
echo "load_after=$(uptime)"

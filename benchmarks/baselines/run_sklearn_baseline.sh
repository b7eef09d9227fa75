#!/usr/bin/env bash
# Run the scikit-learn reference for the KDE grid with Debian's python3 +
# python3-sklearn, single-threaded, under /usr/bin/time -v. Extra arguments go
# to kde_sklearn.py; --out is required, e.g.:
#   run_sklearn_baseline.sh --samples 10,100,1000 --seeds 12 --iterations 20 --out kde.csv
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

source "$here/debian-python.sh"
require_packages python3-sklearn python3-numpy python3-scipy time

# Before the thread pins below: nproc honours OMP_NUM_THREADS.
echo "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1) cores=$(nproc)"

# KernelDensity is single-threaded Cython; pin every BLAS/OpenMP pool to one
# thread too, so numpy's small calls (sampling, the exact scorer's GEMM) do
# not take the second core and the timing is a one-core number.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
       BLIS_NUM_THREADS=1 NUMEXPR_NUM_THREADS=1 VECLIB_MAXIMUM_THREADS=1

echo "sklearn=$(dpkg-query -W -f='${Version}' python3-sklearn) numpy=$(dpkg-query -W -f='${Version}' python3-numpy) scipy=$(dpkg-query -W -f='${Version}' python3-scipy)"
echo "load_before=$(uptime)"
# -v prints wall clock, user/sys CPU and peak RSS after the script's own lines.
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, when set, pin OpenBLAS to slower kernels.
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/time -v "$py" "$here/kde_sklearn.py" "$@"
echo "load_after=$(uptime)"

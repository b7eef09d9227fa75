#!/usr/bin/env bash
# Run the numpy reference for the multivariate-Gaussian grid with Debian's
# python3 + python3-numpy on OpenBLAS. Extra arguments go to the script,
# e.g.: run_numpy_baseline.sh --dims 3 --samples 10 --settings replace
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
py=/usr/bin/python3   # not the pyenv python on PATH: it has no numpy

pkgs=(python3-numpy libopenblas0-pthread)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y "${missing[@]}" || { apt-get update && apt-get install -y "${missing[@]}"; }
fi

# Debian falls back to the reference BLAS (about 3x slower) unless OpenBLAS
# is the selected alternative; refuse to time the wrong one.
blas="$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3)"
lapack="$(readlink -f /usr/lib/x86_64-linux-gnu/liblapack.so.3)"
echo "blas=$blas"
echo "lapack=$lapack"
case "$blas$lapack" in
  *openblas*openblas*) ;;
  *) echo "error: libblas/liblapack do not resolve to OpenBLAS" >&2
     echo "fix: update-alternatives --set libblas.so.3-x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 (same for liblapack.so.3)" >&2
     exit 1 ;;
esac

echo "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1) cores=$(nproc)"
echo "openblas_num_threads=${OPENBLAS_NUM_THREADS:-default (one per core)}"
echo "load_before=$(uptime)"
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, when set on a machine, pin OpenBLAS to
# slower kernels; let it detect the CPU itself.
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$py" "$here/gaussian_numpy.py" "$@"
echo "load_after=$(uptime)"

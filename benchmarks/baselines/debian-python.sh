# Sourced by the run_*_baseline.sh scripts: Debian's python3 and its packages, and the OpenBLAS check.
py=/usr/bin/python3   # not the pyenv python on PATH: it has none of these packages

# Installs the Debian packages named that are missing (apt-get; no other network is needed).
require_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y "${missing[@]}" || { apt-get update && apt-get install -y "${missing[@]}"; }
  fi
}

# Debian falls back to the reference BLAS (about 3x slower) unless OpenBLAS is the selected
# alternative; refuse to time the wrong one. Prints blas= and lapack=.
require_openblas() {
  local blas lapack
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
}

# OpenBLAS kernels: let OpenBLAS detect the CPU, except where it gets that wrong: on some Intel
# Xeons with AVX-512, Debian's OpenBLAS 0.3.21 falls back to its Prescott (SSE3) kernels, about
# 2x slower. When the CPU has avx512f and OpenBLAS reports Prescott, use OPENBLAS_CORETYPE=SkylakeX
# and say so. Prints cpu=, openblas_detected_core=, openblas_coretype_override=, openblas_core=.
# Needs python3-threadpoolctl.
openblas_core() { "$py" -c 'import numpy, threadpoolctl; print(next((i.get("architecture", "?") for i in threadpoolctl.threadpool_info() if i.get("internal_api") == "openblas"), "?"))'; }
tune_openblas() {
  unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
  local detected override=none
  detected="$(openblas_core)"
  if grep -qw avx512f /proc/cpuinfo && [[ "$detected" == Prescott ]]; then
    export OPENBLAS_CORETYPE=SkylakeX
    override="SkylakeX (CPU has avx512f but OpenBLAS detected Prescott)"
  fi
  echo "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1) cores=$(nproc) avx512f=$(grep -qw avx512f /proc/cpuinfo && echo yes || echo no)"
  echo "openblas_detected_core=$detected"
  echo "openblas_coretype_override=$override"
  echo "openblas_core=$(openblas_core)"
}

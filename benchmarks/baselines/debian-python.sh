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

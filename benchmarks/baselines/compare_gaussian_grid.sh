#!/usr/bin/env bash
# The full paper Gaussian grid (5 d × 5 n × 100 seeds × 100 iterations × 3 settings), timed side by
# side on this machine: the numpy reference (strongest variant: Chan-merged Accumulate, Cholesky
# sampling, the faster of one and two OpenBLAS threads, its kernels checked) and `collapse run gaussian`
# with --method data and --method wishart.
# Writes results/benchmarks/<machine>/gaussian-grid.md, <machine> from the CPU's model name, or MACHINE=<name> where
# that name is shared by different CPUs (a VM's "AMD EPYC" is a Zen 3 or a Zen 4). Takes about 13 minutes on 2 cores.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cpu="$(sed -n 's/^model name\s*: *//p' /proc/cpuinfo | head -1)"
slug="${MACHINE:-}"
[[ -n "$slug" ]] || slug="$(echo "$cpu" | tr '[:upper:]' '[:lower:]' | sed -E 's/\(r\)|\(tm\)|cpu|processor|@.*//g; s/[^a-z0-9]+/-/g; s/^-|-$//g')"
out="results/benchmarks/${slug:-machine}/gaussian-grid.md"
mkdir -p "$(dirname "$out")"

dotnet build -c Release src/Collapse.Cli >/dev/null
collapse=(dotnet src/Collapse.Cli/bin/Release/net10.0/collapse.dll)

seconds() { /usr/bin/time -f "%e" -o "$work/time" "$@" >"$work/log" 2>&1; cat "$work/time"; }

# The numpy peer at its best: Chan-merged Accumulate, Cholesky sampling, OpenBLAS's kernels checked
# (tune_openblas in debian-python.sh), and the faster of one and two OpenBLAS threads.
for threads in 1 2; do
  echo "numpy (suffstats, cholesky, $threads OpenBLAS thread(s))..."
  OPENBLAS_NUM_THREADS=$threads bash benchmarks/baselines/run_numpy_baseline.sh --accumulate-impl suffstats --factor cholesky > "$work/numpy$threads.log"
done
total_of() { sed -n 's/^total_seconds=//p' "$work/numpy$1.log"; }
settings_of() { grep '^setting=' "$work/numpy$1.log" | sed 's/setting=//; s/ seconds=/: /' | paste -sd ';' | sed 's/;/; /g'; }
best=1
python3 -c "import sys; sys.exit(0 if $(total_of 2) < $(total_of 1) else 1)" && best=2
numpy_total="$(total_of $best)"
numpy_version="$(sed -n 's/^numpy \([^,]*\),.*/\1/p' "$work/numpy1.log")"
openblas_core="$(sed -n 's/^openblas_core=//p' "$work/numpy1.log")"
openblas_override="$(sed -n 's/^openblas_coretype_override=//p' "$work/numpy1.log")"
width="$(grep -qw avx512f /proc/cpuinfo && echo "AVX-512 path" || echo "AVX2 path")"

echo "collapse --method data..."
data_wall="$(seconds "${collapse[@]}" run gaussian --out "$work/data" --no-figures)"
echo "collapse --method wishart..."
wishart_wall="$(seconds "${collapse[@]}" run gaussian --method wishart --settings replace,accumulate --out "$work/wishart" --no-figures)"
per_setting() { python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print('; '.join(f'{k}: {v:.1f}' for k,v in m['wall_seconds_per_setting'].items()))" "$1"; }

speedup="$(python3 -c "print(f'{$numpy_total / $data_wall:.1f}')")"
cat > "$out" <<MD
# Gaussian paper grid: wall time on ${cpu} ($(nproc) cores)

Measured $(date -u +%Y-%m-%d) by \`benchmarks/baselines/compare_gaussian_grid.sh\`, one program after the
other on an otherwise idle machine, commit $(git rev-parse --short HEAD). Grid: d ∈ {1,3,10,31,100},
n ∈ {10,32,100,316,1000}, 100 seeds, 100 iterations, replace + accumulate + accumulate-subsample
(wishart: replace + accumulate, the settings it serves). OpenBLAS ran its \`${openblas_core}\` kernels
(threadpoolctl; core-type override: ${openblas_override}).

| program | wall time | per setting (s) |
|---|---:|---|
| numpy ${numpy_version} reference (\`gaussian_numpy.py --accumulate-impl suffstats --factor cholesky\`, OpenBLAS, 1 thread) | $(total_of 1) s | $(settings_of 1) |
| the same, 2 OpenBLAS threads | $(total_of 2) s | $(settings_of 2) |
| \`collapse run gaussian\` (\`--method data\`, CPU, ${width}) | ${data_wall} s | $(per_setting "$work/data/manifest.json") |
| \`collapse run gaussian --method wishart --settings replace,accumulate\` | ${wishart_wall} s | $(per_setting "$work/wishart/manifest.json") |

Data method speedup over the faster numpy run (${best} thread(s)): **${speedup}×**. The collapse wall times include process start,
JIT and writing the 750,000-row CSV; the per-setting times are the sweep alone.
MD
cat "$out"

#!/usr/bin/env bash
# The perf-check's noise floor on this machine: runs the check N times with the same build on both
# sides (so every ratio's true value is 1), quiet and then beside LOADS busy processes, and prints
# each workload's lowest and highest ratio. The threshold must sit above what this shows.
#   scripts/perf/noise.sh [N=5] [LOADS="0 1 2"]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
loads=${2:-0 1 2}
build=src/Collapse.Cli/bin/Release/net10.0
dotnet build src/Collapse.Cli -c Release -nologo -v:q >/dev/null
out=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$out"' EXIT
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) ($(nproc) logical cores)"
for load in $loads; do
  for ((i = 0; i < load; i++)); do (while :; do :; done) & done
  sleep 1
  for ((r = 1; r <= runs; r++)); do
    dotnet "$build/collapse.dll" perf-check --reference-build "$build" --threshold 100 | tee -a "$out/load$load" \
      | grep -E '^(perf-check passed|perf-check FAILED)' >/dev/null
  done
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  echo "== $load busy process(es) beside it, $runs runs, load average now $(cut -d' ' -f1-3 /proc/loadavg)"
  awk '$NF == "ok" || $0 ~ /SLOWER/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+×$/) { r = $i + 0; n = $1;
         if (!(n in lo) || r < lo[n]) lo[n] = r; if (!(n in hi) || r > hi[n]) hi[n] = r; break } }
       END { for (n in lo) printf "  %-20s this/ref %.2f – %.2f\n", n, lo[n], hi[n] }' "$out/load$load" | sort
done

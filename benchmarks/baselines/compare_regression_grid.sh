#!/usr/bin/env bash
# The linear-regression paper grid (d ∈ {1,3,10,32,100} × n ∈ {10,32,100,316,1000} × σ² ∈ {0.1,1,10}
# × 100 seeds × 100 iterations × replace, accumulate, accumulate-subsample; 1,000 test points), timed
# side by side on this machine, one program after the other:
#   (a) numpy, the authors' loop (regression_numpy.py --impl authors): one seed at a time, pinv of the
#       whole stacked design every Accumulate iteration. Over the full grid that takes hours, so it runs
#       --numpy-seeds K seeds (0..K-1) and its time is scaled by 100/K: every seed is an independent
#       loop with the same work, so the scaling is exact up to noise.
#   (b) numpy, the batched fast implementation (--impl fast), all seeds.
#   (c) collapse run regression, all seeds.
# Both numpy runs write their CSV, as collapse does. Each numpy program is run with every OpenBLAS thread
# count in --numpy-threads (default 1; e.g. 1,2) and its best wall time is kept. OpenBLAS kernels as
# run_regression_baseline.sh picks them (SkylakeX where an AVX-512 CPU is misdetected as Prescott).
# Writes results/benchmarks/<cpu-slug>/regression-grid.md. On 2 shared AMD EPYC cores (2026-12) the authors'
# loop took ~5.3 min a seed (so ~11 min at the default --numpy-seeds 2) and the fast numpy ~2.5 min.
#
# Options: --numpy-seeds K (2; the authors' loop takes ~5 min a seed on 2 cores)  --numpy-threads LIST (1)  --no-collapse (time numpy only)
#          grid: --dims --samples --sigma-squared --seeds --iterations --settings (paper grid)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

numpy_seeds=2 numpy_threads=1 collapse_on=1
dims=1,3,10,32,100 samples=10,32,100,316,1000 sigma2=0.1,1,10 seeds=100 iterations=100
settings=replace,accumulate,accumulate-subsample
while (($#)); do
  case "$1" in
    --numpy-seeds) numpy_seeds="$2"; shift 2 ;;
    --numpy-threads) numpy_threads="$2"; shift 2 ;;
    --no-collapse) collapse_on=0; shift ;;
    --dims) dims="$2"; shift 2 ;;
    --samples) samples="$2"; shift 2 ;;
    --sigma-squared) sigma2="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    --iterations) iterations="$2"; shift 2 ;;
    --settings) settings="$2"; shift 2 ;;
    *) echo "unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
((numpy_seeds >= 1 && numpy_seeds <= seeds)) || { echo "--numpy-seeds must be 1..$seeds" >&2; exit 2; }
grid=(--dims "$dims" --samples "$samples" --sigma-squared "$sigma2" --iterations "$iterations" --settings "$settings")

cpu="$(sed -n 's/^model name\s*: *//p' /proc/cpuinfo | head -1)"
slug="$(echo "$cpu" | tr '[:upper:]' '[:lower:]' | sed -E 's/\(r\)|\(tm\)|cpu|processor|@.*//g; s/[^a-z0-9]+/-/g; s/^-|-$//g')"
out="results/benchmarks/${slug:-machine}/regression-grid.md"
mkdir -p "$(dirname "$out")"

collapse=(dotnet src/Collapse.Cli/bin/Release/net10.0/collapse.dll)
if ((collapse_on)); then
  # Build first, so the build is not timed, and smoke-test the command on a one-cell grid so a missing
  # or broken command fails now, not after the numpy runs.
  echo "building collapse (Release)..."
  dotnet build -c Release src/Collapse.Cli >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; exit 1; }
  "${collapse[@]}" run regression --dims 3 --samples 10 --sigma-squared 1 --seeds 2 --iterations 2 \
    --settings replace --out "$work/smoke" --no-figures >"$work/smoke.log" 2>&1 \
    && [[ "$(head -1 "$work/smoke/regression.csv")" == "setting,dim,n,sigma_squared,seed,iteration,test_mse,weight_error" ]] \
    || { echo "error: 'collapse run regression' smoke test failed (rerun with --no-collapse to time numpy only):" >&2
         cat "$work/smoke.log" >&2; exit 1; }
fi

# Wall seconds of a command (process, from /usr/bin/time); its output goes to a log.
seconds() { local log="$1"; shift; /usr/bin/time -f "%e" -o "$work/time" "$@" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }; cat "$work/time"; }
field() { sed -n "s/^$1=//p" "$2" | tail -1; }
calc() { /usr/bin/python3 -c "print($1)"; }
# "replace: 1.2; accumulate: ..." from a log's setting= lines, each multiplied by $2.
settings_of() { grep '^setting=' "$1" | sed 's/setting=//; s/ seconds=/ /' | while read -r s v; do printf '%s: %.2f\n' "$s" "$(calc "$v * $2")"; done | paste -sd ';' | sed 's/;/; /g'; }

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
declare -A best_wall best_log best_threads
for impl in authors fast; do
  if [[ $impl == authors ]]; then n_seeds=$numpy_seeds; else n_seeds=$seeds; fi
  for th in ${numpy_threads//,/ }; do
    log="$work/$impl-$th.log"
    echo "numpy --impl $impl, $n_seeds seeds, OPENBLAS_NUM_THREADS=$th..."
    wall="$(OPENBLAS_NUM_THREADS=$th seconds "$log" bash benchmarks/baselines/run_regression_baseline.sh \
            --impl "$impl" "${grid[@]}" --seeds "$n_seeds" --out "$work/$impl.csv")"
    echo "  wall ${wall} s"
    if [[ -z "${best_wall[$impl]:-}" ]] || (( $(calc "int($wall < ${best_wall[$impl]})") )); then
      best_wall[$impl]=$wall best_log[$impl]=$log best_threads[$impl]=$th
    fi
  done
done

scale="$(calc "$seeds / $numpy_seeds")"
a_log="${best_log[authors]}" f_log="${best_log[fast]}"
a_run="${best_wall[authors]}" a_loop="$(field total_seconds "$a_log")"
# Fixed part (interpreter start, imports, apt check) once; the loop and its CSV scale with the seeds.
a_wall="$(calc "f'{$a_run - $a_loop + $a_loop * $scale:.1f}'")"
f_wall="${best_wall[fast]}"
numpy_version="$(sed -n 's/^numpy \([^,]*\),.*/\1/p' "$f_log")"
openblas_version="$(sed -n 's/^numpy [^,]*, \(openblas [^ ]*\) .*/\1/p' "$f_log")"
core="$(field openblas_core "$f_log")"
override="$(field openblas_coretype_override "$f_log")"

collapse_row="| \`collapse run regression\` | not run (--no-collapse) | | |"
speedup_line="collapse not run."
if ((collapse_on)); then
  echo "collapse run regression, $seeds seeds..."
  c_wall="$(seconds "$work/collapse.log" "${collapse[@]}" run regression "${grid[@]}" --seeds "$seeds" --out "$work/collapse" --no-figures)"
  echo "  wall ${c_wall} s"
  c_settings="$(/usr/bin/python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print('; '.join(f'{k}: {v:.1f}' for k,v in m['wall_seconds_per_setting'].items()))" "$work/collapse/manifest.json")"
  collapse_row="| \`collapse run regression\` (${seeds} seeds) | ${c_wall} s | ${c_settings} | 1 |"
  speedup_line="Speed-up of collapse by process wall time: **$(calc "f'{$a_wall / $c_wall:.0f}'")×** over the authors' loop (scaled), **$(calc "f'{$f_wall / $c_wall:.1f}'")×** over the fast numpy."
fi
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
su() { if ((collapse_on)); then calc "f'{$1 / $c_wall:.1f}'"; else echo "—"; fi; }

cat > "$out" <<MD
# Linear-regression paper grid: wall time on ${cpu} ($(nproc) cores)

Measured $(date -u +%Y-%m-%d) by \`benchmarks/baselines/compare_regression_grid.sh\`, one program after the
other, commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo " (plus uncommitted changes)").
Load average (1, 5, 15 min) before: ${load_before}; after: ${load_after}.

Grid: d ∈ {${dims}}, n ∈ {${samples}}, σ² ∈ {${sigma2}}, ${seeds} seeds, ${iterations} iterations,
${settings}; 1,000 test points per seed. numpy ${numpy_version}, ${openblas_version} (Debian), core type
**${core}** (override: ${override}); OpenBLAS threads tried: ${numpy_threads}, best kept.

| program | wall time | per setting (s) | collapse speed-up |
|---|---:|---|---:|
| numpy, authors' loop (\`regression_numpy.py --impl authors\`, ${best_threads[authors]} OpenBLAS thread(s)): ${numpy_seeds} seeds timed (${a_run} s), scaled ×${scale} | ${a_wall} s (est.) | $(settings_of "$a_log" "$scale") | $(su "$a_wall") |
| numpy, fast batched (\`--impl fast\`, ${best_threads[fast]} OpenBLAS thread(s)), ${seeds} seeds | ${f_wall} s | $(settings_of "$f_log" 1) | $(su "$f_wall") |
${collapse_row}

${speedup_line}

- Wall times are whole processes (\`/usr/bin/time\`): start-up, the sweep and writing the CSV. The per-setting
  times are the sweep alone (numpy: its \`setting=\` lines; collapse: the manifest's \`wall_seconds_per_setting\`).
- The authors' loop is run on seeds 0..$((numpy_seeds - 1)) only and scaled to ${seeds}: each seed is an independent
  loop doing the same work, so its time is linear in the seeds (exact up to noise); the estimate is
  (process wall − loop) + loop × ${scale}, the loop being the script's \`total_seconds\` (sweep + CSV).
- The fast numpy gives the same distribution of every output as the authors' loop (different random
  numbers); \`regression_numpy.py --self-check\` compares them. Its identities are in its docstring.
  Exception: in Accumulate with n < d the authors' stacked pinv keeps a round-off singular value once the
  stack is large (t ≳ 50 at d = 32, n = 10) and the fit explodes; the fast version is the exact min-norm fit.

Reproduce: \`benchmarks/baselines/compare_regression_grid.sh --numpy-seeds ${numpy_seeds} --numpy-threads ${numpy_threads}\`.
MD
cat "$out"

#!/usr/bin/env bash
# A KDE sub-grid timed side by side on this machine: the scikit-learn reference
# (kde_sklearn.py: KernelDensity refitted every iteration, one thread) and
# `collapse run kde`, one after the other; then the two results are compared
# statistically (they use different random numbers, so they can only agree in
# distribution). Writes results/benchmarks/<machine>/kde-grid.md.
#
# The default sub-grid is the one calibrated in results/benchmarks/baselines/
# kde-sklearn.md to take scikit-learn about 10 minutes on 2 cores; the whole
# script takes 15 to 20 (sklearn, then collapse, then the exact-scorer pass).
# Override with the environment, e.g. SEEDS=4 ITERATIONS=10 for a quick try:
#   DATASETS BANDWIDTHS SAMPLES SEEDS ITERATIONS SETTINGS TEST_SIZE
#   EXACT=0   skip the third pass (sklearn fit/sample + exact log-sum-exp scorer)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

datasets="${DATASETS:-blobs,circles,moons,swiss-roll}"
bandwidths="${BANDWIDTHS:-0.1,0.5,1.0}"
samples="${SAMPLES:-10,100,1000}"
seeds="${SEEDS:-12}"
iterations="${ITERATIONS:-20}"
settings="${SETTINGS:-replace,accumulate,accumulate-subsample}"
test_size="${TEST_SIZE:-500}"
exact="${EXACT:-1}"
grid=(--datasets "$datasets" --bandwidths "$bandwidths" --samples "$samples" --seeds "$seeds"
      --iterations "$iterations" --settings "$settings" --test-size "$test_size")

cpu="$(sed -n 's/^model name\s*: *//p' /proc/cpuinfo | head -1)"
slug="$(echo "$cpu" | tr '[:upper:]' '[:lower:]' | sed -E 's/\(r\)|\(tm\)|cpu|processor|@.*//g; s/[^a-z0-9]+/-/g; s/^-|-$//g')"
out="results/benchmarks/${slug:-machine}/kde-grid.md"
mkdir -p "$(dirname "$out")"

# Build first, so neither the build nor the restore is timed, and smoke-test the
# kde command on a one-cell grid so a missing or broken command fails now, not
# after ten minutes of scikit-learn.
echo "building collapse (Release)..."
dotnet build src/Collapse.Cli -c Release >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; exit 1; }
collapse=(dotnet run --no-build --project src/Collapse.Cli -c Release --)
"${collapse[@]}" run kde --datasets moons --bandwidths 0.5 --samples 10 --seeds 2 --iterations 2 \
  --settings replace --test-size 50 --out "$work/smoke" --overwrite --no-figures >"$work/smoke.log" 2>&1 \
  && [[ "$(head -1 "$work/smoke/kde.csv")" == "dataset,bandwidth,setting,n,seed,iteration,nll_test" ]] \
  || { echo "error: 'collapse run kde' smoke test failed:" >&2; cat "$work/smoke.log" >&2; exit 1; }

# Wall seconds of a command, from /usr/bin/time; its output goes to a log.
seconds() { local log="$1"; shift; /usr/bin/time -f "%e" -o "$work/time" "$@" >"$log" 2>&1; cat "$work/time"; }
field() { sed -n "s/^$1=//p" "$2" | tail -1; }

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "scikit-learn ($(echo "${grid[@]}"))..."
sk_wall="$(seconds "$work/sklearn.log" bash benchmarks/baselines/run_sklearn_baseline.sh "${grid[@]}" --out "$work/sklearn.csv")"
sk_loop="$(field total_seconds "$work/sklearn.log")"
sk_cpu="$(field cpu_seconds "$work/sklearn.log")"
pairs="$(field pairs "$work/sklearn.log")"
sk_versions="$(sed -n 's/^sklearn \([^,]*\), numpy \([^,]*\),.*/scikit-learn \1, numpy \2/p' "$work/sklearn.log")"

echo "collapse run kde..."
cs_wall="$(seconds "$work/collapse.log" "${collapse[@]}" run kde "${grid[@]}" --out "$work/collapse" --overwrite --no-figures)"
cs_sweep="$(python3 -c "import json,sys; print(f\"{json.load(open(sys.argv[1]))['wall_seconds']:.2f}\")" "$work/collapse/manifest.json")"
cs_device="$(python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print(m.get('accelerator','?'), '/', m.get('kernel_path', m.get('device','?')))" "$work/collapse/manifest.json")"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

exact_row=""
if [[ "$exact" == 1 ]]; then
  # Same chains as the sklearn run (scoring draws no random numbers), scored
  # exactly: separates sklearn's tree-scorer error from real disagreement.
  echo "scikit-learn fit/sample + exact scorer..."
  ex_wall="$(seconds "$work/exact.log" bash benchmarks/baselines/run_sklearn_baseline.sh "${grid[@]}" --score exact --out "$work/exact.csv")"
  exact_row="| same chains, scored by \`--score exact\` (numpy float64 log-sum-exp over every fitted point, 1 thread; not part of the speedup) | ${ex_wall} s | $(field total_seconds "$work/exact.log") s | $(field cpu_seconds "$work/exact.log") s | $(python3 -c "print(f'{$pairs / $(field total_seconds "$work/exact.log"):.3g}')") |"
fi

rate() { python3 -c "print(f'{$pairs / $1:.3g}')"; }
speedup="$(python3 -c "print(f'{$sk_wall / $cs_wall:.1f}')")"
sweep_speedup="$(python3 -c "print(f'{$sk_loop / $cs_sweep:.1f}')")"

# Last-iteration mean nll per cell from each program, and the difference in
# units of its standard error over seeds.
stats() {
  /usr/bin/python3 - "$@" <<'PY'
import csv, math, sys
from collections import defaultdict

def bw_key(b):
    try:
        return repr(float(b))        # "1" and "1.0" are the same bandwidth
    except ValueError:
        return b

def last(path):
    rows = defaultdict(dict)         # cell -> seed -> (iteration, nll)
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            cell = (r["dataset"], bw_key(r["bandwidth"]), r["setting"], int(r["n"]))
            it, seed = int(r["iteration"]), int(r["seed"])
            if it >= rows[cell].get(seed, (0,))[0]:
                rows[cell][seed] = (it, float(r["nll_test"]))
    out = {}
    for cell, by_seed in rows.items():
        v = [x for _, x in by_seed.values()]
        m = sum(v) / len(v)
        sd = math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else float("nan")
        out[cell] = (m, sd / math.sqrt(len(v)), len(v))
    return out

def z(a, b):
    se = math.hypot(a[1], b[1])
    return (a[0] - b[0]) / se if se > 0 else float("nan")

names = ["collapse", "sklearn"] + (["exact"] if len(sys.argv) > 3 else [])
data = [last(p) for p in sys.argv[1:]]
cells = sorted(set(data[0]) | set(data[1]), key=lambda c: (c[0], float(c[1]) if c[1][0].isdigit() else 1e9, c[2], c[3]))
head = "| dataset | h | setting | n | collapse mean ± se | sklearn mean ± se | z (collapse − sklearn) |"
sep = "|---|---:|---|---:|---:|---:|---:|"
if len(data) > 2:
    head += " exact-scorer mean ± se | z (collapse − exact) |"
    sep += "---:|---:|"
print(head)
print(sep)
zs = defaultdict(list)
for c in cells:
    if any(c not in d for d in data):
        print(f"| {c[0]} | {c[1]} | {c[2]} | {c[3]} | missing in " + ", ".join(n for n, d in zip(names, data) if c not in d) + " |")
        continue
    cs = data[0][c]
    line = f"| {c[0]} | {c[1]} | {c[2]} | {c[3]} | {cs[0]:.4g} ± {cs[1]:.2g} | {data[1][c][0]:.4g} ± {data[1][c][1]:.2g} | {z(cs, data[1][c]):+.2f} |"
    zs["sklearn"].append(z(cs, data[1][c]))
    if len(data) > 2:
        line += f" {data[2][c][0]:.4g} ± {data[2][c][1]:.2g} | {z(cs, data[2][c]):+.2f} |"
        zs["exact"].append(z(cs, data[2][c]))
    print(line)
print()
for k, v in zs.items():
    v = [x for x in v if not math.isnan(x)]
    print(f"- collapse vs {k}: {len(v)} cells, |z| > 2 in {sum(abs(x) > 2 for x in v)}, "
          f"|z| > 3 in {sum(abs(x) > 3 for x in v)}, largest |z| {max(map(abs, v)):.2f} "
          f"(about {0.0455 * len(v):.1f} cells beyond 2 are expected by chance).")
PY
}
if [[ "$exact" == 1 ]]; then
  stats "$work/collapse/kde.csv" "$work/sklearn.csv" "$work/exact.csv" >"$work/stats.md"
else
  stats "$work/collapse/kde.csv" "$work/sklearn.csv" >"$work/stats.md"
fi

cat > "$out" <<MD
# KDE sub-grid: scikit-learn vs collapse on ${cpu} ($(nproc) cores)

Measured $(date -u +%Y-%m-%d) by \`benchmarks/baselines/compare_kde_grid.sh\`, one program after the
other, commit $(git rev-parse --short HEAD) (plus any uncommitted changes in the working tree).
Load average (1, 5, 15 min) before: ${load_before}; after the two timed runs: ${load_after}. This
machine is shared, so expect some noise in the wall times.

Grid: datasets ${datasets}; bandwidths ${bandwidths}; n ∈ {${samples}}; ${seeds} seeds;
${iterations} iterations; ${settings}; ${test_size} test points per seed. Both programs score
${pairs} test×fitted pairs in all (Σ over fits of test points × points fitted, the same count for
both: it is set by the protocol). Pairs/s is that count over the wall time, so for a program that
scores Accumulate incrementally it is an effective rate, not the pairs it evaluated.

| program | wall time (process) | wall time (loop / sweep) | CPU time | pairs/s (loop / sweep) |
|---|---:|---:|---:|---:|
| ${sk_versions} (\`kde_sklearn.py\`, KernelDensity refitted from scratch each iteration, 1 thread) | ${sk_wall} s | ${sk_loop} s | ${sk_cpu} s | $(rate "$sk_loop") |
| \`collapse run kde\` (${cs_device}) | ${cs_wall} s | ${cs_sweep} s | — | $(rate "$cs_sweep") |
${exact_row}

Speedup of collapse over scikit-learn: **${speedup}×** by process wall time (each includes start-up:
Python imports; \`dotnet run --no-build\`, JIT), **${sweep_speedup}×** by the sweep alone (the
script's \`total_seconds\` vs the manifest's \`wall_seconds\`).
scikit-learn runs on one core (KernelDensity has no threads); collapse's CPU path scores on every
core it is given ($(nproc) here), so on a CPU the speedup includes the extra cores.

## Statistical agreement: mean nll_test at the last iteration (t = ${iterations})

Different random numbers, so the two agree only in distribution. z is the difference of the
seed-means over its standard error, √(se₁² + se₂²), with se = sd/√seeds from each program.
With ${seeds} seeds the se is itself rough and nll at small h is heavy-tailed, so read |z| ≲ 3 as
agreement and look for patterns (one setting, one dataset) rather than single cells.

scikit-learn 1.2's tree scorer (\`score_samples\`) is inexact for test points far (in units of h)
from every fitted point once a fit has more than one tree leaf (> 40 points); see
\`results/benchmarks/baselines/kde-sklearn.md\`. The exact-scorer column (run unless EXACT=0) scores the very same
sklearn chains with a float64 log-sum-exp, so a cell where only the sklearn column disagrees is
sklearn's scorer, not collapse.

$(cat "$work/stats.md")

Reproduce: \`benchmarks/baselines/compare_kde_grid.sh\` (same grid by default).
MD
cat "$out"

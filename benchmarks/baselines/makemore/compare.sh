#!/usr/bin/env bash
# `collapse run lm --preset makemore` side by side with karpathy/makemore's own PyTorch Transformer
# (same configuration: 4 layers, width 64, 4 heads, block size 16, batch 32, AdamW lr 5e-4, betas
# 0.9/0.99, eps 1e-8, weight decay 0.01, no gradient clipping), on this machine's CPU. Issue 4's goals:
# test loss within 0.02 of makemore's at equal steps, and training tokens/s >= 1.0x makemore's on OpenBLAS.
# Writes results/benchmarks/<machine>/lm-makemore.md.
#
# Usage: benchmarks/baselines/makemore/compare.sh MAKEMORE_PY
#   MAKEMORE_PY: karpathy/makemore's makemore.py. This repository neither ships nor fetches it; the
#   measured copy is github.com/karpathy/makemore commit 988aa59e4d8fefa526d06f3b453ad116258398d4, e.g.
#     git clone https://github.com/karpathy/makemore && git -C makemore checkout 988aa59e
#   Needs Debian's python3-torch (torch 1.13.1) with libopenblas0-pthread selected as libblas.so.3
#   (update-alternatives --display libblas.so.3-x86_64-linux-gnu), and the .NET 10 SDK.
#
# Two parts, one heavy process at a time:
#  (i) speed, interleaved over ROUNDS rounds: ours on 2 cores (default) and on 1 (DOTNET_PROCESSOR_COUNT=1),
#      makemore with 1 thread, 2 threads (OpenMP 2 + OpenBLAS 2: what torch.set_num_threads(2) and the
#      default OpenBLAS give; the two pools oversubscribe 2 cores, so only OVERSUB_STEPS steps) and 2 OpenMP
#      threads with 1 OpenBLAS thread. Ours: steps/s from the manifests'
#      wall_seconds of `run lm --steps K0+SPEED_STEPS` minus `--steps K0` (same sampling, evaluation and
#      start-up in both; K0 = 200 so both models sample names of about the same length). makemore:
#      run_makemore.py's timed loop (first 20 steps untimed, data loading in the main process).
#  (ii) quality: test loss at 2,000 and 10,000 steps. Ours: `run lm --steps K --seeds OUR_SEEDS` (one run
#      per K; the replicates are its seeds 0..). makemore: one run per seed of 10,000 steps evaluated at
#      2,000 too (run_makemore.py restores the RNG after evaluating, so that does not change the run),
#      on OUR split (SplitExport/) and on makemore's own split (torch.randperm after manual_seed(seed)).
#
# Environment: ROUNDS=3 SPEED_STEPS=1000 OVERSUB_STEPS=200 QUALITY_STEPS="2000 10000" MM_SEEDS="3407 1" OUR_SEEDS=2
#   MM_QUALITY_THREADS=1 PYTHON=/usr/bin/python3 PARTS="speed quality" (run in that order) OUT=<markdown path>
#   PREVIOUS=<an earlier run's .jsonl>: its rows of the parts not in PARTS are kept and reported again
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$root"
[[ $# -eq 1 && -f "$1" ]] || { sed -n '2,14p' "$0" >&2; echo "error: give the path of makemore.py" >&2; exit 2; }
makemore="$(realpath "$1")"
here="benchmarks/baselines/makemore"
python="${PYTHON:-/usr/bin/python3}"
rounds="${ROUNDS:-3}"
speed_steps="${SPEED_STEPS:-1000}"
oversub_steps="${OVERSUB_STEPS:-200}"   # makemore with OpenMP 2 + OpenBLAS 2 on 2 cores runs ~5 steps/s
quality_steps="${QUALITY_STEPS:-2000 10000}"
mm_seeds="${MM_SEEDS:-3407 1}"
our_seeds="${OUR_SEEDS:-2}"
mm_quality_threads="${MM_QUALITY_THREADS:-1}"
parts="${PARTS:-speed quality}"
k0=200
max_steps="$(echo $quality_steps | tr ' ' '\n' | sort -n | tail -1)"
eval_at="$(echo $quality_steps | tr ' ' ',')"

cpu="$(sed -n 's/^model name\s*: *//p' /proc/cpuinfo | head -1)"
slug="$(echo "$cpu" | tr '[:upper:]' '[:lower:]' | sed -E 's/\(r\)|\(tm\)|cpu|processor|@.*//g; s/[^a-z0-9]+/-/g; s/^-|-$//g')"
out="${OUT:-results/benchmarks/${slug:-machine}/lm-makemore.md}"
mkdir -p "$(dirname "$out")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rows="$work/rows.jsonl"
: >"$rows"
# PREVIOUS=FILE.jsonl (an earlier run's raw rows): keep its rows of the parts not run now, e.g. to retime
# speed on a quieter machine without redoing the 20-minute quality part (each row keeps its own load).
if [[ -n "${PREVIOUS:-}" ]]; then
  "$python" - "$PREVIOUS" "$parts" >"$rows" <<'EOF2'
import json, sys
for line in open(sys.argv[1]):
    if line.strip() and json.loads(line)["part"] not in sys.argv[2].split():
        print(line.rstrip())
EOF2
fi

"$python" -c "import torch" 2>/dev/null || { echo "error: $python cannot import torch (apt-get install python3-torch)" >&2; exit 1; }
blas="$(update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null | sed -n 's/^Value: //p')"
echo "libblas.so.3 -> ${blas:-?}"

echo "building collapse and SplitExport (Release)..."
dotnet build src/Collapse.Cli -c Release >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; exit 1; }
dotnet build "$here/SplitExport" -c Release >>"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; exit 1; }
collapse=(dotnet run --no-build --project src/Collapse.Cli -c Release --)
dotnet run --no-build --project "$here/SplitExport" -c Release -- "$work/split" | tee "$work/split.log"
[[ "$(wc -l <"$work/split/test.txt")" -eq 1000 && "$(wc -l <"$work/split/train.txt")" -eq 31033 ]] \
  || { echo "error: our split is not 1,000 test + 31,033 train names" >&2; exit 1; }
names="src/Collapse.Engine/Data/names.txt"   # byte for byte makemore's names.txt

load() { cut -d' ' -f1 /proc/loadavg; }
# ours KIND ROUND STEPS [env...]: one `run lm` of STEPS steps, one seed; prints its sweep seconds.
ours_run() {
  local steps="$1"; shift
  env "$@" "${collapse[@]}" run lm --preset makemore --steps "$steps" --iterations 1 --seeds 1 --settings replace \
    --out "$work/ours-$steps" --force --no-figures >"$work/ours.log" 2>&1 || { cat "$work/ours.log" >&2; exit 1; }
  "$python" -c "import json,sys; print(json.load(open(sys.argv[1]))['wall_seconds'])" "$work/ours-$steps/manifest.json"
}
ours_speed() {  # LABEL ROUND env...
  local label="$1" round="$2"; shift 2
  local l0 w0 w1 l1 len0 len1
  l0="$(load)"
  w0="$(ours_run "$k0" "$@")"; len0="$(tail -1 "$work/ours-$k0/lm.csv" | cut -d, -f10)"
  w1="$(ours_run "$((k0 + speed_steps))" "$@")"; len1="$(tail -1 "$work/ours-$((k0 + speed_steps))/lm.csv" | cut -d, -f10)"
  l1="$(load)"
  "$python" - "$label" "$round" "$w0" "$w1" "$speed_steps" "$l0" "$l1" "$len0" "$len1" >>"$rows" <<'EOF'
import json, sys
label, rnd, w0, w1, n, l0, l1, len0, len1 = sys.argv[1:]
sps = int(n) / (float(w1) - float(w0))
print(json.dumps(dict(part="speed", program="ours", config=label, round=int(rnd), steps_per_s=sps, tokens_per_s=sps * 32 * 16,
                      detail=f"{float(w1):.2f} s - {float(w0):.2f} s for {n} steps (sampled names {float(len0):.2f} / {float(len1):.2f} chars)",
                      load_before=float(l0), load_after=float(l1))))
EOF
  echo "  ours $label: $(tail -1 "$rows" | "$python" -c 'import json,sys; r=json.loads(sys.stdin.read()); print("%.1f steps/s, load %s -> %s" % (r["steps_per_s"], r["load_before"], r["load_after"]))')"
}
mm_run() {  # JSON_OUT args...
  local json="$1"; shift
  "$python" "$here/run_makemore.py" "$makemore" --json "$json" "$@" >"$work/mm.log" 2>&1 || { cat "$work/mm.log" >&2; exit 1; }
}
mm_speed() {  # LABEL ROUND STEPS args...
  local label="$1" round="$2" steps="$3"; shift 3
  local l0 l1
  l0="$(load)"
  mm_run "$work/mm-speed.json" --split files --train "$work/split/train.txt" --test "$work/split/test.txt" \
    --steps "$((steps + 20))" --warmup 20 --no-eval "$@"
  l1="$(load)"
  "$python" - "$label" "$round" "$l0" "$l1" "$work/mm-speed.json" >>"$rows" <<'EOF'
import json, sys
label, rnd, l0, l1, path = sys.argv[1:]
r = json.load(open(path))
print(json.dumps(dict(part="speed", program="makemore", config=label, round=int(rnd), steps_per_s=r["steps_per_s"], tokens_per_s=r["tokens_per_s"],
                      detail=f"{r['timed_steps']} steps in {r['timed_seconds']:.2f} s; {r['blas_libraries'].split(';')[-1]}",
                      load_before=float(l0), load_after=float(l1))))
EOF
  echo "  makemore $label: $(tail -1 "$rows" | "$python" -c 'import json,sys; r=json.loads(sys.stdin.read()); print("%.1f steps/s, load %s -> %s" % (r["steps_per_s"], r["load_before"], r["load_after"]))')"
}

started="$(date -u +%Y-%m-%dT%H:%MZ)"
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"

speed_part() {
  echo "speed: $rounds interleaved rounds of $speed_steps steps..."
  for round in $(seq 1 "$rounds"); do
    ours_speed "2 cores (default)" "$round"
    mm_speed "1 thread" "$round" "$speed_steps" --threads 1
    ours_speed "1 core (DOTNET_PROCESSOR_COUNT=1)" "$round" DOTNET_PROCESSOR_COUNT=1
    mm_speed "2 threads (OpenMP 2, OpenBLAS 2)" "$round" "$oversub_steps" --threads 2
    mm_speed "2 OpenMP threads, OpenBLAS 1" "$round" "$speed_steps" --threads 2 --blas-threads 1
  done
}

quality_part() {
  for k in $quality_steps; do
    echo "quality: ours, $k steps, $our_seeds seeds..."
    l0="$(load)"
    "${collapse[@]}" run lm --preset makemore --steps "$k" --iterations 1 --seeds "$our_seeds" --settings replace \
      --out "$work/ours-q$k" --force --no-figures >"$work/ours-q.log" 2>&1 || { cat "$work/ours-q.log" >&2; exit 1; }
    l1="$(load)"
    "$python" - "$k" "$l0" "$l1" "$work/ours-q$k" >>"$rows" <<'EOF'
import csv, json, sys
k, l0, l1, d = sys.argv[1:]
wall = json.load(open(f"{d}/manifest.json"))["wall_seconds"]
for r in csv.DictReader(open(f"{d}/lm.csv")):
    print(json.dumps(dict(part="quality", program="ours", split="ours", seed=int(r["seed"]), steps=int(k), test_loss=float(r["test_loss"]),
                          test_loss_per_char=float(r["test_loss"]), wall_seconds=wall, load_before=float(l0), load_after=float(l1))))
EOF
    tail -n "$our_seeds" "$rows" | cut -c1-200
  done
  for split in ours makemore; do
    for seed in $mm_seeds; do
      echo "quality: makemore on $split split, seed $seed, $max_steps steps (evaluated at $eval_at)..."
      if [[ $split == ours ]]; then data=(--split files --train "$work/split/train.txt" --test "$work/split/test.txt")
      else data=(--split makemore --input-file "$names"); fi
      l0="$(load)"
      mm_run "$work/mm-q.json" "${data[@]}" --steps "$max_steps" --eval-at "$eval_at" --seed "$seed" --threads "$mm_quality_threads"
      l1="$(load)"
      "$python" - "$split" "$seed" "$l0" "$l1" "$work/mm-q.json" "$eval_at" >>"$rows" <<'EOF'
import json, sys
split, seed, l0, l1, path, eval_at = sys.argv[1:]
r = json.load(open(path))
for k in map(int, eval_at.split(",")):
    print(json.dumps(dict(part="quality", program="makemore", split=split, seed=int(seed), steps=k, test_loss=r[f"test_loss@{k}"],
                          test_loss_per_char=r[f"test_loss_per_char@{k}"], wall_seconds=r["timed_seconds"],
                          load_before=float(l0), load_after=float(l1))))
EOF
      tail -n 2 "$rows" | cut -c1-200
    done
  done
}

for part in $parts; do
  case "$part" in
    speed) speed_part ;;
    quality) quality_part ;;
    *) echo "error: PARTS takes speed and/or quality, not '$part'" >&2; exit 2 ;;
  esac
done

load_end="$(cut -d' ' -f1-3 /proc/loadavg)"
commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src benchmarks || echo ' (plus uncommitted changes)')"
torch_version="$("$python" -c 'import torch; print(torch.__version__)')"
mm_commit="$(git -C "$(dirname "$makemore")" rev-parse HEAD 2>/dev/null || echo '988aa59e4d8fefa526d06f3b453ad116258398d4 (expected; not a git checkout)')"
cp "$rows" "${out%.md}.jsonl"
"$python" - "$rows" "$out" "$cpu" "$(nproc)" "$commit" "$started" "$load_start" "$load_end" "$torch_version" "${blas:-?}" \
  "$mm_commit" "$rounds" "$speed_steps" "$our_seeds" "$mm_seeds" "$mm_quality_threads" "$(head -1 "$work/split.log")" <<'EOF'
import json, statistics as st, sys
(rows_path, out, cpu, cores, commit, started, load_start, load_end, torch_version, blas, mm_commit, rounds, speed_steps,
 our_seeds, mm_seeds, mm_threads, split_line) = sys.argv[1:]
rows = [json.loads(l) for l in open(rows_path)]
L = []
w = L.append
w(f"# makemore preset vs karpathy/makemore (PyTorch) on {cpu} ({cores} cores)\n")
w(f"Measured {started} by `benchmarks/baselines/makemore/compare.sh`, commit {commit}. Load average (1, 5, 15 min) "
  f"at the start: {load_start}; at the end: {load_end}. This machine is shared: the 1-minute load average is "
  "given beside every timing.\n")
w(f"makemore: `makemore.py` of github.com/karpathy/makemore at {mm_commit}, unmodified, driven by "
  f"`benchmarks/baselines/makemore/run_makemore.py` (tensorboard stubbed); Debian's torch {torch_version} "
  f"(python3-torch 1.13.1), libblas.so.3 → `{blas}`. Same configuration on both sides: 4 layers, width 64, 4 heads, "
  "block size 16, vocabulary 27, batch 32, AdamW lr 5e-4, betas 0.9/0.99, eps 1e-8, weight decay 0.01, no gradient "
  "clipping, constant learning rate. Tokens/s = 32 × 16 × steps/s.\n")
speed = [r for r in rows if r["part"] == "speed"]
if speed:
    w("## Speed: training tokens/s\n")
    w(f"{rounds} interleaved rounds of {speed_steps} timed steps per program and configuration (makemore with OpenMP 2 + OpenBLAS 2: fewer, see `how`) (order within a round: ours 2 cores, makemore 1 thread, ours 1 core, "
      "makemore 2 threads, makemore 2 OpenMP + 1 OpenBLAS thread). Ours: difference of the sweep wall times of "
      f"`collapse run lm --preset makemore --steps {200 + int(speed_steps)}` and `--steps 200` (one seed, one iteration; "
      "the rest of the sweep — corpus, sampling 31,033 names, evaluation — is the same in both). makemore: its training "
      "loop timed after 20 untimed steps, batches built in the main process (`--num-workers 0`). Both include drawing "
      "the batch.\n")
    w("| program | configuration | round | steps/s | tokens/s | how | load before → after |")
    w("|---|---|---:|---:|---:|---|---|")
    for r in speed:
        w(f"| {r['program']} | {r['config']} | {r['round']} | {r['steps_per_s']:.1f} | {r['tokens_per_s']:,.0f} | {r['detail']} | {r['load_before']} → {r['load_after']} |")
    w("")
    groups = {}
    for r in speed:
        groups.setdefault((r["program"], r["config"]), []).append(r["tokens_per_s"])
    w("| program | configuration | median tokens/s | min – max |")
    w("|---|---|---:|---|")
    med = {}
    for (p, c), v in groups.items():
        med[(p, c)] = st.median(v)
        w(f"| {p} | {c} | {st.median(v):,.0f} | {min(v):,.0f} – {max(v):,.0f} |")
    w("")
    mm_best = max((v, c) for (p, c), v in med.items() if p == "makemore")
    ours2 = med.get(("ours", "2 cores (default)"))
    ours1 = med.get(("ours", "1 core (DOTNET_PROCESSOR_COUNT=1)"))
    mm1 = med.get(("makemore", "1 thread"))
    if ours2 and mm_best:
        w(f"**Ratio (medians): ours on 2 cores / makemore's fastest configuration ({mm_best[1]}) = {ours2 / mm_best[0]:.2f}×**"
          + (f"; ours on 1 core / makemore on 1 thread = {ours1 / mm1:.2f}×." if ours1 and mm1 else ".") + " Goals: ≥ 1.0× (issue 4), ≥ 3× (issue 17).\n")
quality = [r for r in rows if r["part"] == "quality"]
if quality:
    w("## Quality: test loss (nats/char on the 1,000 test names, end token included)\n")
    w("`test_loss` for makemore is its own `evaluate` (mean over batches of 100 test names of the batch's mean loss per "
      "predicted character) on the whole test set — the number makemore prints; `per char` is the exact mean over every "
      "predicted test character, which is what `collapse run lm` reports as test_loss (the two differ only in how the "
      "10 batches are weighted). Ours: seeds are replicates 0.. of one `run lm --preset makemore --steps K --iterations 1 "
      f"--seeds {our_seeds} --settings replace` (master seed 0). makemore: `--seed S` for {mm_seeds}, one 10,000-step run "
      f"per seed evaluated at 2,000 steps too ({mm_threads} thread). \"ours\" split: {split_line} (written by SplitExport); "
      "\"makemore\" split: makemore's own `create_datasets` (depends on the seed).\n")
    w("`wall s`: ours, the whole sweep (both replicates trained together, plus sampling); makemore, its timed training loop for one seed (all 10,000 steps).\n")
    w("| program | split | steps | seed | test_loss | per char | wall s | load before → after |")
    w("|---|---|---:|---:|---:|---:|---:|---|")
    for r in sorted(quality, key=lambda r: (r["steps"], r["split"] != "ours", r["program"], r["seed"])):
        w(f"| {r['program']} | {r['split']} | {r['steps']} | {r['seed']} | {r['test_loss']:.4f} | {r['test_loss_per_char']:.4f} | {r['wall_seconds']:.0f} | {r['load_before']} → {r['load_after']} |")
    w("")
    w("| steps | ours (our split), mean per char | makemore on our split, mean test_loss / per char | difference (ours − makemore, per char) | makemore on its own split, mean test_loss |")
    w("|---:|---:|---:|---:|---:|")
    for k in sorted({r["steps"] for r in quality}):
        def mean(prog, split, key):
            v = [r[key] for r in quality if r["program"] == prog and r["split"] == split and r["steps"] == k]
            return st.mean(v) if v else float("nan")
        o = mean("ours", "ours", "test_loss_per_char")
        m, mc = mean("makemore", "ours", "test_loss"), mean("makemore", "ours", "test_loss_per_char")
        w(f"| {k} | {o:.4f} | {m:.4f} / {mc:.4f} | {o - mc:+.4f} | {mean('makemore', 'makemore', 'test_loss'):.4f} |")
    w("\nGoal: |ours − makemore| ≤ 0.02 at equal steps.\n")
w("## Reproduce\n")
w("```sh\napt-get install -y python3-torch   # Debian bookworm: torch 1.13.1; with libopenblas0-pthread installed\n"
  "update-alternatives --display libblas.so.3-x86_64-linux-gnu   # must point at openblas-pthread\n"
  "git clone https://github.com/karpathy/makemore /tmp/makemore && git -C /tmp/makemore checkout 988aa59e\n"
  "benchmarks/baselines/makemore/compare.sh /tmp/makemore/makemore.py\n```\n")
w("Raw rows: `" + out.rsplit("/", 1)[-1].replace(".md", ".jsonl") + "` beside this file.")
open(out, "w").write("\n".join(L) + "\n")
print(f"wrote {out}")
EOF

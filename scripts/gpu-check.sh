#!/usr/bin/env bash
# Every GPU check in one call of the device machine (no .NET SDK there, no network), under ONE deadline.
#
# Prepare here:   scripts/device/pack.sh            (writes .device/: the .NET runtime, the CLI and the tests)
# Run there:      carry [".device"], timeout_s 420, command:
#                   source .device/env.sh && bash scripts/gpu-check.sh
# Dry run here on the CPU (tiny sizes, no CUDA needed; uses obj/device/app from pack.sh):
#                   GPU_CHECK_ACCELERATOR=cpu bash scripts/gpu-check.sh
#
# Steps, in order; each step's timeout is the time left before the deadline minus a reserve for writing
# the results, and a step that no longer fits is skipped and says so:
#   devices      nvidia-smi (if present) and `collapse devices`; with no usable CUDA row the check stops here
#                and exits 0, saying so in the results
#   tests        only the tests that use a device, on CUDA: COLLAPSE_TEST_DEVICES=cuda and -trait device=cuda
#                (fails if no CUDA kernel test ran)
#   kde-*        KDE blobs h = 0.1 against moons h = 1.0, same small grid
#   gauss-*      Gaussian d = 100, n = 1000, --method data against --method wishart; d = 10, n = 100 (launch-bound)
#   lm-*         the makemore preset, 300 AdamW steps per fit: one fit (--iterations 1), then a fit, one sampling
#                round and a second fit (--iterations 2)
#   grid         the Gaussian paper grid (`run gaussian` defaults) in whatever time is left
# Results in $OUT (default ./gpu-out), 4 files: timing.md (the table), devices.txt, tests.txt, runs.tar.gz (each
# run's manifest.json and log; no CSVs). Commit what matters under results/benchmarks/<card>/ (timing.md names it).
#
# Environment:
#   GPU_CHECK_ACCELERATOR  cuda (default) or cpu: the dry run (tiny sizes, no early stop without CUDA)
#   GPU_CHECK_BUDGET_S     seconds from this script's start to its deadline (default 390: the call's 7 minutes
#                          less the runtime's unpacking and a margin)
#   GPU_CHECK_RESERVE_S    seconds kept for writing the results (default 20)
#   COLLAPSE_APP           the folder holding Collapse.Cli/ and Collapse.Tests/ (set by .device/env.sh;
#                          else obj/device/app, where pack.sh publishes)
set -uo pipefail
export LC_ALL=C  # '.' in $EPOCHREALTIME and printf's numbers
out=${OUT:-gpu-out}
mkdir -p "$out" && out=$(cd "$out" && pwd)
cd "$(dirname "$0")/.."

now_us() { local t=${EPOCHREALTIME/[.,]/}; echo "${t#0}"; }
started_us=$(now_us)
budget_s=${GPU_CHECK_BUDGET_S:-390}
reserve_s=${GPU_CHECK_RESERVE_S:-20}
deadline_us=$(( started_us + budget_s * 1000000 ))
accelerator=${GPU_CHECK_ACCELERATOR:-cuda}
work=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/runs" "$work/logs"
table="$work/table.md"
notes="$work/notes.md"
failed=0

# seconds (one decimal) between two microsecond stamps
seconds() { local d=$(( ($2 - $1) / 100000 )); echo "$(( d / 10 )).$(( d % 10 ))"; }
# whole seconds left for a step: up to the deadline, less the reserve
left_s() { echo $(( (deadline_us - $(now_us)) / 1000000 - reserve_s )); }
note() { echo "- $*" >> "$notes"; echo "gpu-check: $*"; }
row() { echo "| $1 | \`$2\` | $3 | $4 | $5 | $6 |" >> "$table"; echo "gpu-check: $1: exit $3, $4 s${6:+ ($6)}"; }

case "$accelerator" in
  cuda) dry=0 ;;
  cpu) dry=1 ;;
  *) echo "error: GPU_CHECK_ACCELERATOR '$accelerator' is not valid: expected cuda or cpu" >&2; exit 2 ;;
esac

app=${COLLAPSE_APP:-obj/device/app}
app=$(cd "$app" 2>/dev/null && pwd) || app=${COLLAPSE_APP:-obj/device/app}
cli="$app/Collapse.Cli/collapse.dll"
testdll="$app/Collapse.Tests/Collapse.Tests.dll"

# ILGPU loads the CUDA driver as libcuda.so; the driver ships libcuda.so.1.
ldconfig=$(command -v ldconfig || echo /sbin/ldconfig)
if ! "$ldconfig" -p 2>/dev/null | grep -q 'libcuda.so '; then
  driver=$("$ldconfig" -p 2>/dev/null | awk '/libcuda.so.1 /{print $NF; exit}')
  if [ -n "$driver" ]; then
    mkdir -p /tmp/cudalink && ln -sf "$driver" /tmp/cudalink/libcuda.so
    export LD_LIBRARY_PATH=/tmp/cudalink${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  fi
fi

# step NAME CAP_S MIN_S DISPLAY -- COMMAND...: runs COMMAND with a timeout of min(CAP_S, time left), or skips it
# when fewer than MIN_S seconds are left; its output goes to logs/NAME.log; returns the command's status.
step() {
  local name=$1 cap=$2 min=$3 display=$4; shift 5
  local left; left=$(left_s)
  local limit=$(( left < cap ? left : cap ))
  if [ "$limit" -lt "$min" ]; then
    row "$name" "$display" "-" "-" "-" "skipped: ${left} s left before the deadline, needs ${min}"
    return 125
  fi
  local t0; t0=$(now_us)
  timeout -k 5 -s INT "$limit" "$@" > "$work/logs/$name.log" 2>&1
  local rc=$?
  step_wall=$(seconds "$t0" "$(now_us)")
  step_limit=$limit
  return $rc
}

# A value of a manifest.json field (a number or null), without jq.
field() { sed -n "s/^  \"$2\": *\([^,]*\),*$/\1/p" "$1" 2>/dev/null | head -n 1; }

# run NAME CAP_S MIN_S ARGS...: a `collapse run` step into runs/NAME, with its row (sweep seconds and cells
# from the manifest).
run() {
  local name=$1 cap=$2 min=$3; shift 3
  local display="collapse $* --out runs/$name"
  step "$name" "$cap" "$min" "$display" -- dotnet "$cli" "$@" --out "$work/runs/$name"
  local rc=$?
  [ $rc -eq 125 ] && return 0
  local manifest="$work/runs/$name/manifest.json" note
  local sweep; sweep=$(field "$manifest" wall_seconds)
  [ -n "$sweep" ] && [ "$sweep" != null ] && sweep=$(printf '%.1f' "$sweep") || sweep="-"
  note="$(field "$manifest" cells_completed)/$(field "$manifest" cells_total) cells"
  [ "$note" = "/ cells" ] && note="no manifest"
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    note="$note; stopped at the deadline (${step_limit} s)"
  elif [ $rc -ne 0 ]; then
    note="$note; FAILED: $(tail -n 1 "$work/logs/$name.log" | tr '|`' '/' | cut -c1-200)"
    failed=1
  fi
  row "$name" "$display" "$rc" "$step_wall" "$sweep" "$note"
}

finish() {
  local status=$1 card=$2
  local total; total=$(seconds "$started_us" "$(now_us)")
  {
    echo "# GPU check: ${card:-no card}"
    echo
    echo "- date (UTC): $(date -u +%Y-%m-%dT%H:%M:%SZ); host: ${HOSTNAME:-unknown}; build: $( { [ -f "$cli" ] && dotnet "$cli" --version 2>/dev/null; } || echo unknown)"
    echo "- accelerator: $accelerator$([ $dry -eq 1 ] && echo ' (dry run on the CPU, tiny sizes: not a card'"'"'s timings)')"
    echo "- deadline: ${budget_s} s from the start, ${reserve_s} s kept for the results; finished after ${total} s"
    [ -n "$card" ] && [ $dry -eq 0 ] && echo "- commit these under \`results/benchmarks/$(slug "$card")/\`"
    cat "$notes" 2>/dev/null
    echo
    echo "wall s: the process, start to exit (runtime start, device open, kernel compilation, the sweep, writing);"
    echo "sweep s: the sweep alone, from its manifest.json."
    echo
    echo "| step | command | exit | wall s | sweep s | note |"
    echo "|---|---|---|---|---|---|"
    cat "$table" 2>/dev/null
  } > "$out/timing.md"
  [ -s "$work/logs/devices.log" ] && cp "$work/logs/devices.log" "$out/devices.txt"
  [ -s "$work/logs/tests.log" ] && tail -c 4000000 "$work/logs/tests.log" > "$out/tests.txt"
  # Each run's manifest and log; no CSVs (the paper grid's are tens of MB).
  (cd "$work" && for d in runs/*/; do [ -f "${d%/}/manifest.json" ] && echo "${d%/}/manifest.json"; done; ls logs/*.log) 2>/dev/null \
    | tar -C "$work" -czf "$out/runs.tar.gz" -T - 2>/dev/null
  echo
  cat "$out/timing.md"
  echo
  echo "gpu-check: results in $out: $(cd "$out" && ls | tr '\n' ' ')"
  exit "$status"
}

# A short slug of a card's name, as the benchmarks name their folders: "NVIDIA H200" -> nvidia-h200.
slug() { echo "$1" | tr 'A-Z' 'a-z' | grep -oE '[a-z0-9]+' | grep -vxE 'cpu|processor|with|graphics' | head -n 3 | paste -sd- -; }

if [ ! -f "$cli" ] || [ ! -f "$testdll" ]; then
  note "ERROR: no apps in $app (expected Collapse.Cli/collapse.dll and Collapse.Tests/Collapse.Tests.dll): run scripts/device/pack.sh here, carry .device, and source .device/env.sh first"
  finish 2 ""
fi
command -v dotnet > /dev/null || { note "ERROR: no dotnet on PATH: source .device/env.sh first"; finish 2 ""; }

# Sizes: the device's, or tiny ones for the dry run on the CPU.
if [ $dry -eq 0 ]; then
  kde_size=(--samples 1000 --seeds 20 --iterations 10)
  big_size=(--seeds 100 --iterations 10)
  small_size=(--seeds 100 --iterations 100)
  lm_size=(--steps 300 --seeds 3)
  grid_size=()
else
  kde_size=(--samples 100 --seeds 4 --iterations 3)
  big_size=(--seeds 4 --iterations 3)
  small_size=(--seeds 4 --iterations 10)
  lm_size=(--steps 20 --seeds 1 --train-size 200)
  grid_size=(--seeds 2 --iterations 5)
  note "dry run: --accelerator cpu, tiny sizes; the stop without a CUDA device is not applied"
fi

# 1. What is here. Stop at once without a usable CUDA device.
step devices 60 5 "nvidia-smi; collapse devices" -- bash -c '
  if command -v nvidia-smi > /dev/null; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1
    nvidia-smi --query-gpu=compute_cap,clocks.max.sm,power.limit,pcie.link.gen.max --format=csv 2>&1
  else echo "nvidia-smi: not present"; fi
  echo; dotnet "$1" devices' _ "$cli"
rc=$?
row devices "nvidia-smi; collapse devices" "$rc" "$step_wall" "-" ""
cat "$work/logs/devices.log"
if [ $rc -ne 0 ]; then
  note "ERROR: the device listing FAILED (exit $rc; see devices.txt); stopped"
  finish 1 ""
fi
card=$(grep -E '^cuda:[0-9]+ ' "$work/logs/devices.log" | grep -E 'usable$' | head -n 1 | cut -c14-61 | sed 's/ *$//')
# nvidia-smi's name is not truncated: prefer it.
smi_card=$(sed -n '1{/^name/!q};2p' "$work/logs/devices.log" | cut -d, -f1)
[ -n "$card" ] && [ -n "$smi_card" ] && card=$smi_card
if [ $dry -eq 0 ] && [ -z "$card" ]; then
  note "no usable CUDA device: \`collapse devices\` lists no usable cuda row (see devices.txt); stopped after the listing, nothing else ran"
  finish 0 ""
fi
[ $dry -eq 1 ] && card="CPU dry run"

# 2. Only the tests that use a device, on this accelerator (-preEnumerateTheories: one test case per data row,
#    so the rows' device trait can select them; verbose: each test's time). A requested accelerator that is
#    absent fails its row of TestDevicesTests; fewer than 2 tests means no kernel test ran, which fails too.
display="COLLAPSE_TEST_DEVICES=$accelerator Collapse.Tests.dll -preEnumerateTheories -trait device=$accelerator"
step tests 180 20 "$display" -- env COLLAPSE_TEST_DEVICES="$accelerator" \
  dotnet "$testdll" -preEnumerateTheories -trait "device=$accelerator" -noColor -noLogo -reporter verbose
rc=$?
if [ $rc -ne 125 ]; then
  summary=$(grep -oE 'Total: [0-9]+, Errors: [0-9]+, Failed: [0-9]+, Skipped: [0-9]+' "$work/logs/tests.log" | tail -n 1)
  total=$(echo "$summary" | sed -n 's/^Total: \([0-9]*\),.*/\1/p')
  if [ -z "$summary" ]; then tnote="no test summary$([ $rc -eq 124 ] && echo ": stopped at the deadline (${step_limit} s)")"; failed=1
  elif [ "${total:-0}" -lt 2 ]; then tnote="$summary: NO kernel test ran on $accelerator"; failed=1
  else tnote="$summary"; fi
  [ $rc -ne 0 ] && { failed=1; tnote="$tnote; FAILED"; }
  row tests "$display" "$rc" "$step_wall" "-" "$tnote"
fi

# 3. Small runs that isolate each cost (no figures: they time the sweep, not the drawing).
a=(--accelerator "$accelerator" --no-figures)
run kde-blobs-h0.1 60 5 run kde --datasets blobs --bandwidths 0.1 "${kde_size[@]}" "${a[@]}"
run kde-moons-h1.0 60 5 run kde --datasets moons --bandwidths 1.0 "${kde_size[@]}" "${a[@]}"
run gauss-d100-n1000-data 60 5 run gaussian --dims 100 --samples 1000 --method data --settings replace,accumulate "${big_size[@]}" "${a[@]}"
run gauss-d100-n1000-wishart 60 5 run gaussian --dims 100 --samples 1000 --method wishart --settings replace,accumulate "${big_size[@]}" "${a[@]}"
run gauss-d10-n100-data 60 5 run gaussian --dims 10 --samples 100 --method data --settings replace,accumulate "${small_size[@]}" "${a[@]}"
run lm-makemore-fit 90 10 run lm --preset makemore --iterations 1 --settings replace "${lm_size[@]}" "${a[@]}"
run lm-makemore-sample-round 120 10 run lm --preset makemore --iterations 2 --settings replace "${lm_size[@]}" "${a[@]}"

# 4. The Gaussian paper grid in whatever time is left (a run stopped at the deadline keeps its finished cells).
run gaussian-paper-grid 100000 15 run gaussian "${grid_size[@]}" "${a[@]}"

[ $failed -eq 0 ] || note "at least one step FAILED (see its note and its log in runs.tar.gz)"
finish "$failed" "$card"

#!/usr/bin/env bash
# Every GPU check in one go, for the device machine (no .NET SDK there; see ../shared/device/README.md).
# Prepare here:  ../shared/device/pack.sh src/Collapse.Cli/Collapse.Cli.csproj tests/Collapse.Tests/Collapse.Tests.csproj
# Run there (carry [".device"]):  source .device/env.sh && bash scripts/gpu-check.sh
# Results land in $OUT (or ./gpu-out): device listing, test log, grid timings, CSVs and manifests (tarred).
set -uo pipefail
out="${OUT:-gpu-out}"
mkdir -p "$out/runs"
app=.device/app
collapse=(dotnet "$app/Collapse.Cli/collapse.dll")

# ILGPU loads the CUDA driver as libcuda.so; the driver ships libcuda.so.1.
if ! ldconfig -p | grep -q 'libcuda.so '; then
  driver=$(ldconfig -p | awk '/libcuda.so.1 /{print $NF; exit}')
  if [ -n "$driver" ]; then mkdir -p /tmp/cudalink && ln -sf "$driver" /tmp/cudalink/libcuda.so && export LD_LIBRARY_PATH=/tmp/cudalink:${LD_LIBRARY_PATH:-}; fi
fi

{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; "${collapse[@]}" devices; } > "$out/devices.txt" 2>&1
cat "$out/devices.txt"

# The test program checks every kernel on every accelerator present, CUDA included.
timeout 300 dotnet "$app/Collapse.Tests/Collapse.Tests.dll" > "$out/tests.txt" 2>&1; echo "tests exit $?" >> "$out/tests.txt"
tail -5 "$out/tests.txt"

# The paper grid on the GPU, both methods, timed.
for method in data wishart; do
  settings=replace,accumulate,accumulate-subsample
  [ "$method" = wishart ] && settings=replace,accumulate
  start=$(date +%s.%N)
  timeout 240 "${collapse[@]}" run gaussian --accelerator cuda --method "$method" --settings "$settings" \
    --out "$out/runs/$method" --no-figures > "$out/runs/$method.log" 2>&1
  echo "$method exit $? wall $(echo "$(date +%s.%N) - $start" | bc) s" | tee -a "$out/grid.txt"
done
# The paper KDE grid on the GPU (tiled scoring kernel), timed; then the same on the GPU plus the CPU.
start=$(date +%s.%N)
timeout 300 "${collapse[@]}" run kde --accelerator cuda --out "$out/runs/kde" --no-figures > "$out/runs/kde.log" 2>&1
echo "kde exit $? wall $(echo "$(date +%s.%N) - $start" | bc) s" | tee -a "$out/grid.txt"
tail -1 "$out/runs/kde.log" | tee -a "$out/grid.txt"
timeout 120 "${collapse[@]}" run kde --devices all --samples 100,316 --seeds 20 --iterations 20 --out "$out/runs/kde-devices" --no-figures \
  > "$out/runs/kde-devices.log" 2>&1; echo "kde --devices all exit $?" | tee -a "$out/grid.txt"
rm -f "$out/runs/kde/kde.csv"  # 90 MB; the manifest and log keep what was measured
tar -C "$out" -czf "$out/runs.tar.gz" runs && rm -rf "$out/runs"

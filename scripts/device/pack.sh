#!/usr/bin/env bash
# Packs what a GPU machine without .NET needs to run this project's programs, into .device/ (ignored by git):
#   .device/dotnet-runtime.tar.xz  this machine's .NET runtime (dotnet host + host/fxr + shared/Microsoft.NETCore.App), packed once
#   .device/app.tar.xz             framework-dependent Release publishes (linux-x64) of the projects named, one folder each
#                                  (<name>/ = the project file's name); by default the CLI (Collapse.Cli/collapse.dll) and
#                                  the test program (Collapse.Tests/Collapse.Tests.dll). Compressed: the two folders are
#                                  ~40 MB as they are and would not fit the 64 MiB carry beside the runtime and the tree.
#   .device/env.sh                 sourced on the device: unpacks the runtime to /tmp/dotnet once, puts it on PATH, sets
#                                  DOTNET_ROOT, unpacks the apps to /tmp/collapse-app/<pack id>/<name>/ (outside the tree, so
#                                  sourcing it here cannot swell the next carry) and exports COLLAPSE_APP, that folder
# The publishes stay here, unpacked, in obj/device/app/<name>/.
# Usage, anywhere in the repository:  scripts/device/pack.sh [PROJECT.csproj ...]
# REPACK_RUNTIME=1 packs the runtime again (it is also repacked when the newest runtime installed here changes).
# On the device, with carry [".device"]:  source .device/env.sh && bash scripts/gpu-check.sh
set -euo pipefail
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
cd "$root"
git check-ignore -q .device/ || { echo "error: .device/ is not ignored by git (.gitignore should list it)" >&2; exit 1; }
[ "$#" -gt 0 ] || set -- src/Collapse.Cli/Collapse.Cli.csproj tests/Collapse.Tests/Collapse.Tests.csproj
mkdir -p .device

dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
runtime=$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" {v = $2} END {print v}')
[ -n "$runtime" ] || { echo "error: no Microsoft.NETCore.App runtime in $dotnet_root" >&2; exit 1; }
if [ ! -s .device/dotnet-runtime.tar.xz ] || [ -n "${REPACK_RUNTIME:-}" ] || [ "$(cat .device/runtime-version 2>/dev/null)" != "$runtime" ]; then
  echo "packing the .NET runtime $runtime from $dotnet_root (about a minute)"
  fxr=$(ls -d "$dotnet_root"/host/fxr/* | sort -V | tail -n 1)
  parts=(dotnet "host/fxr/$(basename "$fxr")" "shared/Microsoft.NETCore.App/$runtime")
  for notice in LICENSE.txt ThirdPartyNotices.txt; do [ -f "$dotnet_root/$notice" ] && parts+=("$notice"); done
  tar -C "$dotnet_root" -cJf .device/dotnet-runtime.tar.xz.tmp "${parts[@]}"
  mv .device/dotnet-runtime.tar.xz.tmp .device/dotnet-runtime.tar.xz
  echo "$runtime" > .device/runtime-version
fi

stage=obj/device/app
rm -rf "$stage" .device/app .device/app.tar.xz
mkdir -p "$stage"
for proj in "$@"; do
  name=$(basename "$proj" .csproj)
  # No PDBs or XML docs: they are not needed to run, and the carry is limited.
  dotnet publish "$proj" -c Release -r linux-x64 --self-contained false -o "$stage/$name" \
    -p:DebugType=none -p:GenerateDocumentationFile=false -nologo -v quiet
  echo "published $name -> $stage/$name ($(du -sh "$stage/$name" | cut -f1))"
done
# One archive, the largest xz window: the folders share most of their files, so the second costs little.
XZ_OPT=-9 tar -C "$stage" -cJf .device/app.tar.xz.tmp .
mv .device/app.tar.xz.tmp .device/app.tar.xz
app_id="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . || echo +dirty)-$(date -u +%Y%m%dT%H%M%SZ)"

cat > .device/env.sh <<ENV
# Sourced on the device machine (no .NET there): unpacks the carried .NET runtime $runtime to /tmp/dotnet
# once and puts it on PATH, then unpacks the apps packed from $app_id to \$COLLAPSE_APP/<name>/.
_device_dir=\$(cd "\$(dirname "\${BASH_SOURCE[0]}")" && pwd)
if [ ! -x /tmp/dotnet/dotnet ] || [ ! -d /tmp/dotnet/shared/Microsoft.NETCore.App/$runtime ]; then
  mkdir -p /tmp/dotnet && tar -C /tmp/dotnet -xJf "\$_device_dir/dotnet-runtime.tar.xz"
fi
export COLLAPSE_APP=/tmp/collapse-app/$app_id
if [ ! -e "\$COLLAPSE_APP/.unpacked" ]; then
  rm -rf "\$COLLAPSE_APP" && mkdir -p "\$COLLAPSE_APP" && tar -C "\$COLLAPSE_APP" -xJf "\$_device_dir/app.tar.xz" && touch "\$COLLAPSE_APP/.unpacked"
fi
export DOTNET_ROOT=/tmp/dotnet PATH=/tmp/dotnet:\$PATH DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
unset _device_dir
ENV

# What travels to the device: the tracked and not-ignored files, plus the carried .device/.
tree_kib=$(git ls-files -z --cached --others --exclude-standard | du -ck --files0-from=- 2>/dev/null | tail -n 1 | cut -f1)
device_kib=$(du -sk .device | cut -f1)
echo "total to carry: $(( (tree_kib + device_kib + 1023) / 1024 )) MiB (.device $(( (device_kib + 1023) / 1024 )) MiB + tree $(( (tree_kib + 1023) / 1024 )) MiB); the limit is 64 MiB in all"

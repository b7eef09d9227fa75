#!/usr/bin/env bash
# Makes (or reuses) a Debian 13 "trixie" root with PoCL, a CPU OpenCL 3.0 device that has the
# generic address space and float64 ILGPU needs, for scripts/opencl/run-in-pocl.sh.
# Debian 12's PoCL (3.1) lacks the generic address space and Debian 13's cannot be installed on
# Debian 12, hence a separate root made by debootstrap from Debian's mirror.
#
# The root is cached outside the clone, in ${COLLAPSE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/collapse-kernels}/pocl-trixie
# (POCL_ROOT overrides the whole path), so a second run reuses it. It is complete when its stamp
# file, written last, holds this script's recipe; a root without it (an interrupted build) or with
# another recipe is removed and built again; a lock keeps that from happening under a run.
# Prints the root's path on stdout; exit 1 (with the reason on stderr) when it cannot be built.
# fontconfig and DejaVu are there for the figures' text (SkiaSharp), git for the tests
# of perf-check's reference side.
# Needs root (debootstrap, chroot). POCL_MIRROR overrides the mirror (default http://deb.debian.org/debian).
set -euo pipefail

cache=${COLLAPSE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/collapse-kernels}
root=${POCL_ROOT:-$cache/pocl-trixie}
mirror=${POCL_MIRROR:-http://deb.debian.org/debian}
suite=trixie
packages=pocl-opencl-icd,ocl-icd-libopencl1,clinfo,libfontconfig1,fonts-dejavu-core,git
recipe="debootstrap --variant=minbase --include=$packages $suite; libOpenCL.so link; v1"
stamp="$root/.collapse-pocl-root"

say() { echo "pocl-root: $*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap and chroot need it)"
mkdir -p "$(dirname "$root")"

# Runs inside the root (run-in-pocl.sh) hold this lock shared; building or removing takes it
# exclusive, so it waits for them, and they for it.
exec 9>"$root.lock"
complete() { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$recipe" ]; }
flock -s 9
if ! complete; then
  flock -x 9
fi
if complete; then
  say "reusing $root"
  echo "$root"
  exit 0
fi

mounts_under_root() { awk -v r="$root/" 'index($2 "/", r) == 1 { print $2 }' /proc/self/mounts; }
if [ -e "$root" ]; then
  # An interrupted debootstrap leaves its /proc and /sys mounted in the root: unmount them (no run
  # can be using the root: runs hold the lock). Never delete through a mount that stays.
  mounts_under_root | sort -r | while IFS= read -r m; do umount -R "$m" 2>/dev/null || umount -R -l "$m"; done
  if [ -n "$(mounts_under_root)" ]; then
    die "$root is incomplete or stale but something stays mounted under it; unmount it first"
  fi
  say "removing incomplete or stale root $root"
  rm -rf --one-file-system "$root"
fi

if ! command -v debootstrap >/dev/null; then
  say "installing debootstrap"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends debootstrap >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends debootstrap >/dev/null 2>&1; } \
    || die "apt-get could not install debootstrap"
fi
[ -e /usr/share/debootstrap/scripts/$suite ] || die "this debootstrap does not know $suite; update it"

say "building a Debian $suite root with PoCL in $root from $mirror (about 800 MB)"
started=$SECONDS
log="$root.debootstrap.log"
if ! debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$mirror" >"$log" 2>&1; then
  tail -n 20 "$log" >&2
  die "debootstrap failed (full log: $log); is $mirror reachable?"
fi

# ILGPU loads libOpenCL.so; the ICD loader package ships only libOpenCL.so.1.
lib=$(cd "$root" && ls usr/lib/*/libOpenCL.so.1 2>/dev/null | head -n 1)
[ -n "$lib" ] || die "no libOpenCL.so.1 in the root"
ln -sf libOpenCL.so.1 "$root/$(dirname "$lib")/libOpenCL.so"
[ -s "$root/etc/OpenCL/vendors/pocl.icd" ] || die "PoCL's ICD file is missing from the root"

# The downloaded packages are not needed once installed.
rm -f "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*_Packages 2>/dev/null || true
rm -f "$log"

sync
echo "$recipe" >"$stamp"
say "built in $((SECONDS - started)) s ($(du -sh --one-file-system "$root" | cut -f1))"
echo "$root"

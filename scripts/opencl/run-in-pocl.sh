#!/usr/bin/env bash
# Runs a command inside the Debian 13 root with PoCL that scripts/opencl/pocl-root.sh makes (made
# here if it is not there yet), so ILGPU finds an OpenCL device:
#
#   scripts/opencl/run-in-pocl.sh [--bind DIR]... CMD [ARG]...
#
# Inside, the clone (and, for a git worktree, its repository), the host's .NET (the folder the
# `dotnet` on PATH resolves to) and the host's /tmp are at the same absolute paths as outside (bind
# mounts), so built programs and paths under them work unchanged; --bind DIR adds another host
# folder the same way. LD_LIBRARY_PATH and LD_PRELOAD are not passed in. /proc, /sys and /dev are
# mounted. The command runs in the caller's directory if that is visible inside, else in the clone.
# Exit status: the command's (130/143 when interrupted).
#
# Everything is mounted in a private mount namespace (unshare -m), so the mounts are invisible to
# the rest of the machine, two runs at once do not see each other's, and they vanish with the
# process even if it is killed. Where unshare is not allowed the mounts are made in the host's
# namespace; either way a trap unmounts everything this script mounted when the command ends,
# fails or is interrupted (POCL_NO_UNSHARE=1 forces the host namespace, for testing that). Needs root.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
self="$here/$(basename "${BASH_SOURCE[0]}")"

[ "$(id -u)" -eq 0 ] || { echo "run-in-pocl: must run as root (mount, chroot)" >&2; exit 1; }

if [ -z "${_RUN_IN_POCL_NS:-}" ]; then
  # The root's lock, held shared for the whole run, keeps pocl-root.sh from rebuilding it meanwhile.
  for attempt in 1 2 3; do
    root=$("$here/pocl-root.sh") || exit 1
    exec 8<"$root.lock" && flock -s 8 && [ -f "$root/.collapse-pocl-root" ] && break
    exec 8<&-
    [ "$attempt" -lt 3 ] || { echo "run-in-pocl: $root is being rebuilt; try again" >&2; exit 1; }
  done
  export _RUN_IN_POCL_ROOT=$root
  if [ -z "${POCL_NO_UNSHARE:-}" ] && unshare -m --propagation private true 2>/dev/null; then
    _RUN_IN_POCL_NS=private exec unshare -m --propagation private "$self" "$@"
  fi
  echo "run-in-pocl: unshare -m is not allowed here; mounting in the host's namespace" >&2
  export _RUN_IN_POCL_NS=host
fi
root=$_RUN_IN_POCL_ROOT
unset _RUN_IN_POCL_NS _RUN_IN_POCL_ROOT

binds=("$repo" /tmp)
while [ $# -gt 0 ]; do
  case $1 in
    --bind) [ $# -ge 2 ] || { echo "run-in-pocl: --bind needs a folder" >&2; exit 2; }
            binds+=("$(cd "$2" && pwd)") || exit 2; shift 2 ;;
    --bind=*) binds+=("$(cd "${1#--bind=}" && pwd)") || exit 2; shift ;;
    --) shift; break ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "usage: run-in-pocl.sh [--bind DIR]... CMD [ARG]..." >&2; exit 2; }

# A git worktree's repository lives elsewhere; without it git (and so the tests of perf-check's
# reference side) would not find the clone's history inside.
if common=$(git -C "$repo" rev-parse --path-format=absolute --git-common-dir 2>/dev/null); then
  case "$common/" in "$repo"/*) ;; *) binds+=("$common") ;; esac
fi

dotnet_dir=
if command -v dotnet >/dev/null; then
  dotnet_dir=$(dirname "$(readlink -f "$(command -v dotnet)")")
  binds+=("$dotnet_dir")
fi

mounted=()
cleanup() {
  local i status=0
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount -R "${mounted[i]}" 2>/dev/null || umount -R -l "${mounted[i]}" || status=1
  done
  mounted=()
  [ $status -eq 0 ] || echo "run-in-pocl: could not unmount everything under $root" >&2
}
trap cleanup EXIT
child=
# A signal is passed on to the command; the script exits (and unmounts) once the command has.
on_signal() { if [ -n "$child" ] && kill -"$1" "$child" 2>/dev/null; then :; else exit "$2"; fi; }
trap 'on_signal HUP 129' HUP
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM

# A recursive bind is made a slave so that unmounting it never unmounts the host's own mounts.
rbind() {
  mkdir -p "$root$2" && mount --rbind "$1" "$root$2" || return 1
  mounted+=("$root$2")
  mount --make-rslave "$root$2"
}

mkdir -p "$root/proc" && mount -t proc proc "$root/proc" || exit 1
mounted+=("$root/proc")
rbind /sys /sys || exit 1
rbind /dev /dev || exit 1
# Folders under one another: the outer first, so the inner one is mounted on top of it.
while IFS= read -r dir; do
  [ -n "$dir" ] && { rbind "$dir" "$dir" || exit 1; }
done < <(printf '%s\n' "${binds[@]}" | sort -u)

cwd=$PWD
case "$cwd/" in
  "$repo"/*) ;;
  *) cwd=$repo
     for dir in "${binds[@]}"; do case "$PWD/" in "$dir"/*) cwd=$PWD ;; esac; done ;;
esac

path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
[ -n "$dotnet_dir" ] && path="$dotnet_dir:$path"
# The command runs as a child, not exec'd, so that the trap unmounts after it; in the background
# (with the terminal's input and the default SIGINT, which bash would take from it) so that a
# signal sent to this script reaches it at once.
unset LD_LIBRARY_PATH LD_PRELOAD  # the host's libraries are not the root's
(
  trap - HUP INT QUIT TERM
  DOTNET_ROOT=${dotnet_dir:-${DOTNET_ROOT:-}} PATH=$path exec chroot "$root" /usr/bin/env --chdir="$cwd" "$@"
) <&0 8<&- &
child=$!
while :; do
  wait "$child"
  status=$?
  kill -0 "$child" 2>/dev/null || break
done
exit "$status"

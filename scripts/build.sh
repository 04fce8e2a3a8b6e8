#!/usr/bin/env bash
# build.sh - configures (once) and compiles kmscks into build/ (or $1).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/build}
shift || true
if [ ! -f "$dir/build.ninja" ]; then
  mkdir -p "$dir"
  meson setup "$dir" "$top" "$@" >"$dir.setup.log" 2>&1 \
    || { cat "$dir.setup.log" >&2; exit 1; }
fi
# Quiet when it works; the compiler's words when it does not.
ninja -C "$dir" >"$dir.ninja.log" 2>&1 || { tail -n 60 "$dir.ninja.log" >&2; exit 1; }

#!/usr/bin/env bash
# test.sh - the README's test command: set up (Debian packages, build) and
# run every test: unit, SigV4 and JMESPath vectors, the KMS emulator and
# the real AWS CLI, the CLI's differential suite, Lua 5.4/5.3/LuaJIT with
# real nginx and HAProxy, the host plugin and real collectd.
#   scripts/test.sh [build-dir [meson-setup-options...]]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/build}
[ $# -gt 0 ] && shift
"$top/scripts/deps.sh"
"$top/scripts/build.sh" "$dir" "$@"
meson test -C "$dir" --print-errorlogs --num-processes 2

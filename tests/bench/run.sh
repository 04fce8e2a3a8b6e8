#!/usr/bin/env bash
# run.sh - the pipeline benchmark: ns/op natively, then instructions/op
# under callgrind. Instructions/op is (I(2N) - I(N)) / N over two runs of
# N and 2N ops, which cancels start-up and set-up (loading, OpenSSL
# provider init). Targets: warm <= 30000, cold <= 70000 instructions/op;
# a figure over its target is marked OVER (the exit status stays 0 unless
# KMS_BENCH_CHECK=1: this is a measurement, not a test).
#   tests/bench/run.sh [build-dir] [N-native] [N-callgrind]
# Builds nothing: run after `meson setup <dir> && ninja -C <dir>`.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$top/build}
native=${2:-200000}
n=${3:-2000}
bench=$dir/tests/bench/bench_pipeline
[ -x "$bench" ] || { echo "run.sh: $bench not built" >&2; exit 2; }

echo "== ns/op ($native ops per mode)"
"$bench" all "$native"

if ! command -v valgrind >/dev/null; then
  echo "run.sh: valgrind not installed, no instructions/op" >&2
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
instr() { # mode ops -> total instructions
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$1.$2" \
    "$bench" "$1" "$2" >/dev/null 2>"$tmp/log.$1.$2"
  sed -n 's/^summary: *//p' "$tmp/cg.$1.$2"
}
echo "== instructions/op under callgrind ((I(2N) - I(N)) / N, N = $n)"
status=0
for mode in warm cold fresh; do
  a=$(instr "$mode" "$n")
  b=$(instr "$mode" $((2 * n)))
  per=$(( (b - a) / n ))
  case $mode in
    warm) target=30000 ;;
    cold) target=70000 ;;
    *) target= ;;
  esac
  if [ -n "$target" ]; then
    verdict="target $target: $([ "$per" -le "$target" ] && echo ok || echo OVER)"
    [ "$per" -le "$target" ] || status=1
  else
    verdict="(no target)"
  fi
  printf '%-5s %8d instr/op   %s\n' "$mode" "$per" "$verdict"
done
[ "${KMS_BENCH_CHECK:-0}" = 1 ] && exit $status
exit 0

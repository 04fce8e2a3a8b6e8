#!/bin/sh
# exports.sh MODULE... - each Lua module must export exactly one function,
# luaopen_kms (nm -D --defined-only), and carry NODELETE.
pass=0 fail=0 n=0
for m in "$@"; do
  n=$((n + 1))
  syms=$(nm -D --defined-only "$m" | awk '{print $3}' | tr '\n' ' ')
  if [ "$syms" = "luaopen_kms " ] && readelf -d "$m" | grep -q NODELETE; then
    echo "ok $n - $m exports: $syms(NODELETE)"; pass=$((pass + 1))
  else
    echo "not ok $n - $m exports: $syms"; fail=$((fail + 1))
  fi
  if nm -D --undefined-only "$m" | grep -q ' lua_newuserdatauv$'; then
    case "$m" in */lua5.4/*) ;; *) echo "# $m: 5.4 symbol in a non-5.4 build"; fail=$((fail + 1));; esac
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]

#!/usr/bin/python3
"""bench_lua.py C_BENCH [ITERATIONS] - runs bench_lua_c (the C baseline)
and bench_lua.lua in every interpreter whose kms.so was built (Lua 5.4,
Lua 5.3, LuaJIT), and prints each one's cost per operation and its ratio
to C. Build + validate + sign per operation. A benchmark: it never fails
on speed (the project's target is Lua <= 2x C)."""
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("KMS_SOURCE_ROOT") or os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("KMS_BUILD_ROOT", "")
CPATH_VAR = {"lua5.4": "LUA_CPATH_5_4", "lua5.3": "LUA_CPATH_5_3", "luajit": "LUA_CPATH"}


def per_op(out):
    m = re.search(r"([\d.]+) us/op", out)
    return float(m.group(1)) if m else None


def main():
    cbench = sys.argv[1]
    n = sys.argv[2] if len(sys.argv) > 2 else "100000"
    out = subprocess.run([cbench, n], capture_output=True, text=True, check=True).stdout
    c = per_op(out)
    print(out.strip())
    rows = [("C", c, 1.0)]
    for abi, var in CPATH_VAR.items():
        mod = os.path.join(BUILD, "bindings", "lua", abi)
        if not shutil.which(abi) or not os.path.exists(os.path.join(mod, "kms.so")):
            continue
        env = dict(os.environ)
        env[var] = mod + "/?.so;;"
        env["LUA_PATH"] = os.path.join(SRC, "lua", "?.lua") + ";;"
        r = subprocess.run([abi, os.path.join(HERE, "bench_lua.lua"), n], env=env,
                           capture_output=True, text=True)
        if r.returncode != 0:
            print("%s failed: %s" % (abi, r.stderr.strip()))
            continue
        print(r.stdout.strip())
        t = per_op(r.stdout)
        rows.append((abi, t, t / c if c else 0))
    print("\n%-8s %10s %8s" % ("", "us/op", "x C"))
    for name, t, ratio in rows:
        print("%-8s %10.2f %8.2f" % (name, t, ratio))
    return 0


if __name__ == "__main__":
    sys.exit(main())

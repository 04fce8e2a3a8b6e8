#!/usr/bin/python3
"""bench_lua.py C_BENCH [ITERATIONS] - runs bench_lua_c (the C baseline)
and bench_lua.lua in every interpreter whose kms.so was built (Lua 5.4,
Lua 5.3, LuaJIT), and prints each one's cost per operation and its ratio
to C. Build + validate + sign per operation, CPU time, the best of
REPEAT runs (default 3) of each, the runs interleaved so that a busy
machine weighs on all alike. With IR=1 (and valgrind installed) it also
counts instructions per operation with callgrind, which a busy machine
does not disturb. A benchmark: it never fails on speed (the project's
target is Lua <= 2x C)."""
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


def run(cmd, env=None):
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s failed: %s" % (cmd[0], r.stderr.strip()))
    return per_op(r.stdout), r.stdout.strip()


def main():
    cbench = sys.argv[1]
    n = sys.argv[2] if len(sys.argv) > 2 else "100000"
    repeat = int(os.environ.get("REPEAT", "3"))
    runs = [("C", [cbench, n], None)]
    for abi, var in CPATH_VAR.items():
        mod = os.path.join(BUILD, "bindings", "lua", abi)
        if not shutil.which(abi) or not os.path.exists(os.path.join(mod, "kms.so")):
            continue
        env = dict(os.environ)
        env[var] = mod + "/?.so;;"
        env["LUA_PATH"] = os.path.join(SRC, "lua", "?.lua") + ";;"
        runs.append((abi, [abi, os.path.join(HERE, "bench_lua.lua"), n], env))
    best = {}
    for _ in range(repeat):
        for name, cmd, env in runs:
            try:
                t, line = run(cmd, env)
            except RuntimeError as e:
                print(e)
                continue
            print(line)
            best[name] = min(best.get(name, t), t)
    c = best.get("C")
    print("\nbest of %d, %s operations each:" % (repeat, n))
    print("%-8s %10s %8s" % ("", "us/op", "x C"))
    for name, _, _ in runs:
        if name in best:
            print("%-8s %10.2f %8.2f" % (name, best[name], best[name] / c if c else 0))
    if os.environ.get("IR") == "1" and shutil.which("valgrind"):
        print("\ninstructions per operation (callgrind):")
        ir_c = None
        for name, cmd, env in runs:
            ir = instructions(cmd, env)
            ir_c = ir_c or ir
            print("%-8s %10.0f %8.2f" % (name, ir, ir / ir_c))
    return 0


def instructions(cmd, env, n=5000):
    """Instructions per operation: callgrind's count for n operations
    (plus the n/10 + 1 of warm-up) minus the count for none."""
    def count(k):
        r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
                           + cmd[:-1] + [str(k)], env=env, capture_output=True, text=True)
        m = re.search(r"Collected : (\d+)", r.stderr)
        return int(m.group(1)) if m else 0
    return (count(n) - count(0)) / (n + n // 10)


if __name__ == "__main__":
    sys.exit(main())

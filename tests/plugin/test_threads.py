#!/usr/bin/python3
"""8 threads update one store through one kmscks.so instance against the
KMS emulator (tests/plugin/threads.c), while a ninth thread reconfigures
the instance; then destroy and dlclose while idle. Every update must
succeed and reach the emulator with a valid signature. With
--require-tsan the test only runs in a ThreadSanitizer build
(-Db_sanitize=thread; otherwise it exits 77), with halt_on_error, and any
ThreadSanitizer report fails it.

    test_threads.py [--require-tsan] PATH/TO/plugin_threads PATH/TO/kmscks.so
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ptest import (AWS_SECRET, SEED_EXAMPLE, XKS_ID, Emulator, check, child_env, finish,  # noqa: E402
                   scan_secrets, skip, workdir, write)

args = sys.argv[1:]
require_tsan = "--require-tsan" in args
args = [a for a in args if a != "--require-tsan"]
DRIVER, PLUGIN = (os.path.abspath(a) for a in args)
THREADS, ITERATIONS = 8, 12

tsan = subprocess.run([DRIVER, "--is-tsan"]).returncode == 0
if require_tsan and not tsan:
    skip("not a ThreadSanitizer build (meson setup -Db_sanitize=thread)")
print("# ThreadSanitizer build: %s" % ("yes" if tsan else "no"))

W = workdir("kmscks-threads-")
secret_file = write(os.path.join(W, "aws-secret"), AWS_SECRET + "\n")
extra = {}
if tsan:
    extra["TSAN_OPTIONS"] = "halt_on_error=1 exitcode=66 second_deadlock_stack=1 " + \
        os.environ.get("TSAN_OPTIONS", "")

with Emulator(tls=True, seed=SEED_EXAMPLE) as emu:
    p = subprocess.run([DRIVER, PLUGIN, emu.url, emu.ca, secret_file, XKS_ID,
                        str(THREADS), str(ITERATIONS)],
                       capture_output=True, text=True, timeout=500, env=child_env(W, extra))
    sys.stdout.write("".join("#   " + l + "\n" for l in p.stdout.splitlines()))
    check("the driver passed its own checks (exit %d)" % p.returncode, p.returncode == 0,
          (p.stdout + p.stderr)[-3000:])
    check("no ThreadSanitizer report", "ThreadSanitizer" not in p.stderr, p.stderr[-6000:])
    last = (p.stdout.strip().splitlines() or [""])[-1]
    check("the driver's summary: %s" % last, last.endswith(" passed, 0 failed"), p.stdout[-400:])
    reqs = emu.requests(operation="UpdateCustomKeyStore")
    check("the emulator received %d updates" % (THREADS * ITERATIONS),
          len(reqs) == THREADS * ITERATIONS, len(reqs))
    check("every signature verifies (botocore)", all(r["signature_valid"] for r in reqs),
          [r["error"] for r in reqs if not r["signature_valid"]][:5])
    check("every update answered 200", all(r["status"] == 200 for r in reqs),
          [(r["status"], r["error"]) for r in reqs if r["status"] != 200][:5])
    names = set()
    for r in reqs:
        b = r["body"]
        names.add(b[b.find("thread-"):b.rfind('"')])
    check("each thread's updates arrived (%d distinct names)" % len(names),
          len(names) == THREADS * ITERATIONS, sorted(names)[:5])
    clients = set(r["client"] for r in reqs)
    check("calls ran on several connections at once (%d client ports)" % len(clients),
          len(clients) >= 2, clients)
    scan_secrets("driver output", p.stdout + p.stderr)

finish()

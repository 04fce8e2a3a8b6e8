#!/usr/bin/python3
"""run.py [--emulator] [--tls] [--preload LIB] -- INTERPRETER SCRIPT [ARGS]

Runs one Lua test script in a real interpreter (lua5.4, lua5.3, luajit)
with an environment free of the user's AWS configuration. With
--emulator, the KMS emulator (tests/emulator) is started first on an
ephemeral 127.0.0.1 port, with the example seed, and its addresses are
passed as KMS_TEST_ENDPOINT, KMS_TEST_CONTROL and KMS_TEST_CA; it is
stopped by pid when the script ends. --preload LIB puts LIB in the
interpreter's LD_PRELOAD (the ASan runtime, for a sanitized kms.so in an
interpreter that is not). The script's exit status is the test's (77:
skipped)."""

import os
import shutil
import subprocess
import sys

import hostlib


def main(argv):
    emulator = tls = False
    preload = None
    while argv and argv[0] != "--":
        opt = argv.pop(0)
        if opt == "--emulator":
            emulator = True
        elif opt == "--tls":
            emulator = tls = True
        elif opt == "--preload" and argv:
            preload = argv.pop(0)
        else:
            print("run.py: unknown option " + opt)
            return 2
    argv = argv[1:]
    if not argv:
        print("run.py: no command")
        return 2
    if not shutil.which(argv[0]):
        hostlib.skip(argv[0] + " is not installed")
    scratch = hostlib.Scratch("kms-lua-test-")
    # the core's test-only knob: retries wait 5% of their backoff
    env = hostlib.isolated_env(scratch.path, {"KMS_TEST_BACKOFF_SCALE": "0.05"})
    emu = None
    rc = 1
    try:
        if emulator:
            emu = hostlib.Emulator(tls=tls, seed=hostlib.SEED_EXAMPLE).start()
            env["KMS_TEST_ENDPOINT"] = emu.url
            env["KMS_TEST_CONTROL"] = emu.control_url
            if emu.ca:
                env["KMS_TEST_CA"] = emu.ca
        child_env = dict(env)
        if preload:
            child_env["LD_PRELOAD"] = preload
        rc = subprocess.call(argv, env=child_env, stdin=subprocess.DEVNULL)
    finally:
        if emu is not None:
            emu_rc = emu.stop()
            if emu_rc not in (0, None):
                print("# the emulator exited with %s" % emu_rc)
                print(emu.log())
        scratch.finish(rc == 0)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

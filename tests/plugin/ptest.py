"""Helpers for the Python tests of tests/plugin and tests/collectd: the
check lines and the final "N passed, M failed", the emulator harness on
sys.path, the secrets every test uses (so one scan catches them all), and
a clean environment for child processes (no AWS variables of the caller,
HOME in a temporary directory)."""

import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "emulator"))

from harness import Emulator, SEED_EXAMPLE  # noqa: E402,F401

XKS_ID = "cks-0987654321fedcba0"
HSM_ID = "cks-1234567890abcdef0"
AWS_AKID = "AKIDEXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
XKS_AKID_OLD = "ABCDE23456723EXAMPLE"
XKS_SECRET_OLD = "DXjSUawnel2fr6SKC7G25CNxTyWKE5PF9XX6H/u9pSo="
XKS_AKID = "BCDEF34567234EXAMPLE"          # the proxy accepts it too
XKS_SECRET = "7a6QGqd5MwwUJQQ34nIfTPTWmREcNu9M6uf2W3qbnGs="
HSM_PASSWORD = "NewKmsUserPassw0rd"
# Every secret a test hands to kmscks: none may show in any output.
# (An XKS access key id is sensitive in the model, so it is scanned too.)
SECRETS = [AWS_SECRET, XKS_SECRET, XKS_SECRET_OLD, HSM_PASSWORD, XKS_AKID]

passed = 0
failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok - %s" % name)
    else:
        failed += 1
        text = str(detail).replace("\n", "\n#   ") if detail != "" else ""
        print("not ok - %s%s" % (name, ("\n#   " + text) if text else ""))
    sys.stdout.flush()


def finish():
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


def skip(why):
    print("skip: %s" % why)
    sys.exit(77)


def scan_secrets(name, text, secrets=SECRETS):
    """One check: text holds none of the secrets (named by position)."""
    found = [i for i, s in enumerate(secrets) if s in text]
    check("%s: no secret in it (%d bytes scanned)" % (name, len(text)), not found,
          "secret #%s found" % found)


def workdir(prefix):
    """A temporary directory, removed at exit when every check passed
    (kept for a look when one failed)."""
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o755)
    atexit.register(lambda: failed == 0 and shutil.rmtree(d, ignore_errors=True))
    return d


def write(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def child_env(home, extra=None):
    """A clean environment: no AWS_* of the caller, HOME elsewhere."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": home,
           "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
           "AWS_EC2_METADATA_DISABLED": "true", "LC_ALL": "C"}
    for k in ("TSAN_OPTIONS", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    if extra:
        env.update(extra)
    return env


def wait_for(pred, timeout=20.0, step=0.02):
    """Polls pred() until it is true (returns its value) or timeout."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            return v
        time.sleep(step)


def sanitizer_runtimes(so):
    """The sanitizer runtimes (libasan, libubsan, libtsan) a module built
    with -Db_sanitize=... needs, as paths, from ldd; [] for a normal build."""
    out = subprocess.run(["ldd", so], capture_output=True, text=True).stdout
    return [m.group(2) for m in re.finditer(r"^\s*(lib(?:asan|ubsan|tsan)\.so\S*) => (\S+)", out, re.M)]


def preload_env(so):
    """Environment additions so that an uninstrumented host (python3,
    collectd) can load a sanitizer build of so: the runtimes preloaded
    (they must come first), and leak detection off for that host's own
    exit-time allocations (the C tests check the plugin's leaks)."""
    libs = sanitizer_runtimes(so)
    if not libs:
        return {}
    asan = os.environ.get("ASAN_OPTIONS", "")
    asan = ":".join([o for o in asan.split(":") if o and not o.startswith("detect_leaks")] +
                    ["detect_leaks=0"])
    return {"LD_PRELOAD": ":".join(libs), "ASAN_OPTIONS": asan}

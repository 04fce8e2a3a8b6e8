"""hostlib.py - what the Lua test runners share: the KMS emulator (from
tests/emulator/harness.py), host processes (nginx, HAProxy) started on
127.0.0.1 ephemeral ports and stopped by pid, port polling (never fixed
sleeps), a scratch directory, plain HTTP GETs, and the "ok N - name" /
"N passed, M failed" report. Standard library only."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ.get("KMS_SOURCE_ROOT") or os.path.dirname(os.path.dirname(HERE))
BUILD_ROOT = os.environ.get("KMS_BUILD_ROOT", "")
sys.path.insert(0, os.path.join(SOURCE_ROOT, "tests", "emulator"))

import harness  # noqa: E402  (the emulator harness of tests/emulator)

Emulator = harness.Emulator
ACCESS_KEY = harness.DEFAULT_ACCESS_KEY
SECRET_KEY = harness.DEFAULT_SECRET_KEY
SEED_EXAMPLE = harness.SEED_EXAMPLE
CLOUDHSM_STORE = "cks-1234567890abcdef0"   # in the example seed
XKS_STORE = "cks-0987654321fedcba0"

SKIP = 77


def skip(why):
    print("SKIP: " + why)
    sys.exit(SKIP)


def lua_dir():
    return os.path.join(SOURCE_ROOT, "lua")


def module_dir(abi):
    """The build folder holding kms.so for abi (lua5.4, lua5.3, luajit)."""
    return os.path.join(BUILD_ROOT, "bindings", "lua", abi)


def isolated_env(home, extra=None):
    """An environment with no AWS configuration but the test's: the
    emulator's default credentials and region, no instance metadata."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "HOME": home,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.path.join(home, "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "no-credentials"),
    })
    if extra:
        env.update(extra)
    return env


# --------------------------------------------------------------------------
# report

class Report:
    def __init__(self):
        self.n = self.passed = self.failed = 0

    def case(self, name, fn, *args):
        self.n += 1
        try:
            fn(*args)
        except Exception:
            self.failed += 1
            print("not ok %d - %s" % (self.n, name))
            for line in traceback.format_exc().splitlines():
                print("# " + line)
        else:
            self.passed += 1
            print("ok %d - %s" % (self.n, name))
        sys.stdout.flush()

    def check(self, name, cond, detail=""):
        def f():
            assert cond, detail
        self.case(name, f)

    def done(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.stdout.flush()
        return 0 if self.failed == 0 and self.passed > 0 else 1


# --------------------------------------------------------------------------
# ports and processes

def free_port():
    """An ephemeral port that was free a moment ago (for configs that need
    a number: nginx and HAProxy cannot report the port they bound)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc=None, timeout=20.0):
    """Polls 127.0.0.1:port every 20 ms until it accepts."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.02)
    return False


class Host:
    """A host process in the foreground (nginx "daemon off", haproxy -db),
    its own session, output to a log file; stopped by pid."""

    def __init__(self, name, args, cwd, env, log_path):
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.pid = self.proc.pid

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Sends sig to the pid; SIGKILL after timeout. Returns the status."""
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._log.close()
        return self.proc.returncode

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


class Scratch:
    """A mktemp directory, removed when the test passed."""

    def __init__(self, prefix):
        self.path = tempfile.mkdtemp(prefix=prefix)

    def __call__(self, *parts):
        p = os.path.join(self.path, *parts)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def write(self, rel, text):
        p = self(rel)
        with open(p, "w") as f:
            f.write(text)
        return p

    def finish(self, ok):
        if ok:
            shutil.rmtree(self.path, ignore_errors=True)
        else:
            print("# kept %s for inspection" % self.path)


# --------------------------------------------------------------------------
# HTTP

def get(url, timeout=30.0):
    """GET url -> (status, body text, seconds taken)."""
    t = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace"), time.monotonic() - t
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace"), time.monotonic() - t


def get_json(url, timeout=30.0):
    status, body, secs = get(url, timeout)
    try:
        return status, json.loads(body), secs
    except ValueError:
        return status, {"raw": body}, secs

"""clitest.py - what the kmscks CLI tests share: where kmscks and the real
AWS CLI are, the environment both run in, a pool of emulators (one plain
and one TLS KMS emulator per worker), the runner that records what each
run printed and sent, and the secret scan every kmscks run goes through.
"""

import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

SOURCE_ROOT = os.environ.get("KMS_SOURCE_ROOT") or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD_ROOT = os.environ.get("KMS_BUILD_ROOT", "")
sys.path.insert(0, os.path.join(SOURCE_ROOT, "tests", "emulator"))

import harness  # noqa: E402

AWS = "/usr/bin/aws"          # Debian's AWS CLI v2, not the v1 on PATH
KMSCKS = os.environ.get("KMSCKS") or os.path.join(BUILD_ROOT, "bindings",
                                                  "cli", "kmscks")

ACCESS_KEY = harness.DEFAULT_ACCESS_KEY
SECRET_KEY = harness.DEFAULT_SECRET_KEY

# Every secret any CLI test uses. No kmscks run may print one of them,
# on stdout or stderr, whatever it was asked (--debug, errors, dry runs).
SECRETS = {
    SECRET_KEY,
    "FQoGZXIvYXdzEXAMPLETOKENsecret",            # a session token
    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYPROFILEKEY",  # a profile's secret key
    "ExamplePassword",                           # KeyStorePassword values
    "PWSECRET123",
    "x-SecretPassword-0123456789-abcdefghij",
    "-abc1234",
    "DXjSUawnel2fr6SKC7G25CNxTyWKE5PF9XX6H/u9pSo=",   # XKS secrets
    "7a6QGqd5MwwUJQQ34nIfTPTWmREcNu9M6uf2W3qbnGs=",
    "RAWSECRETAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "SECRETA", "SECRETB",
    "ABCDE23456723EXAMPLE", "BCDEF34567234EXAMPLE",    # XKS access key ids
    "ABCDE12345670EXAMPLE",
}


def base_env(home, extra=None):
    env = harness.aws_cli_env(home)
    env["LC_ALL"] = "C.UTF-8"
    if extra:
        for k, v in extra.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
    return env


class Result:
    def __init__(self, argv, rc, stdout, stderr, requests, elapsed):
        self.argv = argv
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.requests = requests
        self.elapsed = elapsed

    def kms_requests(self):
        return [r for r in self.requests if r.get("operation")]

    def first(self):
        reqs = self.kms_requests()
        return reqs[0] if reqs else None

    def describe(self):
        first = self.first()
        return ("rc=%s stdout=%r stderr=%r requests=%d first=%s"
                % (self.rc, self.stdout[:400], self.stderr[-600:],
                   len(self.kms_requests()),
                   None if first is None else (first["path"], first["target"],
                                               first["body"])))


def run(argv, env, cwd=None, stdin=None, timeout=120):
    start = time.monotonic()
    try:
        p = subprocess.run(argv, env=env, cwd=cwd, input=stdin,
                           capture_output=True, timeout=timeout)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, out, err = "timeout", e.stdout or b"", e.stderr or b""
    return (rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
            time.monotonic() - start)


def leaked_secrets(text, extra=()):
    """The secrets of SECRETS (and extra) that appear in text."""
    return sorted(s for s in set(SECRETS) | set(extra) if s and s in text)


class Worker:
    """One plain and one TLS emulator, used by one thread at a time."""

    def __init__(self):
        self.plain = harness.Emulator(seed=harness.SEED_EXAMPLE)
        self.tls = harness.Emulator(tls=True, seed=harness.SEED_EXAMPLE)

    def start(self):
        self.plain.start()
        self.tls.start()
        return self

    def stop(self):
        self.plain.stop()
        self.tls.stop()


class Pool:
    """Workers started in parallel; acquire() hands one out."""

    def __init__(self, n):
        self.workers = [Worker() for _ in range(n)]
        self.free = queue.Queue()

    def __enter__(self):
        errors = []

        def start(w):
            try:
                w.start()
            except Exception as e:  # reported below
                errors.append(e)
        threads = [threading.Thread(target=start, args=(w,))
                   for w in self.workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            self.__exit__()
            raise errors[0]
        for w in self.workers:
            self.free.put(w)
        return self

    def __exit__(self, *exc):
        for w in self.workers:
            w.stop()
        return False

    def acquire(self):
        return self.free.get()

    def release(self, w):
        self.free.put(w)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class FullBacklog:
    """A listening socket whose accept queue is full, so the next connect
    hangs: a connect timeout on loopback."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.fillers = []
        for _ in range(4):
            c = socket.socket()
            c.setblocking(False)
            try:
                c.connect(("127.0.0.1", self.port))
            except (BlockingIOError, OSError):
                pass
            self.fillers.append(c)
        time.sleep(0.1)

    def close(self):
        for c in self.fillers:
            c.close()
        self.sock.close()


def tmpdir():
    return tempfile.mkdtemp(prefix="kmscks-cli-test-")


def rmtree(d):
    shutil.rmtree(d, ignore_errors=True)

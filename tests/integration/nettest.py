"""Shared by test_proxy.py and test_transport_diff.py: TAP-style checks
and the environment a driver run gets (a temporary HOME, example keys, no
instance metadata, no proxy variables unless the test adds them)."""

import os
import sys

counts = {"passed": 0, "failed": 0}


def check(name, cond, detail=""):
    key = "passed" if cond else "failed"
    counts[key] += 1
    print(("ok - %s" % name) if cond else ("not ok - %s\n#   %s" % (name, detail)))
    sys.stdout.flush()


def finish():
    print("%(passed)d passed, %(failed)d failed" % counts)
    return 1 if counts["failed"] else 0


def driver_env(home, akid, secret, extra=None):
    env = {"PATH": "/usr/bin:/bin", "HOME": home, "AWS_ACCESS_KEY_ID": akid,
           "AWS_SECRET_ACCESS_KEY": secret, "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_CONFIG_FILE": os.path.join(home, "config"),
           "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "credentials")}
    env.update(extra or {})
    return env

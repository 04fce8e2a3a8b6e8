#!/usr/bin/python3
"""test_cli_e2e.py - kmscks end to end on the KMS emulator, for what the
differential suite cannot compare: the --debug trace (everything it must
show, no secret it must not), --dry-run, error messages that would echo
a secret in the AWS CLI, Ctrl-C (compared with the AWS CLI), --version.
Every run's stdout and stderr is scanned for every secret the tests use.

Usage: test_cli_e2e.py
"""

import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402

HSM = "cks-1234567890abcdef0"
XKS = "cks-0987654321fedcba0"
PASSWORD = "PWSECRET123"
TOKEN = "FQoGZXIvYXdzEXAMPLETOKENsecret"
XKS_AKID = "BCDEF34567234EXAMPLE"
XKS_SECRET = "7a6QGqd5MwwUJQQ34nIfTPTWmREcNu9M6uf2W3qbnGs="
RAW = "RAWSECRETAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

passed = failed = 0


def report(ok, name, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok - %s" % name)
    else:
        failed += 1
        print("not ok - %s\n  %s" % (name, detail))
    sys.stdout.flush()


def kmscks(emu, args, env=None, stdin=None, endpoint=True, tmp=None):
    home = tmp or clitest.tmpdir()
    e = clitest.base_env(home, dict({"KMS_TEST_BACKOFF_SCALE": "0.01"},
                                    **(env or {})))
    argv = [clitest.KMSCKS, "update-custom-key-store"]
    if endpoint:
        argv += ["--endpoint-url", emu.url]
    emu.reset()
    rc, out, err, _ = clitest.run(argv + args, e, cwd=home, stdin=stdin)
    reqs = [r for r in emu.requests() if r.get("operation")]
    if tmp is None:
        clitest.rmtree(home)
    return clitest.Result(argv + args, rc, out, err, reqs, 0)


def no_leak(name, r):
    leaks = clitest.leaked_secrets(r.stdout + r.stderr)
    report(not leaks, "%s: no secret printed" % name,
           "leaked %r in %r" % (leaks, (r.stdout + r.stderr)[-800:]))


def test_debug(emu):
    tmp = clitest.tmpdir()
    with open(os.path.join(tmp, "pw.txt"), "w") as f:
        f.write(PASSWORD)
    emu.reset()
    r = kmscks(emu, ["--custom-key-store-id", HSM, "--key-store-password",
                     "file://pw.txt", "--debug"],
               env={"AWS_ACCESS_KEY_ID": "AKIDTOKEN",
                    "AWS_SESSION_TOKEN": TOKEN}, tmp=tmp)
    clitest.rmtree(tmp)
    no_leak("debug with a password file and a session token", r)
    for what, pattern in [
            ("arguments", r"Arguments entered to CLI: \["),
            ("resolved region", r"region: us-east-1"),
            ("endpoint", r"endpoint: http://127\.0\.0\.1:\d+/"),
            ("credential source", r"credentials from: env"),
            ("canonical request", r"canonical request: POST"),
            ("string to sign", r"string to sign: AWS4-HMAC-SHA256"),
            ("request headers", r"> X-Amz-Target: TrentService\."
                                r"UpdateCustomKeyStore"),
            ("Authorization redacted", r"> Authorization: AWS4-HMAC-SHA256 "
                                       r"Credential=AKIDTOKEN/.*Signature="
                                       r"\*\*\*"),
            ("token redacted", r"> X-Amz-Security-Token: \*\*\*"),
            ("response status", r"< HTTP \d{3}"),
            ("redacted body", r'"KeyStorePassword": "\*\*\*"')]:
        report(re.search(pattern, r.stderr) is not None,
               "debug trace shows the %s" % what, r.stderr[-1500:])

    r = kmscks(emu, ["--custom-key-store-id", XKS,
                     "--xks-proxy-authentication-credential",
                     "AccessKeyId=%s,RawSecretAccessKey=%s"
                     % (XKS_AKID, XKS_SECRET), "--debug"],
               env={"AWS_MAX_ATTEMPTS": "2"})
    no_leak("debug with an XKS credential", r)

    emu.reset()
    emu.faults([{"kind": "status", "status": 503, "count": 2}])
    home = clitest.tmpdir()
    e = clitest.base_env(home, {"KMS_TEST_BACKOFF_SCALE": "0.01"})
    rc, out, err, _ = clitest.run(
        [clitest.KMSCKS, "update-custom-key-store", "--endpoint-url",
         emu.url, "--custom-key-store-id", HSM, "--key-store-password",
         PASSWORD, "--debug"], e, cwd=home)
    clitest.rmtree(home)
    r = clitest.Result([], rc, out, err, [], 0)
    no_leak("debug with retries", r)
    report(re.search(r"attempt 2/3", err) is not None and
           re.search(r"(backoff|retry|sleep)", err, re.I) is not None,
           "debug trace shows attempts and backoff", err[-1500:])

    r = kmscks(emu, ["--cli-input-json",
                     '{"CustomKeyStoreId": "%s", "KeyStorePassword": "%s"}'
                     % (HSM, PASSWORD), "--debug", "--no-sign-request"])
    no_leak("debug with --cli-input-json holding a password", r)
    report("'--cli-input-json', '***'" in r.stderr,
           "the input document is masked in the arguments", r.stderr[:600])


def test_dry_run(emu):
    r = kmscks(emu, ["--custom-key-store-id", HSM, "--key-store-password",
                     PASSWORD, "--dry-run"],
               env={"AWS_SESSION_TOKEN": TOKEN})
    no_leak("dry run", r)
    report(r.rc == 0 and not r.requests, "dry run exits 0 and sends nothing",
           r.describe())
    for what, pattern in [("request line", r"^POST / HTTP/1\.1$"),
                          ("target", r"^X-Amz-Target: TrentService\."
                                     r"UpdateCustomKeyStore$"),
                          ("signature", r"^Authorization: AWS4-HMAC-SHA256 "
                                        r"Credential=AKIDEXAMPLE/\d{8}/"
                                        r"us-east-1/kms/aws4_request"),
                          ("body", r'"CustomKeyStoreId": "%s"' % HSM)]:
        report(re.search(pattern, r.stdout, re.M) is not None,
               "dry run prints the %s" % what, r.stdout)
    r = kmscks(emu, ["--custom-key-store-id", HSM, "--key-store-password",
                     "short", "--dry-run"])
    report(r.rc == 252 and not r.requests and "KeyStorePassword" in r.stderr,
           "dry run refuses an invalid request with 252", r.describe())
    r = kmscks(emu, ["--custom-key-store-id", HSM, "--dry-run"],
               env={"AWS_ACCESS_KEY_ID": None,
                    "AWS_SECRET_ACCESS_KEY": None})
    report(r.rc == 253 and not r.requests,
           "dry run without credentials exits 253", r.describe())


def test_error_echoes(emu):
    """The AWS CLI echoes these inputs, secrets included; kmscks masks."""
    cases = [
        ("shorthand syntax error", ["--custom-key-store-id", XKS,
                                    "--xks-proxy-authentication-credential",
                                    "AccessKeyId=%s,RawSecretAccessKey=%s,"
                                    % (XKS_AKID, RAW)]),
        ("shorthand list value", ["--custom-key-store-id", XKS,
                                  "--xks-proxy-authentication-credential",
                                  "AccessKeyId=%s,RawSecretAccessKey=SECRETA,"
                                  "SECRETB" % XKS_AKID]),
        ("shorthand duplicate key", ["--custom-key-store-id", XKS,
                                     "--xks-proxy-authentication-credential",
                                     "RawSecretAccessKey=%s,"
                                     "RawSecretAccessKey=%s" % (RAW, RAW)]),
        ("invalid credential JSON", ["--custom-key-store-id", XKS,
                                     "--xks-proxy-authentication-credential",
                                     '{"AccessKeyId": "%s", '
                                     '"RawSecretAccessKey": %s' % (XKS_AKID,
                                                                   RAW)]),
        ("credential JSON array", ["--custom-key-store-id", XKS,
                                   "--xks-proxy-authentication-credential",
                                   '["%s"]' % RAW]),
        ("credential wrong type", ["--custom-key-store-id", XKS,
                                   "--xks-proxy-authentication-credential",
                                   '{"AccessKeyId": ["%s"], '
                                   '"RawSecretAccessKey": "%s"}'
                                   % (XKS_AKID, RAW)]),
        ("mistyped password option", ["--custom-key-store-id", HSM,
                                      "--key-store-pasword", PASSWORD]),
        ("unquoted password words", ["--custom-key-store-id", HSM,
                                     "--key-store-password", "PWSECRET",
                                     "123"]),
        ("ambiguous option with a value", ["--custom-key-store-id", HSM,
                                           "--xks-proxy-uri=" + PASSWORD]),
        ("password too long", ["--custom-key-store-id", HSM,
                               "--key-store-password",
                               "x-SecretPassword-0123456789-abcdefghij"]),
        ("password with dash", ["--custom-key-store-id", HSM,
                                "--key-store-password", "-abc1234"]),
        ("input JSON with a wrong password type",
         ["--cli-input-json", '{"CustomKeyStoreId": "%s", "KeyStorePassword":'
          ' ["%s"]}' % (HSM, PASSWORD)]),
        ("input YAML with a wrong password type",
         ["--cli-input-yaml", "CustomKeyStoreId: %s\nKeyStorePassword: "
          "[%s]\n" % (HSM, PASSWORD)]),
        ("invalid input JSON", ["--cli-input-json", '{"KeyStorePassword": "%s"'
                                % PASSWORD]),
    ]
    for name, args in cases:
        r = kmscks(emu, args)
        no_leak(name, r)
        report(r.rc == 252 and not r.requests,
               "%s: refused with 252, nothing sent" % name, r.describe())


def test_interrupt(emu):
    """Ctrl-C while waiting for KMS: 130 and a newline, as the AWS CLI."""
    results = {}
    for tool in ("aws", "kmscks"):
        home = clitest.tmpdir()
        emu.reset()
        emu.faults([{"kind": "slow", "seconds": 20}])
        if tool == "aws":
            argv = [clitest.AWS, "kms", "update-custom-key-store"]
        else:
            argv = [clitest.KMSCKS, "update-custom-key-store"]
        argv += ["--endpoint-url", emu.url, "--custom-key-store-id", HSM,
                 "--key-store-password", PASSWORD]
        p = subprocess.Popen(argv, env=clitest.base_env(home), cwd=home,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 90
        while not emu.requests() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
        results[tool] = (p.returncode, out.decode(), err.decode())
        clitest.rmtree(home)
    rc, out, err = results["kmscks"]
    no_leak("interrupted", clitest.Result([], rc, out, err, [], 0))
    report(results["kmscks"][:2] == results["aws"][:2] == (130, "\n"),
           "Ctrl-C exits 130 with a newline, as the AWS CLI",
           "aws %r kmscks %r" % (results["aws"][:2], results["kmscks"][:2]))


def test_version(emu):
    r = kmscks(emu, ["--version"], endpoint=False)
    report(r.rc == 0 and re.match(r"^kmscks/\d+\.\d+\.\d+ libkmscks/\S+ "
                                  r"http/native OpenSSL", r.stdout),
           "--version prints kmscks/<version> ...", r.stdout)


def main():
    if not os.access(clitest.KMSCKS, os.X_OK):
        print("SKIP: %s is not there" % clitest.KMSCKS)
        return 77
    with clitest.harness.Emulator(seed=clitest.harness.SEED_EXAMPLE) as emu:
        emu.add_credentials("AKIDTOKEN", clitest.SECRET_KEY,
                            session_token=TOKEN)
        test_debug(emu)
        test_dry_run(emu)
        test_error_echoes(emu)
        test_version(emu)
        if os.access(clitest.AWS, os.X_OK):
            test_interrupt(emu)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

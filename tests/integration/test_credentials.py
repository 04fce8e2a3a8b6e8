#!/usr/bin/python3
"""The credential chain over the real libcurl transport against the
loopback STS, ECS and IMDSv2 emulators (tests/emulator/cred_services.py).

  test_credentials.py CRED_TOOL

Each case runs cred_tool (tests/integration/cred_tool.c) in an environment
built from scratch (HOME, the shared files and every AWS_* variable are
the test's own) and checks: each source, the precedence order, refresh
before expiry, that the credentials really sign (STS GetCallerIdentity,
verified by the emulator with botocore), and that no secret ever shows in
an error message or a log line. Prints "ok N - ..." lines and
"N passed, M failed"; exits 77 when the emulator cannot run here.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "emulator"))

try:
    import harness  # noqa: E402
except Exception as e:  # botocore missing, ...
    print("# skip: emulator harness unavailable: %s" % e)
    sys.exit(77)

TOOL = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.environ.get("KMS_BUILD_ROOT", "."), "tests", "integration", "cred_tool")
ROLE = "arn:aws:iam::111122223333:role/kmscks-test-role"
WEB_TOKEN = "eyJhbGciOiJSUzI1NiJ9.WEB-IDENTITY-SECRET-PAYLOAD.sig"
ECS_TOKEN = "ECS-AUTH-SECRET-TOKEN-4f1c"
KEY, SECRET = harness.DEFAULT_ACCESS_KEY, harness.DEFAULT_SECRET_KEY

count = failed = 0
outputs = []           # every stdout/stderr of cred_tool, for the secret scan


def ok(cond, what, detail=""):
    global count, failed
    count += 1
    if not cond:
        failed += 1
    print("%sok %d - %s" % ("" if cond else "not ", count, what))
    if not cond and detail:
        for line in str(detail).splitlines()[:20]:
            print("#   " + line)


class Case:
    """A scratch HOME with its own config and credentials files."""

    def __init__(self, base):
        self.dir = tempfile.mkdtemp(prefix="kms-cred-it-")
        self.env = {"PATH": "/usr/bin:/bin", "HOME": self.dir,
                    "AWS_CONFIG_FILE": os.path.join(self.dir, "config"),
                    "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.dir, "credentials"),
                    "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}
        self.env.update(base)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def run(self, *args, timeout=60):
        p = subprocess.run([TOOL] + list(args), env=self.env, capture_output=True,
                           text=True, timeout=timeout)
        outputs.append(p.stdout + p.stderr)
        return p

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def results(p):
    """The "ok"/"error" lines as tuples."""
    out = []
    for line in p.stdout.splitlines():
        parts = line.split(" ", 4 if line.startswith("ok") else 3)
        out.append(tuple(parts))
    return out


def first(p):
    r = results(p)
    return r[0] if r else ("none",)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    if not os.access(TOOL, os.X_OK):
        print("# skip: %s not built" % TOOL)
        return 77
    try:
        creds = harness.CredServices().start()
    except Exception as e:
        print("# skip: cred_services.py did not start: %s" % e)
        return 77
    try:
        run_all(creds)
    finally:
        issued = creds.issued() if creds.proc else []
        creds.stop()
    secrets = [SECRET, WEB_TOKEN, ECS_TOKEN]
    for c in issued:
        secrets += [c["secret_access_key"], c["session_token"]]
    leaks = [s for s in secrets for out in outputs if s and s in out]
    ok(not leaks and len(outputs) > 20,
       "no secret in any of %d outputs (errors and debug logs), %d secrets checked"
       % (len(outputs), len(secrets)), "leaked: %s" % leaks[:3])
    print("%d passed, %d failed" % (count - failed, failed))
    return 1 if failed else 0


def run_all(creds):
    sts = {"AWS_ENDPOINT_URL_STS": creds.sts_url}
    verify = ["--verify", creds.sts_url]

    # -- environment
    c = Case({"AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET})
    p = c.run(*verify)
    ok(first(p)[:4] == ("ok", "0", "env", KEY), "env keys", p.stdout + p.stderr)
    ok("verify 200" in p.stdout, "env keys sign a request STS accepts", p.stdout)
    c.env["AWS_SECRET_ACCESS_KEY"] = ""
    p = c.run()
    ok(first(p) == ("error", "0", "credentials",
                    "Partial credentials found in env, missing: AWS_SECRET_ACCESS_KEY"),
       "partial env keys", p.stdout)
    c.close()

    # -- web identity (unsigned AssumeRoleWithWebIdentity)
    creds.config(web_identity_token=WEB_TOKEN)
    creds.clear_requests()
    c = Case(dict(sts, AWS_ROLE_ARN=ROLE, AWS_ROLE_SESSION_NAME="it-web"))
    c.env["AWS_WEB_IDENTITY_TOKEN_FILE"] = c.write("token", WEB_TOKEN)
    p = c.run(*verify)
    r = first(p)
    ok(r[:3] == ("ok", "0", "assume-role-with-web-identity") and r[3].startswith("ASIA"),
       "web identity from the environment", p.stdout + p.stderr)
    ok("verify 200" in p.stdout, "its credentials sign for STS", p.stdout)
    reqs = [q for q in creds.requests() if q["service"] == "sts"]
    web = [q for q in reqs if "AssumeRoleWithWebIdentity" in q["body"]]
    ok(len(web) == 1 and not any(h[0].lower() == "authorization" for h in web[0]["headers"]),
       "one unsigned AssumeRoleWithWebIdentity", reqs)
    ok(web and "RoleSessionName=it-web" in web[0]["body"], "with the session name",
       web[0]["body"] if web else "")
    c.write("token", "not-the-token")
    p = c.run()
    ok(first(p)[:3] == ("error", "0", "credentials") and
       "An error occurred (InvalidIdentityToken) when calling the "
       "AssumeRoleWithWebIdentity operation: The web identity token" in p.stdout,
       "a rejected token: STS's error", p.stdout)
    c.close()

    # -- assume role: source_profile chain, credential_source
    creds.clear_requests()
    c = Case(sts)
    c.write("config", "[profile r1]\nrole_arn = %s\nsource_profile = base\n"
            "role_session_name = it-r1\nduration_seconds = 900\n"
            "[profile r2]\nrole_arn = %s\nsource_profile = r1\n"
            "[profile envsrc]\nrole_arn = %s\ncredential_source = Environment\n"
            "[profile imdssrc]\nrole_arn = %s\ncredential_source = Ec2InstanceMetadata\n"
            "[profile loop]\nrole_arn = %s\nsource_profile = loop2\n"
            "[profile loop2]\nrole_arn = %s\nsource_profile = loop\n" % ((ROLE,) * 6))
    c.write("credentials", "[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
            % (KEY, SECRET))
    p = c.run("--profile", "r1", *verify)
    r = first(p)
    ok(r[:3] == ("ok", "0", "assume-role") and r[3].startswith("ASIA"),
       "assume role with a static source_profile", p.stdout + p.stderr)
    ok("verify 200" in p.stdout, "its credentials sign for STS", p.stdout)
    ar = [q for q in creds.requests() if "Action=AssumeRole&" in q["body"]]
    ok(len(ar) == 1 and ar[0]["signature_valid"] is True,
       "AssumeRole signed with kms_sign, verified by botocore", ar)
    ok(ar and "DurationSeconds=900" in ar[0]["body"] and "RoleSessionName=it-r1" in ar[0]["body"],
       "with the profile's session name and duration", ar[0]["body"] if ar else "")
    creds.clear_requests()
    p = c.run("--profile", "r2", *verify)
    ar = [q for q in creds.requests() if "Action=AssumeRole&" in q["body"]]
    ok(first(p)[2] == "assume-role" and len(ar) == 2 and all(q["signature_valid"] for q in ar),
       "a chained role: two AssumeRole calls, each signed", p.stdout + str(len(ar)))
    ok("verify 200" in p.stdout, "the chained credentials sign", p.stdout)
    p = c.run("--profile", "loop")
    ok(first(p)[:3] == ("error", "0", "config") and "Infinite loop" in p.stdout,
       "a source_profile loop", p.stdout)
    c.env.update(AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET)
    p = c.run("--profile", "envsrc", *verify)
    ok(first(p)[2] == "assume-role" and "verify 200" in p.stdout,
       "credential_source = Environment", p.stdout + p.stderr)
    del c.env["AWS_ACCESS_KEY_ID"], c.env["AWS_SECRET_ACCESS_KEY"]
    c.env.pop("AWS_EC2_METADATA_DISABLED")
    c.env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = creds.imds_url
    p = c.run("--profile", "imdssrc", *verify)
    ok(first(p)[2] == "assume-role" and "verify 200" in p.stdout,
       "credential_source = Ec2InstanceMetadata", p.stdout + p.stderr)
    c.close()

    # -- ECS container credentials
    creds.config(ecs_token=ECS_TOKEN)
    c = Case({"AWS_CONTAINER_CREDENTIALS_FULL_URI": creds.ecs_url,
              "AWS_CONTAINER_AUTHORIZATION_TOKEN": ECS_TOKEN})
    p = c.run(*verify)
    ok(first(p)[2] == "container-role" and "verify 200" in p.stdout,
       "ECS full URI with an authorization token", p.stdout + p.stderr)
    del c.env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
    c.env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = c.write("ecs-token", ECS_TOKEN + "\n")
    p = c.run()
    ok(first(p)[2] == "container-role", "the token from a file", p.stdout)
    c.write("ecs-token", "wrong")
    t0 = time.monotonic()
    p = c.run()
    ok(first(p) == ("error", "0", "credentials",
                    "Error when retrieving credentials from container-role: "
                    "Received non 200 response (401) from ECS metadata"),
       "a refused token: 3 attempts, then the error", p.stdout)
    ok(time.monotonic() - t0 < 10, "in bounded time")
    c.close()

    # -- IMDSv2
    creds.clear_requests()
    c = Case({"AWS_EC2_METADATA_SERVICE_ENDPOINT": creds.imds_url})
    c.env.pop("AWS_EC2_METADATA_DISABLED")
    p = c.run(*verify)
    ok(first(p)[2] == "iam-role" and "verify 200" in p.stdout, "IMDSv2",
       p.stdout + p.stderr)
    im = [(q["method"], q["path"]) for q in creds.requests() if q["service"] == "imds"]
    ok(im == [("PUT", "/latest/api/token"),
              ("GET", "/latest/meta-data/iam/security-credentials/"),
              ("GET", "/latest/meta-data/iam/security-credentials/kmscks-test-role")],
       "token, role, credentials", im)
    c.env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:%d" % free_port()
    t0 = time.monotonic()
    p = c.run()
    ok(first(p) == ("error", "0", "no_credentials",
                    'Unable to locate credentials. You can configure credentials by '
                    'running "aws configure".'),
       "no IMDS listening: no credentials", p.stdout)
    ok(time.monotonic() - t0 < 5, "quickly (%.1f s)" % (time.monotonic() - t0))
    c.close()

    # -- precedence, one source removed at a time
    creds.config(web_identity_token=WEB_TOKEN, ecs_token=None)
    c = Case(dict(sts, AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET, AWS_ROLE_ARN=ROLE,
                  AWS_CONTAINER_CREDENTIALS_FULL_URI=creds.ecs_url,
                  AWS_EC2_METADATA_SERVICE_ENDPOINT=creds.imds_url))
    c.env.pop("AWS_EC2_METADATA_DISABLED")
    c.env["AWS_WEB_IDENTITY_TOKEN_FILE"] = c.write("token", WEB_TOKEN)
    c.write("credentials", "[default]\naws_access_key_id = AKIDFILE\n"
            "aws_secret_access_key = file-secret-xyz\n")
    order = []
    for drop in ("AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE", "credentials",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_EC2_METADATA_SERVICE_ENDPOINT"):
        p = c.run()
        order.append(first(p)[2] if first(p)[0] == "ok" else first(p)[2] + ":" + first(p)[-1])
        if drop == "credentials":
            os.unlink(os.path.join(c.dir, "credentials"))
        elif drop == "AWS_EC2_METADATA_SERVICE_ENDPOINT":
            c.env["AWS_EC2_METADATA_DISABLED"] = "true"
        else:
            del c.env[drop]
    p = c.run()
    order.append(first(p)[2])
    ok(order == ["env", "assume-role-with-web-identity", "shared-credentials-file",
                 "container-role", "iam-role", "no_credentials"],
       "precedence: env > web identity > shared file > container > IMDS", order)
    c.close()

    # -- refresh before expiry (credentials that live 330 s)
    creds.config(expiration_seconds=330, ecs_token=None)
    cases = [
        ("web identity", dict(sts, AWS_ROLE_ARN=ROLE), "token"),
        ("ECS", {"AWS_CONTAINER_CREDENTIALS_FULL_URI": creds.ecs_url}, None),
        ("IMDS", {"AWS_EC2_METADATA_SERVICE_ENDPOINT": creds.imds_url}, None),
        ("assume role", sts, "profile"),
    ]
    for name, env, extra in cases:
        c = Case(env)
        args = []
        if name == "IMDS":
            c.env.pop("AWS_EC2_METADATA_DISABLED")
        if extra == "token":
            c.env["AWS_WEB_IDENTITY_TOKEN_FILE"] = c.write("token", WEB_TOKEN)
        if extra == "profile":
            c.write("config", "[profile r]\nrole_arn = %s\nsource_profile = base\n" % ROLE)
            c.write("credentials", "[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                    % (KEY, SECRET))
            args = ["--profile", "r"]
        # The clock is moved, not waited for: new credentials from the
        # emulator live 330 s from the real time.
        p = c.run(*(args + ["--at", "0", "--at", "20", "--at", "31"] + verify))
        r = [x for x in results(p) if x[0] == "ok"]
        keys = [x[3] for x in r]
        ok(len(keys) == 3 and keys[0] == keys[1] and keys[1] != keys[2],
           "%s: kept at 310 s left, refreshed at 299 s left" % name,
           p.stdout + p.stderr[-2000:])
        ok(p.stdout.count("verify 200") == 3, "%s: every one of them signs" % name, p.stdout)
        c.close()
    creds.config(expiration_seconds=None)

    # -- STS faults: a 503 is retried; a dropped connection too
    creds.clear_requests()
    creds.faults([{"kind": "status", "status": 503, "service": "sts",
                   "body": "<ErrorResponse><Error><Code>ServiceUnavailable</Code>"
                           "<Message>try later</Message></Error></ErrorResponse>"},
                  {"kind": "drop", "service": "sts"}])
    c = Case(dict(sts, AWS_ROLE_ARN=ROLE))
    c.env["AWS_WEB_IDENTITY_TOKEN_FILE"] = c.write("token", WEB_TOKEN)
    p = c.run()
    n = len([q for q in creds.requests() if q["service"] == "sts"])
    ok(first(p)[2] == "assume-role-with-web-identity" and n == 3,
       "STS 503 and a dropped connection are retried (%d requests)" % n, p.stdout + p.stderr)
    creds.faults([{"kind": "status", "status": 503, "service": "sts", "count": 3,
                   "body": "<ErrorResponse><Error><Code>ServiceUnavailable</Code>"
                           "<Message>try later</Message></Error></ErrorResponse>"}])
    p = c.run()
    ok(first(p) == ("error", "0", "credentials",
                    "An error occurred (ServiceUnavailable) when calling the "
                    "AssumeRoleWithWebIdentity operation: try later"),
       "three 503s: STS's error", p.stdout)
    creds.clear_faults()
    c.close()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""The AWS CLI as referee (issue 3 item 9): Debian's AWS CLI v2
(/usr/bin/aws) and kmscks (through kmsdrive) send the same updates to the
KMS emulator; the body bytes, X-Amz-Target and header order must be
identical and both signatures must verify (botocore, in the emulator).
Then the same faults are served to both: the attempt counts and the error
text must agree.

    test_awscli_referee.py PATH/TO/kmsdrive

Prints one line per check and "N passed, M failed"; exits 77 (skip) when
/usr/bin/aws is missing, 1 on failure.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "emulator"))
from harness import Emulator, aws_cli_env, load_seed_example  # noqa: E402

AWS = "/usr/bin/aws"
DRIVE = os.path.abspath(sys.argv[1])
HOME = tempfile.mkdtemp(prefix="kms-referee-")
AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

HSM_ID = "cks-1234567890abcdef0"
XKS_ID = "cks-0987654321fedcba0"
OPTIONS = [  # model order, as the CLI sends them
    ("CustomKeyStoreId", "--custom-key-store-id"),
    ("NewCustomKeyStoreName", "--new-custom-key-store-name"),
    ("KeyStorePassword", "--key-store-password"),
    ("CloudHsmClusterId", "--cloud-hsm-cluster-id"),
    ("XksProxyUriEndpoint", "--xks-proxy-uri-endpoint"),
    ("XksProxyUriPath", "--xks-proxy-uri-path"),
    ("XksProxyVpcEndpointServiceName", "--xks-proxy-vpc-endpoint-service-name"),
    ("XksProxyAuthenticationCredential", "--xks-proxy-authentication-credential"),
    ("XksProxyConnectivity", "--xks-proxy-connectivity"),
]

CRED_A = {"AccessKeyId": "BCDEF34567234EXAMPLE",
          "RawSecretAccessKey": "7a6QGqd5MwwUJQQ34nIfTPTWmREcNu9M6uf2W3qbnGs="}
CRED_B = {"RawSecretAccessKey": "DXjSUawnel2fr6SKC7G25CNxTyWKE5PF9XX6H/u9pSo=",
          "AccessKeyId": "ABCDE23456723EXAMPLE"}

CASES = [
    ("name, ASCII", {"CustomKeyStoreId": HSM_ID, "NewCustomKeyStoreName": "ExampleKeyStore2"}),
    ("name, Cyrillic and CJK", {"CustomKeyStoreId": HSM_ID, "NewCustomKeyStoreName": "Ключ-магазин ✓ 日本"}),
    ("name, astral and escapes", {"CustomKeyStoreId": HSM_ID,
                                  "NewCustomKeyStoreName": "😀x \"q\" \\ /<>&' é\u007f end"}),
    ("name with spaces kept", {"CustomKeyStoreId": HSM_ID, "NewCustomKeyStoreName": "  padded name  "}),
    ("KeyStorePassword", {"CustomKeyStoreId": HSM_ID, "KeyStorePassword": "Passw0rd!secret"}),
    ("cluster and password", {"CustomKeyStoreId": HSM_ID, "KeyStorePassword": "An0ther-Pass",
                              "CloudHsmClusterId": "cluster-5b67c2defgh"}),
    ("XKS endpoint and path", {"CustomKeyStoreId": XKS_ID, "XksProxyUriEndpoint": "https://myproxy.xks.example.com",
                               "XksProxyUriPath": "/example-prefix/kms/xks/v1"}),
    ("credential, AccessKeyId first", {"CustomKeyStoreId": XKS_ID, "XksProxyAuthenticationCredential": CRED_A}),
    ("credential, RawSecretAccessKey first", {"CustomKeyStoreId": XKS_ID,
                                              "XksProxyAuthenticationCredential": CRED_B}),
    ("VPC connectivity", {"CustomKeyStoreId": XKS_ID,
                          "XksProxyUriEndpoint": "https://myproxy-private.xks.example.com",
                          "XksProxyVpcEndpointServiceName": "com.amazonaws.vpce.us-east-1.vpce-svc-example1",
                          "XksProxyConnectivity": "VPC_ENDPOINT_SERVICE"}),
    ("everything XKS, unicode name", {"CustomKeyStoreId": XKS_ID, "NewCustomKeyStoreName": "Внешний ✓",
                                      "XksProxyUriPath": "/kms/xks/v1",
                                      "XksProxyAuthenticationCredential": CRED_A,
                                      "XksProxyConnectivity": "PUBLIC_ENDPOINT",
                                      "XksProxyUriEndpoint": "https://myproxy.xks.example.com"}),
]

passed = 0
failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok - %s" % name)
    else:
        failed += 1
        print("not ok - %s%s" % (name, ("\n#   " + str(detail).replace("\n", "\n#   ")) if detail else ""))
    sys.stdout.flush()


def cli_args(members):
    args = []
    for name, opt in OPTIONS:
        if name not in members:
            continue
        v = members[name]
        args += [opt, json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v]
    return args


def run_cli(url, members, extra_env=None):
    env = aws_cli_env(HOME, extra_env)
    p = subprocess.run([AWS, "kms", "update-custom-key-store", "--endpoint-url", url] + cli_args(members),
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    return p.returncode, p.stderr.decode("utf-8", "replace").strip("\n")


def run_drive(url, members, extra_env=None):
    env = {"PATH": "/usr/bin:/bin", "HOME": HOME, "AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": SECRET,
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_CONFIG_FILE": os.path.join(HOME, "none"), "AWS_SHARED_CREDENTIALS_FILE": os.path.join(HOME, "none")}
    env.update(extra_env or {})
    p = subprocess.run([DRIVE, "--set", "endpoint_url=" + url, "update-members",
                        json.dumps(members, ensure_ascii=False)],
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    return json.loads(p.stdout.decode("utf-8"))


def last_updates(emu):
    return emu.requests(operation="UpdateCustomKeyStore")


def header(req, name):
    for n, v in req["headers"]:
        if n.lower() == name.lower():
            return v
    return None


def wire_cases(emu):
    url = emu.url
    for label, members in CASES:
        emu.clear_requests()
        rc, err = run_cli(url, members)
        cli = last_updates(emu)
        emu.clear_requests()
        ours = run_drive(url, members)
        mine = last_updates(emu)
        if len(cli) != 1 or len(mine) != 1:
            check("%s: one request each" % label, False, "cli rc=%s %s; ours %s" % (rc, err, ours.get("message")))
            continue
        a, b = cli[0], mine[0]
        check("%s: identical body bytes" % label, a["body"] == b["body"], "aws:   %s\nkms:   %s" % (a["body"],
                                                                                             b["body"]))
        check("%s: identical X-Amz-Target" % label, header(a, "X-Amz-Target") == header(b, "X-Amz-Target"),
              (header(a, "X-Amz-Target"), header(b, "X-Amz-Target")))
        check("%s: identical header order" % label, [h[0] for h in a["headers"]] == [h[0] for h in b["headers"]],
              ([h[0] for h in a["headers"]], [h[0] for h in b["headers"]]))
        check("%s: both signatures valid" % label, a["signature_valid"] is True and b["signature_valid"] is True,
              (a["signature_valid"], b["signature_valid"]))
        same = (rc == 0) == (ours["status"] == "ok") and (rc == 0 or err == ours["message"])
        check("%s: same outcome (%s)" % (label, "ok" if rc == 0 else err[:60]), same,
              "aws rc=%d %r\nkms %s %r" % (rc, err, ours["status"], ours["message"]))


def fault_cases(emu):
    url = emu.url
    upd = {"CustomKeyStoreId": HSM_ID, "NewCustomKeyStoreName": "FaultCase"}
    faults = [
        ("throttling x3", [{"kind": "throttle", "count": 3}], {}),
        ("LimitExceededException x3", [{"kind": "throttle", "code": "LimitExceededException", "count": 3}], {}),
        ("503 x3", [{"kind": "status", "status": 503, "count": 3}], {}),
        ("504 html x3", [{"kind": "status", "status": 504, "body": "<html>gw</html>", "count": 3}], {}),
        ("modeled 400", [{"kind": "error", "type": "com.amazonaws.kms#CustomKeyStoreInvalidStateException",
                          "message": "The store is connected."}], {}),
        ("400 with AWS_MAX_ATTEMPTS=1", [{"kind": "error", "type": "AccessDeniedException", "message": "no"}],
         {"AWS_MAX_ATTEMPTS": "1"}),
        ("429 unknown code", [{"kind": "error", "type": "Foo", "status": 429, "message": "m"}], {}),
        ("non-JSON 403", [{"kind": "status", "status": 403, "body": "not json at all"}], {}),
        ("query-error header", [{"kind": "error", "type": "X", "message": "m",
                                 "headers": {"x-amzn-query-error": "AWS.Some.Code;Sender"}}], {}),
        ("503, throttle, ok", [{"kind": "status", "status": 503}, {"kind": "throttle"}], {}),
        ("drop x3", [{"kind": "drop", "count": 3}], {}),
        ("truncated 200", [{"kind": "truncated", "body": "{\"a\":"}], {}),
        ("malformed 200", [{"kind": "malformed"}], {}),
        ("AWS_MAX_ATTEMPTS=4 with 500", [{"kind": "status", "status": 500, "count": 4}], {"AWS_MAX_ATTEMPTS": "4"}),
    ]
    for label, fl, extra in faults:
        emu.clear_requests()
        emu.clear_faults()
        emu.faults(fl)
        rc, err = run_cli(url, upd, extra)
        n_cli = len(last_updates(emu))
        emu.clear_requests()
        emu.clear_faults()
        emu.faults(fl)
        env = dict(extra)
        env["KMS_TEST_BACKOFF_SCALE"] = "0.01"
        ours = run_drive(url, upd, env)
        n_ours = len(last_updates(emu))
        check("fault %s: same attempts (aws %d, kms %d)" % (label, n_cli, n_ours), n_cli == n_ours and
              ours["attempts"] == n_ours, ours)
        same = (rc == 0) == (ours["status"] == "ok") and (rc == 0 or err == ours["message"])
        check("fault %s: same outcome" % label, same, "aws rc=%d %r\nkms %s %r" % (rc, err, ours["status"],
                                                                                  ours["message"]))
    emu.clear_faults()

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = "http://127.0.0.1:%d" % s.getsockname()[1]
    s.close()
    rc, err = run_cli(dead, upd)
    ours = run_drive(dead, upd, {"KMS_TEST_BACKOFF_SCALE": "0.01"})
    check("connection refused: same text", rc == 255 and err == ours["message"] and ours["attempts"] == 3,
          "aws %r\nkms %r" % (err, ours["message"]))


def tls_cases():
    with Emulator(tls=True, seed=load_seed_example()) as emu:
        upd = {"CustomKeyStoreId": HSM_ID, "NewCustomKeyStoreName": "TlsCase"}
        for label, cli_extra, sets in (("CA bundle", {"AWS_CA_BUNDLE": emu.ca}, {"AWS_CA_BUNDLE": emu.ca}),
                                       ("missing CA file", {"AWS_CA_BUNDLE": "/nonexistent/ca.pem"},
                                        {"AWS_CA_BUNDLE": "/nonexistent/ca.pem"})):
            rc, err = run_cli(emu.url, upd, cli_extra)
            env = dict(sets)
            env["KMS_TEST_BACKOFF_SCALE"] = "0.01"
            ours = run_drive(emu.url, upd, env)
            same = (rc == 0) == (ours["status"] == "ok") and (rc == 0 or err == ours["message"])
            check("TLS %s: same outcome" % label, same, "aws rc=%d %r\nkms %s %r" % (rc, err, ours["status"],
                                                                                     ours["message"]))


def main():
    if not os.access(AWS, os.X_OK):
        print("skip: %s is missing" % AWS)
        return 77
    with Emulator(seed=load_seed_example()) as emu:
        wire_cases(emu)
        fault_cases(emu)
    tls_cases()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

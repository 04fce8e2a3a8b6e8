#!/usr/bin/python3
# botocore_sign.py - our SigV4 signature of KMS requests against botocore's
# (botocore.auth.SigV4Auth over botocore.awsrequest.AWSRequest, the clock
# pinned), for several operations, bodies, regions, endpoints, times, with
# and without a session token. The X-Amz-Target, Content-Type and signing
# name come from the current model in
# $KMS_SHARED/reference/kms-custom-key-store-model.json, loaded into
# botocore.model.ServiceModel (Debian's botocore ships an older one).
# Usage: botocore_sign.py <sign_tool>. Prints "ok N - ..." per case and
# "N passed, M failed"; exits 1 on a mismatch, 77 when botocore is missing.
import datetime
import json
import subprocess
import sys
from unittest import mock

try:
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    import botocore.model
except ImportError:
    print("1..0 # SKIP python3-botocore is not installed")
    sys.exit(77)

from botocore_model import load_model  # noqa: E402

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = ("AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW"
         "LWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kM")


def dumps(obj):
    # botocore's JSON 1.1 body: json.dumps defaults (ASCII, ", " and ": ").
    return json.dumps(obj)


BODIES = [
    ("UpdateCustomKeyStore", dumps({
        "CustomKeyStoreId": "cks-1234567890abcdef0",
        "NewCustomKeyStoreName": "ExampleKeyStore"})),
    ("UpdateCustomKeyStore", dumps({
        "CustomKeyStoreId": "cks-1234567890abcdef0",
        "KeyStorePassword": "ExamplePassword",
        "CloudHsmClusterId": "cluster-234abcdefABC"})),
    ("UpdateCustomKeyStore", dumps({
        "CustomKeyStoreId": "cks-1234567890abcdef0",
        "NewCustomKeyStoreName": "Ключ-магазин ✓ 日本 😀",
        "XksProxyUriEndpoint": "https://myproxy.xks.example.com",
        "XksProxyUriPath": "/example-prefix/kms/xks/v1",
        "XksProxyAuthenticationCredential": {
            "AccessKeyId": "ABCDE12345670EXAMPLE",
            "RawSecretAccessKey":
                "DXjSUawnel2fr6SKC7G25CNxTyWKE5PF9XX6H/u9pSo="},
        "XksProxyConnectivity": "PUBLIC_ENDPOINT"})),
    ("UpdateCustomKeyStore", dumps({
        "CustomKeyStoreId": "cks-1234567890abcdef0",
        "NewCustomKeyStoreName": "x" * 3000})),
    ("DescribeCustomKeyStores", dumps({
        "CustomKeyStoreId": "cks-1234567890abcdef0"})),
    ("DescribeCustomKeyStores", dumps({})),
    ("ConnectCustomKeyStore", dumps({
        "CustomKeyStoreId": "cks-1234567890abcdef0"})),
    ("DisconnectCustomKeyStore", dumps({
        "CustomKeyStoreId": "cks-1234567890abcdef0"})),
]

# (endpoint URL, region, service)
ENDPOINTS = [
    ("https://kms.us-east-1.amazonaws.com", "us-east-1", "kms"),
    ("https://kms.eu-west-3.amazonaws.com/", "eu-west-3", "kms"),
    ("https://kms.cn-north-1.amazonaws.com.cn", "cn-north-1", "kms"),
    ("https://kms-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1", "kms"),
    ("http://127.0.0.1:38865", "us-east-1", "kms"),
    ("http://127.0.0.1:38865/prefix", "us-east-1", "kms"),
    ("http://127.0.0.1:4566", "", "kms"),
    ("https://KMS.Example.com:443/a/./b/../c/", "eu-central-1", "kms"),
    ("http://localhost:80//double//slash", "ap-southeast-2", "kms"),
    ("https://h.example.com/my%20prefix", "us-west-2", "kms"),
    ("https://h.example.com/sp ace/", "us-west-2", "kms"),
    ("http://[::1]:8443/v", "us-east-1", "kms"),
    ("https://myproxy.xks.example.com/example-prefix/kms/xks/v1",
     "us-east-2", "kms-xks-proxy"),
]

TIMES = [
    datetime.datetime(2026, 11, 28, 18, 7, 20),
    datetime.datetime(2000, 2, 29, 0, 0, 0),
    datetime.datetime(2038, 1, 19, 3, 14, 8),
    datetime.datetime(1999, 12, 31, 23, 59, 59),
    datetime.datetime(2024, 12, 31, 23, 59, 59),
]


def cases():
    n = 0
    for ei, (url, region, service) in enumerate(ENDPOINTS):
        for bi in (ei % len(BODIES), (ei + 3) % len(BODIES)):
            op, body = BODIES[bi]
            token = TOKEN if (ei + bi) % 2 else None
            when = TIMES[n % len(TIMES)]
            n += 1
            yield {"op": op, "url": url, "body": body, "region": region,
                   "service": service, "when": when, "token": token}
    # Every body once more, against the default endpoint, with a token.
    for op, body in BODIES:
        yield {"op": op, "url": "https://kms.us-east-1.amazonaws.com",
               "body": body, "region": "us-east-1", "service": "kms",
               "when": TIMES[n % len(TIMES)], "token": TOKEN}
        n += 1


def botocore_sign(model, case):
    op = model.operation_model(case["op"])
    target = "%s.%s" % (model.metadata["targetPrefix"], op.name)
    ctype = "application/x-amz-json-%s" % model.metadata["jsonVersion"]
    service = case["service"]
    if service == "kms":
        service = model.signing_name
    req = botocore.awsrequest.AWSRequest(
        method="POST", url=case["url"], data=case["body"].encode("utf-8"),
        headers={"X-Amz-Target": target, "Content-Type": ctype})
    creds = botocore.credentials.Credentials(AKID, SECRET, case["token"])
    auth = botocore.auth.SigV4Auth(creds, service, case["region"])
    # Keep the canonical request botocore signs (after signing, it would
    # include the Authorization header).
    seen = []
    canonical = auth.canonical_request

    def record(request):
        seen.append(canonical(request))
        return seen[-1]

    auth.canonical_request = record
    with mock.patch("botocore.auth.datetime") as dt:
        dt.datetime.utcnow.return_value = case["when"]
        auth.add_auth(req)
    return req, seen[0], botocore.auth._host_from_url(case["url"])


def main():
    if len(sys.argv) != 2:
        print("usage: botocore_sign.py <sign_tool>", file=sys.stderr)
        return 2
    model = load_model()
    all_cases = list(cases())
    lines = []
    for c in all_cases:
        epoch = int((c["when"] - datetime.datetime(1970, 1, 1))
                    .total_seconds())
        d = {"op": c["op"], "url": c["url"], "body": c["body"],
             "region": c["region"], "service": c["service"], "time": epoch,
             "akid": AKID, "secret": SECRET}
        if c["token"]:
            d["token"] = c["token"]
        lines.append(json.dumps(d))
    proc = subprocess.run([sys.argv[1]], input="\n".join(lines) + "\n",
                          capture_output=True, text=True, check=False)
    outs = proc.stdout.splitlines()
    if proc.returncode != 0 or len(outs) != len(all_cases):
        print("not ok 1 - sign_tool failed: rc %d, %d lines\n# %s"
              % (proc.returncode, len(outs), proc.stderr.strip()))
        print("0 passed, 1 failed")
        return 1
    passed = failed = 0
    for i, (c, out) in enumerate(zip(all_cases, outs), 1):
        desc = "%s %s region=%r %s%s" % (
            c["op"], c["url"], c["region"], c["when"].isoformat(),
            " +token" if c["token"] else "")
        ours = json.loads(out)
        problems = []
        if "error" in ours:
            problems.append("kmscks: " + ours["error"])
        else:
            req, creq, host = botocore_sign(model, c)
            hdrs = ours["headers"]
            names = [h[0] for h in hdrs]
            got = dict((h[0].lower(), h[1]) for h in hdrs)
            want_order = ["Host", "X-Amz-Target", "Content-Type",
                          "X-Amz-Date"]
            if c["token"]:
                want_order.append("X-Amz-Security-Token")
            want_order.append("Authorization")
            if names != want_order:
                problems.append("header order %s" % names)
            if got.get("host") != host:
                problems.append("Host %r, botocore %r"
                                % (got.get("host"), host))
            if ours["creq"] != creq:
                problems.append("canonical request:\n%s\n--- botocore:\n%s"
                                % (ours["creq"], creq))
            for name in ("X-Amz-Date", "X-Amz-Security-Token",
                         "Authorization"):
                want = req.headers.get(name)
                if isinstance(want, bytes):
                    want = want.decode()
                if got.get(name.lower()) != want:
                    problems.append("%s: %r, botocore %r"
                                    % (name, got.get(name.lower()), want))
        if problems:
            failed += 1
            print("not ok %d - %s" % (i, desc))
            for p in problems:
                for line in p.splitlines():
                    print("#   " + line)
        else:
            passed += 1
            print("ok %d - %s" % (i, desc))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

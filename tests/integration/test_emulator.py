#!/usr/bin/python3
"""Tests of the KMS emulator and the credential services themselves.

Run with Debian's /usr/bin/python3 (botocore 1.29, boto3, awscli 2.9).
Clients are botocore/boto3 on the *current* KMS model from the shared
references, and the real AWS CLI v2.  Prints one line per check and a final
"N passed, M failed" line; exits non-zero when a check failed.
"""

import email.utils
import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.environ.get("KMS_SOURCE_ROOT") or os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "emulator"))

import botocore.exceptions  # noqa: E402
from botocore import UNSIGNED  # noqa: E402
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

import harness  # noqa: E402
from harness import CredServices, Emulator, kms_client  # noqa: E402

AKID = harness.DEFAULT_ACCESS_KEY
SECRET = harness.DEFAULT_SECRET_KEY
CHSM = "cks-1234567890abcdef0"
XKS = "cks-0987654321fedcba0"
XKS_CRED1 = {"AccessKeyId": "ABCDE23456723EXAMPLE", "RawSecretAccessKey": "DXjSUawnel2fr6SKC7G25CNxTyWKE5PF9XX6H/u9pSo="}
XKS_CRED2 = {"AccessKeyId": "BCDEF34567234EXAMPLE", "RawSecretAccessKey": "7a6QGqd5MwwUJQQ34nIfTPTWmREcNu9M6uf2W3qbnGs="}
XKS_CRED_BAD = {"AccessKeyId": "ZZZZZ34567234EXAMPLE", "RawSecretAccessKey": "7a6QGqd5MwwUJQQ34nIfTPTWmREcNu9M6uf2W3qbnGs="}
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

PASSED = 0
FAILED = 0
FAILURES = []


def check(name, cond, detail=""):
    global PASSED, FAILED
    if cond:
        PASSED += 1
        print("ok   - %s" % name)
    else:
        FAILED += 1
        FAILURES.append(name)
        print("FAIL - %s%s" % (name, (": " + str(detail)) if detail != "" else ""))
    sys.stdout.flush()
    return cond


def group(fn):
    """Run a group of checks; an unexpected exception fails the group."""
    def run(*a, **kw):
        t0 = time.monotonic()
        try:
            fn(*a, **kw)
            print("# %s: %.1f s" % (fn.__name__, time.monotonic() - t0))
        except Exception:
            check("%s (no unexpected exception)" % fn.__name__, False, traceback.format_exc())
    run.__name__ = fn.__name__
    return run


def client_error(fn, *a, **kw):
    """(code, message, status, response) of the ClientError fn raises, or None."""
    try:
        fn(*a, **kw)
    except botocore.exceptions.ClientError as e:
        r = e.response
        return (r["Error"].get("Code"), r["Error"].get("Message"),
                r["ResponseMetadata"].get("HTTPStatusCode"), r)
    return None


def expect_error(name, fn, code, contains=None, status=None, **kw):
    got = client_error(fn, **kw)
    ok = got is not None and got[0] == code
    if ok and contains is not None:
        ok = contains in (got[1] or "")
    if ok and status is not None:
        ok = got[2] == status
    check(name, ok, got[:3] if got else "no error")
    return got


def raw_request(emu, target=None, body=b"{}", sign=True, akid=AKID, secret=SECRET, token=None,
                region="us-east-1", service="kms", headers=None, send_body=None, path="/", method="POST",
                ca=None):
    """Sign with botocore and send with http.client; headers go on the wire in
    the given order.  Returns (status, [(name, value)], body)."""
    if isinstance(body, str):
        body = body.encode()
    hdrs = list(headers) if headers is not None else [
        ("Content-Type", "application/x-amz-json-1.1")]
    if target is not None:
        hdrs.append(("X-Amz-Target", target))
    host = "127.0.0.1:%d" % emu.port
    req = AWSRequest(method=method, url=emu.url + path, data=body)
    for n, v in hdrs:
        req.headers[n] = v
    if sign:
        SigV4Auth(Credentials(akid, secret, token), service, region).add_auth(req)
    if emu.ca:
        ctx = ssl.create_default_context(cafile=ca or emu.ca)
        conn = http.client.HTTPSConnection("127.0.0.1", emu.port, context=ctx, timeout=20)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=20)
    data = body if send_body is None else send_body
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    conn.putheader("Host", host)
    for n, v in req.headers.items():
        if n.lower() == "host":
            continue
        conn.putheader(n, v)
    conn.putheader("Content-Length", str(len(data)))
    conn.endheaders(data)
    r = conn.getresponse()
    out = r.read()
    conn.close()
    return r.status, r.getheaders(), out


def hget(headers, name):
    for n, v in headers:
        if n.lower() == name.lower():
            return v
    return None


def describe(kms, store_id):
    return kms.describe_custom_key_stores(CustomKeyStoreId=store_id)["CustomKeyStores"][0]


def wait_described(kms, store_id, states, timeout=10.0):
    """Poll DescribeCustomKeyStores (through the API) until the state is in states.
    Returns the list of states seen, in order, without repeats."""
    seen = []
    deadline = time.monotonic() + timeout
    while True:
        st = describe(kms, store_id)["ConnectionState"]
        if not seen or seen[-1] != st:
            seen.append(st)
        if st in states or time.monotonic() > deadline:
            return seen
        time.sleep(0.03)


# ==========================================================================

@group
def t_contract(http_emu, tls_emu):
    for emu, scheme in ((http_emu, "http"), (tls_emu, "https")):
        info = emu.info
        check("%s: ready line has port, pid, url, ca" % scheme,
              all(k in info for k in ("port", "pid", "url", "ca")), info)
        check("%s: url is %s://127.0.0.1:<port>" % (scheme, scheme),
              info["url"] == "%s://127.0.0.1:%d" % (scheme, info["port"]), info["url"])
        check("%s: pid is the process's" % scheme, info["pid"] == emu.proc.pid, (info["pid"], emu.proc.pid))
    check("http: ca is null", http_emu.info["ca"] is None)
    check("https: ca is a PEM file", tls_emu.ca and open(tls_emu.ca).read().startswith("-----BEGIN CERTIFICATE"))


@group
def t_shell():
    sh = os.path.join(REPO, "tests", "emulator", "emulator.sh")
    env = dict(os.environ, KMS_SHARED=harness.shared_dir())
    p = subprocess.run([sh, "start", "--tls", "--seed", harness.SEED_EXAMPLE], capture_output=True, text=True,
                       timeout=60, env=env)
    parts = p.stdout.split()
    check("emulator.sh start prints 'PORT PID CA'", p.returncode == 0 and len(parts) == 3 and parts[0].isdigit()
          and parts[1].isdigit() and os.path.isfile(parts[2]), (p.returncode, p.stdout, p.stderr))
    if len(parts) == 3:
        port, pid, ca = int(parts[0]), int(parts[1]), parts[2]
        ctx = ssl.create_default_context(cafile=ca)
        with urllib.request.urlopen("https://127.0.0.1:%d/__emulator/health" % port, context=ctx, timeout=10) as r:
            health = json.loads(r.read())
        check("emulator.sh: the server answers, pid matches", health.get("pid") == pid, health)
        p = subprocess.run([sh, "stop", str(pid)], capture_output=True, text=True, timeout=30)
        gone = not os.path.exists("/proc/%d" % pid) or open("/proc/%d/stat" % pid).read().split(") ")[1][0] == "Z"
        check("emulator.sh stop PID: the server is gone", p.returncode == 0 and gone, (p.returncode, p.stderr))
        check("emulator.sh stop: its state directory is removed", not os.path.exists(ca))
    p = subprocess.run([sh, "start-creds"], capture_output=True, text=True, timeout=60, env=env)
    parts = p.stdout.split()
    check("emulator.sh start-creds prints 'PORT PID -'", p.returncode == 0 and len(parts) == 3 and parts[2] == "-",
          (p.returncode, p.stdout, p.stderr))
    if len(parts) == 3:
        subprocess.run([sh, "stop", parts[1]], timeout=30)


@group
def t_boto3(emu):
    b3 = harness.boto3_kms_client(emu)
    r = b3.describe_custom_key_stores(CustomKeyStoreId=XKS)
    check("boto3: client on the current model works against the emulator",
          r["CustomKeyStores"][0]["XksProxyConfiguration"]["UriPath"] == "/kms/xks/v1", r)
    check("boto3: the current model has XksProxyVpcEndpointServiceOwner",
          "XksProxyVpcEndpointServiceOwner" in b3.meta.service_model.operation_model(
              "UpdateCustomKeyStore").input_shape.members)


@group
def t_signature(emu, label):
    kms = kms_client(emu)
    emu.clear_requests()
    r = kms.describe_custom_key_stores()
    check("%s: signed DescribeCustomKeyStores succeeds" % label, len(r["CustomKeyStores"]) == 2,
          r["CustomKeyStores"])
    reqs = emu.requests()
    check("%s: request recorded with signature_valid=true" % label,
          len(reqs) == 1 and reqs[0]["signature_valid"] is True and reqs[0]["access_key_id"] == AKID
          and reqs[0]["status"] == 200, reqs)
    check("%s: recorded scheme" % label, reqs and reqs[0]["scheme"] == ("https" if emu.ca else "http"))

    bad = kms_client(emu, secret_key="x" * 40)
    got = expect_error("%s: wrong secret -> InvalidSignatureException" % label, bad.describe_custom_key_stores,
                       "InvalidSignatureException",
                       "The request signature we calculated does not match the signature you provided.", 400)
    reqs = emu.requests()
    check("%s: wrong secret recorded signature_valid=false" % label,
          reqs[-1]["signature_valid"] is False and reqs[-1]["error"] == "InvalidSignatureException", reqs[-1])
    check("%s: signature error names the canonical request" % label,
          got and "The Canonical String for this request should have been" in got[1])

    unk = kms_client(emu, access_key="AKIDUNKNOWN000000000")
    expect_error("%s: unknown access key -> UnrecognizedClientException" % label,
                 unk.describe_custom_key_stores, "UnrecognizedClientException",
                 "The security token included in the request is invalid.", 400)

    s = harness.botocore_session()
    unsigned = s.create_client("kms", region_name="us-east-1", endpoint_url=emu.url,
                               verify=emu.ca if emu.ca else True,
                               config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}))
    expect_error("%s: no Authorization -> MissingAuthenticationTokenException" % label,
                 unsigned.describe_custom_key_stores, "MissingAuthenticationTokenException", status=400)

    west = kms_client(emu, region="eu-west-1")
    expect_error("%s: other region in scope -> InvalidSignatureException" % label,
                 west.describe_custom_key_stores, "InvalidSignatureException",
                 "Credential should be scoped to a valid region")


@group
def t_raw_protocol(emu):
    # success: headers
    st, hdrs, body = raw_request(emu, "TrentService.DescribeCustomKeyStores", b"{}")
    check("raw: 200 with x-amzn-RequestId uuid", st == 200 and UUID_RE.match(hget(hdrs, "x-amzn-RequestId") or ""),
          (st, hdrs))
    check("raw: Content-Type application/x-amz-json-1.1",
          hget(hdrs, "Content-Type") == "application/x-amz-json-1.1", hdrs)
    doc = json.loads(body)
    entry = [e for e in doc["CustomKeyStores"] if e["CustomKeyStoreId"] == CHSM][0]
    check("raw: CreationDate is an epoch number on the wire", isinstance(entry["CreationDate"], (int, float)),
          entry.get("CreationDate"))
    check("raw: Truncated false, no NextMarker", doc.get("Truncated") is False and "NextMarker" not in doc, doc)

    # error: headers and __type forms
    st, hdrs, body = raw_request(emu, "TrentService.UpdateCustomKeyStore",
                                 json.dumps({"CustomKeyStoreId": "cks-00000000000000000"}))
    err = json.loads(body)
    check("raw: modeled error is namespaced com.amazonaws.kms#",
          st == 400 and err.get("__type") == "com.amazonaws.kms#CustomKeyStoreNotFoundException"
          and err.get("message"), (st, err))
    check("raw: error has x-amzn-RequestId and JSON content type",
          UUID_RE.match(hget(hdrs, "x-amzn-RequestId") or "") and
          hget(hdrs, "Content-Type") == "application/x-amz-json-1.1", hdrs)
    st, hdrs, body = raw_request(emu, "TrentService.DescribeCustomKeyStores", b"{}", secret="y" * 40)
    err = json.loads(body)
    check("raw: auth error __type is bare", err.get("__type") == "InvalidSignatureException", err)
    st, hdrs, body = raw_request(emu, "TrentService.UpdateCustomKeyStore", b"{}")
    err = json.loads(body)
    check("raw: ValidationException carries the Coral namespace",
          err.get("__type") == "com.amazon.coral.validate#ValidationException", err)

    st, hdrs, body = raw_request(emu, "TrentService.NoSuchOperation", b"{}")
    check("raw: unknown target -> UnknownOperationException",
          st == 400 and json.loads(body)["__type"].endswith("UnknownOperationException"), (st, body))
    st, hdrs, body = raw_request(emu, None, b"{}")
    check("raw: missing X-Amz-Target -> UnknownOperationException",
          st == 400 and json.loads(body)["__type"].endswith("UnknownOperationException"), (st, body))

    # tampered body: signed for one body, another sent
    emu.clear_requests()
    st, hdrs, body = raw_request(emu, "TrentService.DescribeCustomKeyStores", b'{"Limit": 1}',
                                 send_body=b'{"Limit": 2}')
    reqs = emu.requests()
    check("raw: body changed after signing -> InvalidSignatureException",
          st == 400 and json.loads(body)["__type"] == "InvalidSignatureException"
          and reqs[-1]["signature_valid"] is False, (st, body))

    # header order and values recorded as sent
    emu.clear_requests()
    order = [("x-amz-target", "TrentService.DescribeCustomKeyStores"),
             ("X-Custom-Case", "Value  with   spaces"),
             ("content-type", "application/x-amz-json-1.1")]
    st, hdrs, body = raw_request(emu, None, b"{}", headers=order)
    rec = emu.requests()[-1]
    names = [h[0] for h in rec["headers"]]
    check("raw: signature over unusual header case/spacing verifies", st == 200 and rec["signature_valid"],
          (st, body))
    check("raw: headers recorded in received order with original case",
          names[:4] == ["Host", "x-amz-target", "X-Custom-Case", "content-type"], names)
    check("raw: header values recorded as sent",
          ["X-Custom-Case", "Value  with   spaces"] in rec["headers"], rec["headers"])
    check("raw: body, target, operation recorded",
          rec["body"] == "{}" and rec["target"] == "TrentService.DescribeCustomKeyStores"
          and rec["operation"] == "DescribeCustomKeyStores", rec)

    # incomplete signature: no X-Amz-Date
    req_hdrs = [("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "TrentService.DescribeCustomKeyStores"),
                ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/kms/aws4_request, "
                                  "SignedHeaders=host, Signature=00")]
    st, hdrs, body = raw_request(emu, None, b"{}", sign=False, headers=req_hdrs)
    check("raw: Authorization without X-Amz-Date -> IncompleteSignatureException",
          st == 400 and json.loads(body)["__type"] == "IncompleteSignatureException", body)

    # session tokens
    emu.add_credentials("ASIATESTTOKEN0000001", "s" * 40, session_token="the-token")
    st, _, body = raw_request(emu, "TrentService.DescribeCustomKeyStores", akid="ASIATESTTOKEN0000001",
                              secret="s" * 40, token="the-token")
    check("token: matching session token accepted", st == 200, body)
    st, _, body = raw_request(emu, "TrentService.DescribeCustomKeyStores", akid="ASIATESTTOKEN0000001",
                              secret="s" * 40, token="another-token")
    check("token: wrong session token -> UnrecognizedClientException",
          st == 400 and json.loads(body)["__type"] == "UnrecognizedClientException", body)
    st, _, body = raw_request(emu, "TrentService.DescribeCustomKeyStores", akid="ASIATESTTOKEN0000001",
                              secret="s" * 40)
    check("token: missing session token -> UnrecognizedClientException",
          st == 400 and json.loads(body)["__type"] == "UnrecognizedClientException", body)
    emu.add_credentials("ASIAEXPIRED000000001", "e" * 40, session_token="old", expiration=time.time() - 5)
    st, _, body = raw_request(emu, "TrentService.DescribeCustomKeyStores", akid="ASIAEXPIRED000000001",
                              secret="e" * 40, token="old")
    check("token: expired credential -> ExpiredTokenException",
          st == 400 and json.loads(body)["__type"] == "ExpiredTokenException", body)


@group
def t_clock(emu):
    kms = kms_client(emu)
    emu.config(time_skew=900)
    try:
        st, hdrs, body = raw_request(emu, "TrentService.DescribeCustomKeyStores")
        msg = json.loads(body).get("message", "")
        check("skew: request 15 min behind -> InvalidSignatureException 'Signature expired'",
              st == 400 and json.loads(body)["__type"] == "InvalidSignatureException"
              and msg.startswith("Signature expired: ") and msg.endswith("- 5 min.)"), body)
        date = hget(hdrs, "Date")
        server = email.utils.parsedate_to_datetime(date).timestamp() if date else 0
        check("skew: the Date header shows the emulator's clock", abs(server - (time.time() + 900)) < 30,
              (date, time.time()))
        expect_error("skew: botocore sees InvalidSignatureException", kms.describe_custom_key_stores,
                     "InvalidSignatureException", "Signature expired")
    finally:
        emu.config(time_skew=0)
    emu.faults([{"kind": "skew", "seconds": -900}])
    expect_error("skew fault: request 15 min ahead -> 'Signature not yet current'",
                 kms.describe_custom_key_stores, "InvalidSignatureException", "Signature not yet current")
    check("skew fault: applies to one request only", "CustomKeyStores" in kms.describe_custom_key_stores())


@group
def t_validation(emu):
    kms = kms_client(emu)  # botocore would refuse some of these itself
    s = harness.botocore_session()
    nv = s.create_client("kms", region_name="us-east-1", endpoint_url=emu.url, aws_access_key_id=AKID,
                         aws_secret_access_key=SECRET, verify=emu.ca if emu.ca else True,
                         config=Config(parameter_validation=False, retries={"total_max_attempts": 1}))
    expect_error("validation: short KeyStorePassword, redacted",
                 nv.update_custom_key_store, "ValidationException",
                 "1 validation error detected: Value '***' at 'keyStorePassword' failed to satisfy constraint: "
                 "Member must have length greater than or equal to 7", 400,
                 CustomKeyStoreId=CHSM, KeyStorePassword="abc")
    got = expect_error("validation: two errors, joined with '; '",
                       nv.update_custom_key_store, "ValidationException",
                       "2 validation errors detected: Value '' at 'newCustomKeyStoreName' failed to satisfy "
                       "constraint: Member must have length greater than or equal to 1; ",
                       CustomKeyStoreId=XKS, NewCustomKeyStoreName="", XksProxyUriPath="/kms/xks/v1/")
    check("validation: the second error is the path pattern",
          got and "Value '/kms/xks/v1/' at 'xksProxyUriPath' failed to satisfy constraint: Member must satisfy "
                  "regular expression pattern: ^(/[a-zA-Z0-9\\/_-]+/kms/xks/v\\d{1,2})$|^(/kms/xks/v\\d{1,2})$"
          in got[1], got and got[1])
    expect_error("validation: pattern must match the whole value",
                 nv.update_custom_key_store, "ValidationException",
                 "Value 'xxcluster-abcdefghijk' at 'cloudHsmClusterId' failed to satisfy constraint: "
                 "Member must satisfy regular expression pattern: cluster-[2-7a-zA-Z]{11,16}",
                 CustomKeyStoreId=CHSM, CloudHsmClusterId="xxcluster-abcdefghijk")
    expect_error("validation: enum", nv.update_custom_key_store, "ValidationException",
                 "Value 'BOGUS' at 'xksProxyConnectivity' failed to satisfy constraint: Member must satisfy enum "
                 "value set: [PUBLIC_ENDPOINT, VPC_ENDPOINT_SERVICE]",
                 CustomKeyStoreId=XKS, XksProxyConnectivity="BOGUS")
    got = expect_error("validation: nested sensitive member is redacted", nv.update_custom_key_store,
                       "ValidationException",
                       "Value '***' at 'xksProxyAuthenticationCredential.accessKeyId' failed to satisfy "
                       "constraint: Member must have length greater than or equal to 20",
                       CustomKeyStoreId=XKS,
                       XksProxyAuthenticationCredential={"AccessKeyId": "SHORT",
                                                         "RawSecretAccessKey": XKS_CRED1["RawSecretAccessKey"]})
    check("validation: the secret never appears in the message", got and "SHORT" not in got[1])
    expect_error("validation: missing required member", nv.update_custom_key_store, "ValidationException",
                 "1 validation error detected: Value null at 'customKeyStoreId' failed to satisfy constraint: "
                 "Member must not be null")
    expect_error("validation: nested required member", nv.update_custom_key_store, "ValidationException",
                 "Value null at 'xksProxyAuthenticationCredential.rawSecretAccessKey' failed to satisfy constraint: "
                 "Member must not be null",
                 CustomKeyStoreId=XKS, XksProxyAuthenticationCredential={"AccessKeyId": XKS_CRED1["AccessKeyId"]})
    expect_error("validation: integer range (Limit 0)", nv.describe_custom_key_stores, "ValidationException",
                 "Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal "
                 "to 1", Limit=0)
    # code points, not bytes or UTF-16 units
    name256 = "\U0001F600" * 256
    r = nv.update_custom_key_store(CustomKeyStoreId=CHSM, NewCustomKeyStoreName=name256)
    check("validation: 256 code points (1024 UTF-8 bytes) is within max 256",
          describe(kms, CHSM)["CustomKeyStoreName"] == name256)
    expect_error("validation: 257 code points is too long", nv.update_custom_key_store, "ValidationException",
                 "Member must have length less than or equal to 256",
                 CustomKeyStoreId=CHSM, NewCustomKeyStoreName="\U0001F600" * 257)
    nv.update_custom_key_store(CustomKeyStoreId=CHSM, NewCustomKeyStoreName="ExampleKeyStore")
    r = nv.update_custom_key_store(CustomKeyStoreId=XKS, XksProxyVpcEndpointServiceName="")
    check("validation: empty XksProxyVpcEndpointServiceName accepted on Update",
          r["ResponseMetadata"]["HTTPStatusCode"] == 200)
    expect_error("validation: empty XksProxyVpcEndpointServiceName refused on Create",
                 nv.create_custom_key_store, "ValidationException",
                 "at 'xksProxyVpcEndpointServiceName' failed to satisfy constraint: Member must have length "
                 "greater than or equal to 20",
                 CustomKeyStoreName="x", CustomKeyStoreType="EXTERNAL_KEY_STORE",
                 XksProxyVpcEndpointServiceName="")
    st, _, body = raw_request(emu, "TrentService.UpdateCustomKeyStore",
                              json.dumps({"CustomKeyStoreId": CHSM, "Bogus": 1}))
    check("validation: unknown member -> SerializationException",
          st == 400 and json.loads(body)["__type"].endswith("SerializationException")
          and "Bogus" in json.loads(body)["message"], body)
    st, _, body = raw_request(emu, "TrentService.DescribeCustomKeyStores", json.dumps({"Limit": "5"}))
    check("validation: wrong JSON type -> SerializationException",
          st == 400 and json.loads(body)["__type"].endswith("SerializationException"), body)
    st, _, body = raw_request(emu, "TrentService.DescribeCustomKeyStores", b"{not json")
    check("validation: body that is not JSON -> SerializationException",
          st == 400 and json.loads(body)["__type"].endswith("SerializationException"), body)
    st, _, body = raw_request(emu, "TrentService.UpdateCustomKeyStore",
                              json.dumps({"CustomKeyStoreId": CHSM, "KeyStorePassword": None}))
    check("validation: JSON null counts as absent", st == 200, body)


@group
def t_states_cloudhsm(emu):
    kms = kms_client(emu)
    # Delays long enough that a Describe right after the call sees the
    # transitional state even on a loaded machine.
    emu.config(connect_delay=1.0, disconnect_delay=0.8)
    kms.update_custom_key_store(CustomKeyStoreId=CHSM, NewCustomKeyStoreName="Renamed",
                                    KeyStorePassword="NewPassword1", CloudHsmClusterId="cluster-5b67c2defgh")
    d = describe(kms, CHSM)
    check("cloudhsm DISCONNECTED: name, password and related cluster updated",
          d["CustomKeyStoreName"] == "Renamed" and d["CloudHsmClusterId"] == "cluster-5b67c2defgh", d)
    check("cloudhsm: stored password updated (control view)",
          emu.store(CHSM)["cloudhsm"]["key_store_password"] == "NewPassword1")
    check("cloudhsm: entry has exactly the CloudHSM members",
          set(d) == {"CustomKeyStoreId", "CustomKeyStoreName", "CloudHsmClusterId", "TrustAnchorCertificate",
                     "ConnectionState", "CreationDate", "CustomKeyStoreType"}, sorted(d))
    kms.update_custom_key_store(CustomKeyStoreId=CHSM, CloudHsmClusterId="cluster-5b67c2defgh")
    check("cloudhsm: same cluster again is fine", True)

    kms.connect_custom_key_store(CustomKeyStoreId=CHSM)
    seen = wait_described(kms, CHSM, ("CONNECTED", "FAILED"))
    check("connect: DISCONNECTED -> CONNECTING -> CONNECTED", seen == ["CONNECTING", "CONNECTED"], seen)
    kms.connect_custom_key_store(CustomKeyStoreId=CHSM)
    check("connect on CONNECTED is a no-op success", describe(kms, CHSM)["ConnectionState"] == "CONNECTED")
    kms.update_custom_key_store(CustomKeyStoreId=CHSM, NewCustomKeyStoreName="RenamedWhileConnected")
    check("cloudhsm CONNECTED: name can change", describe(kms, CHSM)["CustomKeyStoreName"] == "RenamedWhileConnected")
    expect_error("cloudhsm CONNECTED: password needs DISCONNECTED", kms.update_custom_key_store,
                 "CustomKeyStoreInvalidStateException", "KeyStorePassword",
                 CustomKeyStoreId=CHSM, KeyStorePassword="Another123")
    expect_error("cloudhsm CONNECTED: cluster needs DISCONNECTED", kms.update_custom_key_store,
                 "CustomKeyStoreInvalidStateException",
                 CustomKeyStoreId=CHSM, CloudHsmClusterId="cluster-5b67c2defgh")
    expect_error("cloudhsm CONNECTED: name + password refused as a whole", kms.update_custom_key_store,
                 "CustomKeyStoreInvalidStateException",
                 CustomKeyStoreId=CHSM, NewCustomKeyStoreName="Whole", KeyStorePassword="Another123")
    check("cloudhsm: a refused update changes nothing", describe(kms, CHSM)["CustomKeyStoreName"] == "RenamedWhileConnected")
    expect_error("delete CONNECTED -> CustomKeyStoreInvalidStateException", kms.delete_custom_key_store,
                 "CustomKeyStoreInvalidStateException", CustomKeyStoreId=CHSM)
    kms.disconnect_custom_key_store(CustomKeyStoreId=CHSM)
    seen = wait_described(kms, CHSM, ("DISCONNECTED",))
    check("disconnect: CONNECTED -> DISCONNECTING -> DISCONNECTED", seen == ["DISCONNECTING", "DISCONNECTED"], seen)
    expect_error("disconnect DISCONNECTED -> CustomKeyStoreInvalidStateException",
                 kms.disconnect_custom_key_store, "CustomKeyStoreInvalidStateException", CustomKeyStoreId=CHSM)
    emu.config(disconnect_delay=0.2)

    # CONNECTING: updates refused, disconnect allowed
    emu.config(connect_delay=2.0)
    kms.connect_custom_key_store(CustomKeyStoreId=CHSM)
    check("connect: CONNECTING right after the call", describe(kms, CHSM)["ConnectionState"] == "CONNECTING")
    kms.connect_custom_key_store(CustomKeyStoreId=CHSM)
    check("connect on CONNECTING is accepted", describe(kms, CHSM)["ConnectionState"] == "CONNECTING")
    expect_error("update while CONNECTING -> CustomKeyStoreInvalidStateException", kms.update_custom_key_store,
                 "CustomKeyStoreInvalidStateException", CustomKeyStoreId=CHSM, NewCustomKeyStoreName="x")
    kms.disconnect_custom_key_store(CustomKeyStoreId=CHSM)
    check("disconnect from CONNECTING -> DISCONNECTING", describe(kms, CHSM)["ConnectionState"] == "DISCONNECTING")
    expect_error("connect while DISCONNECTING -> CustomKeyStoreInvalidStateException",
                 kms.connect_custom_key_store, "CustomKeyStoreInvalidStateException", CustomKeyStoreId=CHSM)
    expect_error("disconnect while DISCONNECTING -> CustomKeyStoreInvalidStateException",
                 kms.disconnect_custom_key_store, "CustomKeyStoreInvalidStateException", CustomKeyStoreId=CHSM)
    seen = wait_described(kms, CHSM, ("DISCONNECTED", "CONNECTED"))
    check("disconnect wins over a pending connect", seen[-1] == "DISCONNECTED", seen)
    emu.config(connect_delay=0.3)

    # injected connection failure
    emu.put_store({"id": CHSM, "connect_failure": "USER_LOCKED_OUT"})
    kms.connect_custom_key_store(CustomKeyStoreId=CHSM)
    seen = wait_described(kms, CHSM, ("FAILED", "CONNECTED"))
    d = describe(kms, CHSM)
    check("connect failure: CONNECTING -> FAILED", seen == ["CONNECTING", "FAILED"], seen)
    check("connect failure: ConnectionErrorCode when FAILED", d.get("ConnectionErrorCode") == "USER_LOCKED_OUT", d)
    expect_error("connect on FAILED -> CustomKeyStoreInvalidStateException", kms.connect_custom_key_store,
                 "CustomKeyStoreInvalidStateException", CustomKeyStoreId=CHSM)
    expect_error("update on FAILED -> CustomKeyStoreInvalidStateException", kms.update_custom_key_store,
                 "CustomKeyStoreInvalidStateException", CustomKeyStoreId=CHSM, NewCustomKeyStoreName="y")
    kms.disconnect_custom_key_store(CustomKeyStoreId=CHSM)
    wait_described(kms, CHSM, ("DISCONNECTED",))
    d = describe(kms, CHSM)
    check("disconnect from FAILED -> DISCONNECTED, no ConnectionErrorCode",
          d["ConnectionState"] == "DISCONNECTED" and "ConnectionErrorCode" not in d, d)
    emu.put_store({"id": CHSM, "connect_failure": None, "cloudhsm": {"kmsuser_password": "NotThePassword"}})
    kms.connect_custom_key_store(CustomKeyStoreId=CHSM)
    wait_described(kms, CHSM, ("FAILED", "CONNECTED"))
    check("kmsuser password mismatch -> FAILED INVALID_CREDENTIALS",
          describe(kms, CHSM).get("ConnectionErrorCode") == "INVALID_CREDENTIALS")
    kms.disconnect_custom_key_store(CustomKeyStoreId=CHSM)
    wait_described(kms, CHSM, ("DISCONNECTED",))
    kms.update_custom_key_store(CustomKeyStoreId=CHSM, KeyStorePassword="NotThePassword")
    kms.connect_custom_key_store(CustomKeyStoreId=CHSM)
    wait_described(kms, CHSM, ("FAILED", "CONNECTED"))
    check("after telling KMS the right password, connect succeeds",
          describe(kms, CHSM)["ConnectionState"] == "CONNECTED")

    # type rules
    expect_error("cloudhsm: XKS member -> ValidationException naming the type", kms.update_custom_key_store,
                 "ValidationException",
                 "The XksProxyUriPath parameter is valid only for custom key stores with a CustomKeyStoreType of "
                 "EXTERNAL_KEY_STORE.", CustomKeyStoreId=CHSM, XksProxyUriPath="/kms/xks/v1")
    kms.disconnect_custom_key_store(CustomKeyStoreId=CHSM)
    wait_described(kms, CHSM, ("DISCONNECTED",))
    # clusters
    expect_error("cloudhsm: unrelated cluster -> CloudHsmClusterNotRelatedException", kms.update_custom_key_store,
                 "CloudHsmClusterNotRelatedException", CustomKeyStoreId=CHSM, CloudHsmClusterId="cluster-zzzzzzzzzzzz")
    expect_error("cloudhsm: missing cluster -> CloudHsmClusterNotFoundException", kms.update_custom_key_store,
                 "CloudHsmClusterNotFoundException", CustomKeyStoreId=CHSM, CloudHsmClusterId="cluster-234abcdefgh5")
    expect_error("cloudhsm: inactive cluster -> CloudHsmClusterNotActiveException", kms.update_custom_key_store,
                 "CloudHsmClusterNotActiveException", CustomKeyStoreId=CHSM,
                 CloudHsmClusterId="cluster-inactive2345a")


@group
def t_states_xks(emu):
    kms = kms_client(emu)
    emu.config(connect_delay=0.2, disconnect_delay=0.1)
    d = describe(kms, XKS)
    check("xks: entry shape", set(d) == {"CustomKeyStoreId", "CustomKeyStoreName", "ConnectionState", "CreationDate",
                                         "CustomKeyStoreType", "XksProxyConfiguration"}, sorted(d))
    check("xks: public proxy configuration shape",
          d["XksProxyConfiguration"] == {"Connectivity": "PUBLIC_ENDPOINT", "AccessKeyId": XKS_CRED1["AccessKeyId"],
                                         "UriEndpoint": "https://myproxy.xks.example.com", "UriPath": "/kms/xks/v1"},
          d["XksProxyConfiguration"])
    expect_error("xks: CloudHSM member -> ValidationException", kms.update_custom_key_store, "ValidationException",
                 "The KeyStorePassword parameter is valid only for custom key stores with a CustomKeyStoreType of "
                 "AWS_CLOUDHSM.", CustomKeyStoreId=XKS, KeyStorePassword="Password1")
    kms.connect_custom_key_store(CustomKeyStoreId=XKS)
    seen = wait_described(kms, XKS, ("CONNECTED", "FAILED"))
    check("xks: connect -> CONNECTED", seen[-1] == "CONNECTED", seen)
    kms.update_custom_key_store(CustomKeyStoreId=XKS, XksProxyAuthenticationCredential=XKS_CRED2)
    check("xks CONNECTED: credential can change (rotation to the proxy's second set)",
          describe(kms, XKS)["XksProxyConfiguration"]["AccessKeyId"] == XKS_CRED2["AccessKeyId"])
    kms.update_custom_key_store(CustomKeyStoreId=XKS, XksProxyUriPath="/kms/xks/v1",
                                NewCustomKeyStoreName="XksRenamed")
    check("xks CONNECTED: name and path can change", describe(kms, XKS)["CustomKeyStoreName"] == "XksRenamed")
    expect_error("xks CONNECTED: endpoint needs DISCONNECTED", kms.update_custom_key_store,
                 "CustomKeyStoreInvalidStateException", "XksProxyUriEndpoint",
                 CustomKeyStoreId=XKS, XksProxyUriEndpoint="https://newproxy.xks.example.com")
    expect_error("xks CONNECTED: connectivity needs DISCONNECTED", kms.update_custom_key_store,
                 "CustomKeyStoreInvalidStateException", CustomKeyStoreId=XKS,
                 XksProxyConnectivity="PUBLIC_ENDPOINT")
    expect_error("xks CONNECTED: wrong proxy credential -> XksProxyIncorrectAuthenticationCredentialException",
                 kms.update_custom_key_store, "XksProxyIncorrectAuthenticationCredentialException",
                 CustomKeyStoreId=XKS, XksProxyAuthenticationCredential=XKS_CRED_BAD)
    emu.config(update_rules="legacy")
    expect_error("xks CONNECTED, legacy rules: credential refused", kms.update_custom_key_store,
                 "CustomKeyStoreInvalidStateException", CustomKeyStoreId=XKS,
                 XksProxyAuthenticationCredential=XKS_CRED1)
    emu.config(update_rules="current")
    kms.disconnect_custom_key_store(CustomKeyStoreId=XKS)
    wait_described(kms, XKS, ("DISCONNECTED",))

    # connectivity switches
    expect_error("xks: to VPC without a service name -> ValidationException", kms.update_custom_key_store,
                 "ValidationException", "XksProxyVpcEndpointServiceName",
                 CustomKeyStoreId=XKS, XksProxyConnectivity="VPC_ENDPOINT_SERVICE",
                 XksProxyUriEndpoint="https://private.xks.example.com")
    expect_error("xks: to VPC without a new endpoint -> ValidationException", kms.update_custom_key_store,
                 "ValidationException", "XksProxyUriEndpoint",
                 CustomKeyStoreId=XKS, XksProxyConnectivity="VPC_ENDPOINT_SERVICE",
                 XksProxyVpcEndpointServiceName="com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0")
    expect_error("xks: service name on a PUBLIC store -> ValidationException", kms.update_custom_key_store,
                 "ValidationException", CustomKeyStoreId=XKS,
                 XksProxyVpcEndpointServiceName="com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0")
    kms.update_custom_key_store(CustomKeyStoreId=XKS, XksProxyConnectivity="VPC_ENDPOINT_SERVICE",
                                XksProxyUriEndpoint="https://private.xks.example.com",
                                XksProxyVpcEndpointServiceName="com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0")
    c = describe(kms, XKS)["XksProxyConfiguration"]
    check("xks: switched to VPC; service name and owner shown",
          c.get("Connectivity") == "VPC_ENDPOINT_SERVICE" and
          c.get("VpcEndpointServiceName") == "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0" and
          c.get("VpcEndpointServiceOwner") == "111122223333" and c.get("UriEndpoint") ==
          "https://private.xks.example.com", c)
    kms.update_custom_key_store(CustomKeyStoreId=XKS, XksProxyVpcEndpointServiceOwner="444455556666")
    check("xks: VPC service owner can change",
          describe(kms, XKS)["XksProxyConfiguration"].get("VpcEndpointServiceOwner") == "444455556666")
    nv = kms_client(emu, parameter_validation=False)
    expect_error("xks: clearing the service name of a VPC store -> ValidationException", nv.update_custom_key_store,
                 "ValidationException", CustomKeyStoreId=XKS, XksProxyVpcEndpointServiceName="")
    expect_error("xks: back to PUBLIC without a new endpoint -> ValidationException", kms.update_custom_key_store,
                 "ValidationException", CustomKeyStoreId=XKS, XksProxyConnectivity="PUBLIC_ENDPOINT")
    expect_error("xks: back to PUBLIC keeping a service name -> ValidationException", kms.update_custom_key_store,
                 "ValidationException", CustomKeyStoreId=XKS, XksProxyConnectivity="PUBLIC_ENDPOINT",
                 XksProxyUriEndpoint="https://myproxy.xks.example.com",
                 XksProxyVpcEndpointServiceName="com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0")
    nv.update_custom_key_store(CustomKeyStoreId=XKS, XksProxyConnectivity="PUBLIC_ENDPOINT",
                               XksProxyUriEndpoint="https://myproxy.xks.example.com",
                               XksProxyVpcEndpointServiceName="")
    c = describe(kms, XKS)["XksProxyConfiguration"]
    check("xks: back to PUBLIC with an empty service name; VPC fields gone",
          c.get("Connectivity") == "PUBLIC_ENDPOINT" and "VpcEndpointServiceName" not in c
          and "VpcEndpointServiceOwner" not in c, c)
    expect_error("xks: unreachable endpoint -> XksProxyUriUnreachableException", kms.update_custom_key_store,
                 "XksProxyUriUnreachableException", CustomKeyStoreId=XKS,
                 XksProxyUriEndpoint="https://unreachable.xks.example.com")
    check("xks: a refused update changes nothing",
          describe(kms, XKS)["XksProxyConfiguration"]["UriEndpoint"] == "https://myproxy.xks.example.com")
    emu.config(xks_proxies={"invalid_configuration": ["https://myproxy.xks.example.com/other/kms/xks/v1"]})
    expect_error("xks: proxy says InvalidUriPath -> XksProxyInvalidConfigurationException",
                 kms.update_custom_key_store, "XksProxyInvalidConfigurationException",
                 CustomKeyStoreId=XKS, XksProxyUriPath="/other/kms/xks/v1")
    emu.config(xks_proxies={"unreachable": ["https://myproxy.xks.example.com"]})
    kms.connect_custom_key_store(CustomKeyStoreId=XKS)
    wait_described(kms, XKS, ("FAILED", "CONNECTED"))
    check("xks: proxy unreachable at connect -> FAILED XKS_PROXY_NOT_REACHABLE",
          describe(kms, XKS).get("ConnectionErrorCode") == "XKS_PROXY_NOT_REACHABLE")
    kms.disconnect_custom_key_store(CustomKeyStoreId=XKS)
    wait_described(kms, XKS, ("DISCONNECTED",))
    emu.config(xks_proxies={})


@group
def t_uniqueness_and_create(emu):
    kms = kms_client(emu)
    emu.reset()
    base = dict(CustomKeyStoreType="EXTERNAL_KEY_STORE", XksProxyConnectivity="PUBLIC_ENDPOINT",
                XksProxyAuthenticationCredential=XKS_CRED1)
    r = kms.create_custom_key_store(CustomKeyStoreName="B", XksProxyUriEndpoint="https://other.xks.example.com",
                                    XksProxyUriPath="/kms/xks/v1", **base)
    b_id = r["CustomKeyStoreId"]
    check("create: returns a cks- id", re.fullmatch(r"cks-[0-9a-f]{17}", b_id or ""), b_id)
    check("create: new store is DISCONNECTED", describe(kms, b_id)["ConnectionState"] == "DISCONNECTED")
    expect_error("create: same name -> CustomKeyStoreNameInUseException", kms.create_custom_key_store,
                 "CustomKeyStoreNameInUseException", CustomKeyStoreName="B",
                 XksProxyUriEndpoint="https://third.xks.example.com", XksProxyUriPath="/kms/xks/v1", **base)
    expect_error("update: another store's name -> CustomKeyStoreNameInUseException", kms.update_custom_key_store,
                 "CustomKeyStoreNameInUseException", CustomKeyStoreId=XKS, NewCustomKeyStoreName="B")
    kms.update_custom_key_store(CustomKeyStoreId=b_id, NewCustomKeyStoreName="B")
    check("update: a store's own name is not 'in use'", True)
    expect_error("update: endpoint+path of another store -> XksProxyUriInUseException", kms.update_custom_key_store,
                 "XksProxyUriInUseException", CustomKeyStoreId=b_id,
                 XksProxyUriEndpoint="https://myproxy.xks.example.com")
    kms.update_custom_key_store(CustomKeyStoreId=b_id, XksProxyUriEndpoint="https://myproxy.xks.example.com",
                                XksProxyUriPath="/tenant-b/kms/xks/v1")
    check("update: two PUBLIC stores may share an endpoint with different paths", True)
    vpc = dict(CustomKeyStoreType="EXTERNAL_KEY_STORE", XksProxyConnectivity="VPC_ENDPOINT_SERVICE",
               XksProxyAuthenticationCredential=XKS_CRED1)
    svc = "com.amazonaws.vpce.us-east-1.vpce-svc-0aaaaaaaaaaaaaaaa"
    r = kms.create_custom_key_store(CustomKeyStoreName="C", XksProxyUriEndpoint="https://c.private.example.com",
                                    XksProxyUriPath="/kms/xks/v1", XksProxyVpcEndpointServiceName=svc, **vpc)
    c_id = r["CustomKeyStoreId"]
    c = describe(kms, c_id)["XksProxyConfiguration"]
    check("create VPC: owner defaults to the account", c.get("VpcEndpointServiceOwner") == "111122223333", c)
    expect_error("create VPC: same private DNS name -> XksProxyUriEndpointInUseException",
                 kms.create_custom_key_store, "XksProxyUriEndpointInUseException", CustomKeyStoreName="D",
                 XksProxyUriEndpoint="https://c.private.example.com", XksProxyUriPath="/d/kms/xks/v1",
                 XksProxyVpcEndpointServiceName="com.amazonaws.vpce.us-east-1.vpce-svc-0bbbbbbbbbbbbbbbb", **vpc)
    expect_error("create PUBLIC: endpoint of a VPC store -> XksProxyUriEndpointInUseException",
                 kms.create_custom_key_store, "XksProxyUriEndpointInUseException", CustomKeyStoreName="D",
                 XksProxyUriEndpoint="https://c.private.example.com", XksProxyUriPath="/d/kms/xks/v1", **base)
    expect_error("create VPC: same endpoint service -> XksProxyVpcEndpointServiceInUseException",
                 kms.create_custom_key_store, "XksProxyVpcEndpointServiceInUseException", CustomKeyStoreName="D",
                 XksProxyUriEndpoint="https://d.private.example.com", XksProxyUriPath="/kms/xks/v1",
                 XksProxyVpcEndpointServiceName=svc, **vpc)
    expect_error("create XKS: missing members -> ValidationException", kms.create_custom_key_store,
                 "ValidationException", "XksProxyUriEndpoint", CustomKeyStoreName="E",
                 CustomKeyStoreType="EXTERNAL_KEY_STORE")
    expect_error("create XKS: unreachable proxy -> XksProxyUriUnreachableException", kms.create_custom_key_store,
                 "XksProxyUriUnreachableException", CustomKeyStoreName="E",
                 XksProxyUriEndpoint="https://unreachable.xks.example.com", XksProxyUriPath="/kms/xks/v1", **base)
    chsm = dict(TrustAnchorCertificate="-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n",
                KeyStorePassword="Password1")
    expect_error("create CloudHSM: cluster in use -> CloudHsmClusterInUseException", kms.create_custom_key_store,
                 "CloudHsmClusterInUseException", CustomKeyStoreName="F", CloudHsmClusterId="cluster-5b67c2defgh",
                 **chsm)
    expect_error("create CloudHSM: missing cluster -> CloudHsmClusterNotFoundException", kms.create_custom_key_store,
                 "CloudHsmClusterNotFoundException", CustomKeyStoreName="F", CloudHsmClusterId="cluster-234abcdefgh5",
                 **chsm)
    r = kms.create_custom_key_store(CustomKeyStoreName="F", CloudHsmClusterId="cluster-abcdefghijk", **chsm)
    f_id = r["CustomKeyStoreId"]
    check("create CloudHSM: type defaults to AWS_CLOUDHSM", describe(kms, f_id)["CustomKeyStoreType"] == "AWS_CLOUDHSM")
    emu.put_store({"id": f_id, "key_count": 2})
    expect_error("delete with KMS keys -> CustomKeyStoreHasCMKsException", kms.delete_custom_key_store,
                 "CustomKeyStoreHasCMKsException", CustomKeyStoreId=f_id)
    emu.put_store({"id": f_id, "key_count": 0})
    kms.delete_custom_key_store(CustomKeyStoreId=f_id)
    expect_error("delete: the store is gone", kms.describe_custom_key_stores, "CustomKeyStoreNotFoundException",
                 CustomKeyStoreId=f_id)
    emu.config(max_stores=4)
    expect_error("create over the quota -> LimitExceededException", kms.create_custom_key_store,
                 "LimitExceededException", CustomKeyStoreName="G", CloudHsmClusterId="cluster-bcdefghijkl", **chsm)
    emu.config(max_stores=1000)


@group
def t_describe(emu):
    kms = kms_client(emu)
    emu.reset()
    for i in range(5):
        emu.put_store({"id": "cks-page%013d" % i, "name": "Page %d" % i, "type": "AWS_CLOUDHSM",
                       "cloudhsm": {"cluster_id": "cluster-pagepagepag%d" % (i + 2)}})
    allst = kms.describe_custom_key_stores()["CustomKeyStores"]
    ids = [e["CustomKeyStoreId"] for e in allst]
    check("describe: all 7 stores in creation order", len(ids) == 7 and ids[:2] == [CHSM, XKS], ids)
    pages, marker, truncs, markers_ok = [], None, [], True
    while True:
        kw = {"Limit": 3}
        if marker:
            kw["Marker"] = marker
        r = kms.describe_custom_key_stores(**kw)
        pages.append([e["CustomKeyStoreId"] for e in r["CustomKeyStores"]])
        truncs.append(r["Truncated"])
        if r["Truncated"] != ("NextMarker" in r):
            markers_ok = False
        if not r["Truncated"]:
            break
        marker = r["NextMarker"]
        if len(pages) > 5:
            break
    check("describe: Limit 3 gives pages of 3, 3, 1", [len(p) for p in pages] == [3, 3, 1], pages)
    check("describe: Truncated true, true, false", truncs == [True, True, False], truncs)
    check("describe: NextMarker exactly when Truncated", markers_ok)
    check("describe: pages cover every store once", sum(pages, []) == ids, pages)
    expect_error("describe: bad marker -> InvalidMarkerException", kms.describe_custom_key_stores,
                 "InvalidMarkerException", Marker="not-a-marker")
    r = kms.describe_custom_key_stores(CustomKeyStoreName="Page 3")
    check("describe: by name", [e["CustomKeyStoreId"] for e in r["CustomKeyStores"]] == ["cks-page0000000000003"], r)
    expect_error("describe: unknown id -> CustomKeyStoreNotFoundException", kms.describe_custom_key_stores,
                 "CustomKeyStoreNotFoundException", CustomKeyStoreId="cks-00000000000000000")
    expect_error("describe: unknown name -> CustomKeyStoreNotFoundException", kms.describe_custom_key_stores,
                 "CustomKeyStoreNotFoundException", CustomKeyStoreName="nope")
    model = json.load(open(os.path.join(harness.shared_dir(), "reference", "kms-custom-key-store-model.json")))
    entry_members = set(model["shapes"]["CustomKeyStoresListEntry"]["members"])
    xks_members = set(model["shapes"]["XksProxyConfigurationType"]["members"])
    check("describe: entries use only the model's members",
          all(set(e) <= entry_members and set(e.get("XksProxyConfiguration", {})) <= xks_members for e in allst))
    check("describe: CreationDate parsed by botocore as a timestamp",
          all(hasattr(e["CreationDate"], "year") for e in allst))
    emu.reset()


@group
def t_faults(emu, label):
    emu.reset()
    kms = kms_client(emu)
    kms3 = kms_client(emu, max_attempts=3)

    emu.clear_requests()
    emu.faults([{"kind": "status", "status": 503, "json": {"message": "busy"}, "count": 2}])
    r = kms3.describe_custom_key_stores()
    reqs = emu.requests()
    check("%s fault status 503 x2: botocore retries and succeeds on the 3rd attempt" % label,
          r["ResponseMetadata"]["RetryAttempts"] == 2 and [q["fault"] for q in reqs] == ["status", "status", None]
          and [q["status"] for q in reqs] == [503, 503, 200], [(q["fault"], q["status"]) for q in reqs])
    check("%s fault: retried attempts are each signed anew and valid" % label,
          all(q["signature_valid"] for q in reqs) and len({hget(q["headers"], "Authorization") for q in reqs}) >= 1)

    emu.faults([{"kind": "status", "status": 500, "body": ""}])
    expect_error("%s fault status 500, empty body -> code '500'" % label, kms.describe_custom_key_stores, "500",
                 "Internal Server Error", 500)
    emu.faults([{"kind": "status", "status": 502, "body": "<html><body>Bad Gateway</body></html>"}])
    expect_error("%s fault status 502, <html> body -> code '502'" % label, kms.describe_custom_key_stores, "502",
                 status=502)
    emu.faults([{"kind": "status", "status": 504, "body": ""}])
    expect_error("%s fault status 504" % label, kms.describe_custom_key_stores, "504", "Gateway Timeout", 504)
    emu.faults([{"kind": "throttle", "count": 5}])
    emu.clear_requests()
    expect_error("%s fault throttle -> ThrottlingException after 3 attempts" % label,
                 kms3.describe_custom_key_stores, "ThrottlingException", "Rate exceeded", 400)
    check("%s fault throttle: 3 attempts reached the emulator" % label, len(emu.requests()) == 3,
          len(emu.requests()))
    emu.clear_faults()
    emu.faults([{"kind": "throttle", "code": "LimitExceededException"}])
    expect_error("%s fault throttle LimitExceededException" % label, kms.describe_custom_key_stores,
                 "LimitExceededException")
    emu.faults([{"kind": "error", "type": "com.amazonaws.kms#KMSInternalException", "message": "boom",
                 "status": 500}])
    expect_error("%s fault error: namespaced KMSInternalException 500" % label, kms.describe_custom_key_stores,
                 "KMSInternalException", "boom", 500)
    emu.faults([{"kind": "error", "type": "AccessDeniedException", "message": "no", "status": 400}])
    expect_error("%s fault error: bare AccessDeniedException" % label, kms.describe_custom_key_stores,
                 "AccessDeniedException", "no", 400)

    quick = kms_client(emu, read_timeout=0.5)
    emu.faults([{"kind": "slow", "seconds": 1.5}])
    try:
        quick.describe_custom_key_stores()
        check("%s fault slow: read timeout" % label, False, "no timeout")
    except botocore.exceptions.ReadTimeoutError:
        check("%s fault slow: read timeout" % label, True)
    emu.faults([{"kind": "slow", "seconds": 0.2}])
    t0 = time.monotonic()
    kms.describe_custom_key_stores()
    check("%s fault slow: then answers normally" % label, time.monotonic() - t0 >= 0.2)

    emu.faults([{"kind": "drop"}])
    try:
        kms.describe_custom_key_stores()
        check("%s fault drop: connection closed without a response" % label, False, "no error")
    except botocore.exceptions.ConnectionClosedError:
        check("%s fault drop: connection closed without a response" % label, True)
    emu.faults([{"kind": "reset"}])
    try:
        kms.describe_custom_key_stores()
        check("%s fault reset: connection reset" % label, False, "no error")
    except (botocore.exceptions.ConnectionClosedError, botocore.exceptions.EndpointConnectionError,
            botocore.exceptions.HTTPClientError):
        check("%s fault reset: connection reset" % label, True)
    check("%s after drop/reset the emulator still answers" % label, "CustomKeyStores" in kms.describe_custom_key_stores())

    emu.faults([{"kind": "malformed"}])
    st, hdrs, body = raw_request(emu, "TrentService.DescribeCustomKeyStores")
    bad_json = False
    try:
        json.loads(body)
    except ValueError:
        bad_json = True
    check("%s fault malformed: 200 with a body that is not JSON" % label, st == 200 and bad_json, (st, body))

    emu.faults([{"kind": "truncated"}])
    try:
        raw_request(emu, "TrentService.DescribeCustomKeyStores")
        check("%s fault truncated: short body, then close" % label, False, "read completed")
    except http.client.IncompleteRead:
        check("%s fault truncated: short body, then close" % label, True)
    # libcurl (what kmscks uses) sees each transport fault for what it is.
    # (urllib3 1.26 does not enforce Content-Length, so botocore reads a
    # truncated body without an error: not checked here.)
    for kind, codes, what in (("truncated", (18,), "partial file"), ("drop", (52,), "empty reply"),
                              ("reset", (52, 56), "receive failure")):
        emu.faults([{"kind": kind}])
        cmd = ["curl", "-sS", "-o", "/dev/null", "--max-time", "10", "-X", "POST", "-d", "{}",
               "-H", "X-Amz-Target: TrentService.DescribeCustomKeyStores", emu.url + "/"]
        if emu.ca:
            cmd[1:1] = ["--cacert", emu.ca]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        check("%s fault %s: curl reports %s (exit %s)" % (label, kind, what, "/".join(map(str, codes))),
              p.returncode in codes, (p.returncode, p.stderr.strip()))
        print("#   curl %s: exit %d %s" % (kind, p.returncode, p.stderr.strip()))

    emu.clear_requests()
    emu.faults([{"kind": "status", "status": 503, "operation": "UpdateCustomKeyStore"}])
    kms.describe_custom_key_stores()
    check("%s fault filtered by operation leaves other operations alone" % label,
          emu.requests()[-1]["fault"] is None)
    expect_error("%s fault filtered by operation hits that operation" % label, kms.update_custom_key_store, "503",
                 status=503, CustomKeyStoreId=CHSM, NewCustomKeyStoreName="x")
    check("%s fault queue is empty afterwards" % label, emu.stats()["pending_faults"] == 0)
    emu.faults([{"kind": "status", "status": 503, "delay": 0.1}])
    expect_error("%s fault with a delay" % label, kms.describe_custom_key_stores, "503", status=503)


@group
def t_tls(tls_emu):
    before = tls_emu.stats()["tls_handshake_failures"]
    wrong = kms_client(tls_emu, verify=tls_emu.other_ca)
    try:
        wrong.describe_custom_key_stores()
        check("tls: client trusting another CA fails verification", False, "no error")
    except botocore.exceptions.SSLError as e:
        check("tls: client trusting another CA fails verification", "CERTIFICATE_VERIFY_FAILED" in str(e), e)
    sysdef = kms_client(tls_emu, verify=True)
    try:
        sysdef.describe_custom_key_stores()
        check("tls: client with the system CAs fails verification", False, "no error")
    except botocore.exceptions.SSLError:
        check("tls: client with the system CAs fails verification", True)
    deadline = time.monotonic() + 5  # the server thread may count just after the client gave up
    while tls_emu.stats()["tls_handshake_failures"] < before + 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    check("tls: failed handshakes are counted", tls_emu.stats()["tls_handshake_failures"] >= before + 2,
          tls_emu.stats())
    ctx = ssl.create_default_context(cafile=tls_emu.ca)
    with ctx.wrap_socket(__import__("socket").create_connection(("127.0.0.1", tls_emu.port)),
                         server_hostname="localhost") as s:
        check("tls: certificate valid for localhost too", s.version() in ("TLSv1.2", "TLSv1.3"), s.version())
    kms = kms_client(tls_emu)
    tls_emu.clear_requests()
    kms.describe_custom_key_stores()
    kms.describe_custom_key_stores()
    reqs = tls_emu.requests()
    check("tls: keep-alive (two calls, one connection)", len(reqs) == 2 and reqs[0]["client"] == reqs[1]["client"],
          [r["client"] for r in reqs])


@group
def t_control(emu):
    emu.reset()
    s = emu.put_store({"id": "cks-raw00000000000001", "name": "Raw", "type": "EXTERNAL_KEY_STORE",
                       "state": "FAILED", "error_code": "XKS_PROXY_TIMED_OUT",
                       "xks": {"uri_endpoint": "https://raw.example.com", "uri_path": "/kms/xks/v1",
                               "access_key_id": XKS_CRED1["AccessKeyId"],
                               "secret_access_key": XKS_CRED1["RawSecretAccessKey"]}})
    check("control: POST /stores creates a raw store", s["id"] == "cks-raw00000000000001" and s["state"] == "FAILED")
    kms = kms_client(emu)
    d = describe(kms, "cks-raw00000000000001")
    check("control: raw store visible through the API with its error code",
          d["ConnectionState"] == "FAILED" and d["ConnectionErrorCode"] == "XKS_PROXY_TIMED_OUT", d)
    check("control: GET /stores lists 3", len(emu.stores()) == 3)
    check("control: GET /stores keeps the secret credential for tests",
          emu.store(XKS)["xks"]["secret_access_key"] == XKS_CRED1["RawSecretAccessKey"])
    emu.reset()
    check("control: reset restores the seed", [x["id"] for x in emu.stores()] == [CHSM, XKS])
    for path, body in (("/faults", [{"kind": "explode"}]), ("/config", {"nonsense": 1})):
        try:
            emu.control("POST", path, body)
            check("control: bad %s -> 400" % path, False, "accepted")
        except harness.ControlError as e:
            check("control: bad %s -> 400" % path, e.status == 400, e)
    emu.clear_requests()
    kms.describe_custom_key_stores()
    check("control: requests can be filtered by operation",
          len(emu.requests(operation="DescribeCustomKeyStores")) == 1 and
          emu.requests(operation="UpdateCustomKeyStore") == [])
    emu.clear_requests()
    check("control: DELETE /requests clears the log", emu.requests() == [])
    check("control: control calls are not in the request log", emu.requests() == [])


@group
def t_aws_cli(emu):
    emu.reset()
    emu.clear_requests()
    home = tempfile.mkdtemp(prefix="kmsemu-awscli-")
    env = harness.aws_cli_env(home)
    base = ["/usr/bin/aws", "kms", "--endpoint-url", emu.url]
    if emu.ca:
        base += ["--ca-bundle", emu.ca]
    p = subprocess.run(base[:2] + ["update-custom-key-store"] + base[2:] +
                       ["--custom-key-store-id", CHSM, "--new-custom-key-store-name", "CliRenamed",
                        "--key-store-password", "ExamplePassword"],
                       env=env, capture_output=True, text=True, timeout=60)
    check("aws cli: update-custom-key-store exits 0", p.returncode == 0, (p.returncode, p.stderr))
    reqs = emu.requests(operation="UpdateCustomKeyStore")
    rec = reqs[-1] if reqs else {}
    check("aws cli: the emulator verified the CLI's signature",
          rec.get("signature_valid") is True and rec.get("status") == 200, rec)
    check("aws cli: body as the CLI sends it",
          rec.get("body") == '{"CustomKeyStoreId": "cks-1234567890abcdef0", "NewCustomKeyStoreName": "CliRenamed", '
                             '"KeyStorePassword": "ExamplePassword"}', rec.get("body"))
    check("aws cli: User-Agent is aws-cli/2",
          (hget(rec.get("headers", []), "User-Agent") or "").startswith("aws-cli/2."))
    p = subprocess.run(base[:2] + ["describe-custom-key-stores"] + base[2:], env=env, capture_output=True, text=True,
                       timeout=60)
    out = json.loads(p.stdout) if p.returncode == 0 else {}
    names = [s["CustomKeyStoreName"] for s in out.get("CustomKeyStores", [])]
    check("aws cli: describe-custom-key-stores shows the new name", p.returncode == 0 and "CliRenamed" in names,
          (p.returncode, p.stderr, names))
    check("aws cli: describe signature verified",
          emu.requests(operation="DescribeCustomKeyStores")[-1]["signature_valid"] is True)
    # a modeled error, as the CLI prints it
    emu.put_store({"id": CHSM, "state": "CONNECTED"})
    p = subprocess.run(base[:2] + ["update-custom-key-store"] + base[2:] +
                       ["--custom-key-store-id", CHSM, "--key-store-password", "ExamplePassword"],
                       env=env, capture_output=True, text=True, timeout=60)
    check("aws cli: modeled error -> exit 254 and the CLI's message",
          p.returncode == 254 and p.stderr.startswith("\nAn error occurred (CustomKeyStoreInvalidStateException) "
                                                      "when calling the UpdateCustomKeyStore operation: "),
          (p.returncode, p.stderr))
    emu.clear_requests()
    emu.faults([{"kind": "status", "status": 503, "body": "", "count": 2}])
    p = subprocess.run(base[:2] + ["describe-custom-key-stores"] + base[2:],
                       env=harness.aws_cli_env(home, {"AWS_MAX_ATTEMPTS": "2"}), capture_output=True, text=True,
                       timeout=60)
    check("aws cli: 503 twice with AWS_MAX_ATTEMPTS=2 -> 2 attempts, exit 254, '(503)'",
          p.returncode == 254 and len(emu.requests()) == 2 and "(reached max retries: 1)" in p.stderr
          and "An error occurred (503)" in p.stderr, (p.returncode, len(emu.requests()), p.stderr))
    shutil.rmtree(home, ignore_errors=True)
    emu.reset()


@group
def t_cred_services(kms_emu):
    kms_emu.reset()
    with CredServices(kms=kms_emu) as cs:
        check("creds: ready line has sts/ecs/imds URLs", all(k in cs.info for k in ("sts", "ecs", "imds")), cs.info)
        s = harness.botocore_session()
        sts = s.create_client("sts", region_name="us-east-1", endpoint_url=cs.sts_url, aws_access_key_id=AKID,
                              aws_secret_access_key=SECRET, config=Config(retries={"total_max_attempts": 1}))
        r = sts.assume_role(RoleArn="arn:aws:iam::111122223333:role/kmscks-test-role", RoleSessionName="t1")
        c = r["Credentials"]
        check("sts AssumeRole: temporary credentials",
              c["AccessKeyId"].startswith("ASIA") and c["SessionToken"] and hasattr(c["Expiration"], "year"), c)
        check("sts AssumeRole: AssumedRoleUser ARN",
              r["AssumedRoleUser"]["Arn"] == "arn:aws:sts::111122223333:assumed-role/kmscks-test-role/t1", r)
        kms = kms_client(kms_emu, access_key=c["AccessKeyId"], secret_key=c["SecretAccessKey"],
                         session_token=c["SessionToken"])
        kms_emu.clear_requests()
        kms.describe_custom_key_stores()
        rec = kms_emu.requests()[-1]
        check("sts AssumeRole: KMS accepts the issued credentials (token signed)",
              rec["signature_valid"] and rec["status"] == 200 and
              hget(rec["headers"], "X-Amz-Security-Token") == c["SessionToken"], rec)
        bad = s.create_client("sts", region_name="us-east-1", endpoint_url=cs.sts_url, aws_access_key_id=AKID,
                              aws_secret_access_key="z" * 40, config=Config(retries={"total_max_attempts": 1}))
        expect_error("sts AssumeRole: bad secret -> SignatureDoesNotMatch", bad.assume_role, "SignatureDoesNotMatch",
                     status=403, RoleArn="arn:aws:iam::111122223333:role/r", RoleSessionName="t1")
        expect_error("sts AssumeRole: invalid session name -> ValidationException", sts.assume_role,
                     "ValidationException", "roleSessionName",
                     RoleArn="arn:aws:iam::111122223333:role/kmscks-test-role", RoleSessionName="bad name!")
        cs.config(web_identity_token="the-oidc-token")
        anon = s.create_client("sts", region_name="us-east-1", endpoint_url=cs.sts_url,
                               config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}))
        r = anon.assume_role_with_web_identity(RoleArn="arn:aws:iam::111122223333:role/web", RoleSessionName="web1",
                                               WebIdentityToken="the-oidc-token")
        check("sts AssumeRoleWithWebIdentity: unsigned, right token -> credentials",
              r["Credentials"]["AccessKeyId"].startswith("ASIA"))
        expect_error("sts AssumeRoleWithWebIdentity: wrong token -> InvalidIdentityToken",
                     anon.assume_role_with_web_identity, "InvalidIdentityToken",
                     RoleArn="arn:aws:iam::111122223333:role/web", RoleSessionName="web1", WebIdentityToken="other")
        rec = cs.control("GET", "/requests")["requests"]
        check("sts: web identity request carried no Authorization",
              hget([tuple(h) for h in rec[-1]["headers"]], "Authorization") is None)

        # ECS, through botocore's own provider
        from botocore.credentials import ContainerProvider, InstanceMetadataProvider
        from botocore.utils import InstanceMetadataFetcher
        cs.config(ecs_token="ecs-secret-token")
        prov = ContainerProvider(environ={"AWS_CONTAINER_CREDENTIALS_FULL_URI": cs.ecs_url,
                                          "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ecs-secret-token"})
        ec = prov.load().get_frozen_credentials()
        check("ecs: botocore's ContainerProvider gets credentials", ec.access_key.startswith("ASIA") and ec.token)
        kms = kms_client(kms_emu, access_key=ec.access_key, secret_key=ec.secret_key, session_token=ec.token)
        check("ecs: KMS accepts them", "CustomKeyStores" in kms.describe_custom_key_stores())
        req = urllib.request.Request(cs.ecs_url)
        try:
            urllib.request.urlopen(req, timeout=10)
            check("ecs: missing Authorization -> 401", False, "accepted")
        except urllib.error.HTTPError as e:
            check("ecs: missing Authorization -> 401", e.code == 401, e.code)

        # IMDSv2, through botocore's own fetcher
        fetcher = InstanceMetadataFetcher(timeout=5, num_attempts=1, base_url=cs.imds_url)
        ic = InstanceMetadataProvider(iam_role_fetcher=fetcher).load().get_frozen_credentials()
        counts = cs.counts()
        check("imds: botocore's InstanceMetadataProvider gets credentials (token first)",
              ic.access_key.startswith("ASIA") and counts["imds"]["token"] >= 1 and
              counts["imds"]["credentials"] >= 1, counts)
        kms = kms_client(kms_emu, access_key=ic.access_key, secret_key=ic.secret_key, session_token=ic.token)
        check("imds: KMS accepts them", "CustomKeyStores" in kms.describe_custom_key_stores())
        try:
            urllib.request.urlopen(cs.imds_url + "/latest/meta-data/iam/security-credentials/", timeout=10)
            check("imds: GET without a session token -> 401", False, "accepted")
        except urllib.error.HTTPError as e:
            check("imds: GET without a session token -> 401", e.code == 401, e.code)

        # short expiration: refresh before expiry, and KMS rejects expired ones
        cs.config(expiration_seconds=2)
        before = cs.counts()["ecs"]["credentials"]
        rc = prov.load()
        rc.get_frozen_credentials()
        rc.get_frozen_credentials()
        check("expiry: short-lived credentials make botocore refresh (counted)",
              cs.counts()["ecs"]["credentials"] >= before + 2, cs.counts()["ecs"])
        issued = cs.issued()[-1]
        check("expiry: the expiration length is what was set",
              abs(issued["expiration"] - issued["issued_at"] - 2) < 0.01, issued)
        k = kms_client(kms_emu, access_key="ASIAEXPIREDSOON00001", secret_key="q" * 40, session_token="t")
        kms_emu.add_credentials("ASIAEXPIREDSOON00001", "q" * 40, session_token="t", expiration=time.time() + 3)
        ok_before = client_error(k.describe_custom_key_stores) is None
        deadline = time.monotonic() + 8
        got = None
        while time.monotonic() < deadline:
            got = client_error(k.describe_custom_key_stores)
            if got:
                break
            time.sleep(0.1)
        check("expiry: KMS accepts a credential until it expires, then ExpiredTokenException",
              ok_before and got and got[0] == "ExpiredTokenException", (ok_before, got))
        rc = cs.stop()
        check("creds: SIGTERM -> exit 0", rc == 0, rc)


def main():
    t_start = time.monotonic()
    print("# KMS emulator tests (model: %s)" % os.path.join(harness.shared_dir(), "reference"))
    http_emu = Emulator(seed=harness.SEED_EXAMPLE, connect_delay=0.3, disconnect_delay=0.15)
    tls_emu = Emulator(tls=True, seed=harness.SEED_EXAMPLE, connect_delay=0.3, disconnect_delay=0.15)
    http_emu.start()
    try:
        tls_emu.start()
        try:
            t_contract(http_emu, tls_emu)
            t_shell()
            t_boto3(tls_emu)
            t_signature(http_emu, "http")
            t_signature(tls_emu, "https")
            t_raw_protocol(http_emu)
            t_clock(http_emu)
            t_validation(http_emu)
            t_states_cloudhsm(http_emu)
            t_states_xks(http_emu)
            t_uniqueness_and_create(http_emu)
            t_describe(http_emu)
            t_faults(http_emu, "http")
            t_faults(tls_emu, "https")
            t_tls(tls_emu)
            t_control(http_emu)
            t_aws_cli(tls_emu)
            t_cred_services(http_emu)
        finally:
            rc = tls_emu.stop()
            check("https emulator: SIGTERM -> exit 0", rc == 0, rc)
    finally:
        rc = http_emu.stop()
        check("http emulator: SIGTERM -> exit 0", rc == 0, rc)
    print("# %.1f s" % (time.monotonic() - t_start))
    if FAILURES:
        print("# failed: " + "; ".join(FAILURES))
    print("%d passed, %d failed" % (PASSED, FAILED))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())

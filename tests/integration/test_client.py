#!/usr/bin/python3
"""The kmscks client (transport_curl.c or, as kmsdrive-native, the native
transport; response.c, retry.c, client.c)
against the KMS emulator: real updates, every fault class with the number
of attempts the emulator saw and the exact error text, AWS_MAX_ATTEMPTS,
adaptive mode, clock skew, TLS, pagination, keep-alive, and no secret in
any error message or debug log line.

    test_client.py PATH/TO/kmsdrive

Prints one line per check and "N passed, M failed"; exits 1 on failure.
The environment of every driver run is built here (HOME is a temporary
directory, no proxy variables); KMS_TEST_BACKOFF_SCALE=0.01 (test-only)
shrinks the retry delays.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "emulator"))
from harness import Emulator, load_seed_example  # noqa: E402

DRIVE = os.path.abspath(sys.argv[1])
HOME = tempfile.mkdtemp(prefix="kms-client-test-")

# Session credentials known to the emulator, so the token is signed and
# must be redacted too.
AKID = "ASIAEXAMPLESESSION01"
SECRET = "sEcReTkEy/K7MDENG+bPxRfiCYzzEXAMPLEKEY0001"
TOKEN = "FQoGZXIvYXdzEXAMPLESESSIONTOKENvalue0123456789abcdef=="

XKS_ID = "cks-0987654321fedcba0"
HSM_ID = "cks-1234567890abcdef0"
XKS_AKID = "BCDEF34567234EXAMPLE"
XKS_SECRET = "7a6QGqd5MwwUJQQ34nIfTPTWmREcNu9M6uf2W3qbnGs="
PASSWORD = "NewPassw0rdSecret"
SECRETS = [SECRET, TOKEN, XKS_AKID, XKS_SECRET, PASSWORD]

UPDATE_XKS = {"CustomKeyStoreId": XKS_ID,
              "XksProxyAuthenticationCredential": {"AccessKeyId": XKS_AKID,
                                                   "RawSecretAccessKey": XKS_SECRET}}
UPDATE_HSM = {"CustomKeyStoreId": HSM_ID, "KeyStorePassword": PASSWORD}

passed = 0
failed = 0
outputs = []   # every driver result, for the secret scan


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok - %s" % name)
    else:
        failed += 1
        print("not ok - %s%s" % (name, ("\n#   " + str(detail).replace("\n", "\n#   ")) if detail else ""))
    sys.stdout.flush()


def env_for(extra=None):
    env = {"PATH": "/usr/bin:/bin", "HOME": HOME,
           "AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN,
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_CONFIG_FILE": os.path.join(HOME, "config"),
           "AWS_SHARED_CREDENTIALS_FILE": os.path.join(HOME, "credentials"),
           "KMS_TEST_BACKOFF_SCALE": "0.01"}
    if extra:
        for k, v in extra.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
    return env


def drive(url, op, arg=None, sets=(), env=None, args=()):
    argv = [DRIVE]
    if url:
        argv += ["--set", "endpoint_url=" + url]
    for s in sets:
        argv += ["--set", s]
    argv += list(args) + [op]
    if arg is not None:
        argv.append(arg if isinstance(arg, str) else json.dumps(arg, ensure_ascii=False))
    t0 = time.monotonic()
    p = subprocess.run(argv, env=env_for(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    try:
        out = json.loads(p.stdout.decode("utf-8"))
    except ValueError:
        out = {"status": "driver-crash", "message": p.stdout.decode("utf-8", "replace") +
               p.stderr.decode("utf-8", "replace"), "log": [], "attempts": -1}
    out["elapsed"] = time.monotonic() - t0
    out["rc"] = p.returncode
    outputs.append(out)
    return out


def show(r):
    d = dict(r)
    d.pop("log", None)
    return json.dumps(d)


def expect(name, r, status, attempts=None, message=None, http_status=None, aws_type=None):
    ok = r["status"] == status
    if attempts is not None:
        ok = ok and r["attempts"] == attempts
    if message is not None:
        ok = ok and r["message"] == message
    if http_status is not None:
        ok = ok and r["http_status"] == http_status
    if aws_type is not None:
        ok = ok and r["aws_type"] == aws_type
    check(name, ok, show(r))


def emu_count(emu, operation="UpdateCustomKeyStore"):
    return len(emu.requests(operation=operation))


def fresh(emu):
    emu.clear_faults()
    emu.clear_requests()


def svc(type_, op="UpdateCustomKeyStore", retries=None, msg=""):
    suffix = "" if retries is None else " (reached max retries: %d)" % retries
    return "An error occurred (%s) when calling the %s operation%s: %s" % (type_, op, suffix, msg)


# --------------------------------------------------------------------------

def test_real_updates(emu, url):
    fresh(emu)
    before = drive(url, "describe", HSM_ID)
    name0 = before["output"]["CustomKeyStores"][0]["CustomKeyStoreName"] if before["output"] else None
    r = drive(url, "update-members", {"CustomKeyStoreId": HSM_ID, "NewCustomKeyStoreName": "Renamed ✓ 日本"})
    after = drive(url, "describe", HSM_ID)
    name1 = after["output"]["CustomKeyStores"][0]["CustomKeyStoreName"] if after["output"] else None
    check("real update: success, 1 attempt", r["status"] == "ok" and r["attempts"] == 1, show(r))
    check("real update: describe before/after shows the change",
          name0 == "ExampleKeyStore" and name1 == "Renamed ✓ 日本", "%r -> %r" % (name0, name1))
    reqs = emu.requests(operation="UpdateCustomKeyStore")
    check("real update: signature verified by botocore", len(reqs) == 1 and reqs[0]["signature_valid"] is True,
          reqs)
    hdrs = [h[0] for h in reqs[0]["headers"]] if reqs else []
    check("wire: headers in the AWS CLI's order",
          hdrs == ["Host", "Accept-Encoding", "X-Amz-Target", "Content-Type", "User-Agent", "X-Amz-Date",
                   "X-Amz-Security-Token", "Authorization", "Content-Length"], hdrs)
    check("wire: HTTP/1.1, POST /", reqs and reqs[0]["http_version"] == "HTTP/1.1" and
          reqs[0]["method"] == "POST" and reqs[0]["path"] == "/", reqs[:1])
    r = drive(url, "update-members", UPDATE_XKS)
    expect("XKS credential update succeeds", r, "ok", 1)
    st = emu.store(XKS_ID)
    check("XKS credential update changed the store", json.dumps(st).find(XKS_AKID) >= 0, st)
    r = drive(url, "update-members", UPDATE_HSM)
    expect("KeyStorePassword update succeeds", r, "ok", 1)

    # Validation: nothing is sent.
    fresh(emu)
    r = drive(url, "update-members", {"CustomKeyStoreId": HSM_ID, "KeyStorePassword": "short"})
    check("validation error: nothing sent", r["status"] == "validation" and r["attempts"] == 0 and
          emu_count(emu) == 0, show(r))
    r = drive(url, "update-members", {"CustomKeyStoreId": XKS_ID,
                                      "XksProxyUriEndpoint": "https://other.xks.example.com"},
              args=["--ctx", "EXTERNAL_KEY_STORE,CONNECTED"])
    check("contextual rule (endpoint change on a connected store): nothing sent",
          r["status"] == "validation" and r["attempts"] == 0 and emu_count(emu) == 0, show(r))


def test_connect_disconnect(emu, url):
    fresh(emu)
    r = drive(url, "connect", XKS_ID)
    expect("connect: success", r, "ok", 1)
    st = emu.wait_state(XKS_ID, ("CONNECTED", "FAILED"))
    check("connect: the store comes up", st["state"] == "CONNECTED", st)
    r = drive(url, "disconnect", XKS_ID)
    expect("disconnect: success", r, "ok", 1)
    st = emu.wait_state(XKS_ID, "DISCONNECTED")
    check("disconnect: the store goes down", st["state"] == "DISCONNECTED", st)
    r = drive(url, "connect", "cks-00000000000000000")
    expect("connect an unknown store: modeled error, 1 attempt", r, "service", 1, http_status=400,
           aws_type="CustomKeyStoreNotFoundException")
    check("connect error names the operation", "ConnectCustomKeyStore operation" in r["message"], show(r))


def test_5xx(emu, url):
    port = emu.port
    for status, body, msg in ((500, "", "Internal Server Error"), (502, "<html><body>x</body></html>", "Bad Gateway"),
                              (503, "", "Service Unavailable"), (504, "", "Gateway Timeout")):
        fresh(emu)
        emu.faults([{"kind": "status", "status": status, "body": body, "count": 3}])
        r = drive(url, "update-members", UPDATE_XKS)
        expect("%d x3: 3 attempts, reason phrase, max-retries suffix" % status, r, "service", 3,
               svc(str(status), retries=2, msg=msg), status)
        check("%d x3: the emulator saw 3 requests" % status, emu_count(emu) == 3, emu_count(emu))
        check("%d: retryable" % status, r["retryable"] is True, show(r))
    fresh(emu)
    emu.faults([{"kind": "status", "status": 500, "json": {"__type": "com.amazonaws.kms#KMSInternalException",
                                                           "message": "internal"}, "count": 3}])
    r = drive(url, "update-members", UPDATE_HSM)
    expect("500 JSON body: type and message parsed", r, "service", 3,
           svc("KMSInternalException", retries=2, msg="internal"), 500)
    fresh(emu)
    emu.faults([{"kind": "status", "status": 503, "count": 1},
                {"kind": "throttle", "count": 1}])
    r = drive(url, "update-members", UPDATE_XKS)
    expect("503, throttle, ok: success on attempt 3", r, "ok", 3)
    check("503, throttle, ok: 3 requests at the emulator", emu_count(emu) == 3, emu_count(emu))
    del port


def test_throttling(emu, url):
    for code, msg in (("ThrottlingException", "Rate exceeded"),
                      ("LimitExceededException", "You have exceeded the rate at which you may call KMS.")):
        fresh(emu)
        emu.faults([{"kind": "throttle", "code": code, "count": 3}])
        r = drive(url, "update-members", UPDATE_HSM)
        expect("%s x3: 3 attempts, exact text" % code, r, "service", 3, svc(code, retries=2, msg=msg), 400)
        check("%s: 3 requests at the emulator" % code, emu_count(emu) == 3, emu_count(emu))
    for code in ("RequestTimeoutException", "PriorRequestNotComplete"):
        fresh(emu)
        emu.faults([{"kind": "error", "type": code, "message": "later", "count": 3}])
        r = drive(url, "update-members", UPDATE_XKS)
        expect("transient %s x3: 3 attempts" % code, r, "service", 3, svc(code, retries=2, msg="later"))
    fresh(emu)
    emu.faults([{"kind": "error", "type": "Foo", "status": 429, "message": "no"}])
    r = drive(url, "update-members", UPDATE_XKS)
    expect("429 with an unknown code: 1 attempt, no suffix", r, "service", 1, svc("Foo", msg="no"), 429)
    fresh(emu)
    emu.faults([{"kind": "error", "type": "com.amazonaws.kms#CustomKeyStoreInvalidStateException",
                 "message": "The store is connected."}])
    r = drive(url, "update-members", UPDATE_XKS)
    expect("modeled 400: 1 attempt, namespace stripped", r, "service", 1,
           svc("CustomKeyStoreInvalidStateException", msg="The store is connected."), 400)
    check("modeled 400: request id reported", len(r["request_id"]) > 10, show(r))
    fresh(emu)
    emu.faults([{"kind": "status", "status": 403, "body": "not json at all"}])
    r = drive(url, "update-members", UPDATE_XKS)
    expect("non-JSON 403: body verbatim", r, "service", 1, svc("403", msg="not json at all"), 403)

    # Adaptive mode: the same attempts, with client-side rate-limit waits.
    fresh(emu)
    emu.faults([{"kind": "throttle", "count": 3}])
    r = drive(url, "update-members", UPDATE_XKS, env={"AWS_RETRY_MODE": "adaptive"})
    expect("adaptive, throttled x3: 3 attempts", r, "service", 3,
           svc("ThrottlingException", retries=2, msg="Rate exceeded"))
    # At real speed (no test scale): after the throttle the token bucket
    # refills at about 1 token/s or less, so the retry goes out at least
    # ~0.9 s after the first attempt, whatever the random backoff was
    # (the limiter waits for what the backoff did not cover).
    fresh(emu)
    emu.faults([{"kind": "throttle", "count": 1}])
    r = drive(url, "update-members", UPDATE_XKS, env={"AWS_RETRY_MODE": "adaptive",
                                                      "KMS_TEST_BACKOFF_SCALE": None})
    expect("adaptive, throttled once: success on attempt 2", r, "ok", 2)
    reqs = emu.requests(operation="UpdateCustomKeyStore")
    gap = reqs[1]["time"] - reqs[0]["time"] if len(reqs) == 2 else 0
    waited = [l for l in r["log"] if "client-side rate limiter waited" in l or "retrying" in l]
    check("adaptive: the retry was held by the rate limiter (%.2f s apart)" % gap, gap > 0.75, waited)


def test_max_attempts(emu, url):
    for n in (1, 4, 5):
        fresh(emu)
        emu.faults([{"kind": "status", "status": 503, "count": 10}])
        r = drive(url, "update-members", UPDATE_XKS, env={"AWS_MAX_ATTEMPTS": str(n)})
        expect("AWS_MAX_ATTEMPTS=%d: exactly %d attempts" % (n, n), r, "service", n,
               svc("503", retries=n - 1, msg="Service Unavailable"))
        check("AWS_MAX_ATTEMPTS=%d: the emulator saw %d" % (n, n), emu_count(emu) == n, emu_count(emu))
    fresh(emu)
    emu.faults([{"kind": "error", "type": "AccessDeniedException", "message": "no"}])
    r = drive(url, "update-members", UPDATE_XKS, env={"AWS_MAX_ATTEMPTS": "1"})
    expect("AWS_MAX_ATTEMPTS=1 with a 400: suffix (reached max retries: 0) as the CLI", r, "service", 1,
           svc("AccessDeniedException", retries=0, msg="no"))
    r = drive(url, "update-members", UPDATE_XKS, env={"AWS_MAX_ATTEMPTS": "0"})
    expect("AWS_MAX_ATTEMPTS=0 refused", r, "config", 0,
           'Value provided to "max_attempts": 0 must be an integer greater than or equal to one.')


def test_network_faults(emu, url):
    u = url + "/"
    for kind in ("drop", "reset"):
        fresh(emu)
        emu.faults([{"kind": kind, "count": 3}])
        r = drive(url, "update-members", UPDATE_XKS)
        expect("%s x3: 3 attempts, connection closed" % kind, r, "connection_closed", 3,
               'Connection was closed before we received a valid response from endpoint URL: "%s".' % u, 0)
        check("%s: the emulator saw 3" % kind, emu_count(emu) == 3, emu_count(emu))
    fresh(emu)
    emu.faults([{"kind": "drop", "count": 1}])
    r = drive(url, "update-members", UPDATE_XKS)
    expect("drop once, then success on attempt 2", r, "ok", 2)

    fresh(emu)
    emu.faults([{"kind": "slow", "seconds": 2.5, "count": 3}])
    r = drive(url, "update-members", UPDATE_XKS, sets=["read_timeout=1"])
    expect("slow x3 with read_timeout 1: read timeout after 3 attempts", r, "read_timeout", 3,
           'Read timeout on endpoint URL: "%s"' % u, 0)
    check("read timeout fires near 1 s per attempt (%.2f s in all)" % r["elapsed"],
          2.9 < r["elapsed"] < 6.5, r["elapsed"])
    check("slow: the emulator saw 3", emu_count(emu) == 3, emu_count(emu))
    time.sleep(2.6)  # let the slow handlers finish
    fresh(emu)
    emu.faults([{"kind": "slow", "seconds": 1.2, "count": 1}])
    r = drive(url, "update-members", UPDATE_XKS, sets=["read_timeout=0"])
    expect("slow with read_timeout 0 (none): success", r, "ok", 1)

    fresh(emu)
    emu.faults([{"kind": "malformed", "body": "this is not JSON"}])
    r = drive(url, "update-members", UPDATE_XKS)
    expect("malformed 200 body: success for Update (the CLI prints nothing)", r, "ok", 1)
    fresh(emu)
    emu.faults([{"kind": "malformed", "body": "this is not JSON", "operation": "DescribeCustomKeyStores"}])
    r = drive(url, "describe")
    expect("malformed 200 body: Describe fails, 1 attempt", r, "response", 1)
    fresh(emu)
    emu.faults([{"kind": "truncated", "body": "{\"a\":", "missing": 40}])
    r = drive(url, "update-members", UPDATE_XKS)
    expect("truncated 200 body: success for Update, 1 attempt (urllib3 accepts it)", r, "ok", 1)
    fresh(emu)
    emu.faults([{"kind": "truncated", "operation": "DescribeCustomKeyStores"}])
    r = drive(url, "describe")
    expect("truncated 200 body: Describe fails, 1 attempt", r, "response", 1)
    fresh(emu)
    emu.faults([{"kind": "truncated", "status": 500, "body": "{\"a\":", "count": 3}])
    r = drive(url, "update-members", UPDATE_XKS)
    expect("truncated 500 x3: 3 attempts, partial body verbatim", r, "service", 3,
           svc("500", retries=2, msg='{"a":'))

    # Connection refused: a port nothing listens on.
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()
    r = drive("http://127.0.0.1:%d" % dead, "update-members", UPDATE_XKS)
    expect("connection refused: 3 attempts", r, "connect", 3,
           'Could not connect to the endpoint URL: "http://127.0.0.1:%d/"' % dead, 0)

    # Connect timeout: a listener whose accept queue is full drops SYNs.
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(0)
    port = s.getsockname()[1]
    fillers = []
    for _ in range(3):
        f = socket.socket()
        f.setblocking(False)
        try:
            f.connect(("127.0.0.1", port))
        except OSError:
            pass
        fillers.append(f)
    time.sleep(0.1)
    r = drive("http://127.0.0.1:%d" % port, "update-members", UPDATE_XKS, sets=["connect_timeout=1"],
              env={"AWS_MAX_ATTEMPTS": "2"})
    expect("connect timeout: 2 attempts", r, "connect_timeout", 2,
           'Connect timeout on endpoint URL: "http://127.0.0.1:%d/"' % port, 0)
    check("connect timeout fires near 1 s per attempt (%.2f s)" % r["elapsed"], 1.9 < r["elapsed"] < 5,
          r["elapsed"])
    for f in fillers:
        f.close()
    s.close()


def test_skew(emu, url):
    fresh(emu)
    emu.config(time_skew=900)
    r = drive(url, "update-members", UPDATE_XKS)
    emu.config(time_skew=0)
    expect("server clock 15 min ahead: corrected, retried once, success", r, "ok", 2)
    reqs = emu.requests(operation="UpdateCustomKeyStore")
    check("skew: first refused as expired, second accepted",
          len(reqs) == 2 and reqs[0]["error"] == "InvalidSignatureException" and reqs[1]["status"] == 200,
          [(q["error"], q["status"]) for q in reqs])
    check("skew: the correction is logged", any("clock skew corrected" in l for l in r["log"]), r["log"][-8:])
    d0 = [h[1] for h in reqs[0]["headers"] if h[0] == "X-Amz-Date"] if reqs else []
    d1 = [h[1] for h in reqs[1]["headers"] if h[0] == "X-Amz-Date"] if len(reqs) > 1 else []
    check("skew: the retry is re-signed with a fresh X-Amz-Date", d0 and d1 and d0 != d1, (d0, d1))

    fresh(emu)
    emu.config(time_skew=-900)
    r = drive(url, "update-members", UPDATE_XKS, env={"AWS_MAX_ATTEMPTS": "1"})
    emu.config(time_skew=0)
    expect("server clock behind, max_attempts 1: the skew retry still happens", r, "ok", 2)

    fresh(emu)
    emu.faults([{"kind": "skew", "seconds": 900}])
    r = drive(url, "update-members", UPDATE_XKS)
    check("one-shot skew with a right Date: not a clock problem, 1 attempt",
          r["status"] == "service" and r["attempts"] == 1 and r["aws_type"] == "InvalidSignatureException" and
          "Signature expired" in r["message"], show(r))


def test_retry_signing(emu, url):
    fresh(emu)
    emu.faults([{"kind": "status", "status": 503, "count": 2}])
    r = drive(url, "update-members", UPDATE_XKS)
    reqs = emu.requests(operation="UpdateCustomKeyStore")
    check("503 x2 then ok: 3 attempts", r["status"] == "ok" and r["attempts"] == 3 and len(reqs) == 3, show(r))
    check("every attempt carries a valid signature", all(q["signature_valid"] for q in reqs),
          [q["signature_valid"] for q in reqs])
    check("every attempt sends the same body", len({q["body"] for q in reqs}) == 1)
    check("backoff delays are logged", sum("retrying (transient error)" in l for l in r["log"]) == 2,
          r["log"])


def test_keepalive_and_misc(emu, url):
    fresh(emu)
    r = drive(url, "update-members", UPDATE_XKS, args=["--calls", "5"])
    reqs = emu.requests(operation="UpdateCustomKeyStore")
    clients = {q["client"] for q in reqs}
    check("keep-alive: 5 calls, 1 connection", r["status"] == "ok" and len(reqs) == 5 and len(clients) == 1,
          clients)
    fresh(emu)
    r = drive(url, "update-members", UPDATE_XKS, sets=["no_sign_request=true"])
    reqs = emu.requests(operation="UpdateCustomKeyStore")
    names = [h[0] for h in reqs[0]["headers"]] if reqs else []
    check("no_sign_request: no Authorization, X-Amz-Date or token",
          reqs and not ({"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} & set(names)), names)
    expect("no_sign_request: the emulator wants a signature", r, "service", 1,
           aws_type="MissingAuthenticationTokenException")
    r = drive(url, "prepare", args=["--body", json.dumps(UPDATE_XKS)])
    out = r.get("output") or ""
    check("prepare: a signed message, redacted when printed",
          r["status"] == "ok" and "Signature=" in out and XKS_SECRET not in out and TOKEN not in out and
          "X-Amz-Date:" in out, out)
    r = drive(url, "update-members", UPDATE_XKS, sets=["ca_bundle=/nonexistent/ca.pem"])
    expect("missing CA bundle on an http endpoint: ignored (as the CLI)", r, "ok", 1)
    r = drive("not-a-url", "describe")
    expect("endpoint without a scheme: the CLI's message", r, "config", 0,
           'Bad value for --endpoint-url "not-a-url": scheme is missing.  Must be of the form '
           'http://<hostname>/ or https://<hostname>/')
    r = drive(None, "describe", env={"AWS_DEFAULT_REGION": None})
    expect("no region", r, "no_region", 0)


def test_pagination(emu, url):
    fresh(emu)
    for i in range(5):
        emu.put_store({"id": "cks-%017d" % (i + 100), "name": "PageStore%d" % i, "type": "AWS_CLOUDHSM",
                       "state": "DISCONNECTED", "cloudhsm": {"cluster_id": "cluster-1a23b4cdefg%d" % i}})
    emu.config(describe_default_limit=2)
    total = len(emu.stores())
    r = drive(url, "describe")
    emu.config(describe_default_limit=1000)
    got = [s["CustomKeyStoreId"] for s in (r["output"] or {}).get("CustomKeyStores", [])]
    pages = emu_count(emu, "DescribeCustomKeyStores")
    check("pagination: %d stores over %d pages merged" % (len(got), pages),
          r["status"] == "ok" and len(got) == total and len(set(got)) == total and
          pages == (total + 1) // 2 and pages > 1, show(r))
    bodies = [json.loads(q["body"]) for q in emu.requests(operation="DescribeCustomKeyStores")]
    check("pagination: Marker follows NextMarker", "Marker" not in bodies[0] and
          all("Marker" in b for b in bodies[1:]), bodies)


def test_tls():
    with Emulator(tls=True, seed=load_seed_example()) as emu:
        emu.add_credentials(AKID, SECRET, TOKEN)
        url = emu.url
        u = url + "/"
        r = drive(url, "update-members", UPDATE_XKS, sets=["ca_bundle=" + emu.ca])
        expect("TLS with the emulator's CA: success", r, "ok", 1)
        r = drive(url, "update-members", UPDATE_XKS, env={"AWS_CA_BUNDLE": emu.ca})
        expect("TLS with AWS_CA_BUNDLE: success", r, "ok", 1)
        before = emu.stats().get("tls_handshake_failures", 0)
        r = drive(url, "update-members", UPDATE_XKS, sets=["ca_bundle=" + emu.other_ca])
        expect("TLS with an untrusted CA: 3 attempts", r, "tls", 3,
               "SSL validation failed for %s [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
               "unable to get local issuer certificate" % u, 0)
        time.sleep(0.2)
        hs = emu.stats().get("tls_handshake_failures", 0) - before
        check("TLS failure: 3 handshakes at the emulator (%d)" % hs, hs == 3, emu.stats())
        r = drive(url, "update-members", UPDATE_XKS, sets=["verify_tls=false"])
        expect("TLS verification off: success", r, "ok", 1)
        r = drive(url, "update-members", UPDATE_XKS, sets=["ca_bundle=/nonexistent/ca.pem"])
        expect("missing CA bundle on https: the CLI's text", r, "tls", 3,
               "SSL validation failed for %s [Errno 2] No such file or directory" % u, 0)


def test_secrets():
    leaks = []
    for o in outputs:
        texts = [o.get("message", "")] + list(o.get("log", []))
        for t in texts:
            for s in SECRETS:
                if s in t:
                    leaks.append((s[:4] + "...", t[:120]))
    check("no secret in any error message or debug log line (%d runs)" % len(outputs), not leaks, leaks[:5])
    logs = [l for o in outputs for l in o.get("log", [])]
    check("the token is redacted in logged headers",
          any("> X-Amz-Security-Token: ***" in l for l in logs) and
          any("x-amz-security-token:***" in l for l in logs))
    check("the signature is redacted in logged headers",
          any("Signature=***" in l for l in logs) and not any("Signature=" in l and "Signature=***" not in l
                                                               for l in logs if l.startswith("7 > ")))


def main():
    with Emulator(seed=load_seed_example()) as emu:
        emu.add_credentials(AKID, SECRET, TOKEN)
        url = emu.url
        test_real_updates(emu, url)
        test_connect_disconnect(emu, url)
        test_5xx(emu, url)
        test_throttling(emu, url)
        test_max_attempts(emu, url)
        test_network_faults(emu, url)
        test_skew(emu, url)
        test_retry_signing(emu, url)
        test_keepalive_and_misc(emu, url)
        test_pagination(emu, url)
    test_tls()
    test_secrets()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

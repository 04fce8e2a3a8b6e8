"""hostcases.py - what both Lua hosts (nginx + ngx_lua, HAProxy) are
checked for, through the example's HTTP routes (/kms/stores, /kms/rename,
/kms/connect, /ping): the example configuration with its port and paths
replaced, and the cases whose outcome must not depend on the host: signed
describe over TLS, an applied rename, a slow KMS answer that does not block
the host, a KMS error, a retry after 503, validation before sending, the
store's state taken into account, and connect."""

import os
import re
import threading
import time

import hostlib

STORE = hostlib.CLOUDHSM_STORE


def example_config(path, subs):
    """The example configuration at path with each (pattern, replacement)
    of subs applied; every pattern must match exactly once, so that a
    changed example fails the test instead of silently not being patched."""
    with open(path) as f:
        text = f.read()
    for pat, rep in subs:
        text, n = re.subn(pat, lambda m: rep, text)
        assert n == 1, "%s: %s not found once" % (os.path.basename(path), pat)
    return text


def slow_update_with_pings(emu, base):
    """Starts a rename that the emulator answers after 2 s and, once the
    emulator holds it, pings the host 5 times. Returns (pings, update
    result, whether the update was still waiting after the pings)."""
    emu.clear_requests()
    emu.faults([{"kind": "slow", "seconds": 2.0, "count": 1,
                 "operation": "UpdateCustomKeyStore"}])
    out = {}

    def slow_update():
        out["res"] = hostlib.get(base + "/kms/rename?store=%s&name=SlowOne" % STORE)
    th = threading.Thread(target=slow_update)
    th.start()
    deadline = time.monotonic() + 10
    pending = []
    while time.monotonic() < deadline:
        pending = [q for q in emu.requests(operation="UpdateCustomKeyStore")
                   if not q["complete"]]
        if pending:
            break
        time.sleep(0.02)
    assert pending, "the update never reached the emulator"
    pings = []
    for _ in range(5):
        st, body, secs = hostlib.get(base + "/ping", timeout=5)
        pings.append((st, body.strip(), secs))
    still_waiting = th.is_alive()
    th.join(15)
    return pings, out["res"], still_waiting


def run(r, emu, base, face, tag, ping_check=None):
    """Runs the common cases on r (a hostlib.Report). face names the Lua
    module in the case names, tag the store name the rename sets;
    ping_check(pings, update_body) adds a host's own check to the
    non-blocking case."""

    def stores():
        emu.clear_requests()
        st, body, _ = hostlib.get(base + "/kms/stores")
        assert st == 200, (st, body)
        assert STORE in body and hostlib.XKS_STORE in body, body
        reqs = emu.requests(operation="DescribeCustomKeyStores")
        assert len(reqs) == 1 and reqs[0]["signature_valid"] is True, reqs
        assert reqs[0]["body"] == "{}", reqs[0]["body"]
        assert reqs[0]["scheme"] == "https", reqs[0]["scheme"]
    r.case("describe through %s, over TLS, signature verified" % face, stores)

    def rename():
        emu.clear_requests()
        st, body, _ = hostlib.get(base + "/kms/rename?store=%s&name=%s" % (STORE, tag))
        assert st == 200 and body.startswith("ok"), (st, body)
        reqs = emu.requests(operation="UpdateCustomKeyStore")
        assert len(reqs) == 1 and reqs[0]["signature_valid"] is True, reqs
        want = '{"CustomKeyStoreId": "%s", "NewCustomKeyStoreName": "%s"}' % (STORE, tag)
        assert reqs[0]["body"] == want, reqs[0]["body"]
        hosts = [v for k, v in reqs[0]["headers"] if k.lower() == "host"]
        assert len(hosts) == 1, reqs[0]["headers"]
        assert emu.store(STORE)["name"] == tag
    r.case("update through %s: signed, right body, one Host, applied" % face, rename)

    def non_blocking():
        t = time.monotonic()
        pings, (st, body, secs), still_waiting = slow_update_with_pings(emu, base)
        total = time.monotonic() - t
        print("# pings while the update waited: %s" % ", ".join(
            "%.1f ms" % (p[2] * 1000) for p in pings))
        print("# the update took %.2f s" % secs)
        assert still_waiting, "the update finished before the pings"
        assert all(p[0] == 200 and p[1].startswith("pong") for p in pings), pings
        assert max(p[2] for p in pings) < 0.5, pings
        assert st == 200 and body.startswith("ok"), (st, body)
        assert secs >= 1.9 and total >= 1.9, secs
        if ping_check:
            ping_check(pings, body)
        reqs = emu.requests(operation="UpdateCustomKeyStore")
        assert len(reqs) == 1 and reqs[0]["signature_valid"] is True
    r.case("a slow KMS answer does not block the host's Lua", non_blocking)

    def kms_error():
        emu.clear_requests()
        st, body, _ = hostlib.get(base + "/kms/rename?store=cks-00000000000000000&name=X")
        assert st == 400 and "CustomKeyStoreNotFoundException" in body, (st, body)
        reqs = emu.requests(operation="DescribeCustomKeyStores")
        assert reqs and all(q["signature_valid"] for q in reqs)
    r.case("a KMS error comes back with its type and status", kms_error)

    def retry():
        emu.clear_requests()
        emu.faults([{"kind": "status", "status": 503, "count": 1, "body": "busy",
                     "operation": "UpdateCustomKeyStore"}])
        st, body, _ = hostlib.get(base + "/kms/rename?store=%s&name=AfterRetry" % STORE)
        assert st == 200 and body.startswith("ok"), (st, body)
        reqs = emu.requests(operation="UpdateCustomKeyStore")
        assert len(reqs) == 2 and all(q["signature_valid"] for q in reqs), reqs
        assert reqs[1]["body"] == reqs[0]["body"]
    r.case("503 then success: retried by the core's policy, re-signed", retry)

    def validation():
        emu.clear_requests()
        st, body, _ = hostlib.get(base + "/kms/rename?store=%s&name=" % STORE)
        assert st == 422 and "length.min" in body, (st, body)
        assert emu.requests(operation="UpdateCustomKeyStore") == []
    r.case("an invalid update is refused before sending", validation)

    def context():
        emu.clear_requests()
        emu.put_store({"id": STORE, "state": "CONNECTED"})
        # the name may change while connected: accepted
        st, body, _ = hostlib.get(base + "/kms/rename?store=%s&name=WhileConnected" % STORE)
        assert st == 200, (st, body)
        emu.put_store({"id": STORE, "state": "DISCONNECTED"})
    r.case("validated against the store's state from describe", context)

    def connect():
        emu.clear_requests()
        st, body, _ = hostlib.get(base + "/kms/connect?store=%s" % STORE)
        assert st == 200, (st, body)
        reqs = emu.requests(operation="ConnectCustomKeyStore")
        assert len(reqs) == 1 and reqs[0]["signature_valid"] is True
        assert reqs[0]["body"] == '{"CustomKeyStoreId": "%s"}' % STORE
    r.case("connect through %s" % face, connect)

#!/usr/bin/python3
"""test_haproxy.py - HAProxy 2.6 (embedded Lua 5.3) sends KMS requests
through kms.haproxy (core.httpclient), running the copyable example
examples/haproxy/ (its port and paths replaced). The emulator runs with
TLS, verified with httpclient.ssl.ca-file. Checks that:
  - every request reached the emulator with a signature botocore verified
    and the right body;
  - while an update waits on a slow emulator answer, HAProxy's (single
    thread) Lua engine keeps answering other requests;
  - KMS errors, retries after a 503 and validation behave as in the C
    transport;
  - HAProxy soft-stops (SIGUSR1, by pid) with status 0 and logged no
    secret.
HAProxy and the emulator run on 127.0.0.1 ephemeral ports."""

import os
import re
import shutil
import signal
import sys
import threading
import time

import hostlib

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
EXAMPLE = os.path.join(hostlib.SOURCE_ROOT, "examples", "haproxy")
STORE = hostlib.CLOUDHSM_STORE


def config(port, ca):
    with open(os.path.join(EXAMPLE, "haproxy.cfg")) as f:
        text = f.read()
    lua_src = os.environ.get("KMS_LUA_SOURCE", hostlib.lua_dir())
    subs = [
        (r"bind 127\.0\.0\.1:8081", "bind 127.0.0.1:%d" % port),
        (r"lua-prepend-path /usr/local/lib/lua/5\.3/\?\.so cpath",
         "lua-prepend-path %s/?.so cpath" % hostlib.module_dir("lua5.3")),
        (r"lua-prepend-path /usr/local/share/lua/5\.3/\?\.lua",
         "lua-prepend-path %s/?.lua" % lua_src),
        (r"lua-prepend-path /etc/haproxy/kms/\?\.lua", "lua-prepend-path %s/?.lua" % EXAMPLE),
        (r"httpclient\.ssl\.ca-file \S+", "httpclient.ssl.ca-file %s" % ca),
        (r"lua-load /etc/haproxy/kms/kms_service\.lua",
         "nbthread 1\n    lua-load %s/kms_service.lua" % EXAMPLE),
    ]
    for pat, rep in subs:
        text, n = re.subn(pat, lambda m: rep, text)
        assert n == 1, "example haproxy.cfg: %s not found once" % pat
    return text


def main():
    if os.environ.get("KMS_LUA_SANITIZED"):
        hostlib.skip("a sanitized kms.so is not loaded into the host")
    if not os.path.exists(HAPROXY):
        hostlib.skip("haproxy is not installed")
    if not os.path.exists(os.path.join(hostlib.module_dir("lua5.3"), "kms.so")):
        hostlib.skip("the Lua 5.3 build of kms.so is missing")
    r = hostlib.Report()
    scratch = hostlib.Scratch("kms-haproxy-")
    emu = hostlib.Emulator(tls=True, seed=hostlib.SEED_EXAMPLE).start()
    hap = None
    try:
        port = hostlib.free_port()
        cfg = scratch.write("haproxy.cfg", config(port, emu.ca))
        # HAProxy verifies the certificate against the SNI, a DNS name: the
        # endpoint is named localhost and pinned to 127.0.0.1 with dst
        env = hostlib.isolated_env(scratch.path, {
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL_KMS": emu.url.replace("127.0.0.1", "localhost"),
            "KMS_HAPROXY_DST": "127.0.0.1:%d" % emu.port,
            "KMS_TEST_BACKOFF_SCALE": "0.01",
            "KMS_STARTUP_CHECK": "1",
        })
        t0 = time.monotonic()
        hap = hostlib.Host("haproxy", [HAPROXY, "-db", "-f", cfg], scratch.path, env,
                           scratch("haproxy.out"))
        up = hostlib.wait_port(port, hap.proc)
        r.check("haproxy starts with the example config (%.0f ms)"
                % ((time.monotonic() - t0) * 1000), up, hap.log())
        if not up:
            return r.done()
        base = "http://127.0.0.1:%d" % port

        def task():
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and "startup check" not in hap.log():
                time.sleep(0.02)
            assert "kms: startup check: 2 key stores" in hap.log(), hap.log()
        r.case("a task describes the stores at start-up (core.httpclient in a task)", task)

        def stores():
            emu.clear_requests()
            st, body, _ = hostlib.get(base + "/kms/stores")
            assert st == 200, (st, body)
            assert STORE in body and hostlib.XKS_STORE in body, body
            reqs = emu.requests(operation="DescribeCustomKeyStores")
            assert len(reqs) == 1 and reqs[0]["signature_valid"] is True, reqs
            assert reqs[0]["body"] == "{}" and reqs[0]["scheme"] == "https", reqs[0]
        r.case("describe through core.httpclient, over TLS, signature verified", stores)

        def rename():
            emu.clear_requests()
            st, body, _ = hostlib.get(base + "/kms/rename?store=%s&name=FromHAProxy" % STORE)
            assert st == 200 and body.startswith("ok"), (st, body)
            reqs = emu.requests(operation="UpdateCustomKeyStore")
            assert len(reqs) == 1 and reqs[0]["signature_valid"] is True, reqs
            want = '{"CustomKeyStoreId": "%s", "NewCustomKeyStoreName": "FromHAProxy"}' % STORE
            assert reqs[0]["body"] == want, reqs[0]["body"]
            hosts = [v for k, v in reqs[0]["headers"] if k.lower() == "host"]
            assert len(hosts) == 1, reqs[0]["headers"]
            assert emu.store(STORE)["name"] == "FromHAProxy"
        r.case("update through kms.haproxy: signed, right body, one Host, applied", rename)

        def non_blocking():
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
            pings = [hostlib.get(base + "/ping", timeout=5) for _ in range(5)]
            still_waiting = th.is_alive()
            th.join(15)
            st, body, secs = out["res"]
            print("# pings while the update waited: %s" % ", ".join(
                "%.1f ms" % (p[2] * 1000) for p in pings))
            print("# the update took %.2f s" % secs)
            assert still_waiting, "the update finished before the pings"
            assert all(p[0] == 200 and p[1].strip() == "pong" for p in pings), pings
            assert max(p[2] for p in pings) < 0.5, pings
            assert st == 200 and body.startswith("ok"), (st, body)
            assert secs >= 1.9, secs
            reqs = emu.requests(operation="UpdateCustomKeyStore")
            assert len(reqs) == 1 and reqs[0]["signature_valid"] is True
        r.case("a slow KMS answer does not block HAProxy's Lua", non_blocking)

        def kms_error():
            st, body, _ = hostlib.get(base + "/kms/rename?store=cks-00000000000000000&name=X")
            assert st == 400 and "CustomKeyStoreNotFoundException" in body, (st, body)
        r.case("a KMS error comes back with its type and status", kms_error)

        def retry():
            emu.clear_requests()
            emu.faults([{"kind": "status", "status": 503, "count": 1, "body": "busy",
                         "operation": "UpdateCustomKeyStore"}])
            st, body, _ = hostlib.get(base + "/kms/rename?store=%s&name=AfterRetry" % STORE)
            assert st == 200 and body.startswith("ok"), (st, body)
            reqs = emu.requests(operation="UpdateCustomKeyStore")
            assert len(reqs) == 2 and all(q["signature_valid"] for q in reqs), reqs
        r.case("503 then success: retried by the core's policy, re-signed", retry)

        def validation():
            emu.clear_requests()
            st, body, _ = hostlib.get(base + "/kms/rename?store=%s&name=" % STORE)
            assert st == 422 and "length.min" in body, (st, body)
            assert emu.requests(operation="UpdateCustomKeyStore") == []
        r.case("an invalid update is refused before sending", validation)

        def connect():
            emu.clear_requests()
            st, body, _ = hostlib.get(base + "/kms/connect?store=%s" % STORE)
            assert st == 200, (st, body)
            reqs = emu.requests(operation="ConnectCustomKeyStore")
            assert len(reqs) == 1 and reqs[0]["signature_valid"] is True
            assert reqs[0]["body"] == '{"CustomKeyStoreId": "%s"}' % STORE
        r.case("connect through kms.haproxy", connect)

        rc = hap.stop(signal.SIGUSR1)
        log = hap.log()
        hap = None
        r.check("haproxy soft-stops on SIGUSR1 with status 0", rc == 0, "rc=%s" % rc)
        r.check("no secret in haproxy's output", hostlib.SECRET_KEY not in log
                and "Authorization" not in log, log[-2000:])
        r.check("no Lua error in haproxy's output",
                not re.search(r"Lua (function|service|task) .*(error|runtime)|"
                              r"attempt to|stack traceback", log), log[-2000:])
    finally:
        if hap is not None:
            hap.stop(signal.SIGUSR1)
        emu_rc = emu.stop()
        if emu_rc not in (0, None):
            print("# emulator exited %s\n%s" % (emu_rc, emu.log()))
    rc = r.done()
    scratch.finish(rc == 0)
    return rc


if __name__ == "__main__":
    sys.exit(main())

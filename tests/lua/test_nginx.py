#!/usr/bin/python3
"""test_nginx.py - nginx + ngx_lua (LuaJIT) sends KMS requests through
kms.resty, running the copyable example examples/openresty/ (its port and
paths replaced). The KMS emulator runs with TLS, so the cosocket does the
TLS handshake against the emulator's test CA. Checks that:
  - every request reached the emulator with a signature botocore verified
    and the right body;
  - while an update waits on a slow emulator answer, the same (only)
    worker keeps answering other requests: the cosocket does not block;
  - KMS errors, retries after a 503 and validation behave as in the C
    transport;
  - nginx stops cleanly (SIGQUIT, by pid) and logged no secret.
nginx and the emulator run on 127.0.0.1 ephemeral ports."""

import os
import re
import shutil
import signal
import sys
import threading
import time

import hostlib

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
LUA_MODULE = "/usr/lib/nginx/modules/ngx_http_lua_module.so"
EXAMPLE = os.path.join(hostlib.SOURCE_ROOT, "examples", "openresty")
STORE = hostlib.CLOUDHSM_STORE


def config(port, ca):
    with open(os.path.join(EXAMPLE, "nginx.conf")) as f:
        text = f.read()
    lua_src = os.environ.get("KMS_LUA_SOURCE", hostlib.lua_dir())
    subs = [
        (r"listen 127\.0\.0\.1:8080;", "listen 127.0.0.1:%d;" % port),
        (r'lua_package_cpath "[^"]*";',
         'lua_package_cpath "%s/?.so;;";' % hostlib.module_dir("luajit")),
        (r'lua_package_path  "[^"]*";',
         'lua_package_path "%s/?.lua;%s/?.lua;;";' % (lua_src, EXAMPLE)),
        (r"lua_ssl_trusted_certificate [^;]*;", "lua_ssl_trusted_certificate %s;" % ca),
        # the emulator's certificate names 127.0.0.1 as an IP address, which
        # ngx_lua's host check does not look at: verify it as "localhost"
        (r'kms_app = require "kms_app"',
         'kms_app = require "kms_app"\n        kms_app.options.server_name = "localhost"'),
        (r"env AWS_EC2_METADATA_DISABLED;",
         "env AWS_EC2_METADATA_DISABLED;\nenv KMS_TEST_BACKOFF_SCALE;"),
    ]
    for pat, rep in subs:
        text, n = re.subn(pat, lambda m: rep, text)
        assert n == 1, "example nginx.conf: %s not found once" % pat
    return text


def main():
    if os.environ.get("KMS_LUA_SANITIZED"):
        hostlib.skip("a sanitized kms.so is not loaded into the host")
    if not os.path.exists(NGINX) or not os.path.exists(LUA_MODULE):
        hostlib.skip("nginx with libnginx-mod-http-lua is not installed")
    if not os.path.exists(os.path.join(hostlib.module_dir("luajit"), "kms.so")):
        hostlib.skip("the LuaJIT build of kms.so is missing")
    r = hostlib.Report()
    scratch = hostlib.Scratch("kms-nginx-")
    emu = hostlib.Emulator(tls=True, seed=hostlib.SEED_EXAMPLE).start()
    nginx = None
    try:
        port = hostlib.free_port()
        prefix = scratch.path + "/"
        for d in ("conf", "logs", "tmp"):
            os.makedirs(os.path.join(scratch.path, d), exist_ok=True)
        # nginx's workers run as "nobody" when the master is root: give
        # them a readable copy of the emulator's CA (its state dir is 0700)
        os.chmod(scratch.path, 0o755)
        ca = scratch("conf", "kms-ca.pem")
        shutil.copyfile(emu.ca, ca)
        os.chmod(ca, 0o644)
        scratch.write("conf/nginx.conf", config(port, ca))
        env = hostlib.isolated_env(scratch.path, {
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL_KMS": emu.url,
            "KMS_TEST_BACKOFF_SCALE": "0.01",
        })
        args = [NGINX, "-p", prefix, "-c", "conf/nginx.conf", "-e", "logs/error.log"]
        t0 = time.monotonic()
        nginx = hostlib.Host("nginx", args, scratch.path, env, scratch("nginx.out"))
        up = hostlib.wait_port(port, nginx.proc)
        r.check("nginx starts with the example config (%.0f ms)" % ((time.monotonic() - t0) * 1000),
                up, nginx.log() + open(scratch("logs/error.log")).read()
                if os.path.exists(scratch("logs/error.log")) else "")
        if not up:
            return r.done()
        base = "http://127.0.0.1:%d" % port

        def stores():
            emu.clear_requests()
            st, body, _ = hostlib.get(base + "/kms/stores")
            assert st == 200, (st, body)
            assert STORE in body and hostlib.XKS_STORE in body, body
            reqs = emu.requests(operation="DescribeCustomKeyStores")
            assert len(reqs) == 1 and reqs[0]["signature_valid"] is True, reqs
            assert reqs[0]["body"] == "{}", reqs[0]["body"]
            assert reqs[0]["scheme"] == "https", reqs[0]["scheme"]
        r.case("describe through the cosocket, over TLS, signature verified", stores)

        def rename():
            emu.clear_requests()
            st, body, _ = hostlib.get(base + "/kms/rename?store=%s&name=FromNginx" % STORE)
            assert st == 200 and body.startswith("ok"), (st, body)
            reqs = emu.requests(operation="UpdateCustomKeyStore")
            assert len(reqs) == 1, reqs
            assert reqs[0]["signature_valid"] is True, reqs[0]
            want = '{"CustomKeyStoreId": "%s", "NewCustomKeyStoreName": "FromNginx"}' % STORE
            assert reqs[0]["body"] == want, reqs[0]["body"]
            assert emu.store(STORE)["name"] == "FromNginx"
        r.case("update through kms.resty: signed, right body, applied", rename)

        def non_blocking():
            emu.clear_requests()
            emu.faults([{"kind": "slow", "seconds": 2.0, "count": 1,
                         "operation": "UpdateCustomKeyStore"}])
            out = {}

            def slow_update():
                out["res"] = hostlib.get(base + "/kms/rename?store=%s&name=SlowOne" % STORE)
            th = threading.Thread(target=slow_update)
            t = time.monotonic()
            th.start()
            # wait until the emulator holds the update (it records it first)
            deadline = time.monotonic() + 10
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
            st, body, secs = out["res"]
            total = time.monotonic() - t
            print("# pings while the update waited: %s" % ", ".join(
                "%.1f ms" % (p[2] * 1000) for p in pings))
            print("# the update took %.2f s" % secs)
            assert still_waiting, "the update finished before the pings"
            assert all(p[0] == 200 and p[1].startswith("pong") for p in pings), pings
            assert max(p[2] for p in pings) < 0.5, pings
            assert st == 200 and body.startswith("ok"), (st, body)
            assert secs >= 1.9 and total >= 1.9, secs
            # one worker served both
            wp = body.split("worker=")[1].strip()
            assert all(p[1].endswith("worker=" + wp) for p in pings), (wp, pings)
            reqs = emu.requests(operation="UpdateCustomKeyStore")
            assert len(reqs) == 1 and reqs[0]["signature_valid"] is True
        r.case("a slow KMS answer does not block the worker", non_blocking)

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
        r.case("connect through kms.resty", connect)

        def keepalive():
            emu.clear_requests()
            for _ in range(3):
                st, body, _ = hostlib.get(base + "/kms/stores")
                assert st == 200, (st, body)
            reqs = emu.requests(operation="DescribeCustomKeyStores")
            clients = set(q["client"] for q in reqs)
            print("# 3 requests over %d connection(s)" % len(clients))
            assert len(reqs) == 3 and len(clients) == 1, clients
        r.case("the keepalive pool reuses the TLS connection", keepalive)

        def stale():
            # the pooled connection dies without an answer: redone at once
            # on a new connection (as libcurl does), not a failed attempt
            emu.clear_requests()
            emu.faults([{"kind": "drop", "count": 1,
                         "operation": "DescribeCustomKeyStores"}])
            st, body, _ = hostlib.get(base + "/kms/stores")
            assert st == 200, (st, body)
            reqs = emu.requests(operation="DescribeCustomKeyStores")
            assert len(reqs) == 2 and all(q["signature_valid"] for q in reqs), reqs
            assert reqs[0]["client"] != reqs[1]["client"], reqs
        r.case("a pooled connection that died is redone on a new one", stale)

        rc = nginx.stop(signal.SIGQUIT)
        nginx = None
        r.check("nginx stops on SIGQUIT with status 0", rc == 0, "rc=%s" % rc)
        with open(scratch("logs/error.log")) as f:
            log = f.read()
        r.check("no secret in nginx's logs", hostlib.SECRET_KEY not in log
                and "Authorization" not in log, log[-2000:])
        r.check("no Lua error in nginx's logs",
                not re.search(r"\[(alert|crit|emerg)\]|lua entry thread aborted|runtime error",
                              log), log[-2000:])
    finally:
        if nginx is not None:
            nginx.stop(signal.SIGQUIT)
        emu_rc = emu.stop()
        if emu_rc not in (0, None):
            print("# emulator exited %s\n%s" % (emu_rc, emu.log()))
    rc = r.done()
    scratch.finish(rc == 0)
    return rc


if __name__ == "__main__":
    sys.exit(main())

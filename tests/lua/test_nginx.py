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
import time

import hostcases
import hostlib

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
LUA_MODULE = "/usr/lib/nginx/modules/ngx_http_lua_module.so"
EXAMPLE = os.path.join(hostlib.SOURCE_ROOT, "examples", "openresty")


def config(port, ca):
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
    return hostcases.example_config(os.path.join(EXAMPLE, "nginx.conf"), subs)


def same_worker(pings, update_body):
    """nginx runs one worker here: it served the pings and the update."""
    wp = update_body.split("worker=")[1].strip()
    assert all(p[1].endswith("worker=" + wp) for p in pings), (wp, pings)


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

        hostcases.run(r, emu, base, "kms.resty (cosocket)", "FromNginx",
                      ping_check=same_worker)

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

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
import time

import hostcases
import hostlib

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
EXAMPLE = os.path.join(hostlib.SOURCE_ROOT, "examples", "haproxy")


def config(port, ca):
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
    return hostcases.example_config(os.path.join(EXAMPLE, "haproxy.cfg"), subs)


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

        hostcases.run(r, emu, base, "kms.haproxy (core.httpclient)", "FromHAProxy")

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

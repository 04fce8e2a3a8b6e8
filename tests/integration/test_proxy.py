#!/usr/bin/python3
"""The environment's proxies with both transports (kmsdrive over libcurl
and over the native transport): http endpoints through HTTP_PROXY
(absolute-form), https endpoints through HTTPS_PROXY (a CONNECT tunnel,
TLS verified end to end), NO_PROXY bypassing it; a loopback proxy
(proxy.py) started here and stopped by its pid.

    test_proxy.py PATH/TO/kmsdrive PATH/TO/kmsdrive-native
"""

import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "emulator"))
sys.path.insert(0, HERE)
from harness import Emulator, load_seed_example  # noqa: E402
from nettest import check, driver_env, finish  # noqa: E402

CURL, NATIVE = (os.path.abspath(p) for p in sys.argv[1:3])
HOME = tempfile.mkdtemp(prefix="kms-proxy-test-")
LOG = os.path.join(HOME, "proxy.log")
AKID = "AKIDPROXYTEST0000001"
SECRET = "proxyTestSecretKey/K7MDENG+bPxRfiCYEXAMPLE"
HSM_ID = "cks-1234567890abcdef0"
UPDATE = json.dumps({"CustomKeyStoreId": HSM_ID, "NewCustomKeyStoreName": "ViaProxy"})


def proxy_lines():
    try:
        with open(LOG) as f:
            return f.read().splitlines()
    except OSError:
        return []


def drive(binary, url, env, sets=()):
    e = driver_env(HOME, AKID, SECRET, env)
    argv = [binary, "--set", "endpoint_url=" + url]
    for s in sets:
        argv += ["--set", s]
    p = subprocess.run(argv + ["update-members", UPDATE], env=e, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    try:
        return json.loads(p.stdout.decode())
    except ValueError:
        return {"status": "driver-crash", "message": (p.stdout + p.stderr).decode(errors="replace")}


def through(name, binary, emu, env, want_line, sets=()):
    before = len(proxy_lines())
    n0 = len(emu.requests(operation="UpdateCustomKeyStore"))
    r = drive(binary, emu.url, env, sets)
    new = proxy_lines()[before:]
    reqs = emu.requests(operation="UpdateCustomKeyStore")[n0:]
    check("%s: success" % name, r["status"] == "ok" and r["attempts"] == 1, r)
    check("%s: the signed request reached the emulator" % name,
          len(reqs) == 1 and reqs[0]["signature_valid"] is True, reqs)
    if want_line:
        check("%s: went through the proxy (%s)" % (name, want_line), new == [want_line], new)
    else:
        check("%s: bypassed the proxy" % name, new == [], new)


def main():
    proxy = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "proxy.py"), LOG],
                             stdout=subprocess.PIPE)
    try:
        port = int(proxy.stdout.readline())
        purl = "http://127.0.0.1:%d" % port
        with Emulator(seed=load_seed_example()) as emu:
            emu.add_credentials(AKID, SECRET)
            target = "POST %s/" % emu.url
            for tag, binary in (("curl", CURL), ("native", NATIVE)):
                through("%s http_proxy" % tag, binary, emu, {"http_proxy": purl}, target)
                through("%s NO_PROXY=127.0.0.1" % tag, binary, emu,
                        {"http_proxy": purl, "NO_PROXY": "127.0.0.1"}, None)
                through("%s no_proxy=*" % tag, binary, emu, {"http_proxy": purl, "no_proxy": "*"}, None)
                through("%s no_proxy names another host" % tag, binary, emu,
                        {"http_proxy": purl, "no_proxy": "example.com,.amazonaws.com"}, target)
            # botocore reads the upper-case name too (libcurl does not).
            through("native HTTP_PROXY", NATIVE, emu, {"HTTP_PROXY": purl}, target)
            r = drive(NATIVE, emu.url, {"HTTP_PROXY": "https://127.0.0.1:%d" % port})
            check("native: an https:// proxy is refused, naming the variable",
                  r["status"] == "config" and "HTTP_PROXY" in r["message"] and
                  str(port) not in r["message"], r)
            r = drive(NATIVE, emu.url, {"http_proxy": "http://user:pw@127.0.0.1:%d" % port})
            check("native: proxy credentials are refused, never echoed",
                  r["status"] == "config" and "http_proxy" in r["message"] and "pw" not in r["message"], r)
        with Emulator(tls=True, seed=load_seed_example()) as emu:
            emu.add_credentials(AKID, SECRET)
            authority = emu.url.split("://", 1)[1].rstrip("/")
            for tag, binary in (("curl", CURL), ("native", NATIVE)):
                through("%s HTTPS_PROXY (CONNECT)" % tag, binary, emu, {"HTTPS_PROXY": purl},
                        "CONNECT %s" % authority, sets=["ca_bundle=" + emu.ca])
                through("%s HTTPS_PROXY with NO_PROXY" % tag, binary, emu,
                        {"HTTPS_PROXY": purl, "NO_PROXY": "localhost,127.0.0.1"}, None,
                        sets=["ca_bundle=" + emu.ca])
                r = drive(binary, emu.url, {"HTTPS_PROXY": purl}, sets=["ca_bundle=" + emu.other_ca])
                check("%s: TLS through the tunnel is still verified" % tag, r["status"] == "tls", r)
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
    return finish()


if __name__ == "__main__":
    sys.exit(main())

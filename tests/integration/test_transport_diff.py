#!/usr/bin/python3
"""The native transport against libcurl's, side by side: the same driver
(kmsdrive) linked with each runs the same call against a scripted raw
server on 127.0.0.1, and every field of the outcome (status, message,
attempts, HTTP status, AWS type) must be equal. Covers what the emulator
cannot script: framing (chunked, close-delimited, 1xx, HEAD-less bodies),
garbage status lines, DNS failures, IPv6 literals, a server that is not
TLS or drops the handshake, and hostname or IP mismatches.

    test_transport_diff.py PATH/TO/kmsdrive PATH/TO/kmsdrive-native
"""

import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "emulator"))
sys.path.insert(0, HERE)
from awsemu import make_tls_material  # noqa: E402
from nettest import check, driver_env, finish  # noqa: E402

CURL, NATIVE = (os.path.abspath(p) for p in sys.argv[1:3])
HOME = tempfile.mkdtemp(prefix="kms-transport-diff-")
FIELDS = ("status", "message", "attempts", "http_status", "aws_type", "output")
OK_JSON = b'{"CustomKeyStores":[],"Truncated":false}'


class Raw:
    """Answers every connection with the bytes of `reply` (after reading
    one request), then closes; `reply` may be a function of the socket."""

    def __init__(self, family=socket.AF_INET, host="127.0.0.1", tls=None):
        self.sock = socket.socket(family)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.tls = tls
        self.reply = b""
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.one, args=(c,), daemon=True).start()

    def one(self, c):
        try:
            if self.tls:
                c = self.tls.wrap_socket(c, server_side=True)
            if callable(self.reply):
                self.reply(c)
            else:
                read_request(c)
                c.sendall(self.reply)
        except (OSError, ssl.SSLError):
            pass
        finally:
            c.close()


def read_request(c):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = c.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            n = int(line.split(b":")[1])
            while len(body) < n:
                body += c.recv(65536)
    return data


def drive(binary, url, sets=()):
    env = driver_env(HOME, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                     {"AWS_MAX_ATTEMPTS": "2", "KMS_TEST_BACKOFF_SCALE": "0.01"})
    argv = [binary, "--set", "endpoint_url=" + url]
    for s in sets:
        argv += ["--set", s]
    p = subprocess.run(argv + ["describe"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    try:
        r = json.loads(p.stdout.decode())
    except ValueError:
        return {"status": "driver-crash", "message": (p.stdout + p.stderr).decode(errors="replace")}
    return {k: r.get(k) for k in FIELDS}


def same(name, url, sets=(), want=None):
    a, b = drive(CURL, url, sets), drive(NATIVE, url, sets)
    check("%s: libcurl and native agree" % name, a == b, "curl   %s\n#   native %s" % (a, b))
    if want:
        check("%s: %s" % (name, want), b["status"] == want, b)


def reply(status_line, headers, body):
    return (status_line + "\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n").encode() + body


def main():
    srv = Raw()
    url = "http://127.0.0.1:%d" % srv.port
    cl = "Content-Length: %d" % len(OK_JSON)
    cases = [
        ("content-length", reply("HTTP/1.1 200 OK", [cl], OK_JSON), "ok"),
        ("chunked", reply("HTTP/1.1 200 OK", ["Transfer-Encoding: chunked"],
                          b"5\r\n" + OK_JSON[:5] + b"\r\n" + ("%x" % (len(OK_JSON) - 5)).encode() +
                          b";ext=1\r\n" + OK_JSON[5:] + b"\r\n0\r\nX-Trailer: t\r\n\r\n"), "ok"),
        ("close-delimited", reply("HTTP/1.1 200 OK", ["Connection: close"], OK_JSON), "ok"),
        ("HTTP/1.0", reply("HTTP/1.0 200 OK", [cl], OK_JSON), "ok"),
        ("100 Continue first", reply("HTTP/1.1 100 Continue", [], b"") +
         reply("HTTP/1.1 200 OK", [cl], OK_JSON), "ok"),
        ("chunked 500 error", reply("HTTP/1.1 500 Internal Server Error", ["Transfer-Encoding: chunked"],
                                    b"2b\r\n" + b'{"__type":"KMSInternalException","message":"x"}'[:43] +
                                    b"\r\n4\r\n" + b'"x"}'[-4:] + b"\r\n0\r\n\r\n"), None),
        ("truncated chunked 200", reply("HTTP/1.1 200 OK", ["Transfer-Encoding: chunked"],
                                        b"40\r\n" + OK_JSON[:10]), "response"),
        ("204 no body", reply("HTTP/1.1 204 No Content", [], b""), None),
        ("garbage status line", b"garbage\r\n\r\n", None),
        ("bad status code", b"HTTP/1.1 2x0 OK\r\n\r\n", None),
        ("headers cut short", b"HTTP/1.1 200 OK\r\nContent-Le", None),
        ("empty reply", b"", "connection_closed"),
        ("only an interim 100, then close", b"HTTP/1.1 100 Continue\r\n",
         "connection_closed"),
        ("only an interim 100 with its blank line, then close",
         b"HTTP/1.1 100 Continue\r\n\r\n", "connection_closed"),
    ]
    for name, data, want in cases:
        srv.reply = data
        same(name, url, want=want)

    same("DNS failure", "http://kmscks-no-such-host.invalid", want="connect")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()
    same("connection refused", "http://127.0.0.1:%d" % dead, want="connect")
    try:
        v6 = Raw(socket.AF_INET6, "::1")
        v6.reply = reply("HTTP/1.1 200 OK", [cl], OK_JSON)
        same("IPv6 literal", "http://[::1]:%d" % v6.port, want="ok")
    except OSError:
        print("# no IPv6 loopback: skipped the IPv6 literal case")

    # TLS: not TLS at all, a handshake dropped, names and addresses.
    srv.reply = lambda c: (c.recv(65536), c.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n"))
    same("https to a plain-http server", "https://127.0.0.1:%d" % srv.port, want="tls")
    srv.reply = lambda c: (c.recv(65536), c.shutdown(socket.SHUT_WR), c.recv(65536))
    same("https, closed during the handshake", "https://127.0.0.1:%d" % srv.port, want="tls")
    srv.reply = lambda c: (c.recv(65536), c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                                        b"\x01\x00\x00\x00\x00\x00\x00\x00"))
    same("https, reset during the handshake", "https://127.0.0.1:%d" % srv.port, want="tls")
    mat = make_tls_material(os.path.join(HOME, "tls"), names=("other.example",), ips=("127.0.0.2",))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(mat["cert"], mat["key"])
    tsrv = Raw(tls=ctx)
    tsrv.reply = reply("HTTP/1.1 200 OK", [cl], OK_JSON)
    ca = "ca_bundle=" + mat["ca"]
    same("TLS, IP address mismatch", "https://127.0.0.1:%d" % tsrv.port, [ca], want="tls")
    same("TLS, host name mismatch", "https://localhost:%d" % tsrv.port, [ca], want="tls")
    same("TLS, untrusted CA", "https://127.0.0.1:%d" % tsrv.port, ["ca_bundle=" + mat["other_ca"]],
         want="tls")
    same("TLS, verification off", "https://127.0.0.1:%d" % tsrv.port, ["verify_tls=false"], want="ok")
    bad = os.path.join(HOME, "not-a-ca.pem")
    with open(bad, "w") as f:
        f.write("not a certificate\n")
    same("TLS, CA bundle that is not PEM", "https://127.0.0.1:%d" % tsrv.port, ["ca_bundle=" + bad],
         want="tls")
    return finish()


if __name__ == "__main__":
    sys.exit(main())

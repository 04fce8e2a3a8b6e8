#!/usr/bin/python3
"""A tiny HTTP proxy for test_proxy.py, on 127.0.0.1: CONNECT tunnels and
absolute-form requests (forwarded as they came, header order kept).

    proxy.py LOGFILE      prints its port on stdout, then serves until
                          killed; one "METHOD TARGET" line per request
                          in LOGFILE
"""

import http.client
import select
import socket
import socketserver
import sys
import threading

LOG = sys.argv[1]
lock = threading.Lock()


def log(method, target):
    with lock, open(LOG, "a") as f:
        f.write("%s %s\n" % (method, target))


def pump(a, b):
    socks = [a, b]
    while True:
        r, _, _ = select.select(socks, [], [], 30)
        if not r:
            return
        for s in r:
            try:
                data = s.recv(65536)
                if data:
                    (b if s is a else a).sendall(data)
            except OSError:   # either end reset: the tunnel is over
                return
            if not data:
                return


def split_hostport(hp, default):
    if hp.startswith("["):
        host, _, rest = hp[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default
    host, _, port = hp.partition(":")
    return host, int(port) if port else default


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        while self.one():
            pass

    def one(self):
        line = self.rfile.readline()
        if not line:
            return False
        method, target, version = line.decode("latin-1").split()
        headers = []
        length = 0
        while True:
            h = self.rfile.readline()
            if h in (b"\r\n", b"\n", b""):
                break
            headers.append(h)
            name, _, value = h.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        log(method, target)
        if method == "CONNECT":
            up = socket.create_connection(split_hostport(target, 443))
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.wfile.flush()
            pump(self.connection, up)
            up.close()
            return False
        body = self.rfile.read(length) if length else b""
        rest = target[len("http://"):]
        hp, _, path = rest.partition("/")
        up = socket.create_connection(split_hostport(hp, 80))
        up.sendall(("%s /%s %s\r\n" % (method, path, version)).encode("latin-1") +
                   b"".join(headers) + b"\r\n" + body)
        resp = http.client.HTTPResponse(up, method=method)
        resp.begin()
        data = resp.read()
        out = "HTTP/1.1 %d %s\r\n" % (resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                out += "%s: %s\r\n" % (k, v)
        out += "Content-Length: %d\r\n\r\n" % len(data)
        self.wfile.write(out.encode("latin-1") + data)
        self.wfile.flush()
        up.close()
        return True


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    srv = Server(("127.0.0.1", 0), Handler)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()

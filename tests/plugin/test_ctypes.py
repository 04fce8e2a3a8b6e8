#!/usr/bin/python3
"""kmscks.so from Debian's python3 through ctypes: the FFI path. No data
struct is mirrored but the error buffer: the host struct is NULL,
configuration goes by key/value strings, requests and results are JSON
text, and the operations table is read as what it is by construction, an
8-byte (abi_major, abi_minor) pair followed by pointer-sized slots
(struct_size, name, version, then one function pointer per operation in
the order of kms/plugin.h). Against the KMS emulator: describe, validate,
update, connect/disconnect, errors through the error buffer, and sign
with Python sending the signed request itself and the plugin mapping the
answer (check_response).

    test_ctypes.py PATH/TO/kmscks.so
"""

import ctypes
import http.client
import json
import os
import ssl
import sys
import urllib.parse
from ctypes import POINTER, byref, c_char, c_char_p, c_int, c_int64, c_long, c_size_t, c_uint32, c_void_p

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ptest import (AWS_AKID, AWS_SECRET, HSM_ID, SEED_EXAMPLE, XKS_AKID, XKS_ID, XKS_SECRET,  # noqa: E402
                   Emulator, check, finish, preload_env, sanitizer_runtimes, scan_secrets, skip, workdir,
                   write)

PLUGIN = os.path.abspath(sys.argv[1])

# A sanitizer build of the plugin needs its runtime loaded before
# anything else in this (uninstrumented) python3: run again with it
# preloaded. Under ThreadSanitizer an uninstrumented interpreter is not
# a meaningful host: skip (threads_tsan is the TSan check).
if sanitizer_runtimes(PLUGIN) and not os.environ.get("KMS_CTYPES_PRELOADED"):
    if any("tsan" in lib for lib in sanitizer_runtimes(PLUGIN)):
        skip("a ThreadSanitizer build cannot be loaded into an uninstrumented python3")
    env = dict(os.environ, KMS_CTYPES_PRELOADED="1", **preload_env(PLUGIN))
    os.execve(sys.executable, [sys.executable] + sys.argv, env)
W = workdir("kmscks-ctypes-")
texts = []   # every message and result, for the secret scan

# Status codes of kms.h (kms_status).
OK_, NOMEM, INVALID_ARG, PARSE, VALIDATION, CONFIG = 0, 1, 2, 3, 4, 5
SERVICE = 15


class Error(ctypes.Structure):
    """kms_plugin_error: the one struct an FFI caller mirrors."""
    _fields_ = [("struct_size", c_size_t), ("code", c_int), ("http_status", c_long),
                ("aws_type", c_char * 128), ("request_id", c_char * 128),
                ("message", c_char * 512), ("code_name", c_char * 32), ("attempts", c_int)]

    def new():
        e = Error()
        e.struct_size = ctypes.sizeof(Error)
        return e

    def text(self):
        t = "%s %s: %s" % (self.code_name.decode(), self.aws_type.decode(), self.message.decode())
        texts.append(t)
        return t


PErr = POINTER(Error)
POut = POINTER(c_void_p)
# The operations, in table order, with their C prototypes.
SLOTS = [
    ("create", ctypes.CFUNCTYPE(c_void_p, c_void_p, PErr)),
    ("destroy", ctypes.CFUNCTYPE(None, c_void_p)),
    ("configure_tree", None),
    ("configure_kv", ctypes.CFUNCTYPE(c_int, c_void_p, c_char_p, c_char_p, PErr)),
    ("validate", ctypes.CFUNCTYPE(c_int, c_void_p, c_char_p, c_char_p, POut, PErr)),
    ("sign", ctypes.CFUNCTYPE(c_int, c_void_p, c_char_p, c_char_p, c_int64, POut, PErr)),
    ("check_response", ctypes.CFUNCTYPE(c_int, c_void_p, c_char_p, c_long, c_char_p, c_char_p,
                                        c_size_t, POut, PErr)),
    ("update", ctypes.CFUNCTYPE(c_int, c_void_p, c_char_p, c_char_p, PErr)),
    ("describe", ctypes.CFUNCTYPE(c_int, c_void_p, c_char_p, POut, PErr)),
    ("connect", ctypes.CFUNCTYPE(c_int, c_void_p, c_char_p, PErr)),
    ("disconnect", ctypes.CFUNCTYPE(c_int, c_void_p, c_char_p, PErr)),
    ("free_string", ctypes.CFUNCTYPE(None, c_void_p, c_void_p)),
    ("request_new", None), ("request_set", None), ("request_free", None),
    ("validate_request", None), ("update_request", None),
]
FIRST_OP_SLOT = 4   # after the version pair, struct_size, name, version


class Plugin:
    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        self.entry = self.lib.kms_plugin_entry_v1
        self.entry.restype = c_void_p
        self.entry.argtypes = [c_uint32, c_uint32, PErr]

    def table(self, major=1, minor=0):
        err = Error.new()
        ptr = self.entry(major, minor, byref(err))
        return ptr, err

    def bind(self, ptr):
        versions = ctypes.cast(ptr, POINTER(c_uint32))
        slots = ctypes.cast(ptr, POINTER(c_void_p))
        self.abi = (versions[0], versions[1])
        self.size = slots[1]
        self.name = ctypes.string_at(slots[2]).decode()
        self.version = ctypes.string_at(slots[3]).decode()
        for i, (name, proto) in enumerate(SLOTS):
            if proto and (FIRST_OP_SLOT + i + 1) * 8 <= self.size:
                setattr(self, name, proto(slots[FIRST_OP_SLOT + i]))


def take(plugin, inst, out):
    """The string at out (a char * the plugin handed out), freed."""
    if not out.value:
        return None
    s = ctypes.string_at(out.value).decode()
    plugin.free_string(inst, out.value)
    out.value = None
    texts.append(s)
    return s


p = Plugin(PLUGIN)
ptr, err = p.table(1, 0)
check("entry(1, 0) gives the table", bool(ptr) and err.code == 0, err.text())
p.bind(ptr)
check("the table starts with ABI 1.0 and its size (%d bytes, %d slots)" % (p.size, p.size // 8),
      p.abi == (1, 0) and p.size == (FIRST_OP_SLOT + len(SLOTS)) * 8, (p.abi, p.size))
check("name and version", p.name == "kmscks" and p.version.count(".") == 2, (p.name, p.version))
ptr2, err = p.table(2, 0)
check("entry(2, 0): refused", ptr2 is None and err.code == INVALID_ARG)
check("... with a clear message", "ABI major version 2 is not supported" in err.text(), err.text())
check("entry(1, 3): a newer minor works", p.table(1, 3)[0] == ptr)

secret_file = write(os.path.join(W, "aws-secret"), AWS_SECRET + "\n")

with Emulator(tls=True, seed=SEED_EXAMPLE, connect_delay=0.1, disconnect_delay=0.1) as emu:
    err = Error.new()
    inst = p.create(None, byref(err))
    check("create(NULL host)", bool(inst) and err.code == 0, err.text())
    out = c_void_p()

    # Configuration: kms_config_set names, strings only.
    settings = [("region", "us-east-1"), ("endpoint_url", emu.url), ("ca_bundle", emu.ca),
                ("access_key_id", AWS_AKID), ("secret_access_key_file", secret_file),
                ("config_file", "/dev/null"), ("credentials_file", "/dev/null"),
                ("max_attempts", "2")]
    rcs = [p.configure_kv(inst, k.encode(), v.encode(), byref(err)) for k, v in settings]
    check("configure_kv x%d" % len(settings), rcs == [0] * len(settings), err.text())
    rc = p.configure_kv(inst, b"VerifyTLS", b"true", byref(err))
    check("configure_kv with an unknown key: config error naming it",
          rc == CONFIG and 'unknown setting "VerifyTLS"' in err.text(), err.text())

    # Describe: JSON out.
    rc = p.describe(inst, XKS_ID.encode(), byref(out), byref(err))
    res = json.loads(take(p, inst, out) or "null")
    check("describe: JSON in the API's shape", rc == 0 and res["CustomKeyStores"][0]["CustomKeyStoreId"] == XKS_ID,
          res or err.text())
    store = res["CustomKeyStores"][0] if rc == 0 else {}
    check("... the state", store.get("ConnectionState") == "DISCONNECTED", store)
    rc = p.describe(inst, b"cks-00000000000000000", byref(out), byref(err))
    check("describe a missing store: a modeled error",
          rc == SERVICE and err.aws_type == b"CustomKeyStoreNotFoundException" and err.http_status == 400
          and len(err.request_id) == 36 and out.value is None, err.text())

    # Validate: every problem as JSON.
    bad = {"CustomKeyStoreId": XKS_ID, "XksProxyUriPath": "nope", "KeyStorePassword": "x"}
    rc = p.validate(inst, json.dumps(bad).encode(), None, byref(out), byref(err))
    probs = json.loads(take(p, inst, out) or "[]")
    check("validate: the problems as a list", rc == VALIDATION and len(probs) >= 3, probs)
    check("... each {severity, code, member, message}",
          all(set(x) == {"severity", "code", "member", "message"} for x in probs), probs)
    check("... codes from the core", {"length.min", "pattern", "type.mixed"} <= {x["code"] for x in probs},
          [x["code"] for x in probs])
    rc = p.validate(inst, json.dumps({"CustomKeyStoreId": XKS_ID, "XksProxyUriEndpoint": "https://new.example.com"}
                                     ).encode(), json.dumps(dict(store, ConnectionState="CONNECTED")).encode(),
                    byref(out), byref(err))
    probs = json.loads(take(p, inst, out) or "[]")
    check("validate with a store context: the state rule", rc == VALIDATION and
          [x["code"] for x in probs] == ["context.state"], probs)

    # Bad input through the error buffer.
    rc = p.update(inst, b'{"CustomKeyStoreId": "cks-09876', None, byref(err))
    check("update with truncated JSON: parse error", rc == PARSE and "invalid JSON at offset" in err.text(),
          err.text())
    rc = p.update(inst, b'{"CustomKeyStoreId": ["x"]}', None, byref(err))
    check("update with a list for a string: parse error naming the member",
          rc == PARSE and "CustomKeyStoreId: expected a string" in err.text(), err.text())
    rc = p.update(inst, None, None, byref(err))
    check("update(NULL json): invalid argument", rc == INVALID_ARG and "request_json is NULL" in err.text())
    small = Error.new()
    small.struct_size = 8
    rc = p.update(inst, None, None, byref(small))
    check("an error buffer of 8 bytes: the code is still returned, nothing written",
          rc == INVALID_ARG and small.code == 0 and small.message == b"")
    check("no request reached the emulator so far but the two Describes",
          [r["operation"] for r in emu.requests()] == ["DescribeCustomKeyStores"] * 2)

    # A real update.
    req = {"CustomKeyStoreId": XKS_ID, "NewCustomKeyStoreName": "FromPython",
           "XksProxyAuthenticationCredential": {"AccessKeyId": XKS_AKID, "RawSecretAccessKey": XKS_SECRET}}
    rc = p.update(inst, json.dumps(req).encode(), json.dumps(store).encode(), byref(err))
    check("update: ok", rc == 0 and err.attempts == 1, err.text())
    last = emu.requests(operation="UpdateCustomKeyStore")[-1]
    check("... the emulator verified the signature", last["signature_valid"] is True)
    check("... the body is the JSON given, in order", last["body"] == json.dumps(req), last["body"])
    check("... the store changed", emu.store(XKS_ID)["name"] == "FromPython")

    # Connect and disconnect.
    rc = p.connect(inst, XKS_ID.encode(), byref(err))
    check("connect", rc == 0, err.text())
    emu.wait_state(XKS_ID, "CONNECTED")
    rc = p.connect(inst, HSM_ID.encode(), byref(err))
    check("connect the CloudHSM store too", rc == 0, err.text())
    rc = p.disconnect(inst, XKS_ID.encode(), byref(err))
    check("disconnect", rc == 0, err.text())
    st = emu.wait_state(XKS_ID, "DISCONNECTED")
    check("... the store is DISCONNECTED again", st["state"] == "DISCONNECTED")
    rc = p.disconnect(inst, XKS_ID.encode(), byref(err))
    check("disconnect twice: CustomKeyStoreInvalidStateException",
          rc == SERVICE and err.aws_type == b"CustomKeyStoreInvalidStateException", err.text())

    # Sign, send it ourselves, let the plugin read the answer.
    ctx = ssl.create_default_context(cafile=emu.ca)

    def send(signed, tamper=False):
        u = urllib.parse.urlsplit(signed["url"])
        body = signed["body"].encode()
        if tamper:
            body = body.replace(b"Python", b"Pyth0n")
        conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=10)
        conn.putrequest(signed["method"], u.path or "/", skip_host=True, skip_accept_encoding=True)
        for name, value in signed["headers"]:
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        data = r.read()
        headers = "".join("%s: %s\n" % kv for kv in r.getheaders())
        conn.close()
        return r.status, headers, data

    req = {"CustomKeyStoreId": XKS_ID, "NewCustomKeyStoreName": "SignedByPlugin-SentByPython"}
    rc = p.sign(inst, b"UpdateCustomKeyStore", json.dumps(req).encode(), 0, byref(out), byref(err))
    signed = json.loads(take(p, inst, out) or "{}")
    check("sign: method, url, headers, body", rc == 0 and set(signed) == {"method", "url", "headers", "body"},
          signed or err.text())
    hdrs = dict(signed.get("headers", []))
    check("... signed headers (Authorization, X-Amz-Date, X-Amz-Target)",
          hdrs.get("X-Amz-Target") == "TrentService.UpdateCustomKeyStore" and
          hdrs.get("Authorization", "").startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") and
          "X-Amz-Date" in hdrs, hdrs)
    status, headers, data = send(signed)
    rc = p.check_response(inst, b"UpdateCustomKeyStore", status, headers.encode(), data, len(data),
                          byref(out), byref(err))
    check("Python sent it; check_response: success", status == 200 and rc == 0 and take(p, inst, out) == "{}",
          err.text())
    last = emu.requests(operation="UpdateCustomKeyStore")[-1]
    check("... the emulator verified the signature", last["signature_valid"] is True)
    check("... and applied it", emu.store(XKS_ID)["name"] == "SignedByPlugin-SentByPython")

    rc = p.sign(inst, b"UpdateCustomKeyStore", json.dumps(req).encode(), 0, byref(out), byref(err))
    status, headers, data = send(json.loads(take(p, inst, out)), tamper=True)
    rc = p.check_response(inst, b"UpdateCustomKeyStore", status, headers.encode(), data, len(data),
                          byref(out), byref(err))
    check("a tampered body: check_response maps InvalidSignatureException",
          rc == SERVICE and err.aws_type == b"InvalidSignatureException" and err.http_status == 400
          and len(err.request_id) == 36, err.text())

    rc = p.sign(inst, b"DescribeCustomKeyStores", json.dumps({"CustomKeyStoreName": "ExampleKeyStore"}).encode(),
                0, byref(out), byref(err))
    status, headers, data = send(json.loads(take(p, inst, out)))
    rc = p.check_response(inst, b"DescribeCustomKeyStores", status, headers.encode(), data, len(data),
                          byref(out), byref(err))
    res = json.loads(take(p, inst, out) or "{}")
    check("sign + send + check_response for Describe by name",
          rc == 0 and [s["CustomKeyStoreId"] for s in res.get("CustomKeyStores", [])] == [HSM_ID], res)
    rc = p.sign(inst, b"DescribeCustomKeyStores", b'{"Limit": "ten"}', 0, byref(out), byref(err))
    check("sign Describe with a wrong-typed Limit: parse error", rc == PARSE and "Limit" in err.text())

    # A service fault through update.
    emu.faults([{"kind": "throttle", "operation": "UpdateCustomKeyStore", "count": 5}])
    rc = p.update(inst, json.dumps({"CustomKeyStoreId": XKS_ID, "NewCustomKeyStoreName": "x"}).encode(), None,
                  byref(err))
    check("throttled twice (MaxAttempts 2): ThrottlingException after 2 attempts",
          rc == SERVICE and err.aws_type == b"ThrottlingException" and err.attempts == 2, err.text())
    emu.clear_faults()

    p.destroy(inst)
    check("destroy", True)

scan_secrets("every message and result the plugin handed to Python", "\n".join(texts))
finish()

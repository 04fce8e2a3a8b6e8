"""Shared pieces of the loopback AWS emulators (KMS, STS, ECS, IMDS).

Standard library plus Debian's botocore only.  Nothing here implements
SigV4: verification recomputes the signature with botocore's own
``botocore.auth.SigV4Auth`` over the request as received and compares.

Contents:
  - shared_dir() / load_kms_model(): the current KMS model from the shared
    references (env KMS_SHARED, default <repo>/../shared)
  - ModelValidator: model constraints -> AWS server-side ValidationException
    messages ("1 validation error detected: Value 'x' at 'member' ...")
  - verify_sigv4(): the server side of SigV4, as an AWS front end does it
  - EmulatorHTTPServer / RecordingHandler: ThreadingHTTPServer on loopback,
    HTTP/1.1 keep-alive, TLS handshake in the worker thread, raw header
    capture (names and values exactly as sent, in order)
  - make_tls_material(): a test CA and a server certificate with the openssl
    CLI
  - run_server(): ready-file contract and SIGTERM handling
"""

import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.model
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

SIGV4_TIME_FORMAT = "%Y%m%dT%H%M%SZ"
MAX_SKEW_SECONDS = 300


# --------------------------------------------------------------------------
# the model

def shared_dir():
    d = os.environ.get("KMS_SHARED")
    if d:
        return d
    return os.path.normpath(os.path.join(REPO, "..", "shared"))


def kms_model_path():
    return os.path.join(shared_dir(), "reference", "kms-custom-key-store-model.json")


def load_kms_model_dict():
    with open(kms_model_path(), encoding="utf-8") as f:
        return json.load(f)


def load_kms_model():
    return botocore.model.ServiceModel(load_kms_model_dict(), service_name="kms")


def load_botocore_model(service):
    """A service model from Debian's botocore data (used for STS)."""
    import botocore.loaders
    loader = botocore.loaders.create_loader()
    return botocore.model.ServiceModel(
        loader.load_service_model(service, "service-2"), service_name=service)


# --------------------------------------------------------------------------
# validation with AWS's server-side message shape

class SerializationError(Exception):
    """The body does not deserialize into the input shape (wrong JSON type)."""


def lower_camel(name):
    return name[:1].lower() + name[1:] if name else name


class ModelValidator:
    """Checks a decoded JSON input against a botocore shape.

    Constraint violations are collected, in model member order, as
    "Value 'v' at 'path' failed to satisfy constraint: ..." strings
    (sensitive members show '***').  A value of the wrong JSON type raises
    SerializationError at once, as the AWS JSON deserializer does.  JSON null
    counts as absent.  Unknown members are reported in ``unknown``.
    Patterns must match the whole value (Java ``matches()`` semantics), with
    ASCII character classes; lengths are counted in code points.
    """

    def __init__(self, exemptions=None):
        # exemptions: set of (path, value) pairs that skip constraint checks,
        # e.g. ("xksProxyVpcEndpointServiceName", "") for UpdateCustomKeyStore
        self.exemptions = exemptions or set()

    def validate(self, shape, value):
        self.errors = []
        self.unknown = []
        if value is None:
            value = {}
        self._structure(shape, value, "")
        return self.errors, self.unknown

    # -- helpers
    def _show(self, shape, value):
        if shape.metadata.get("sensitive"):
            return "'***'"
        if isinstance(value, bool):
            return "'%s'" % ("true" if value else "false")
        return "'%s'" % (value,)

    def _fail(self, shape, value, path, constraint):
        shown = "null" if value is None else self._show(shape, value)
        self.errors.append("Value %s at '%s' failed to satisfy constraint: %s" % (shown, path, constraint))

    def _structure(self, shape, value, path):
        if not isinstance(value, dict):
            raise SerializationError(_type_mismatch(value, "structure"))
        members = shape.members
        required = set(shape.required_members)
        for name, mshape in members.items():
            mpath = lower_camel(name) if not path else "%s.%s" % (path, lower_camel(name))
            v = value.get(name)
            if v is None:
                if name in required:
                    self._fail(mshape, None, mpath, "Member must not be null")
                continue
            self._value(mshape, v, mpath)
        for name in value:
            if name not in members:
                self.unknown.append(name if not path else "%s.%s" % (path, name))

    def _value(self, shape, v, path):
        t = shape.type_name
        if t == "structure":
            self._structure(shape, v, path)
        elif t == "string":
            if not isinstance(v, str):
                raise SerializationError(_type_mismatch(v, "string"))
            if (path, v) in self.exemptions:
                return
            m = shape.metadata
            n = len(v)  # code points
            if "min" in m and n < m["min"]:
                self._fail(shape, v, path, "Member must have length greater than or equal to %d" % m["min"])
            if "max" in m and n > m["max"]:
                self._fail(shape, v, path, "Member must have length less than or equal to %d" % m["max"])
            if "pattern" in m and not re.fullmatch(m["pattern"], v, re.ASCII):
                self._fail(shape, v, path, "Member must satisfy regular expression pattern: %s" % m["pattern"])
            if "enum" in m and v not in m["enum"]:
                self._fail(shape, v, path, "Member must satisfy enum value set: [%s]" % ", ".join(m["enum"]))
        elif t in ("integer", "long"):
            if isinstance(v, bool) or not isinstance(v, int):
                if isinstance(v, float) and v.is_integer():
                    v = int(v)
                else:
                    raise SerializationError(_type_mismatch(v, "integer"))
            m = shape.metadata
            if "min" in m and v < m["min"]:
                self._fail(shape, v, path, "Member must have value greater than or equal to %d" % m["min"])
            if "max" in m and v > m["max"]:
                self._fail(shape, v, path, "Member must have value less than or equal to %d" % m["max"])
        elif t == "boolean":
            if not isinstance(v, bool):
                raise SerializationError(_type_mismatch(v, "boolean"))
        elif t == "list":
            if not isinstance(v, list):
                raise SerializationError(_type_mismatch(v, "list"))
            m = shape.metadata
            if "min" in m and len(v) < m["min"]:
                self._fail(shape, v, path, "Member must have length greater than or equal to %d" % m["min"])
            if "max" in m and len(v) > m["max"]:
                self._fail(shape, v, path, "Member must have length less than or equal to %d" % m["max"])
            for i, item in enumerate(v):
                if item is not None:
                    self._value(shape.member, item, "%s.%d.member" % (path, i + 1))
        elif t == "timestamp":
            if isinstance(v, bool) or not isinstance(v, (int, float, str)):
                raise SerializationError(_type_mismatch(v, "timestamp"))
        # blobs, maps: not used by the custom key store operations


def _json_kind(v):
    if isinstance(v, bool):
        return "VALUE_TRUE" if v else "VALUE_FALSE"
    if isinstance(v, str):
        return "VALUE_STRING"
    if isinstance(v, int):
        return "VALUE_NUMBER_INT"
    if isinstance(v, float):
        return "VALUE_NUMBER_FLOAT"
    if isinstance(v, list):
        return "START_ARRAY"
    if isinstance(v, dict):
        return "START_OBJECT"
    return "VALUE_NULL"


def _type_mismatch(v, expected):
    kind = _json_kind(v)
    if expected == "structure":
        return "Start of structure or map found where not expected." if kind == "START_OBJECT" \
            else "Unexpected token %s: expected START_OBJECT" % kind
    names = {"string": "String", "integer": "Integer", "boolean": "Boolean",
             "list": "List", "timestamp": "Timestamp"}
    if kind == "START_OBJECT":
        return "Start of structure or map found where not expected."
    if kind == "START_ARRAY":
        return "Start of list found where not expected"
    return "%s can not be converted to %s %s" % (
        kind.replace("VALUE_", ""), "an" if expected == "integer" else "a", names.get(expected, expected))


def validation_message(errors):
    n = len(errors)
    head = "1 validation error detected: " if n == 1 else "%d validation errors detected: " % n
    return head + "; ".join(errors)


# --------------------------------------------------------------------------
# SigV4, server side, with botocore's signer

class _ReceivedRequestSigner(SigV4Auth):
    """botocore's SigV4Auth, told which headers the client signed.

    An AWS front end signs exactly the headers named in SignedHeaders; botocore
    picks them itself when it signs, so only the selection is overridden.
    Canonical request, string to sign and signature are botocore's own code.
    """

    def __init__(self, credentials, service_name, region_name, signed_names):
        super().__init__(credentials, service_name, region_name)
        self._signed_names = list(signed_names)

    def headers_to_sign(self, request):
        header_map = HTTPHeaders()
        wanted = set(self._signed_names)
        for name, value in request.headers.items():
            if name.lower() in wanted:
                header_map[name.lower()] = value
        return header_map


class AuthError(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class AuthResult:
    def __init__(self):
        self.access_key_id = None
        self.signature_valid = None   # None: could not be computed
        self.error = None             # AuthError or None
        self.canonical_request = None
        self.string_to_sign = None
        self.credential = None
        self.region = None
        self.service = None


def header_get(headers, name):
    """First value of a header (case-insensitive) from a list of pairs."""
    lname = name.lower()
    for n, v in headers:
        if n.lower() == lname:
            return v
    return None


def parse_authorization(value):
    """AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...

    Returns (algorithm, {Credential, SignedHeaders, Signature}).
    """
    value = value.strip()
    algorithm, _, rest = value.partition(" ")
    params = {}
    for part in rest.split(","):
        part = part.strip()
        if not part:
            continue
        k, eq, v = part.partition("=")
        if eq:
            params[k.strip()] = v.strip()
    return algorithm, params


def format_amz_date(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime(SIGV4_TIME_FORMAT)


def verify_sigv4(method, path, headers, body, scheme, lookup, now, service,
                 region=None, flavour="json"):
    """Authenticate a request the way an AWS front end does.

    headers: list of (name, value) as received.  lookup(akid) returns a dict
    {secret_access_key, session_token, expiration (epoch or None)} or None.
    now: the service's clock (epoch seconds, skew included).  region: the
    only region accepted in the scope (None: any).  flavour "json" gives the
    JSON-protocol error codes (KMS), "query" the Query-protocol ones (STS).
    Returns an AuthResult whose .error is None when the request is
    authentic.  signature_valid is computed whenever the credential is known,
    independently of the other checks, for the request log.
    """
    res = AuthResult()
    q = flavour == "query"
    auth = header_get(headers, "Authorization")
    if auth is None:
        res.error = AuthError("MissingAuthenticationToken" if q else "MissingAuthenticationTokenException",
                              "Request is missing Authentication Token" if q else "Missing Authentication Token",
                              403 if q else 400)
        return res
    algorithm, params = parse_authorization(auth)
    amz_date = header_get(headers, "X-Amz-Date")
    if algorithm != "AWS4-HMAC-SHA256":
        if algorithm.startswith("AWS4-"):
            msg = "Unsupported AWS 'algorithm': '%s'" % algorithm
        else:
            msg = ("Authorization header requires 'Credential' parameter. "
                   "Authorization header requires 'Signature' parameter. "
                   "Authorization header requires 'SignedHeaders' parameter. "
                   "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
                   "Authorization=%s" % auth)
        res.error = AuthError("IncompleteSignature" if q else "IncompleteSignatureException", msg, 400)
        return res
    missing = []
    for p in ("Credential", "Signature", "SignedHeaders"):
        if p not in params:
            missing.append("Authorization header requires '%s' parameter." % p)
    if amz_date is None:
        missing.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    if missing:
        res.error = AuthError("IncompleteSignature" if q else "IncompleteSignatureException",
                              " ".join(missing) + " Authorization=%s" % auth, 400)
        return res
    cred_parts = params["Credential"].split("/")
    if len(cred_parts) != 5:
        res.error = AuthError("IncompleteSignature" if q else "IncompleteSignatureException",
                              "Credential must have exactly 5 slash-delimited elements, "
                              "e.g. keyid/date/region/service/term, got '%s'" % params["Credential"], 400)
        return res
    akid, scope_date, scope_region, scope_service, terminator = cred_parts
    res.access_key_id = akid
    res.region = scope_region
    res.service = scope_service
    try:
        req_time = datetime.datetime.strptime(amz_date, SIGV4_TIME_FORMAT).replace(
            tzinfo=datetime.timezone.utc).timestamp()
    except ValueError:
        res.error = AuthError("IncompleteSignature" if q else "IncompleteSignatureException",
                              "Date must be in ISO-8601 'basic format'. Got '%s'. "
                              "See http://en.wikipedia.org/wiki/ISO_8601" % amz_date, 400)
        return res

    cred = lookup(akid)
    if cred is None:
        res.error = AuthError("InvalidClientTokenId" if q else "UnrecognizedClientException",
                              "The security token included in the request is invalid.", 403 if q else 400)
        return res
    res.credential = cred

    # The signature itself, with botocore.
    signed_names = [n.strip().lower() for n in params["SignedHeaders"].split(";") if n.strip()]
    host = header_get(headers, "Host") or "localhost"
    req = AWSRequest(method=method, url="%s://%s%s" % (scheme, host, path), data=body or b"")
    for n, v in headers:
        req.headers[n] = v
    req.context["timestamp"] = amz_date
    signer = _ReceivedRequestSigner(
        Credentials(akid, cred["secret_access_key"], cred.get("session_token")),
        scope_service, scope_region, signed_names)
    try:
        canonical = signer.canonical_request(req)
        sts = signer.string_to_sign(req, canonical)
        expected = signer.signature(sts, req)
        res.canonical_request = canonical
        res.string_to_sign = sts
        given = params["Signature"]
        res.signature_valid = hmac.compare_digest(expected.encode(), given.encode())
        claimed = header_get(headers, "X-Amz-Content-SHA256")
        if claimed is not None and claimed != "UNSIGNED-PAYLOAD" and \
                claimed != hashlib.sha256(body or b"").hexdigest():
            res.signature_valid = False
    except Exception as e:  # a request botocore cannot canonicalize
        res.signature_valid = False
        res.canonical_request = "<%s>" % e

    # Session token.
    token = header_get(headers, "X-Amz-Security-Token")
    want = cred.get("session_token")
    if (want or token) and token != want:
        res.error = AuthError("InvalidClientTokenId" if q else "UnrecognizedClientException",
                              "The security token included in the request is invalid.", 403 if q else 400)
        return res
    exp = cred.get("expiration")
    if exp is not None and now >= exp:
        res.error = AuthError("ExpiredToken" if q else "ExpiredTokenException",
                              "The security token included in the request is expired", 403 if q else 400)
        return res

    sig_code = "SignatureDoesNotMatch" if q else "InvalidSignatureException"
    sig_status = 403 if q else 400
    # Scope.
    if scope_date != amz_date[:8]:
        res.error = AuthError(sig_code,
                              "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                              "date from HTTP: '%s' != '%s', from '%s'." % (scope_date, amz_date[:8], amz_date),
                              sig_status)
        return res
    if region is not None and scope_region != region:
        res.error = AuthError(sig_code, "Credential should be scoped to a valid region. ", sig_status)
        return res
    if scope_service != service:
        res.error = AuthError(sig_code, "Credential should be scoped to correct service: '%s'. " % service,
                              sig_status)
        return res
    if terminator != "aws4_request":
        res.error = AuthError(sig_code, "Credential should be scoped with a valid terminator: "
                              "'aws4_request', not '%s'. " % terminator, sig_status)
        return res
    if "host" not in signed_names:
        res.error = AuthError(sig_code, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
                              sig_status)
        return res

    # Clock: five minutes either way.
    if req_time < now - MAX_SKEW_SECONDS:
        res.error = AuthError(sig_code, "Signature expired: %s is now earlier than %s (%s - 5 min.)" % (
            amz_date, format_amz_date(now - MAX_SKEW_SECONDS), format_amz_date(now)), sig_status)
        return res
    if req_time > now + MAX_SKEW_SECONDS:
        res.error = AuthError(sig_code, "Signature not yet current: %s is still later than %s (%s + 5 min.)" % (
            amz_date, format_amz_date(now + MAX_SKEW_SECONDS), format_amz_date(now)), sig_status)
        return res

    if not res.signature_valid:
        res.error = AuthError(
            sig_code,
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
            "\n\nThe Canonical String for this request should have been\n'%s'\n\n"
            "The String-to-Sign should have been\n'%s'\n" % (res.canonical_request, res.string_to_sign),
            sig_status)
        return res
    return res


# --------------------------------------------------------------------------
# HTTP server

class _HeaderRecorder:
    """Wraps rfile while http.client parses headers, keeping the raw lines."""

    def __init__(self, f):
        self._f = f
        self.lines = []

    def readline(self, *a):
        line = self._f.readline(*a)
        self.lines.append(line)
        return line

    def __getattr__(self, name):
        return getattr(self._f, name)


def raw_header_pairs(lines):
    pairs = []
    for raw in lines:
        text = raw.decode("latin-1")
        if text in ("\r\n", "\n", ""):
            break
        text = text.rstrip("\r\n")
        if text[:1] in (" ", "\t") and pairs:
            pairs[-1][1] = (pairs[-1][1] + " " + text.strip()).strip()
            continue
        name, _, value = text.partition(":")
        pairs.append([name, value.strip(" \t")])
    return pairs


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr, handler, app, tls_context=None):
        self.app = app
        self.tls_context = tls_context
        self.stats_lock = threading.Lock()
        self.stats = {"connections": 0, "tls_handshake_failures": 0}
        super().__init__(addr, handler)
        if tls_context is not None:
            self.socket = tls_context.wrap_socket(self.socket, server_side=True,
                                                  do_handshake_on_connect=False)

    def bump(self, key):
        with self.stats_lock:
            self.stats[key] = self.stats.get(key, 0) + 1

    def handle_error(self, request, client_address):
        if os.environ.get("KMS_EMULATOR_DEBUG"):
            super().handle_error(request, client_address)


class RecordingHandler(BaseHTTPRequestHandler):
    """BaseHTTPRequestHandler with raw headers, body reading and raw replies.

    Subclasses implement handle_request(); self.raw_headers holds [name,
    value] pairs exactly as received.
    """

    protocol_version = "HTTP/1.1"
    timeout = 120
    server_version = "kms-emulator"
    sys_version = ""

    def setup(self):
        self.server.bump("connections")
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(30)
            try:
                self.request.do_handshake()
            except (ssl.SSLError, OSError):
                self.server.bump("tls_handshake_failures")
                raise
        super().setup()
        self._dead = False

    def finish(self):
        if getattr(self, "_dead", False):
            return
        try:
            super().finish()
        except OSError:
            pass

    def parse_request(self):
        rec = _HeaderRecorder(self.rfile)
        orig = self.rfile
        self.rfile = rec
        try:
            ok = super().parse_request()
        finally:
            self.rfile = orig
        self.raw_headers = raw_header_pairs(rec.lines)
        return ok

    def log_message(self, fmt, *args):
        if os.environ.get("KMS_EMULATOR_DEBUG"):
            sys.stderr.write("%s - %s\n" % (self.address_string(), fmt % args))

    @property
    def scheme(self):
        return "https" if isinstance(self.request, ssl.SSLSocket) else "http"

    def read_body(self):
        te = header_get(self.raw_headers, "Transfer-Encoding")
        if te and "chunked" in te.lower():
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    break
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while True:  # trailers
                        t = self.rfile.readline(65537)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        n = header_get(self.raw_headers, "Content-Length")
        if n is None:
            return b""
        try:
            n = int(n)
        except ValueError:
            return b""
        return self.rfile.read(n) if n > 0 else b""

    def send_raw(self, status, body, headers, reason=None, content_length=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response_only(status, reason)
        for n, v in headers:
            self.send_header(n, v)
        self.send_header("Date", self.date_time_string(self.server.app.now()))
        self.send_header("Content-Length", str(len(body) if content_length is None else content_length))
        self.end_headers()
        try:
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def drop(self):
        """Close without a response (FIN)."""
        self.close_connection = True
        self._dead = True
        try:
            self.wfile.flush()
        except OSError:
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.connection.close()
        except OSError:
            pass

    def reset(self):
        """Close with a TCP RST (SO_LINGER 0)."""
        self.close_connection = True
        self._dead = True
        try:
            sock = self.connection
            raw = sock
            if isinstance(sock, ssl.SSLSocket):
                # Linger applies to the descriptor; close the raw socket
                # without a TLS close_notify.
                raw = socket.socket(fileno=sock.detach())
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            raw.close()
        except OSError:
            pass

    def do_GET(self):
        self.handle_request()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET


# --------------------------------------------------------------------------
# TLS material with the openssl CLI

def make_tls_material(directory, names=("localhost",), ips=("127.0.0.1",)):
    """A test CA, a server certificate for the names/IPs, and an unrelated CA.

    Returns dict(ca, cert, key, other_ca).
    """
    os.makedirs(directory, exist_ok=True)
    p = lambda n: os.path.join(directory, n)
    run = lambda *a: subprocess.run(a, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for prefix, cn in (("ca", "kmscks test CA"), ("other-ca", "kmscks unrelated CA")):
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
            "-keyout", p(prefix + ".key"), "-out", p(prefix + ".pem"), "-days", "7",
            "-subj", "/O=kmscks tests/CN=" + cn,
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-addext", "subjectKeyIdentifier=hash")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-sha256",
        "-keyout", p("server.key"), "-out", p("server.csr"), "-subj", "/O=kmscks tests/CN=" + names[0])
    san = ",".join(["DNS:" + n for n in names] + ["IP:" + i for i in ips])
    with open(p("server.ext"), "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectKeyIdentifier=hash\n"
                "authorityKeyIdentifier=keyid,issuer\n"
                "subjectAltName=%s\n" % san)
    run("openssl", "x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
        "-CAcreateserial", "-out", p("server.pem"), "-days", "7", "-sha256", "-extfile", p("server.ext"))
    return {"ca": p("ca.pem"), "cert": p("server.pem"), "key": p("server.key"), "other_ca": p("other-ca.pem")}


def server_tls_context(material):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(material["cert"], material["key"])
    return ctx


# --------------------------------------------------------------------------
# running a server: ready file, SIGTERM

def write_ready(path, info):
    line = json.dumps(info) + "\n"
    sys.stdout.write(line)
    sys.stdout.flush()
    if path:
        tmp = path + ".tmp.%d" % os.getpid()
        with open(tmp, "w") as f:
            f.write(line)
        os.replace(tmp, path)


def prepare_state_dir(state_dir):
    """Returns (dir, created_by_us)."""
    if state_dir:
        os.makedirs(state_dir, exist_ok=True)
        return state_dir, False
    return tempfile.mkdtemp(prefix="kms-emulator-"), True


def run_server(httpd, ready_file, info, cleanup=None):
    """Serve until SIGTERM/SIGINT; exit 0 cleanly."""
    stopping = threading.Event()

    def on_signal(signum, frame):
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # A test harness names its own pid here: if the test dies without
    # stopping us (killed on a timeout), we stop too rather than linger.
    watch = os.environ.get("KMS_EMULATOR_WATCH_PID")
    if watch:
        def watchdog(pid=int(watch)):
            while not stopping.is_set():
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    on_signal(signal.SIGTERM, None)
                    return
                except PermissionError:
                    pass
                time.sleep(0.5)
        threading.Thread(target=watchdog, daemon=True).start()
    write_ready(ready_file, info)
    try:
        httpd.serve_forever(poll_interval=0.2)
    finally:
        try:
            httpd.server_close()
        except OSError:
            pass
        if cleanup:
            cleanup()
    return 0


def iso8601(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value):
    """Epoch seconds from a number or an ISO 8601 string."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    s = str(value).strip()
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    dt = datetime.datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return dt.timestamp()


def json_bytes(obj):
    return json.dumps(obj).encode("utf-8")


def b64(data):
    return base64.b64encode(data).decode("ascii")


def remove_tree(path):
    shutil.rmtree(path, ignore_errors=True)

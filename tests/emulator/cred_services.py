#!/usr/bin/python3
"""Loopback credential services: STS, ECS container credentials, EC2 IMDSv2.

  /usr/bin/python3 tests/emulator/cred_services.py --port 0 [--tls]
      [--ready-file F] [--kms-control URL] [--kms-ca PEM]
      [--expiration-seconds N] [--role-name NAME] [--ecs-token TOKEN]
      [--web-identity-token TOKEN] [--state-dir DIR] [--cleanup]

One process serves all three on one port (same start contract as
kms_emulator.py); the ready line adds "sts", "ecs" and "imds" URLs:
  STS   POST /           Query protocol (Action=AssumeRole | AssumeRoleWithWebIdentity |
                         GetCallerIdentity), XML replies in AWS's shape.  AssumeRole and
                         GetCallerIdentity must carry a SigV4 signature (service sts),
                         verified with botocore; AssumeRoleWithWebIdentity is unsigned
                         and checks the token (the token file's contents).
  ECS   GET /ecs/credentials, GET /v2/credentials/<anything>
                         optional Authorization token check; JSON credentials.
  IMDS  PUT /latest/api/token (X-aws-ec2-metadata-token-ttl-seconds), then
        GET /latest/meta-data/iam/security-credentials/ and .../<role>
                         with X-aws-ec2-metadata-token.
Every credential issued is registered with the KMS emulator through
--kms-control (its /__emulator URL), with its expiration, so KMS accepts it
until it expires.  Control API under /__emulator/ (see README.md).
"""

import argparse
import json
import os
import secrets
import ssl
import string
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from xml.sax.saxutils import escape

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import awsemu  # noqa: E402

CONTROL_PREFIX = "/__emulator"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
DEFAULT_ACCESS_KEY = "AKIDEXAMPLE"
DEFAULT_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

DEFAULT_CONFIG = {
    "expiration_seconds": None,     # None: DurationSeconds or 3600 (STS), 3600 (ECS, IMDS)
    "role_name": "kmscks-test-role",
    "account_id": "111122223333",
    "ecs_token": None,              # required Authorization header value for ECS, when set
    "web_identity_token": None,     # the token AssumeRoleWithWebIdentity accepts, when set
    "imds_v1": False,               # allow IMDS GETs without a session token
    "region": None,                 # the only region STS accepts in the scope (None: any)
    "time_skew": 0.0,
    "kms_control": None,
    "kms_ca": None,
}


def _rand(alphabet, n):
    return "".join(secrets.choice(alphabet) for _ in range(n))


class CredApp:
    def __init__(self, overrides):
        self.lock = threading.RLock()
        self.overrides = overrides
        self.reset()

    def reset(self):
        with self.lock:
            self.config = dict(DEFAULT_CONFIG)
            self.config.update(self.overrides)
            self.credentials = {DEFAULT_ACCESS_KEY: {"secret_access_key": DEFAULT_SECRET_KEY,
                                                     "session_token": None, "expiration": None}}
            self.issued = []
            self.counts = {"sts": {"AssumeRole": 0, "AssumeRoleWithWebIdentity": 0, "GetCallerIdentity": 0,
                                   "errors": 0},
                           "ecs": {"credentials": 0, "errors": 0},
                           "imds": {"token": 0, "role_list": 0, "credentials": 0, "errors": 0}}
            self.imds_tokens = {}
            self.faults = []
            self.requests = []
            self.seq = 0

    def now(self):
        return time.time() + float(self.config.get("time_skew") or 0.0)

    def lookup(self, akid):
        with self.lock:
            c = self.credentials.get(akid)
            return dict(c) if c else None

    def take_fault(self, service):
        with self.lock:
            for f in self.faults:
                if f.get("service") and f["service"] != service:
                    continue
                f["remaining"] -= 1
                if f["remaining"] <= 0:
                    self.faults.remove(f)
                return dict(f)
        return None

    def issue(self, source, duration=None):
        exp_len = self.config.get("expiration_seconds")
        if exp_len is None:
            exp_len = duration or 3600
        now = time.time()
        cred = {"access_key_id": "ASIA" + _rand(string.ascii_uppercase + "234567", 16),
                "secret_access_key": _rand(string.ascii_letters + string.digits + "+/", 40),
                "session_token": "IQoJb3JpZ2luX2VjE" + _rand(string.ascii_letters + string.digits + "+/", 300),
                "expiration": now + float(exp_len), "source": source, "issued_at": now, "registered": None}
        with self.lock:
            self.credentials[cred["access_key_id"]] = {"secret_access_key": cred["secret_access_key"],
                                                       "session_token": cred["session_token"],
                                                       "expiration": cred["expiration"]}
            self.issued.append(cred)
        cred["registered"] = self.register_with_kms(cred)
        return cred

    def register_with_kms(self, cred):
        url = self.config.get("kms_control")
        if not url:
            return None
        url = url.rstrip("/")
        if not url.endswith(CONTROL_PREFIX):
            url += CONTROL_PREFIX
        body = json.dumps({"access_key_id": cred["access_key_id"], "secret_access_key": cred["secret_access_key"],
                           "session_token": cred["session_token"], "expiration": cred["expiration"]}).encode()
        req = urllib.request.Request(url + "/credentials", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        ctx = None
        if url.startswith("https"):
            ca = self.config.get("kms_ca")
            ctx = ssl.create_default_context(cafile=ca) if ca else ssl._create_unverified_context()
        try:
            with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
                return r.status == 200
        except Exception as e:
            sys.stderr.write("cred_services: could not register %s with KMS at %s: %s\n"
                             % (cred["access_key_id"], url, e))
            return False


def sts_error_xml(code, message, sender=True):
    rid = str(uuid.uuid4())
    return rid, ('<ErrorResponse xmlns="%s">\n  <Error>\n    <Type>%s</Type>\n    <Code>%s</Code>\n'
                 '    <Message>%s</Message>\n  </Error>\n  <RequestId>%s</RequestId>\n</ErrorResponse>\n'
                 % (STS_NS, "Sender" if sender else "Receiver", escape(code), escape(message), rid))


class CredHandler(awsemu.RecordingHandler):
    server_version = "cred-services"

    def handle_request(self):
        app = self.server.app
        path = self.path
        body = self.read_body()
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            return self.control(path[len(CONTROL_PREFIX):] or "/", body)
        if path.startswith("/latest/"):
            service = "imds"
        elif self.command == "GET" and (path.startswith("/ecs/") or path.startswith("/v2/credentials")):
            service = "ecs"
        else:
            service = "sts"
        with app.lock:
            app.seq += 1
            entry = {"seq": app.seq, "time": time.time(), "service": service, "method": self.command,
                     "path": path, "headers": [list(h) for h in self.raw_headers],
                     "body": body.decode("utf-8", "replace"), "status": None, "error": None,
                     "signature_valid": None, "fault": None}
            app.requests.append(entry)
        fault = app.take_fault(service)
        if fault:
            entry["fault"] = fault["kind"]
            if fault["kind"] == "slow":
                time.sleep(float(fault["seconds"]))
            elif fault["kind"] == "drop":
                return self.drop()
            elif fault["kind"] == "reset":
                return self.reset()
            elif fault["kind"] == "status":
                raw = fault.get("body", "")
                entry["status"] = int(fault["status"])
                return self.send_raw(int(fault["status"]), raw,
                                     [("Content-Type", fault.get("content_type", "text/plain"))])
        getattr(self, service)(path, body, entry)

    def reply(self, entry, status, body, ctype, extra=()):
        entry["status"] = status
        self.send_raw(status, body, [("Content-Type", ctype)] + list(extra))

    # -- STS
    def sts_error(self, entry, status, code, message):
        app = self.server.app
        with app.lock:
            app.counts["sts"]["errors"] += 1
        entry["error"] = code
        rid, xml = sts_error_xml(code, message, status < 500)
        self.reply(entry, status, xml, "text/xml", [("x-amzn-RequestId", rid)])

    def sts(self, path, body, entry):
        app = self.server.app
        if self.command != "POST":
            return self.sts_error(entry, 400, "InvalidAction", "Could not find operation %s for version NO_VERSION_SPECIFIED"
                                  % self.command)
        form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        action = form.get("Action")
        if action not in ("AssumeRole", "AssumeRoleWithWebIdentity", "GetCallerIdentity"):
            return self.sts_error(entry, 400, "InvalidAction",
                                  "Could not find operation %s for version %s" % (action, form.get("Version")))
        if action != "AssumeRoleWithWebIdentity":
            auth = awsemu.verify_sigv4(self.command, path, self.raw_headers, body, self.scheme, app.lookup,
                                       app.now(), "sts", region=app.config.get("region"), flavour="query")
            entry["signature_valid"] = auth.signature_valid
            if auth.error:
                return self.sts_error(entry, auth.error.status, auth.error.code, auth.error.message)
            caller = auth.access_key_id
        errors = self.sts_validate(action, form)
        if errors:
            return self.sts_error(entry, 400, "ValidationException", awsemu.validation_message(errors))
        with app.lock:
            app.counts["sts"][action] += 1
        acct = app.config["account_id"]
        rid = str(uuid.uuid4())
        if action == "GetCallerIdentity":
            xml = ('<GetCallerIdentityResponse xmlns="%s">\n  <GetCallerIdentityResult>\n'
                   '    <Arn>arn:aws:iam::%s:user/kmscks-test</Arn>\n    <UserId>%s</UserId>\n'
                   '    <Account>%s</Account>\n  </GetCallerIdentityResult>\n  <ResponseMetadata>\n'
                   '    <RequestId>%s</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n'
                   % (STS_NS, acct, escape(caller), acct, rid))
            return self.reply(entry, 200, xml, "text/xml", [("x-amzn-RequestId", rid)])
        role_arn = form["RoleArn"]
        session = form["RoleSessionName"]
        role = role_arn.rsplit("/", 1)[-1]
        duration = int(form["DurationSeconds"]) if form.get("DurationSeconds") else None
        if action == "AssumeRoleWithWebIdentity":
            want = app.config.get("web_identity_token")
            if want is not None and form["WebIdentityToken"] != want:
                return self.sts_error(entry, 400, "InvalidIdentityToken",
                                      "The web identity token that was passed could not be validated by AWS. "
                                      "Get a new identity token from the identity provider and then retry the "
                                      "request.")
        cred = app.issue(action, duration)
        role_id = "AROA" + _rand(string.ascii_uppercase + string.digits, 17)
        user = ('    <AssumedRoleUser>\n      <AssumedRoleId>%s:%s</AssumedRoleId>\n'
                '      <Arn>arn:aws:sts::%s:assumed-role/%s/%s</Arn>\n    </AssumedRoleUser>\n'
                % (role_id, escape(session), acct, escape(role), escape(session)))
        exp = awsemu.iso8601(cred["expiration"])
        if action == "AssumeRole":
            source = ('    <SourceIdentity>%s</SourceIdentity>\n' % escape(form["SourceIdentity"])
                      if form.get("SourceIdentity") else "")
            packed = ('    <PackedPolicySize>6</PackedPolicySize>\n' if form.get("Policy") else "")
            xml = ('<AssumeRoleResponse xmlns="%s">\n  <AssumeRoleResult>\n%s%s'
                   '    <Credentials>\n      <AccessKeyId>%s</AccessKeyId>\n'
                   '      <SecretAccessKey>%s</SecretAccessKey>\n      <SessionToken>%s</SessionToken>\n'
                   '      <Expiration>%s</Expiration>\n    </Credentials>\n%s  </AssumeRoleResult>\n'
                   '  <ResponseMetadata>\n    <RequestId>%s</RequestId>\n  </ResponseMetadata>\n'
                   '</AssumeRoleResponse>\n'
                   % (STS_NS, source, user, cred["access_key_id"], escape(cred["secret_access_key"]),
                      escape(cred["session_token"]), exp, packed, rid))
        else:
            xml = ('<AssumeRoleWithWebIdentityResponse xmlns="%s">\n  <AssumeRoleWithWebIdentityResult>\n'
                   '    <SubjectFromWebIdentityToken>kmscks-test-subject</SubjectFromWebIdentityToken>\n'
                   '    <Audience>sts.amazonaws.com</Audience>\n%s'
                   '    <Credentials>\n      <SessionToken>%s</SessionToken>\n'
                   '      <SecretAccessKey>%s</SecretAccessKey>\n      <Expiration>%s</Expiration>\n'
                   '      <AccessKeyId>%s</AccessKeyId>\n    </Credentials>\n'
                   '    <Provider>%s</Provider>\n  </AssumeRoleWithWebIdentityResult>\n'
                   '  <ResponseMetadata>\n    <RequestId>%s</RequestId>\n  </ResponseMetadata>\n'
                   '</AssumeRoleWithWebIdentityResponse>\n'
                   % (STS_NS, user, escape(cred["session_token"]), escape(cred["secret_access_key"]), exp,
                      cred["access_key_id"], escape(form.get("ProviderId") or "kmscks.test.idp"), rid))
        self.reply(entry, 200, xml, "text/xml", [("x-amzn-RequestId", rid)])

    def sts_validate(self, action, form):
        model = self.server.sts_model
        shape = model.operation_model(action).input_shape
        params = {}
        for name, mshape in shape.members.items():
            if name in form:
                v = form[name]
                if mshape.type_name in ("integer", "long"):
                    try:
                        v = int(v)
                    except ValueError:
                        pass
                if mshape.type_name in ("string", "integer", "long"):
                    params[name] = v
        try:
            errors, _ = awsemu.ModelValidator().validate(shape, params)
        except awsemu.SerializationError as e:
            return [str(e)]
        return errors

    # -- ECS
    def ecs(self, path, body, entry):
        app = self.server.app
        want = app.config.get("ecs_token")
        if want is not None and awsemu.header_get(self.raw_headers, "Authorization") != want:
            with app.lock:
                app.counts["ecs"]["errors"] += 1
            entry["error"] = "AccessDenied"
            return self.reply(entry, 401, json.dumps({"code": "AccessDenied",
                                                      "message": "Authorization token is missing or invalid"}),
                              "application/json")
        with app.lock:
            app.counts["ecs"]["credentials"] += 1
        cred = app.issue("ecs")
        out = {"RoleArn": "arn:aws:iam::%s:role/%s" % (app.config["account_id"], app.config["role_name"]),
               "AccessKeyId": cred["access_key_id"], "SecretAccessKey": cred["secret_access_key"],
               "Token": cred["session_token"], "Expiration": awsemu.iso8601(cred["expiration"])}
        self.reply(entry, 200, json.dumps(out), "application/json")

    # -- IMDS
    def imds_token_ok(self):
        app = self.server.app
        tok = awsemu.header_get(self.raw_headers, "X-aws-ec2-metadata-token")
        if tok is None:
            return bool(app.config.get("imds_v1"))
        with app.lock:
            exp = app.imds_tokens.get(tok)
        return exp is not None and time.time() < exp

    def imds(self, path, body, entry):
        app = self.server.app
        if path == "/latest/api/token":
            if self.command != "PUT":
                return self.reply(entry, 405, "", "text/plain")
            if awsemu.header_get(self.raw_headers, "X-Forwarded-For") is not None:
                return self.reply(entry, 403, "", "text/plain")
            ttl = awsemu.header_get(self.raw_headers, "X-aws-ec2-metadata-token-ttl-seconds")
            try:
                ttl = int(ttl)
                if not 1 <= ttl <= 21600:
                    raise ValueError
            except (TypeError, ValueError):
                with app.lock:
                    app.counts["imds"]["errors"] += 1
                return self.reply(entry, 400, "", "text/plain")
            tok = "AQAEA" + _rand(string.ascii_letters + string.digits + "_-", 51) + "=="
            with app.lock:
                app.imds_tokens[tok] = time.time() + ttl
                app.counts["imds"]["token"] += 1
            return self.reply(entry, 200, tok, "text/plain",
                              [("X-aws-ec2-metadata-token-ttl-seconds", str(ttl))])
        if self.command != "GET":
            return self.reply(entry, 405, "", "text/plain")
        if not self.imds_token_ok():
            with app.lock:
                app.counts["imds"]["errors"] += 1
            entry["error"] = "Unauthorized"
            return self.reply(entry, 401, "", "text/plain")
        base = "/latest/meta-data/iam/security-credentials"
        role = app.config["role_name"]
        if path in (base, base + "/"):
            with app.lock:
                app.counts["imds"]["role_list"] += 1
            return self.reply(entry, 200, role, "text/plain")
        if path.startswith(base + "/"):
            if path[len(base) + 1:].rstrip("/") != role:
                return self.reply(entry, 404, "", "text/plain")
            with app.lock:
                app.counts["imds"]["credentials"] += 1
            cred = app.issue("imds")
            now = awsemu.iso8601(time.time())
            text = ('{\n  "Code" : "Success",\n  "LastUpdated" : "%s",\n  "Type" : "AWS-HMAC",\n'
                    '  "AccessKeyId" : "%s",\n  "SecretAccessKey" : "%s",\n  "Token" : "%s",\n'
                    '  "Expiration" : "%s"\n}' % (now, cred["access_key_id"], cred["secret_access_key"],
                                                 cred["session_token"], awsemu.iso8601(cred["expiration"])))
            return self.reply(entry, 200, text, "text/plain")
        if path == "/latest/meta-data/placement/region":
            return self.reply(entry, 200, app.config.get("region") or "us-east-1", "text/plain")
        if path == "/latest/dynamic/instance-identity/document":
            region = app.config.get("region") or "us-east-1"
            doc = {"accountId": app.config["account_id"], "region": region, "availabilityZone": region + "a",
                   "instanceId": "i-0123456789abcdef0", "instanceType": "t3.micro", "architecture": "x86_64"}
            return self.reply(entry, 200, json.dumps(doc, indent=2), "text/plain")
        return self.reply(entry, 404, "", "text/plain")

    # -- control
    def control(self, sub, body):
        app = self.server.app
        sub = sub.partition("?")[0].rstrip("/") or "/"
        try:
            obj = json.loads(body.decode("utf-8")) if body.strip() else None
        except ValueError as e:
            return self.control_reply(400, {"error": "bad JSON: %s" % e})
        m = self.command
        try:
            if sub in ("/", "/health") and m == "GET":
                return self.control_reply(200, {"ok": True, "pid": os.getpid()})
            if sub == "/reset" and m == "POST":
                app.reset()
                return self.control_reply(200, {"ok": True})
            if sub == "/counts":
                if m == "GET":
                    with app.lock:
                        return self.control_reply(200, json.loads(json.dumps(app.counts)))
                if m == "DELETE":
                    with app.lock:
                        for svc in app.counts.values():
                            for k in svc:
                                svc[k] = 0
                    return self.control_reply(200, {"ok": True})
            if sub == "/config":
                if m == "GET":
                    with app.lock:
                        return self.control_reply(200, dict(app.config))
                if m == "POST":
                    unknown = [k for k in (obj or {}) if k not in DEFAULT_CONFIG]
                    if unknown:
                        raise ValueError("unknown config keys: %s" % ", ".join(unknown))
                    with app.lock:
                        app.config.update(obj or {})
                        return self.control_reply(200, dict(app.config))
            if sub == "/issued" and m == "GET":
                with app.lock:
                    return self.control_reply(200, {"issued": [dict(c) for c in app.issued]})
            if sub == "/credentials":
                if m == "POST":
                    items = obj if isinstance(obj, list) else [obj]
                    with app.lock:
                        for c in items:
                            app.credentials[c["access_key_id"]] = {
                                "secret_access_key": c["secret_access_key"],
                                "session_token": c.get("session_token"),
                                "expiration": awsemu.parse_time(c.get("expiration"))}
                    return self.control_reply(200, {"ok": True})
            if sub == "/faults":
                if m == "POST":
                    items = obj if isinstance(obj, list) else [obj]
                    fs = []
                    for f in items:
                        f = dict(f)
                        f["kind"] = f.get("kind") or f.get("type")
                        if f["kind"] not in ("status", "slow", "drop", "reset"):
                            raise ValueError("fault kind must be status, slow, drop or reset")
                        f["count"] = int(f.get("count", 1))
                        f["remaining"] = f["count"]
                        fs.append(f)
                    with app.lock:
                        app.faults.extend(fs)
                        return self.control_reply(200, {"pending": len(app.faults)})
                if m == "DELETE":
                    with app.lock:
                        app.faults = []
                    return self.control_reply(200, {"ok": True})
            if sub == "/requests":
                if m == "GET":
                    with app.lock:
                        return self.control_reply(200, {"requests": json.loads(json.dumps(app.requests))})
                if m == "DELETE":
                    with app.lock:
                        app.requests = []
                    return self.control_reply(200, {"ok": True})
        except (ValueError, KeyError, TypeError) as e:
            return self.control_reply(400, {"error": str(e)})
        return self.control_reply(404, {"error": "no such control endpoint: %s %s" % (m, sub)})

    def control_reply(self, status, obj):
        self.send_raw(status, json.dumps(obj).encode("utf-8"), [("Content-Type", "application/json")])


def main(argv=None):
    ap = argparse.ArgumentParser(description="loopback STS / ECS / IMDSv2 credential services")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--ready-file")
    ap.add_argument("--kms-control", help="the KMS emulator's control URL (…/__emulator)")
    ap.add_argument("--kms-ca", help="CA to verify an https --kms-control")
    ap.add_argument("--expiration-seconds", type=float)
    ap.add_argument("--role-name")
    ap.add_argument("--ecs-token")
    ap.add_argument("--web-identity-token")
    ap.add_argument("--region")
    ap.add_argument("--imds-v1", action="store_true")
    ap.add_argument("--state-dir")
    ap.add_argument("--cleanup", action="store_true")
    args = ap.parse_args(argv)

    overrides = {}
    for k in ("kms_control", "kms_ca", "expiration_seconds", "role_name", "ecs_token", "web_identity_token",
              "region"):
        v = getattr(args, k)
        if v is not None:
            overrides[k] = v
    if args.imds_v1:
        overrides["imds_v1"] = True
    app = CredApp(overrides)

    state_dir, created = awsemu.prepare_state_dir(args.state_dir)
    ctx = material = None
    if args.tls:
        material = awsemu.make_tls_material(os.path.join(state_dir, "tls"))
        ctx = awsemu.server_tls_context(material)
    httpd = awsemu.EmulatorHTTPServer((args.host, args.port), CredHandler, app, ctx)
    httpd.sts_model = awsemu.load_botocore_model("sts")
    port = httpd.server_address[1]
    url = "%s://%s:%d" % ("https" if args.tls else "http", args.host, port)
    info = {"port": port, "pid": os.getpid(), "url": url, "ca": material["ca"] if material else None,
            "control": url + CONTROL_PREFIX, "sts": url + "/", "ecs": url + "/ecs/credentials",
            "imds": url, "state_dir": state_dir}

    def cleanup():
        if created or args.cleanup:
            awsemu.remove_tree(state_dir)
    return awsemu.run_server(httpd, args.ready_file, info, cleanup)


if __name__ == "__main__":
    sys.exit(main())

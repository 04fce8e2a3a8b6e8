#!/usr/bin/python3
# botocore_bodies.py - byte-for-byte comparison of kmscks's request bodies
# with botocore's JSON serializer, fed the current model from
# $KMS_SHARED/reference/kms-custom-key-store-model.json (Debian's botocore
# ships an older KMS model). Usage: botocore_bodies.py <encode_tool>.
# Prints "ok N - name" per case and "N passed, M failed"; exits 1 on any
# mismatch and 77 (skip) when botocore or the model is missing.
import json
import subprocess
import sys

try:
    import botocore.model
    import botocore.serialize
except ImportError:
    print("1..0 # SKIP python3-botocore is not installed")
    sys.exit(77)

from botocore_model import load_model  # noqa: E402

CRED = "XksProxyAuthenticationCredential"
MODEL_ORDER = [
    "CustomKeyStoreId", "NewCustomKeyStoreName", "KeyStorePassword",
    "CloudHsmClusterId", "XksProxyUriEndpoint", "XksProxyUriPath",
    "XksProxyVpcEndpointServiceName", "XksProxyVpcEndpointServiceOwner",
    CRED, "XksProxyConnectivity",
]
SECRETS = ("KeyStorePassword",)
AKID = CRED + ".AccessKeyId"
RAW = CRED + ".RawSecretAccessKey"


# {===== what the AWS CLI would hand botocore ==========================
# Options (kms_request_set, kms_request_set_credential) come first in
# model order; --cli-input-json keys (kms_request_load_json) follow in
# JSON order, a key already loaded keeping its place (dict.update); setting
# a key that came from JSON moves it to the options. The credential's
# inner dict keeps the order its halves were given in.

def emulate(ops):
    opts, js = {}, {}
    for op in ops:
        kind = op[0]
        if kind == "set":
            name, value = op[1], op[2]
            if name.startswith(CRED + "."):
                half = name.split(".", 1)[1]
                if CRED in js:
                    opts[CRED] = js.pop(CRED)
                opts.setdefault(CRED, {})[half] = value
            else:
                js.pop(name, None)
                opts[name] = value
        elif kind == "unset":
            name = op[1]
            if name.startswith(CRED + "."):
                half = name.split(".", 1)[1]
                for d in (opts, js):
                    if CRED in d:
                        d[CRED].pop(half, None)
                        if not d[CRED]:
                            del d[CRED]
            else:
                opts.pop(name, None)
                js.pop(name, None)
        elif kind == "json":
            for k, v in json.loads(op[1]).items():
                opts.pop(k, None)
                js[k] = v
        elif kind == "cred":
            akid, raw, secret_first = op[1], op[2], op[3]
            js.pop(CRED, None)
            d = {}
            pairs = [("AccessKeyId", akid), ("RawSecretAccessKey", raw)]
            if secret_first:
                pairs.reverse()
            for k, v in pairs:
                if v is not None:
                    d[k] = v
            opts[CRED] = d
    params = {k: opts[k] for k in MODEL_ORDER if k in opts}
    params.update(js)
    return params


def redact(params):
    out = {}
    for k, v in params.items():
        if k in SECRETS:
            out[k] = "***"
        elif k == CRED:
            out[k] = {h: "***" for h in v}
        else:
            out[k] = v
    return out


# {===== the cases ====================================================
ID = "cks-1234567890abcdef0"
SECRET = "DXjSUawnel2fr6SKC7G25CNxTyWKE5PF9XX6H/u9pSo="
AK = "ABCDE12345670EXAMPLE"
EVERY = [
    ("XksProxyConnectivity", "VPC_ENDPOINT_SERVICE"),
    (RAW, SECRET),
    (AKID, AK),
    ("XksProxyVpcEndpointServiceOwner", "123456789012"),
    ("XksProxyVpcEndpointServiceName",
     "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"),
    ("XksProxyUriPath", "/example/kms/xks/v1"),
    ("XksProxyUriEndpoint", "https://myproxy.xks.example.com"),
    ("CloudHsmClusterId", "cluster-1a23b4cdefg"),
    ("KeyStorePassword", "kmsPswd"),
    ("NewCustomKeyStoreName", "ExampleKeyStore"),
    ("CustomKeyStoreId", ID),
]
ALL_CONTROLS = "".join(chr(c) for c in range(1, 0x20))
BOUNDARIES = "\u0080\u07ff\u0800\ud7ff\ue000\ufffd\uffff" \
             "\U00010000\U0010ffff\u2028\u2029"


def s(*pairs):
    return [["set", k, v] for k, v in pairs]


CASES = [
    ("id only", s(("CustomKeyStoreId", ID))),
    ("nothing set", []),
    ("every member set in reverse order comes out in model order",
     s(*EVERY)),
    ("BMP text (AWS CLI doc example)",
     s(("CustomKeyStoreId", ID),
       ("NewCustomKeyStoreName", "Ключ-магазин ✓ 日本"))),
    ("astral characters as surrogate pairs",
     s(("CustomKeyStoreId", ID), ("NewCustomKeyStoreName", "😀x𝄞"))),
    ("quotes and backslashes",
     s(("CustomKeyStoreId", 'a"b\\c'), ("NewCustomKeyStoreName", '\\"\\\\'))),
    ("every control character", s(("CustomKeyStoreId", ALL_CONTROLS))),
    ("named escapes", s(("CustomKeyStoreId", "\b\f\n\r\t"))),
    ("DEL", s(("CustomKeyStoreId", "a\x7fb"))),
    ("slash and html characters are not escaped",
     s(("CustomKeyStoreId", "/<>&'=+?#%"))),
    ("NUL byte", s(("CustomKeyStoreId", "a\x00b"))),
    ("UTF-8 boundary code points", s(("NewCustomKeyStoreName", BOUNDARIES))),
    ("empty strings in every member",
     s(*[(k, "") for k, _ in EVERY])),
    ("value kept as given (spaces, trailing newline)",
     s(("CustomKeyStoreId", " cks-1 "), ("NewCustomKeyStoreName",
                                         "My Store\n"))),
    ("scalar that looks like JSON stays a string",
     s(("CustomKeyStoreId", '{"a":1}'))),
    ("literal backslash-u text", s(("CustomKeyStoreId", "\\u0041"))),
    ("long value", s(("NewCustomKeyStoreName", "x" * 300 + "é" * 50))),
    ("credential via option, secret first",
     s(("CustomKeyStoreId", ID)) + [["cred", AK, SECRET, 1]]),
    ("credential via option, key id first",
     [["cred", AK, SECRET, 0]] + s(("CustomKeyStoreId", ID))),
    ("credential halves set one by one, secret first",
     s((RAW, SECRET), ("CustomKeyStoreId", ID), (AKID, AK))),
    ("credential with one half only", s((AKID, AK))),
    ("empty credential structure", [["cred", None, None, 0]]),
    ("credential half unset", s((AKID, AK), (RAW, SECRET)) +
     [["unset", AKID]]),
    ("member unset", s(("CustomKeyStoreId", ID), ("XksProxyUriPath", "/p")) +
     [["unset", "XksProxyUriPath"]]),
    ("JSON then options: options first in model order, then JSON order "
     "(AWS CLI doc example)",
     [["json", '{"XksProxyConnectivity":"PUBLIC_ENDPOINT",'
       '"NewCustomKeyStoreName":"fromjson","CustomKeyStoreId":"cks-json"}']]
     + s(("KeyStorePassword", "PWSECRET123"), ("CustomKeyStoreId", "cks-cli"))),
    ("JSON keeps its own order",
     [["json", '{"XksProxyUriPath":"/kms/xks/v1","CustomKeyStoreId":"c",'
       '"XksProxyAuthenticationCredential":{"RawSecretAccessKey":"s",'
       '"AccessKeyId":"a"},"NewCustomKeyStoreName":"n"}']]),
    ("JSON duplicate keys: last value, first place",
     [["json", '{"CustomKeyStoreId":"one","NewCustomKeyStoreName":"n",'
       '"CustomKeyStoreId":"two"}']]),
    ("JSON duplicate credential replaces the whole structure",
     [["json", '{"XksProxyAuthenticationCredential":{"AccessKeyId":"a",'
       '"RawSecretAccessKey":"b"},"CustomKeyStoreId":"c",'
       '"XksProxyAuthenticationCredential":{"RawSecretAccessKey":"z"}}']]),
    ("JSON credential duplicate half keeps its place",
     [["json", '{"XksProxyAuthenticationCredential":{"AccessKeyId":"a",'
       '"RawSecretAccessKey":"b","AccessKeyId":"c"}}']]),
    ("JSON escapes decoded then re-encoded",
     [["json", '{"CustomKeyStoreId":"\\u00e9\\ud83d\\ude00\\/\\t\\"",'
       '"NewCustomKeyStoreName":"\\u001f\\u007f"}']]),
    ("JSON with raw UTF-8", [["json", '{"NewCustomKeyStoreName":"日本 ✓"}']]),
    ("JSON with whitespace and empty strings",
     [["json", ' \n{ "CustomKeyStoreId" : "" ,\t"XksProxyUriPath":"" }\r\n']]),
    ("empty JSON object then an option",
     [["json", "{}"]] + s(("CustomKeyStoreId", ID))),
    ("option set after JSON moves the member to the front",
     [["json", '{"NewCustomKeyStoreName":"a","XksProxyUriPath":"/p",'
       '"CustomKeyStoreId":"j"}']] + s(("XksProxyUriPath", "/q"))),
    ("credential half set after JSON moves the credential",
     [["json", '{"CustomKeyStoreId":"j","XksProxyAuthenticationCredential":'
       '{"RawSecretAccessKey":"s","AccessKeyId":"a"}}']] +
     s((AKID, "NEWKEY"))),
    ("credential option after JSON replaces the structure",
     [["json", '{"XksProxyAuthenticationCredential":{"AccessKeyId":"a",'
       '"RawSecretAccessKey":"b"},"CustomKeyStoreId":"j"}']] +
     [["cred", "k", None, 0]]),
    ("JSON after options takes the member over",
     s(("CustomKeyStoreId", "opt"), ("NewCustomKeyStoreName", "n")) +
     [["json", '{"CustomKeyStoreId":"js"}']]),
    ("two JSON loads: keys already loaded keep their place",
     [["json", '{"XksProxyUriPath":"/a","CustomKeyStoreId":"x"}'],
      ["json", '{"NewCustomKeyStoreName":"n","XksProxyUriPath":"/b"}']]),
    ("everything at once, JSON and options",
     [["json", '{"XksProxyConnectivity":"VPC_ENDPOINT_SERVICE",'
       '"XksProxyVpcEndpointServiceOwner":"123456789012",'
       '"CloudHsmClusterId":"cluster-x"}']] + s(*EVERY[2:])),
]

REDACTED = [
    ("redacted: secrets become ***", s(*EVERY)),
    ("redacted: credential order kept",
     [["cred", AK, SECRET, 1]] + s(("KeyStorePassword", ""))),
    ("redacted: JSON-loaded secrets",
     [["json", '{"KeyStorePassword":"p4ssw0rd!","CustomKeyStoreId":"c"}']]),
]

DESCRIBE = [
    ("describe: every member", [ID, "name é", 5, "marker/+="]),
    ("describe: no member", [None, None, 0, None]),
    ("describe: limit only", [None, None, 1000, None]),
    ("describe: empty strings", ["", "", 0, ""]),
]

ID_ONLY = [
    ("connect/disconnect: id", "ConnectCustomKeyStore", ID),
    ("connect/disconnect: unicode id", "DisconnectCustomKeyStore", "é😀"),
    ("connect/disconnect: no id", "ConnectCustomKeyStore", None),
]

# Inputs botocore can never be given (Python strings are code points):
# bytes that are not UTF-8 become U+FFFD one byte at a time.
LITERAL = [
    ("invalid UTF-8: lone byte", [["set", "CustomKeyStoreId", b"a\xffb"]],
     '{"CustomKeyStoreId": "a\\ufffdb"}'),
    ("invalid UTF-8: overlong NUL",
     [["set", "CustomKeyStoreId", b"\xc0\x80"]],
     '{"CustomKeyStoreId": "\\ufffd\\ufffd"}'),
    ("invalid UTF-8: encoded surrogate",
     [["set", "CustomKeyStoreId", b"\xed\xa0\x80x"]],
     '{"CustomKeyStoreId": "\\ufffd\\ufffd\\ufffdx"}'),
    ("invalid UTF-8: truncated sequence",
     [["set", "CustomKeyStoreId", b"\xe2\x82"]],
     '{"CustomKeyStoreId": "\\ufffd\\ufffd"}'),
    ("invalid UTF-8: above U+10FFFF",
     [["set", "CustomKeyStoreId", b"\xf4\x90\x80\x80"]],
     '{"CustomKeyStoreId": "\\ufffd\\ufffd\\ufffd\\ufffd"}'),
]


# {===== running ======================================================
def hexval(v):
    if v is None:
        return None
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, str):
        return v.encode("utf-8", "surrogatepass").hex()
    return v


def tool_ops(ops):
    out = []
    for op in ops:
        if op[0] in ("set",):
            out.append([op[0], op[1], hexval(op[2])])
        elif op[0] == "unset":
            out.append(op)
        elif op[0] == "json":
            out.append(["json", hexval(op[1])])
        elif op[0] == "cred":
            out.append(["cred", hexval(op[1]), hexval(op[2]), op[3]])
    return out


def main():
    if len(sys.argv) != 2:
        print("usage: botocore_bodies.py <encode_tool>", file=sys.stderr)
        return 2
    model = load_model()
    ser = botocore.serialize.create_serializer("json", include_validation=False)

    def body(op, params):
        req = ser.serialize_to_request(params, model.operation_model(op))
        return req["body"].decode("ascii")

    names, lines, expected = [], [], []
    for name, ops in CASES:
        names.append(name)
        lines.append({"output": "body", "ops": tool_ops(ops)})
        expected.append(body("UpdateCustomKeyStore", emulate(ops)))
    for name, ops in REDACTED:
        names.append(name)
        lines.append({"output": "redacted", "ops": tool_ops(ops)})
        expected.append(body("UpdateCustomKeyStore", redact(emulate(ops))))
    for name, (cid, cname, limit, marker) in DESCRIBE:
        params = {}
        for k, v in (("CustomKeyStoreId", cid), ("CustomKeyStoreName", cname),
                     ("Limit", limit or None), ("Marker", marker)):
            if v is not None:
                params[k] = v
        names.append(name)
        lines.append({"ops": [["describe", hexval(cid), hexval(cname), limit,
                               hexval(marker)]]})
        expected.append(body("DescribeCustomKeyStores", params))
    for name, op, cid in ID_ONLY:
        params = {} if cid is None else {"CustomKeyStoreId": cid}
        names.append(name)
        lines.append({"ops": [["id_only", hexval(cid)]]})
        expected.append(body(op, params))
    for name, ops, want in LITERAL:
        names.append(name)
        lines.append({"output": "body", "ops": tool_ops(ops)})
        expected.append(want)

    stdin = "".join(json.dumps(line) + "\n" for line in lines)
    proc = subprocess.run([sys.argv[1]], input=stdin.encode("ascii"),
                          stdout=subprocess.PIPE, check=False)
    got = proc.stdout.decode("ascii", "replace").split("\n")
    passed = failed = 0
    for i, name in enumerate(names):
        line = got[i] if i < len(got) else "(no output)"
        want = "OK " + expected[i]
        if line == want:
            passed += 1
            print("ok %d - %s" % (i + 1, name))
        else:
            failed += 1
            print("not ok %d - %s" % (i + 1, name))
            print("#   got:      %s" % line)
            print("#   expected: %s" % want)
    if proc.returncode != 0:
        failed += 1
        print("not ok - encode_tool exited with %d" % proc.returncode)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""The example host (examples/host/kmscks-host) against the KMS emulator:
it dlopens kmscks.so, checks the ABI, configures it from a file in the
collectd syntax and updates stores. Checked: the output, what the emulator
received (signatures verified by botocore), the store afterwards, a change
refused before sending because the store is CONNECTED, a modeled service
error with its type, status and request id, a dry run (sign only), bad
configuration files, and no secret in any output (LogLevel debug).

    test_host.py PATH/TO/kmscks-host PATH/TO/kmscks.so
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ptest import (AWS_AKID, AWS_SECRET, HSM_ID, HSM_PASSWORD, SEED_EXAMPLE, XKS_AKID,  # noqa: E402
                   XKS_ID, XKS_SECRET, Emulator, check, child_env, finish, scan_secrets,
                   workdir, write)

HOST = os.path.abspath(sys.argv[1])
PLUGIN = os.path.abspath(sys.argv[2])
W = workdir("kmscks-host-test-")
outputs = []


def run(conf_text, name, plugin=PLUGIN):
    conf = write(os.path.join(W, name + ".conf"), conf_text, 0o644)
    args = [HOST] + (["--plugin", plugin] if plugin else []) + [conf]
    p = subprocess.run(args, capture_output=True, text=True, timeout=60, env=child_env(W))
    outputs.append(p.stdout + p.stderr)
    return p


def plugin_block(emu, extra=""):
    return """
LogLevel "debug"     # the plugin's whole trace goes to the host's stderr
<Plugin kmscks>
  Region              "us-east-1"
  EndpointURL         "%s"
  CABundle            "%s"
  VerifyTLS           true
  Timeout             10
  MaxAttempts         2
  AccessKeyId         "%s"
  SecretAccessKeyFile "%s"
  ConfigFile          "/dev/null"
  CredentialsFile     "/dev/null"
%s</Plugin>
""" % (emu.url, emu.ca, AWS_AKID, SECRET_FILE, extra)


SECRET_FILE = write(os.path.join(W, "aws-secret"), AWS_SECRET + "\n")
AKID_FILE = write(os.path.join(W, "xks-akid"), XKS_AKID + "\n")
XKS_FILE = write(os.path.join(W, "xks-secret"), XKS_SECRET + "\n")
PW_FILE = write(os.path.join(W, "hsm-password"), HSM_PASSWORD)

with Emulator(tls=True, seed=SEED_EXAMPLE) as emu:
    # 1. A real update: rename + rotate the XKS credential, the store is
    # DISCONNECTED (seed), so every member may change.
    p = run(plugin_block(emu) + """
# the store to change; secrets come from files
<Update "%s">
  NewCustomKeyStoreName       "ExampleExternalKeyStore-2"   # a comment
  XksProxyUriPath             "/kms/xks/v1"
  XksProxyAccessKeyIdFile     "%s"
  XksProxySecretAccessKeyFile "%s"
</Update>
""" % (XKS_ID, AKID_FILE, XKS_FILE), "update")
    out = p.stdout
    check("update: exit status 0", p.returncode == 0, p.stdout + p.stderr)
    check("the host checked the ABI", "plugin: kmscks 0.1.0, ABI 1.0 (host built for 1.0)" in out, out)
    check("configured from the collectd-syntax file", "configured from " in out, out)
    check("validate: no problem", "%s: validate: []" % XKS_ID in out, out)
    check("describe: the store's type and state", "%s: store EXTERNAL_KEY_STORE, DISCONNECTED" % XKS_ID in out, out)
    check("update: ok in one attempt", "%s: update: ok (1 attempt)" % XKS_ID in out, out)
    reqs = emu.requests()
    ops = [r["operation"] for r in reqs]
    check("the emulator saw Describe then Update", ops == ["DescribeCustomKeyStores", "UpdateCustomKeyStore"], ops)
    check("both signatures verify (botocore)", all(r["signature_valid"] for r in reqs),
          [r["signature_valid"] for r in reqs])
    upd = [r for r in reqs if r["operation"] == "UpdateCustomKeyStore"][0]
    check("the body is the request in the block's order",
          upd["body"].startswith('{"CustomKeyStoreId": "%s", "NewCustomKeyStoreName": '
                                 '"ExampleExternalKeyStore-2", "XksProxyUriPath": "/kms/xks/v1", '
                                 '"XksProxyAuthenticationCredential": {"AccessKeyId": ' % XKS_ID), upd["body"])
    ua = dict((k.lower(), v) for k, v in upd["headers"]).get("user-agent", "")
    check("the User-Agent names the plugin and the host", "plugin/1.0 kmscks-host" in ua, ua)
    st = emu.store(XKS_ID)
    check("the store was renamed", st["name"] == "ExampleExternalKeyStore-2", st["name"])
    check("the credential was rotated", st["xks"]["access_key_id"] == XKS_AKID and
          st["xks"]["secret_access_key"] == XKS_SECRET)
    check("debug trace on stderr, signature redacted", "Signature=***" in p.stderr, p.stderr[-500:])

    # 2. A change that needs DISCONNECTED on a CONNECTED store: refused by
    # the contextual rules, nothing sent.
    emu.put_store({"id": XKS_ID, "state": "CONNECTED"})
    emu.clear_requests()
    p = run(plugin_block(emu) + """
<Update "%s">
  XksProxyUriEndpoint "https://otherproxy.xks.example.com"
</Update>
""" % XKS_ID, "connected")
    out = p.stdout
    check("needs DISCONNECTED: exit status 1", p.returncode == 1, out + p.stderr)
    check("... the store is seen CONNECTED", "store EXTERNAL_KEY_STORE, CONNECTED" in out, out)
    check("... update refused: validation context.state",
          "%s: update failed: validation context.state" % XKS_ID in out, out)
    check("... nothing but the Describe was sent",
          [r["operation"] for r in emu.requests()] == ["DescribeCustomKeyStores"])

    # 3. A modeled service error (injected): type, status, request id.
    emu.clear_requests()
    emu.faults([{"kind": "error", "operation": "UpdateCustomKeyStore",
                 "type": "com.amazonaws.kms#CustomKeyStoreInvalidStateException",
                 "message": "the store is busy"}])
    p = run(plugin_block(emu) + """
<Update "%s">
  NewCustomKeyStoreName "Busy"
</Update>
""" % XKS_ID, "fault")
    out = p.stdout
    upd = [r for r in emu.requests() if r["operation"] == "UpdateCustomKeyStore"]
    rid = dict((k.lower(), v) for k, v in upd[0]["headers"]).get("x-amzn-requestid") if upd else None
    check("service error: exit status 1", p.returncode == 1, out)
    check("... type and HTTP status", "update failed: service CustomKeyStoreInvalidStateException (HTTP 400)"
          in out, out)
    check("... the message", "the store is busy" in out, out)
    check("... a request id", "request id " in out, out)

    # 4. Dry run: validate and sign only.
    emu.clear_requests()
    p = run(plugin_block(emu) + """
<Update "%s">
  KeyStorePasswordFile "%s"
  DryRun true
</Update>
""" % (HSM_ID, PW_FILE), "dryrun")
    check("dry run: exit status 0", p.returncode == 0, p.stdout + p.stderr)
    check("... signed POST, not sent", "%s: dry run: signed POST %s/ (not sent)" % (HSM_ID, emu.url) in p.stdout,
          p.stdout)
    check("... the emulator saw nothing", emu.requests() == [])

    # 5. Static rules: every problem, nothing sent.
    p = run(plugin_block(emu) + """
<Update "%s">
  XksProxyUriPath "bad"
  CloudHsmClusterId "cluster-234abcdefgh5"
</Update>
""" % XKS_ID, "invalid")
    check("invalid request: exit status 1", p.returncode == 1, p.stdout)
    check("... every problem listed (length, pattern, type.mixed)",
          all(c in p.stdout for c in ('"length.min"', '"pattern"', '"type.mixed"')), p.stdout)
    check("... nothing sent", emu.requests() == [])

    # 6. Bad configuration files.
    p = run(plugin_block(emu).replace("Timeout             10", "Timeout \"10\""), "wrongtype")
    check("a value of the wrong type: exit 2", p.returncode == 2, p.stderr)
    check("... the plugin says which option and why",
          "configure: config: Timeout: expected a number, got a string" in p.stderr, p.stderr)
    p = run(plugin_block(emu, '  Bogus "x"\n'), "unknown")
    check("an unknown option: exit 2, named",
          p.returncode == 2 and 'unknown option "Bogus"' in p.stderr, p.stderr)
    p = run(plugin_block(emu, '  SecretAccessKey "%s"\n' % AWS_SECRET), "inline")
    check("an inline secret is refused", p.returncode == 2 and
          "secrets are read from files only" in p.stderr, p.stderr)
    p = run('<Plugin kmscks>\n  Region "us-east-1\n</Plugin>\n', "syntax1")
    check("an unterminated string: exit 2 with file:line",
          p.returncode == 2 and "syntax1.conf:2: unterminated quoted string" in p.stderr, p.stderr)
    p = run('<Plugin kmscks>\n  Region "us-east-1"\n', "syntax2")
    check("a missing </Plugin>: exit 2", p.returncode == 2 and "missing </Plugin>" in p.stderr, p.stderr)
    p = run('<Plugin kmscks>\n</Update>\n', "syntax3")
    check("a mismatched close: exit 2", p.returncode == 2 and "</Update> closes <Plugin>" in p.stderr,
          p.stderr)
    p = run(plugin_block(emu), "noplugin", plugin=os.path.join(W, "missing.so"))
    check("a plugin that cannot be loaded: exit 3", p.returncode == 3 and "dlopen" in p.stderr, p.stderr)
    p = run('PluginFile "%s"\n' % PLUGIN + plugin_block(emu) + "\n# continued \\\n  line\n", "pluginfile",
            plugin=None)
    check("PluginFile from the file, comment continuation: exit 0",
          p.returncode == 0 and "0 update(s), 0 failed" in p.stdout, p.stdout + p.stderr)

scan_secrets("every output of the host (stdout and stderr, debug level)", "\n".join(outputs))
finish()

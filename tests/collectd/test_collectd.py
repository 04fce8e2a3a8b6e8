#!/usr/bin/python3
"""The collectd plugin in real collectd (collectd-core 5.12) against the KMS
emulator. `collectd -f` is started and stopped by pid; values are read
through the csv plugin, the log through the logfile plugin; readiness is
polled. Checked:

  - the XKS store differs (name, rotated credential) and is CONNECTED:
    one update is sent (signature verified by botocore), logged once;
  - the CloudHSM store's cluster differs but needs DISCONNECTED: the
    plugin logs once that it waits, sends nothing, and sends the update
    once the store is disconnected (by someone else);
  - a secret file rotated while running is a change (hash), sent once;
  - a store that does not exist: logged once, and "resolved" once it does;
  - an update the service refuses: logged once, not resent every
    interval, and resolved when the file is put back;
  - gauges per state, in_sync, last_update, latency in the csv files;
  - refused configurations with `collectd -T`: a bad block fails init
    with a line naming the block, the option and the rule; unknown
    options, wrong types, inline secrets and missing files are named;
  - no secret anywhere in collectd's log or output (LogLevel "debug").

    test_collectd.py PATH/TO/bindings/collectd/kmscks.so
"""

import copy
import glob
import json
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "plugin"))
from ptest import (AWS_AKID, AWS_SECRET, HSM_ID, HSM_PASSWORD, SEED_EXAMPLE, XKS_AKID,  # noqa: E402
                   XKS_ID, XKS_SECRET, Emulator, check, child_env, finish, preload_env,
                   sanitizer_runtimes, scan_secrets, skip, wait_for, workdir, write)

COLLECTD = "/usr/sbin/collectd"
PLUGIN = os.path.abspath(sys.argv[1])
if not os.access(COLLECTD, os.X_OK):
    skip("collectd is not installed (apt-get install collectd-core)")
if not os.path.exists("/usr/lib/collectd/csv.so") or not os.path.exists("/usr/lib/collectd/logfile.so"):
    skip("collectd's csv and logfile plugins are missing")

if any("tsan" in lib for lib in sanitizer_runtimes(PLUGIN)):
    skip("a ThreadSanitizer build cannot be loaded into the uninstrumented collectd")
# A sanitizer build (ASan/UBSan) needs its runtimes preloaded into collectd.
CD_ENV = preload_env(PLUGIN)
W = workdir("kmscks-collectd-")
MISSING_ID = "cks-00000000000000000"
OLD_HSM_PASSWORD = "ExamplePassword"       # the seed's: the start-up baseline
REJECTED_AKID = "CDEFG34567234EXAMPLE"     # well-formed, unknown to the proxy
all_text = []                               # every log and output, for the scan

seed = json.load(open(SEED_EXAMPLE))
for st in seed["stores"]:
    st["state"] = "CONNECTED"

f_aws = write(os.path.join(W, "aws-secret"), AWS_SECRET + "\n")
f_akid = write(os.path.join(W, "xks-access-key-id"), XKS_AKID + "\n")
f_xks = write(os.path.join(W, "xks-secret"), XKS_SECRET + "\n")
f_pw = write(os.path.join(W, "hsm-password"), OLD_HSM_PASSWORD + "\n")


def conf(name, emu, blocks, extra=""):
    d = os.path.join(W, name)
    os.makedirs(d, exist_ok=True)
    text = """# collectd configuration of the test %(name)s
Hostname    "testhost"
FQDNLookup  false
BaseDir     "%(d)s"
PIDFile     "%(d)s/collectd.pid"
PluginDir   "/usr/lib/collectd"
TypesDB     "/usr/share/collectd/types.db"
Interval    1
LoadPlugin logfile
<Plugin logfile>
  LogLevel      info
  File          "%(d)s/collectd.log"
  Timestamp     true
  PrintSeverity true
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir    "%(d)s/csv"
  StoreRates false
</Plugin>
PluginDir   "%(plugindir)s"
LoadPlugin kmscks
<Plugin kmscks>
  Region              "us-east-1"
  EndpointURL         "%(url)s"
  CABundle            "%(ca)s"
  VerifyTLS           true
  Timeout             5
  MaxAttempts         2
  AccessKeyId         "%(akid)s"
  SecretAccessKeyFile "%(aws)s"
  ConfigFile          "/dev/null"
  CredentialsFile     "/dev/null"
  LogLevel            "debug"
%(extra)s%(blocks)s</Plugin>
""" % {"name": name, "d": d, "plugindir": os.path.dirname(PLUGIN), "url": emu.url, "ca": emu.ca,
       "akid": AWS_AKID, "aws": f_aws, "extra": extra, "blocks": blocks}
    return write(os.path.join(d, "collectd.conf"), text, 0o644), d


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def csv_rows(d, store, name):
    """The data rows of csv/testhost/kmscks-<store>/<name>-<date>."""
    rows = []
    for path in sorted(glob.glob(os.path.join(d, "csv", "testhost", "kmscks-" + store, name + "-*"))):
        for line in read(path).splitlines()[1:]:
            t, v = line.split(",")[:2]
            rows.append(float(v))
    return rows


def count(text, needle):
    return text.count(needle)


def updates(emu, store):
    return [r for r in emu.requests(operation="UpdateCustomKeyStore") if '"%s"' % store in r["body"]]


def run_test_mode(name, emu, blocks, extra=""):
    """collectd -T: init, one read of each plugin, exit. (rc, log, output)."""
    path, d = conf(name, emu, blocks, extra)
    p = subprocess.run([COLLECTD, "-T", "-C", path], capture_output=True, text=True, timeout=60,
                       env=child_env(W, CD_ENV))
    log = read(os.path.join(d, "collectd.log"))
    all_text.extend([log, p.stdout, p.stderr])
    return p.returncode, log, p.stdout + p.stderr


XKS_BLOCK = """  <CustomKeyStore "%s">           # external key store
    CustomKeyStoreName          "Renamed-By-Collectd"
    XksProxyUriEndpoint         "https://myproxy.xks.example.com"
    XksProxyUriPath             "/kms/xks/v1"
    XksProxyConnectivity        "PUBLIC_ENDPOINT"
    XksProxyAccessKeyIdFile     "%s"
    XksProxySecretAccessKeyFile "%s"
  </CustomKeyStore>
""" % (XKS_ID, f_akid, f_xks)
HSM_BLOCK = """  <CustomKeyStore "%s">           # CloudHSM key store
    CustomKeyStoreName   "ExampleKeyStore"
    CloudHsmClusterId    "cluster-5b67c2defgh"
    KeyStorePasswordFile "%s"
  </CustomKeyStore>
""" % (HSM_ID, f_pw)
MISSING_BLOCK = """  <CustomKeyStore "%s">           # not there (yet): watched only
  </CustomKeyStore>
""" % MISSING_ID

# The module: module_register is its only export, and nothing of ours is
# left for the daemon to resolve.
nm = subprocess.run(["nm", "-D", "--defined-only", PLUGIN], capture_output=True, text=True).stdout
check("nm -D --defined-only: module_register only",
      [l.split()[-1] for l in nm.splitlines() if l.strip()] == ["module_register"], nm)
nm = subprocess.run(["nm", "-D", "--undefined-only", PLUGIN], capture_output=True, text=True).stdout
undefined = [l.split()[-1] for l in nm.splitlines() if l.strip()]
check("undefined: collectd's own functions, none of kmscks",
      {"plugin_log", "plugin_dispatch_values", "c_complain_once", "c_do_release"} <= set(undefined) and
      not [u for u in undefined if u.startswith(("kms", "kc_"))], undefined)

with Emulator(tls=True, seed=seed, connect_delay=0.2, disconnect_delay=0.2) as emu:
    # ================= the daemon, in the foreground =================
    path, D = conf("run", emu, XKS_BLOCK + HSM_BLOCK + MISSING_BLOCK)
    LOG = os.path.join(D, "collectd.log")
    out = open(os.path.join(D, "stdout"), "w")
    proc = subprocess.Popen([COLLECTD, "-f", "-C", path], stdout=out, stderr=subprocess.STDOUT,
                            env=child_env(W, CD_ENV))
    try:
        ready = wait_for(lambda: "Initialization complete" in read(LOG) or proc.poll() is not None, 20)
        check("collectd -f started (pid %d) and initialised" % proc.pid,
              proc.poll() is None and "Initialization complete" in read(LOG), read(LOG)[-2000:])
        log = read(LOG)
        check("init: the block without settings is watched only",
              '<CustomKeyStore "%s">: no desired setting: the store is only watched' % MISSING_ID in log, log)
        check("init: watching 3 stores at the endpoint", "watching 3 custom key store(s) at %s" % emu.url in log, log)

        # -- 1. XKS: differs and allowed while CONNECTED: one update.
        wait_for(lambda: updates(emu, XKS_ID), 15)
        upd = updates(emu, XKS_ID)
        check("XKS: one UpdateCustomKeyStore sent", len(upd) == 1, len(upd))
        if upd:
            body = json.loads(upd[0]["body"])
            check("... signature verified by botocore, answered 200",
                  upd[0]["signature_valid"] is True and upd[0]["status"] == 200, upd[0]["error"])
            check("... only what differs: the name and the whole credential",
                  sorted(body) == ["CustomKeyStoreId", "NewCustomKeyStoreName", "XksProxyAuthenticationCredential"]
                  and body["NewCustomKeyStoreName"] == "Renamed-By-Collectd"
                  and body["XksProxyAuthenticationCredential"] == {"AccessKeyId": XKS_AKID,
                                                                   "RawSecretAccessKey": XKS_SECRET}, body)
        st = emu.store(XKS_ID)
        check("... the store has the desired name and credential",
              st["name"] == "Renamed-By-Collectd" and st["xks"]["access_key_id"] == XKS_AKID, st["name"])
        wait_for(lambda: "updated CustomKeyStoreName" in read(LOG), 10)
        check("... the outcome is logged with the request id",
              re.search(r'\[info\] kms plugin: store "%s": updated CustomKeyStoreName, XksProxyAccessKeyIdFile, '
                        r'XksProxySecretAccessKeyFile \(request id [0-9a-f-]{36}, 1 attempt\)' % XKS_ID, read(LOG)),
              read(LOG)[-1500:])

        # Let a few intervals pass (csv rows of the HSM store count reads).
        wait_for(lambda: len(csv_rows(D, HSM_ID, "gauge-state-CONNECTED")) >= 4, 15)
        log = read(LOG)
        check("XKS: in sync afterwards, no second update", len(updates(emu, XKS_ID)) == 1)
        rows = csv_rows(D, XKS_ID, "gauge-in_sync")
        check("XKS: in_sync gauge 0 then 1 (%s)" % rows, rows[:1] == [0.0] and rows[-1] == 1.0, rows)
        rows = csv_rows(D, XKS_ID, "gauge-last_update")
        check("XKS: last_update gauge 1 after the update", rows and rows[-1] == 1.0, rows)
        check("XKS: an update latency was dispatched", len(csv_rows(D, XKS_ID, "latency-update")) == 1)

        # -- 2. CloudHSM: the cluster needs DISCONNECTED: wait, log once.
        wait_msg = ('store "%s": changing CloudHsmClusterId needs the store DISCONNECTED (it is CONNECTED): '
                    'waiting for a disconnect; kmscks does not disconnect stores' % HSM_ID)
        check("HSM: logged once that it waits for a disconnect (after %d reads)"
              % len(csv_rows(D, HSM_ID, "gauge-state-CONNECTED")), count(log, wait_msg) == 1, log[-2000:])
        check("HSM: nothing sent, the store not disconnected",
              updates(emu, HSM_ID) == [] and emu.store(HSM_ID)["state"] == "CONNECTED" and
              not emu.requests(operation="DisconnectCustomKeyStore"))
        rows = csv_rows(D, HSM_ID, "gauge-state-CONNECTED")
        check("HSM: state-CONNECTED gauge is 1 every interval (%d rows)" % len(rows),
              len(rows) >= 4 and set(rows) == {1.0}, rows)
        check("HSM: state-DISCONNECTED gauge is 0", set(csv_rows(D, HSM_ID, "gauge-state-DISCONNECTED")) == {0.0})
        check("HSM: latency-describe gauge in seconds",
              all(0 < v < 5 for v in csv_rows(D, HSM_ID, "latency-describe")))

        # -- 3. The missing store: one line, not one per interval.
        check("missing store: Describe failure logged once (after %d reads)"
              % len(csv_rows(D, MISSING_ID, "latency-describe")),
              count(log, 'store "%s": DescribeCustomKeyStores failed: An error occurred '
                         '(CustomKeyStoreNotFoundException)' % MISSING_ID) == 1, log[-2000:])
        check("missing store: no state gauge without a state",
              csv_rows(D, MISSING_ID, "gauge-state-CONNECTED") == [])

        # -- 4. Someone disconnects the CloudHSM store: the update goes.
        emu.put_store({"id": HSM_ID, "state": "DISCONNECTED"})
        wait_for(lambda: updates(emu, HSM_ID), 15)
        upd = updates(emu, HSM_ID)
        check("HSM: once DISCONNECTED, one update sent", len(upd) == 1, len(upd))
        if upd:
            check("... the cluster only (the password file is the start-up baseline)",
                  json.loads(upd[0]["body"]) == {"CustomKeyStoreId": HSM_ID,
                                                 "CloudHsmClusterId": "cluster-5b67c2defgh"}
                  and upd[0]["signature_valid"] is True, upd[0]["body"])
        wait_for(lambda: "the update went through" in read(LOG), 10)
        log = read(LOG)
        check("HSM: the state change and the outcome are logged",
              'store "%s": ConnectionState CONNECTED -> DISCONNECTED' % HSM_ID in log and
              'store "%s": updated CloudHsmClusterId' % HSM_ID in log, log[-2000:])
        check("HSM: the wait is released with one line",
              count(log, 'store "%s": the update went through' % HSM_ID) == 1, log[-2000:])
        check("HSM: the store has the new cluster", emu.store(HSM_ID)["cloudhsm"]["cluster_id"] ==
              "cluster-5b67c2defgh")

        # -- 5. The password file is rotated while collectd runs.
        write(f_pw, HSM_PASSWORD + "\n")
        wait_for(lambda: len(updates(emu, HSM_ID)) >= 2, 15)
        upd = updates(emu, HSM_ID)
        check("HSM: a rotated password file is a change: one more update", len(upd) == 2, len(upd))
        if len(upd) == 2:
            check("... KeyStorePassword alone", json.loads(upd[1]["body"]) ==
                  {"CustomKeyStoreId": HSM_ID, "KeyStorePassword": HSM_PASSWORD})
        check("... the store has it", emu.store(HSM_ID)["cloudhsm"]["key_store_password"] == HSM_PASSWORD)

        # -- 6. The missing store appears: resolved, one line.
        emu.put_store({"id": MISSING_ID, "name": "LateStore", "type": "AWS_CLOUDHSM", "state": "DISCONNECTED",
                       "cloudhsm": {"cluster_id": "cluster-234abcdefgh7", "key_store_password": "whatever1"}})
        wait_for(lambda: 'store "%s": in sync with its desired settings' % MISSING_ID in read(LOG), 10)
        log = read(LOG)
        check("missing store: when it appears, one line says it is resolved",
              count(log, 'store "%s": in sync with its desired settings' % MISSING_ID) == 1, log[-1500:])
        wait_for(lambda: csv_rows(D, MISSING_ID, "gauge-state-DISCONNECTED"), 10)
        check("... and its state is dispatched", csv_rows(D, MISSING_ID, "gauge-state-DISCONNECTED")[-1:] == [1.0])

        # -- 7. An update the service refuses: once, not every interval.
        n_before = len(updates(emu, XKS_ID))
        write(f_akid, REJECTED_AKID + "\n")
        wait_for(lambda: len(updates(emu, XKS_ID)) > n_before, 15)
        reads_at_fail = len(csv_rows(D, XKS_ID, "latency-describe"))
        wait_for(lambda: len(csv_rows(D, XKS_ID, "latency-describe")) >= reads_at_fail + 3, 15)
        log = read(LOG)
        upd = updates(emu, XKS_ID)
        check("XKS: a refused credential is sent once over %d more reads"
              % (len(csv_rows(D, XKS_ID, "latency-describe")) - reads_at_fail),
              len(upd) == n_before + 1 and upd[-1]["error"] == "XksProxyIncorrectAuthenticationCredentialException",
              [(r["error"]) for r in upd])
        fail_line = ('store "%s": UpdateCustomKeyStore (XksProxyAccessKeyIdFile, XksProxySecretAccessKeyFile) failed: '
                     'An error occurred (XksProxyIncorrectAuthenticationCredentialException)' % XKS_ID)
        check("... logged once", count(log, fail_line) == 1, log[-2000:])
        check("... with the request id", re.search(re.escape(fail_line) + r".*\(request id [0-9a-f-]{36}\)", log))
        rows = csv_rows(D, XKS_ID, "gauge-last_update")
        check("... last_update gauge -1", rows[-1:] == [-1.0], rows[-3:])
        write(f_akid, XKS_AKID + "\n")
        wait_for(lambda: 'store "%s": in sync with its desired settings' % XKS_ID in read(LOG), 10)
        log = read(LOG)
        check("XKS: the file put back: in sync again, one line, nothing sent",
              count(log, 'store "%s": in sync with its desired settings' % XKS_ID) == 1 and
              len(updates(emu, XKS_ID)) == n_before + 1, log[-1500:])

        # -- 8. Read callbacks never report failure to collectd (that would
        # suspend them and log each suspension).
        check("no read callback was suspended by collectd", "read-function of plugin" not in read(LOG))
        check("the core's debug trace is there (LogLevel debug), signature redacted",
              "Signature=***" in read(LOG) and "sigv4 string to sign" in read(LOG))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        out.close()
    check("collectd stopped by pid with SIGTERM: exit 0", rc == 0, rc)
    log = read(LOG)
    check("... it exited normally", "Exiting normally" in log, log[-500:])
    all_text.extend([log, read(os.path.join(D, "stdout"))])

    # ================= refused configurations (collectd -T) =================
    emu.clear_requests()
    f_short = write(os.path.join(W, "short-password"), "Zq9x\n")
    rc, log, output = run_test_mode("badblock", emu, """  <CustomKeyStore "%s">
    XksProxyUriPath      "kms/xks/v1"
    KeyStorePasswordFile "%s"
  </CustomKeyStore>
""" % (XKS_ID, f_short) + HSM_BLOCK)
    check("a bad block: collectd -T fails (exit %d)" % rc, rc != 0)
    check("... init fails, named by collectd", "Initialization of plugin `kmscks' failed" in log, log)
    check("... a line names the block, the option and the rule (pattern)",
          '[error] kms plugin: <CustomKeyStore "%s">: option XksProxyUriPath: rule pattern: ' % XKS_ID in log, log)
    check("... and every other problem of it (length, type.mixed)",
          '<CustomKeyStore "%s">: option KeyStorePasswordFile: rule length.min: ' % XKS_ID in log and
          "rule type.mixed" in log, log)
    check("... the good block is not blamed", '<CustomKeyStore "%s">: option' % HSM_ID not in log, log)
    check("... nothing was sent", emu.requests() == [])
    check("... the short password is not in the log, its length is", "Zq9x" not in log + output and
          "length 4 is below the minimum of 7" in log, log)

    rc, log, output = run_test_mode("unknown", emu, """  <CustomKeyStore "%s">
    CustomKeyStoreName "x"
    Colour "blue"
  </CustomKeyStore>
""" % XKS_ID)
    check("an unknown option in a block: refused at config (exit %d)" % rc,
          rc != 0 and "Parsing the config file failed" in output, output)
    check("... named", '<CustomKeyStore "%s">: option Colour: unknown option' % XKS_ID in log, log)

    rc, log, output = run_test_mode("unknownglobal", emu, "", '  Colour "blue"\n')
    check("an unknown global option: refused and named",
          rc != 0 and "<Plugin kmscks>: option Colour: unknown option" in log, log)

    rc, log, output = run_test_mode("wrongtype", emu, XKS_BLOCK, "  ConnectTimeout \"5\"\n")
    check("a value of the wrong type (string for a number): refused and named",
          rc != 0 and "<Plugin kmscks>: option ConnectTimeout: expected a number, got a string" in log, log)
    rc, log, output = run_test_mode("wrongtype2", emu, """  <CustomKeyStore "%s">
    CustomKeyStoreName 42
  </CustomKeyStore>
""" % XKS_ID)
    check("a number where a block wants a string: refused and named",
          rc != 0 and 'option CustomKeyStoreName: expected one string' in log, log)

    rc, log, output = run_test_mode("inline", emu, """  <CustomKeyStore "%s">
    KeyStorePassword "%s"
  </CustomKeyStore>
""" % (HSM_ID, HSM_PASSWORD))
    check("an inline secret: refused, pointing at the *File option",
          rc != 0 and "option KeyStorePassword: secrets are read from files only: use KeyStorePasswordFile"
          in log, log)
    rc, log, output = run_test_mode("newname", emu, """  <CustomKeyStore "%s">
    NewCustomKeyStoreName "x"
  </CustomKeyStore>
""" % HSM_ID)
    check("NewCustomKeyStoreName: refused, pointing at CustomKeyStoreName",
          rc != 0 and "use CustomKeyStoreName" in log, log)

    rc, log, output = run_test_mode("nofile", emu, """  <CustomKeyStore "%s">
    KeyStorePasswordFile "%s/does-not-exist"
  </CustomKeyStore>
""" % (HSM_ID, W))
    check("a missing secret file: init fails naming the block, option and file",
          rc != 0 and '<CustomKeyStore "%s">: option KeyStorePasswordFile: cannot read %s/does-not-exist: '
          'No such file or directory' % (HSM_ID, W) in log, log)

    rc, log, output = run_test_mode("twice", emu, XKS_BLOCK + XKS_BLOCK)
    check("two blocks for one store: refused", rc != 0 and "the store has two blocks" in log, log)

    rc, log, output = run_test_mode("good", emu, XKS_BLOCK.replace("Renamed-By-Collectd", "T-Mode"))
    check("a good configuration under -T: exit 0, one read", rc == 0 and "Exiting normally" in log, log[-1500:])

scan_secrets("collectd's logs and output (%d texts)" % len(all_text), "\n".join(all_text))
finish()

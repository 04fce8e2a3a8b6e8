#!/usr/bin/env bash
# bench_send.sh - the send benchmark: N sequential UpdateCustomKeyStore
# requests over keep-alive to nginx on 127.0.0.1 answering 200 '{}', side
# by side: kmscks (the whole path), a bare libcurl loop re-sending one
# pre-signed request on one handle, and boto3 (Debian's, in-process, with
# its installed model). Prints per-request microseconds and the ratios to
# the bare loop. Not a timed test (meson test --benchmark runs it).
#
#   bench_send.sh PATH/TO/bench_send [N]      exit 77 when nginx is missing
set -euo pipefail
bin=$1
n=${2:-1000}
py=/usr/bin/python3

nginx=$(command -v nginx || true)
[ -n "$nginx" ] || nginx=/usr/sbin/nginx
if [ ! -x "$nginx" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get install -y nginx-light >/dev/null 2>&1 || true
fi
if [ ! -x "$nginx" ]; then
  echo "bench_send: nginx is missing (apt-get install nginx-light); skipped"
  exit 77
fi

prefix=$(mktemp -d "${TMPDIR:-/tmp}/kms-bench-send.XXXXXX")
. "$(dirname "$0")/stub_nginx.sh"
cleanup() {
  stub_nginx_stop
  rm -rf "$prefix"
}
trap cleanup EXIT
stub_nginx_start "$nginx" "$prefix"
url=http://127.0.0.1:$stub_port

clean_env=(env -i PATH=/usr/bin:/bin HOME="$prefix" AWS_EC2_METADATA_DISABLED=true
           AWS_CONFIG_FILE="$prefix/none" AWS_SHARED_CREDENTIALS_FILE="$prefix/none")
ours=$("${clean_env[@]}" "$bin" "$url" "$n")
boto=$("${clean_env[@]}" "$py" - "$url" "$n" <<'PY'
import sys, time
import boto3
from botocore.config import Config
url, n = sys.argv[1], int(sys.argv[2])
c = boto3.session.Session().client(
    "kms", region_name="us-east-1", endpoint_url=url, aws_access_key_id="AKIDEXAMPLE",
    aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    config=Config(retries={"total_max_attempts": 1}))
kw = dict(CustomKeyStoreId="cks-0987654321fedcba0", NewCustomKeyStoreName="ExampleExternalKeyStore",
          XksProxyAuthenticationCredential={"AccessKeyId": "BCDEF34567234EXAMPLE",
                                            "RawSecretAccessKey": "7a6QGqd5MwwUJQQ34nIfTPTWmREcNu9M6uf2W3qbnGs="})
for _ in range(20):
    c.update_custom_key_store(**kw)
t0 = time.perf_counter()
for _ in range(n):
    c.update_custom_key_store(**kw)
print("boto3 %.1f" % ((time.perf_counter() - t0) / n * 1e6))
PY
)
"$py" - "$n" "$ours" "$boto" <<'PY'
import sys
n = int(sys.argv[1])
v = dict(l.split() for l in (sys.argv[2] + "\n" + sys.argv[3]).splitlines() if l.strip())
v = {k: float(x) for k, x in v.items()}
bare = v["bare"]
print("bench_send: %d sequential UpdateCustomKeyStore over keep-alive to nginx (127.0.0.1)" % n)
print("  %-34s %9s %8s" % ("", "us/req", "x bare"))
for key, label in (("bare", "bare libcurl, pre-signed"), ("kmscks", "kmscks (validate+encode+sign+send)"),
                   ("boto3", "boto3 %s" % __import__("boto3").__version__)):
    print("  %-34s %9.1f %8.2f" % (label, v[key], v[key] / bare))
print("  %-34s %9.1f" % ("kmscks validate+encode+sign only", v["prepare"]))
print("  client process CPU per request: kmscks %.1f us, bare %.1f us (+%.1f us)"
      % (v["kmscks_cpu"], v["bare_cpu"], v["kmscks_cpu"] - v["bare_cpu"]))
print("  (wall figures: medians of 40 interleaved rounds)")
print("  target kmscks <= 1.10 x bare: %s" % ("met" if v["kmscks"] <= 1.10 * bare else "NOT met"))
PY

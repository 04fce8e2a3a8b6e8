#!/usr/bin/env bash
# bench_cli.sh - the CLI benchmark: whole-process wall time and peak RSS of
# one `kmscks update-custom-key-store` call against nginx on 127.0.0.1
# answering 200 '{}', interleaved A/B with Debian's
# `/usr/bin/aws kms update-custom-key-store` on the same server and the
# same arguments. Rounds alternate which tool goes first; each round is a
# hyperfine run of both; peak RSS comes from /usr/bin/time -v. Targets:
# kmscks at least 100x faster, at most 12 MiB peak RSS. Not a timed test.
#
#   bench_cli.sh PATH/TO/kmscks [ROUNDS] [RUNS_PER_ROUND]
#   exit 77 when nginx, hyperfine or the AWS CLI is missing
set -euo pipefail
kmscks=$1
rounds=${2:-4}
runs=${3:-5}
py=/usr/bin/python3
aws=/usr/bin/aws

nginx=$(command -v nginx || true)
[ -n "$nginx" ] || nginx=/usr/sbin/nginx
hyperfine=$(command -v hyperfine || echo /usr/bin/hyperfine)
for need in "$nginx" "$aws" /usr/bin/time "$hyperfine"; do
  if [ ! -x "$need" ]; then
    echo "bench_cli: $need is missing; skipped"
    exit 77
  fi
done

prefix=$(mktemp -d "${TMPDIR:-/tmp}/kms-bench-cli.XXXXXX")
. "$(dirname "$0")/stub_nginx.sh"
cleanup() {
  stub_nginx_stop
  rm -rf "$prefix"
}
trap cleanup EXIT
stub_nginx_start "$nginx" "$prefix"
port=$stub_port
mkdir -p "$prefix/home"

# The environment of the differential tests, and the same arguments.
export HOME="$prefix/home" AWS_ACCESS_KEY_ID=AKIDEXAMPLE \
  AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY \
  AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_PAGER=
args="update-custom-key-store --endpoint-url http://127.0.0.1:$port"
args="$args --custom-key-store-id cks-1234567890abcdef0"
args="$args --new-custom-key-store-name ExampleKeyStore"
cmd_k="$kmscks $args"
cmd_a="$aws kms $args"

# Both must succeed before they are timed.
$cmd_k >/dev/null
$cmd_a >/dev/null

for r in $(seq "$rounds"); do
  if [ $((r % 2)) = 1 ]; then
    first=$cmd_k second=$cmd_a
  else
    first=$cmd_a second=$cmd_k
  fi
  "$hyperfine" -N --style none --warmup 1 --runs "$runs" \
    --export-json "$prefix/round$r.json" "$first" "$second" >/dev/null
done

rss() {   # the largest peak RSS, in KiB, of three runs of "$@"
  local max=0 v
  for _ in 1 2 3; do
    v=$(/usr/bin/time -v "$@" 2>&1 >/dev/null |
        awk -F': ' '/Maximum resident set size/ {print $2}')
    [ "$v" -gt "$max" ] && max=$v
  done
  echo "$max"
}
rss_k=$(rss $cmd_k)
rss_a=$(rss $cmd_a)

"$py" - "$prefix" "$rounds" "$cmd_k" "$rss_k" "$rss_a" <<'PY'
import json, statistics, sys
prefix, rounds, cmd_k = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rss = {"kmscks": int(sys.argv[4]), "aws": int(sys.argv[5])}
times = {"kmscks": [], "aws": []}
cpu = {"kmscks": [], "aws": []}   # user + system, mean of each round
for r in range(1, rounds + 1):
    with open("%s/round%d.json" % (prefix, r)) as f:
        for res in json.load(f)["results"]:
            tool = "kmscks" if res["command"] == cmd_k else "aws"
            times[tool] += res["times"]
            cpu[tool].append(res["user"] + res["system"])
med = {k: statistics.median(v) for k, v in times.items()}
ratio = med["aws"] / med["kmscks"]
print("bench_cli: %d interleaved rounds, %d runs of each tool"
      % (rounds, len(times["aws"])))
for k in ("kmscks", "aws"):
    v = times[k]
    print("  %-7s median %8.2f ms  mean %8.2f ms  min %8.2f ms  "
          "max %8.2f ms  CPU %8.2f ms  peak RSS %5.1f MiB"
          % (k, med[k] * 1e3, statistics.mean(v) * 1e3, min(v) * 1e3,
             max(v) * 1e3, statistics.mean(cpu[k]) * 1e3, rss[k] / 1024))
print("  kmscks is %.0fx faster by the medians (target >= 100x: %s), "
      "%.0fx by the minima, %.0fx in CPU time"
      % (ratio, "met" if ratio >= 100 else "MISSED",
         min(times["aws"]) / min(times["kmscks"]),
         statistics.mean(cpu["aws"]) / statistics.mean(cpu["kmscks"])))
print("  kmscks peak RSS %.1f MiB (target <= 12 MiB: %s)"
      % (rss["kmscks"] / 1024,
         "met" if rss["kmscks"] <= 12 * 1024 else "MISSED"))
PY

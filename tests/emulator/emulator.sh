#!/usr/bin/env bash
# emulator.sh - start and stop the loopback emulators from shell tests.
#
#   emulator.sh start [kms_emulator.py options...]   prints "PORT PID CA"
#   emulator.sh start-creds [cred_services.py options...]  prints "PORT PID CA"
#   emulator.sh stop PID
#
# CA is the test CA's path with --tls, "-" without.  The server runs
# detached (its own session), logs to its state directory, and is ready when
# this prints; it listens on 127.0.0.1 on an ephemeral port.  stop sends
# SIGTERM and, after 5 s, SIGKILL; it removes the state directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3

start() {
  local script=$1; shift
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/kms-emulator.XXXXXX")
  : "${KMS_SHARED:=$(cd "$here/../.." && pwd)/../shared}"
  export KMS_SHARED
  setsid "$py" "$here/$script" --port 0 --ready-file "$dir/ready.json" \
    --state-dir "$dir" --cleanup "$@" </dev/null >"$dir/server.log" 2>&1 &
  local child=$! i
  for ((i = 0; i < 1000; i++)); do   # 20 s, polling every 20 ms
    if [ -s "$dir/ready.json" ]; then
      "$py" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["port"], d["pid"], d["ca"] or "-")' \
        "$dir/ready.json"
      return 0
    fi
    if ! kill -0 "$child" 2>/dev/null; then
      echo "emulator.sh: $script exited before it was ready:" >&2
      cat "$dir/server.log" >&2
      rm -rf "$dir"
      return 1
    fi
    sleep 0.02
  done
  echo "emulator.sh: $script was not ready within 20 s:" >&2
  cat "$dir/server.log" >&2
  kill -TERM "$child" 2>/dev/null || true
  return 1
}

alive() {  # running, and not a zombie
  local pid=$1 state
  [ -r "/proc/$pid/stat" ] || return 1
  state=$(sed 's/^.*) //' "/proc/$pid/stat" | cut -d' ' -f1)
  [ "$state" != Z ]
}

stop() {
  local pid=${1:?usage: emulator.sh stop PID} i
  case $pid in *[!0-9]*|'') echo "emulator.sh: not a pid: $pid" >&2; return 2 ;; esac
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 250; i++)); do
    alive "$pid" || return 0
    sleep 0.02
  done
  kill -KILL "$pid" 2>/dev/null || true
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
  start) start kms_emulator.py "$@" ;;
  start-creds) start cred_services.py "$@" ;;
  stop) stop "$@" ;;
  *) echo "usage: emulator.sh start [options] | start-creds [options] | stop PID" >&2; exit 2 ;;
esac

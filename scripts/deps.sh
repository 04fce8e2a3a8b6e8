#!/usr/bin/env bash
# deps.sh - installs, from Debian 12's packages, what kmscks needs to build,
# run its main job and run every test. Installs only what is missing; run as
# root or with sudo available. Never starts a daemon (nginx, haproxy and
# collectd are started by the tests themselves on 127.0.0.1).
set -euo pipefail

PACKAGES=(
  gcc clang libclang-rt-14-dev pkg-config meson ninja-build
  libcurl4-openssl-dev libssl-dev libcjson-dev libinih-dev libyaml-dev
  openssl curl python3 python3-botocore python3-boto3 awscli
  lua5.4 liblua5.4-dev lua5.3 liblua5.3-dev luajit2 libluajit2-5.1-dev
  haproxy libnginx-mod-http-lua collectd-core collectd-dev
  valgrind hyperfine
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi

# Keep apt from starting the daemons it installs (nginx would take :80):
# a policy-rc.d that says "no" for the duration of the install only.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  made_policy=1
fi
cleanup() { [ "$made_policy" = 1 ] && $SUDO rm -f "$policy"; }
trap cleanup EXIT

echo "deps.sh: installing ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
  -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}" >/dev/null

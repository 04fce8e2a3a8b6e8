#!/usr/bin/env bash
# main-job.sh - the README's main job: set up (Debian packages, build), then
# change a custom key store. By default it starts the KMS emulator the
# project carries, with a sample CloudHSM store, so no AWS account is
# needed; set KMSCKS_REAL_AWS=1 to talk to the real KMS with your own AWS
# configuration instead.
#
#   scripts/main-job.sh [ID MEMBER=VALUE...]
#
# Default update: cks-1234567890abcdef0 NewCustomKeyStoreName=ExampleKeyStore2
#                 KeyStorePassword=ExamplePassword
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
"$top/scripts/build.sh"

if [ $# -eq 0 ]; then
  set -- cks-1234567890abcdef0 NewCustomKeyStoreName=ExampleKeyStore2 \
         KeyStorePassword=ExamplePassword
fi

if [ "${KMSCKS_REAL_AWS:-0}" = 1 ]; then
  exec "$top/build/examples/c/update_store" "$@"
fi

# The emulator verifies every signature with botocore and keeps the store.
read -r port pid ca < <("$top/tests/emulator/emulator.sh" start --tls \
                          --seed "$top/tests/emulator/seed-example.json")
trap '"$top/tests/emulator/emulator.sh" stop "$pid"' EXIT
echo "KMS emulator on https://127.0.0.1:$port (pid $pid)"

env -i PATH="$PATH" HOME="$(mktemp -d)" \
  AWS_ACCESS_KEY_ID=AKIDEXAMPLE \
  AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY \
  AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
  "$top/build/examples/c/update_store" \
    --endpoint-url "https://127.0.0.1:$port" --ca-bundle "$ca" "$@"

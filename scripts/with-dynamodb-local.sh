#!/usr/bin/env bash
# Runs a command with AWS DynamoDB Local up on a free port, its URL in
# DYNAMODB_LOCAL_ENDPOINT, and stops the server afterwards.
#
#   scripts/with-dynamodb-local.sh COMMAND [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

port=$(free_port)
log=$(mktemp)
scripts/dynamodb-local.sh "$port" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -f "$log"' EXIT
wait_for "DynamoDB Local" "http://127.0.0.1:$port" 60 || { cat "$log" >&2; exit 1; }
echo "DynamoDB Local up at http://127.0.0.1:$port"
DYNAMODB_LOCAL_ENDPOINT="http://127.0.0.1:$port" "$@"

#!/usr/bin/env bash
# Runs the official RealWorld Hurl suite against the local server, started
# on a free port with an empty database, and prints the counts.
#
#   scripts/e2e.sh [DYNAMODB_ENDPOINT]
#
# Without an endpoint the server uses its embedded engine (dynoxide);
# with one, that DynamoDB (e.g. AWS DynamoDB Local).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

endpoint=${1:-}
realworld=${REALWORLD_DIR:-../shared/realworld}
server=${SERVER_BIN:-target/debug/conduit-local}
engine=${endpoint:+"DynamoDB at $endpoint"}
engine=${engine:-embedded dynoxide}

data=$(mktemp -d)
port=$(free_port)
DATA_DIR=$data PORT=$port DYNAMODB_PORT=0 DYNAMODB_ENDPOINT=$endpoint \
  TABLE_NAME="e2e-$(date +%s)-$$" RUST_LOG=warn "$server" >"$data/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$data"' EXIT
wait_for "conduit-local" "http://127.0.0.1:$port/api/tags" 60 || { cat "$data/server.log" >&2; exit 1; }

set +e
hurl --test --jobs 1 \
  --variable host="http://127.0.0.1:$port" \
  --variable uid="$(date +%s)$$" \
  "$realworld"/hurl/*.hurl 2>&1 | tee "$data/hurl.out"
status=${PIPESTATUS[0]}
set -e

# Hurl stops a file at its first failing request: one failure per failed file.
requests=$(sed -n 's/.*Executed requests: *\([0-9]*\).*/\1/p' "$data/hurl.out" | tail -1)
failed=$(sed -n 's/.*Failed files: *\([0-9]*\).*/\1/p' "$data/hurl.out" | tail -1)
echo "Hurl suite on $engine: $((${requests:-0} - ${failed:-0})) of ${requests:-0} requests passed"
if [ "$status" -ne 0 ]; then
  echo "--- server log ---" >&2
  tail -50 "$data/server.log" >&2
fi
exit "$status"

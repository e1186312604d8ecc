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
engine=${endpoint:+"DynamoDB at $endpoint"}
engine=${engine:-embedded dynoxide}

start_server DYNAMODB_ENDPOINT="$endpoint" TABLE_NAME="e2e-$(date +%s)-$$"

set +e
hurl --test --jobs 1 \
  --variable host="$SERVER_URL" \
  --variable uid="$(date +%s)$$" \
  "$realworld"/hurl/*.hurl 2>&1 | tee "$SERVER_DIR/hurl.out"
status=${PIPESTATUS[0]}
set -e

# Hurl stops a file at its first failing request: one failure per failed file.
requests=$(sed -n 's/.*Executed requests: *\([0-9]*\).*/\1/p' "$SERVER_DIR/hurl.out" | tail -1)
failed=$(sed -n 's/.*Failed files: *\([0-9]*\).*/\1/p' "$SERVER_DIR/hurl.out" | tail -1)
echo "Hurl suite on $engine: $((${requests:-0} - ${failed:-0})) of ${requests:-0} requests passed"
exit "$status"

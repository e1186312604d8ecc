#!/usr/bin/env bash
# Runs the official RealWorld Hurl suite against the local server, started
# on a free port with an empty database, and prints the counts; then
# feed.hurl 20 times in a row (FEED_RUNS), the feed's consistency promise,
# and what the stream consumers do (tests/hurl/stream-effects.hurl).
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

status=0
hurl_suite "$engine" "$SERVER_URL" "$SERVER_DIR" || status=$?

# The feed's promise (docs/data-model.md, "Feeds"): follow, two posts, and
# the very next read has both. Not once by luck: FEED_RUNS times in a row.
runs=${FEED_RUNS:-20}
passed=0
for run in $(seq "$runs"); do
  if hurl --test --variable host="$SERVER_URL" --variable uid="feed$(date +%s%N)" \
      "$realworld"/hurl/feed.hurl >"$SERVER_DIR/feed-$run.out" 2>&1; then
    passed=$((passed + 1))
  else
    cat "$SERVER_DIR/feed-$run.out"
  fi
done
echo "feed.hurl on $engine: $passed of $runs runs in a row passed"
[ "$passed" -eq "$runs" ] || status=1

stream_effects "$engine" "$SERVER_URL" "$SERVER_DIR" || status=1
exit "$status"

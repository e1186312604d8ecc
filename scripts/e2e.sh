#!/usr/bin/env bash
# The RealWorld Hurl suite and stream-effects.hurl against the local server;
# then, its consumers paused, what must not wait for them: feed.hurl
# FEED_RUNS times in a row (default 20), own-changes and account-deletion.
#   scripts/e2e.sh [DYNAMODB_ENDPOINT]   # default: the embedded engine
cd "$(dirname "$0")/.." && source scripts/lib.sh || exit 1
endpoint=${1:-} status=0
engine=${endpoint:+"DynamoDB at $endpoint"}
engine=${engine:-embedded dynoxide}
start_server DYNAMODB_ENDPOINT="$endpoint" TABLE_NAME="e2e-$(date +%s)-$$"
hurl_suite "$engine" "$SERVER_URL" || status=1
start_server DYNAMODB_ENDPOINT="$endpoint" TABLE_NAME="e2e-paused-$(date +%s)-$$" STREAM_CONSUMERS=paused
grep -q "stream consumers paused" "$SERVER_DIR/server.log" || { echo "consumers not paused" >&2; exit 1; }
engine="$engine, stream consumers paused"
runs=${FEED_RUNS:-20} passed=0
for _ in $(seq "$runs"); do
  if hurl_file "$engine" "$REALWORLD_DIR/hurl/feed.hurl" "$SERVER_URL" >"$SERVER_DIR/feed.log"; then
    passed=$((passed + 1))
  else cat "$SERVER_DIR/feed.log"; fi
done
echo "feed.hurl on $engine: $passed of $runs runs in a row passed"
[ "$passed" -eq "$runs" ] || status=1
for file in own-changes account-deletion; do hurl_file "$engine" "$file" "$SERVER_URL" || status=1; done
exit "$status"

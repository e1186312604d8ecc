#!/usr/bin/env bash
# The official RealWorld Hurl suite and what the stream consumers do
# (tests/hurl/stream-effects.hurl) against the local server, with an empty
# database. Then, against a second server whose consumers are paused:
# feed.hurl FEED_RUNS times in a row (default 20: the feed's consistency
# promise), and a user's own changes and an account's deletion seen at once
# (tests/hurl/own-changes.hurl, account-deletion.hurl).
#
#   scripts/e2e.sh [DYNAMODB_ENDPOINT]   # default: the embedded engine
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
endpoint=${1:-}
engine=${endpoint:+"DynamoDB at $endpoint"}
engine=${engine:-embedded dynoxide}

start_server DYNAMODB_ENDPOINT="$endpoint" TABLE_NAME="e2e-$(date +%s)-$$"
status=0
hurl_suite "$engine" "$SERVER_URL" "$SERVER_DIR" || status=1

# Nothing below may wait for a stream consumer.
start_server DYNAMODB_ENDPOINT="$endpoint" TABLE_NAME="e2e-paused-$(date +%s)-$$" STREAM_CONSUMERS=paused
grep -q "stream consumers paused" "$SERVER_DIR/server.log" || { echo "consumers not paused" >&2; exit 1; }
paused="$engine, stream consumers paused"
# docs/data-model.md, "Feeds": follow, two posts, and the very next read has both.
runs=${FEED_RUNS:-20} passed=0
for _ in $(seq "$runs"); do
  hurl_file "$paused" "$REALWORLD_DIR/hurl/feed.hurl" "$SERVER_URL" "$SERVER_DIR" \
    >"$SERVER_DIR/feed.log" && passed=$((passed + 1)) || cat "$SERVER_DIR/feed.log"
done
echo "feed.hurl on $paused: $passed of $runs runs in a row passed"
[ "$passed" -eq "$runs" ] || status=1
for file in own-changes account-deletion; do
  hurl_file "$paused" "$file" "$SERVER_URL" "$SERVER_DIR" || status=1
done
exit "$status"

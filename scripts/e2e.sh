#!/usr/bin/env bash
# Runs the official RealWorld Hurl suite against the local server, started
# on a free port with an empty database, and prints the counts, then what
# the stream consumers do (tests/hurl/stream-effects.hurl). Then, against a
# second server whose consumers are paused: feed.hurl 20 times in a row
# (FEED_RUNS), the feed's consistency promise, and a user's own changes and
# an account's deletion seen at once (tests/hurl/own-changes.hurl,
# account-deletion.hurl).
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
stream_effects "$engine" "$SERVER_URL" "$SERVER_DIR" || status=1

# Nothing below may wait for a stream consumer.
start_server DYNAMODB_ENDPOINT="$endpoint" TABLE_NAME="e2e-paused-$(date +%s)-$$" \
  STREAM_CONSUMERS=paused
grep -q "stream consumers paused" "$SERVER_DIR/server.log" ||
  { echo "the second server's consumers are not paused" >&2; exit 1; }

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
echo "feed.hurl on $engine, stream consumers paused: $passed of $runs runs in a row passed"
[ "$passed" -eq "$runs" ] || status=1

# A user's own changes, and an account's deletion, each seen at once.
for file in own-changes account-deletion; do
  if hurl --test --variable host="$SERVER_URL" --variable uid="u$(date +%s%N)" \
      "tests/hurl/$file.hurl" >"$SERVER_DIR/$file.out" 2>&1; then
    requests=$(grep -c '^\(GET\|POST\|PUT\|DELETE\) ' "tests/hurl/$file.hurl")
    echo "$file.hurl on $engine, stream consumers paused: $requests requests passed"
  else
    cat "$SERVER_DIR/$file.out"
    echo "$file.hurl on $engine, stream consumers paused: FAIL"
    status=1
  fi
done
exit "$status"

#!/usr/bin/env bash
# Swagger UI in a real browser (headless Chromium, puppeteer-core): starts
# the local server on a free port with an empty database and runs
# tests/browser/ with node's test runner. The test prints where it put its
# screenshots (target/browser-screenshots/<time>/).
#
#   scripts/browser-test.sh   (CHROMIUM=/path/to/chrome to use another browser)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

server=${SERVER_BIN:-target/debug/conduit-local}
data=$(mktemp -d)
port=$(free_port)
DATA_DIR=$data PORT=$port DYNAMODB_PORT=0 RUST_LOG=warn "$server" >"$data/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$data"' EXIT
wait_for "conduit-local" "http://127.0.0.1:$port/api/tags" 60 || { cat "$data/server.log" >&2; exit 1; }

set +e
CONDUIT_URL="http://127.0.0.1:$port" node --test --test-reporter=spec tests/browser/
status=$?
set -e
if [ "$status" -ne 0 ]; then
  echo "--- server log ---" >&2
  tail -50 "$data/server.log" >&2
fi
exit "$status"

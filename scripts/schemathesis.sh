#!/usr/bin/env bash
# Property-based API testing: schemathesis generates requests from the served
# OpenAPI document (/api/openapi.json) and fails on any 5xx, undocumented
# status or content type, or response that breaks its schema.
#
#   scripts/schemathesis.sh   (EXAMPLES=n per operation, default 30; SEED to reproduce)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

server=${SERVER_BIN:-target/debug/conduit-local}
data=$(mktemp -d)
port=$(free_port)
ddb_port=$(free_port)
DATA_DIR=$data PORT=$port DYNAMODB_PORT=$ddb_port RUST_LOG=warn "$server" >"$data/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$data"' EXIT
base="http://127.0.0.1:$port"
wait_for "conduit-local" "$base/api/tags" 60 || { cat "$data/server.log" >&2; exit 1; }

# A signed-in admin, so that every operation, admin ones included, gets past 401/403.
token=$(curl -sf -X POST "$base/api/users" \
  -d '{"user":{"username":"fuzzer","email":"fuzzer@example.com","password":"password123"}}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["user"]["token"])')
DYNAMODB_ENDPOINT="http://127.0.0.1:$ddb_port" "$(dirname "$server")/conduit-admin" grant fuzzer admin

set +e
.venv/bin/schemathesis run "$base/api/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --header "Authorization: Token $token" \
  --max-examples "${EXAMPLES:-30}" \
  --seed "${SEED:-$(date +%s)}" \
  --request-timeout 10 \
  --no-color 2>&1 | tee "$data/schemathesis.out"
status=${PIPESTATUS[0]}
set -e
if grep -q '"status":5\|request failed' "$data/server.log"; then
  echo "server errors were logged:" >&2
  grep '"status":5\|request failed' "$data/server.log" | head -20 >&2
  status=1
fi
exit "$status"

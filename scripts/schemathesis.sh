#!/usr/bin/env bash
# Property-based API testing: schemathesis generates requests from the served
# OpenAPI document (/api/openapi.json) and fails on any 5xx, undocumented
# status or content type, or response that breaks its schema; and on the
# warnings that say the document and the API's validation disagree.
#
#   scripts/schemathesis.sh [schemathesis run options]
#     (EXAMPLES=n per operation, default 30; SEED to reproduce)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

server=${SERVER_BIN:-target/debug/conduit-local}
ddb_port=$(free_port)
start_server DYNAMODB_PORT="$ddb_port"

# A signed-in admin, so that every operation, admin ones included, gets past 401/403.
token=$(curl -sf -X POST "$SERVER_URL/api/users" \
  -d '{"user":{"username":"fuzzer","email":"fuzzer@example.com","password":"password123"}}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["user"]["token"])')
DYNAMODB_ENDPOINT="http://127.0.0.1:$ddb_port" "$(dirname "$server")/conduit-admin" grant fuzzer admin

# validation_mismatch: the API refused most of the data the document calls
# valid; unsupported_regex: a pattern schemathesis cannot generate from.
cat >"$SERVER_DIR/schemathesis.toml" <<'EOF'
[warnings]
fail-on = ["validation_mismatch", "unsupported_regex"]
EOF

set +e
.venv/bin/schemathesis --config-file "$SERVER_DIR/schemathesis.toml" run "$SERVER_URL/api/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --header "Authorization: Token $token" \
  --max-examples "${EXAMPLES:-30}" \
  --seed "${SEED:-$(date +%s)}" \
  --request-timeout 10 \
  --no-color "$@" 2>&1 | tee "$SERVER_DIR/schemathesis.out"
status=${PIPESTATUS[0]}
set -e
if grep -q '"status":5\|request failed' "$SERVER_DIR/server.log"; then
  echo "server errors were logged:" >&2
  grep '"status":5\|request failed' "$SERVER_DIR/server.log" | head -20 >&2
  status=1
fi
exit "$status"

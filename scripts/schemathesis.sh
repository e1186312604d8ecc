#!/usr/bin/env bash
# schemathesis generates requests from the served OpenAPI document and fails
# on any 5xx, undocumented status or content type, response breaking its
# schema, or warning that the document and the API's validation disagree;
# then the same for /api/graphql from functions/schema.graphql. Every 5xx
# and every GraphQL field failed on our side is logged at error level: any
# in the server's log fails the run too.
#
#   scripts/schemathesis.sh [schemathesis run options]   (EXAMPLES per operation, default 30; SEED)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ddb_port=$(free_port)
start_server DYNAMODB_PORT="$ddb_port"

# admin NAME: registers NAME as an admin, so that every operation gets past
# 401/403, and prints their token.
admin() {
  curl -sf -X POST "$SERVER_URL/api/users" \
    -d "{\"user\":{\"username\":\"$1\",\"email\":\"$1@example.com\",\"password\":\"password123\"}}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["user"]["token"])'
  DYNAMODB_ENDPOINT="http://127.0.0.1:$ddb_port" \
    "$BIN/conduit-admin" grant "$1" admin >&2
}

# No links inferred from Location headers (the API sends none): that also
# scans every body for URLs, and crashes schemathesis 4.32 on a fuzzed "http://[".
cat >"$SERVER_DIR/schemathesis.toml" <<'EOF'
[warnings]
fail-on = ["validation_mismatch", "unsupported_regex"]

[phases.stateful.inference]
algorithms = ["dependency-analysis"]
EOF

extra=("$@")
status=0
# fuzz SELECTOR "OPERATIONS" ARGS...: `schemathesis ARGS` without the
# OPERATIONS, then with only them: those that can end the token's own session
# (logout, ending a session, an admin ending a user's), last.
fuzz() {
  local selector=$1 operations=$2 run operation
  shift 2
  for run in exclude include; do
    local select=()
    for operation in $operations; do select+=("--$run-$selector" "$operation"); done
    .venv/bin/schemathesis "$@" "${select[@]}" --header "Authorization: Token $token" \
      --max-examples "${EXAMPLES:-30}" --seed "${SEED:-$(date +%s)}" --request-timeout 10 \
      --no-color "${extra[@]}" 2>&1 | tee -a "$SERVER_DIR/schemathesis.out"
    [ "${PIPESTATUS[0]}" = 0 ] || status=1
  done
}

token=$(admin fuzzer)
set +e
fuzz operation-id "logout end_session end_user_sessions" \
  --config-file "$SERVER_DIR/schemathesis.toml" run "$SERVER_URL/api/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
# A new admin: the runs above ended the first one's session. schemathesis's
# not_a_server_error takes every GraphQL error with a `path` for a server's
# fault; ours are in the log, checked below.
token=$(admin graphql-fuzzer)
fuzz name "Mutation.logout Mutation.endSession Mutation.endUserSessions" \
  run functions/schema.graphql --url "$SERVER_URL/api/graphql" --checks response_schema_conformance
set -e
if grep -m 20 'request failed\|graphql field failed' "$SERVER_DIR/server.log" >&2; then
  echo "server errors were logged (above)" >&2
  status=1
fi
exit "$status"

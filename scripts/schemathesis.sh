#!/usr/bin/env bash
# schemathesis against /api/openapi.json, then /api/graphql: any 5xx, schema
# violation or validation mismatch fails, and so does any error the server
# logs (every 5xx, every GraphQL field failed on our side).
#   scripts/schemathesis.sh [schemathesis run options]   (EXAMPLES per operation, default 30; SEED)
cd "$(dirname "$0")/.." && source scripts/lib.sh || exit 1
ddb_port=$(free_port)
start_server DYNAMODB_PORT="$ddb_port"
# admin NAME: NAME registered and made admin (past every 401/403); its token.
admin() {
  curl -sf -X POST "$SERVER_URL/api/users" \
    -d "{\"user\":{\"username\":\"$1\",\"email\":\"$1@example.com\",\"password\":\"password123\"}}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["user"]["token"])'
  DYNAMODB_ENDPOINT="http://127.0.0.1:$ddb_port" "$BIN/conduit-admin" grant "$1" admin >&2
}
# No links inferred from Location headers (the API sends none): that also
# scans every body for URLs, and crashes schemathesis 4.32 on a fuzzed "http://[".
cat >"$SERVER_DIR/schemathesis.toml" <<'EOF'
[warnings]
fail-on = ["validation_mismatch", "unsupported_regex"]

[phases.stateful.inference]
algorithms = ["dependency-analysis"]
EOF
extra=("$@") status=0
# fuzz SELECTOR "OPERATIONS" ARGS...: schemathesis ARGS without OPERATIONS,
# then only them: those that end the token's own session, last.
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
# A new admin: the first's session is over. not_a_server_error would take
# every GraphQL error with a `path` for a server fault; the log says which are.
token=$(admin graphql-fuzzer)
fuzz name "Mutation.logout Mutation.endSession Mutation.endUserSessions" \
  run functions/schema.graphql --url "$SERVER_URL/api/graphql" --checks response_schema_conformance
set -e
grep -m 20 'request failed\|graphql field failed' "$SERVER_DIR/server.log" >&2 &&
  { echo "server errors were logged (above)" >&2; status=1; }
exit "$status"

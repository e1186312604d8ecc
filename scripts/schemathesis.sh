#!/usr/bin/env bash
# Property-based API testing: schemathesis generates requests from the served
# OpenAPI document (/api/openapi.json) and fails on any 5xx, undocumented
# status or content type, or response that breaks its schema; and on the
# warnings that say the document and the API's validation disagree. Then
# the same for /api/graphql from its schema (functions/schema.graphql).
#
#   scripts/schemathesis.sh [schemathesis run options]
#     (EXAMPLES=n per operation, default 30; SEED to reproduce)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

server=${SERVER_BIN:-target/debug/conduit-local}
ddb_port=$(free_port)
start_server DYNAMODB_PORT="$ddb_port"

# admin NAME: registers NAME, makes them an admin and prints their token, so
# that every operation, admin ones included, gets past 401/403.
admin() {
  curl -sf -X POST "$SERVER_URL/api/users" \
    -d "{\"user\":{\"username\":\"$1\",\"email\":\"$1@example.com\",\"password\":\"password123\"}}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["user"]["token"])'
  DYNAMODB_ENDPOINT="http://127.0.0.1:$ddb_port" "$(dirname "$server")/conduit-admin" grant "$1" admin >&2
}
token=$(admin fuzzer)

# validation_mismatch: the API refused most of the data the document calls
# valid; unsupported_regex: a pattern schemathesis cannot generate from.
# No links inferred from Location headers (the API sends none): that
# inference also scans every response body for URLs, and crashes
# schemathesis 4.32 (ValueError: Invalid IPv6 URL) on a fuzzed value such
# as an image "http://[".
cat >"$SERVER_DIR/schemathesis.toml" <<'EOF'
[warnings]
fail-on = ["validation_mismatch", "unsupported_regex"]

[phases.stateful.inference]
algorithms = ["dependency-analysis"]
EOF

# extra options given to this script, for every run
extra=("$@")
status=0

# fuzz SELECTOR "OPERATIONS" ARGS...: `schemathesis ARGS...` twice, first
# without OPERATIONS (by `--exclude-SELECTOR`), then with only them. They
# are those that can end the token's own session (logging out, ending a
# session by id, which schemathesis learns from the listing, an admin
# ending every session of a user, the fuzzer included): last, so that they
# do not sign the rest of the run out. (Once the last run has logged out,
# the rest of it is 401, and schemathesis says so.)
fuzz() {
  local selector=$1 operations=$2 run operation
  shift 2
  for run in exclude include; do
    local select=()
    for operation in $operations; do
      select+=("--$run-$selector" "$operation")
    done
    .venv/bin/schemathesis "$@" "${select[@]}" \
      --header "Authorization: Token $token" \
      --max-examples "${EXAMPLES:-30}" \
      --seed "${SEED:-$(date +%s)}" \
      --request-timeout 10 \
      --no-color "${extra[@]}" 2>&1 | tee -a "$SERVER_DIR/schemathesis.out"
    [ "${PIPESTATUS[0]}" = 0 ] || status=1
  done
}

set +e
fuzz operation-id "logout end_session end_user_sessions" \
  --config-file "$SERVER_DIR/schemathesis.toml" run "$SERVER_URL/api/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance

# GraphQL, from its published schema, as a new admin (the runs above ended
# the first one's session, and may have changed its password).
# schemathesis's own not_a_server_error counts every error with a `path`
# (our NOT_FOUND, VALIDATION, ...) as the server's fault; what is ours is
# in the log below.
token=$(admin graphql-fuzzer)
fuzz name "Mutation.logout Mutation.endSession Mutation.endUserSessions" \
  run functions/schema.graphql --url "$SERVER_URL/api/graphql" \
  --checks response_schema_conformance
set -e
# Every 5xx, and every GraphQL field that failed on our side, is logged at
# error level (the server runs at RUST_LOG=warn, so its per-request info
# line, with the status, is not there to grep).
if grep -q 'request failed\|graphql field failed' "$SERVER_DIR/server.log"; then
  echo "server errors were logged:" >&2
  grep 'request failed\|graphql field failed' "$SERVER_DIR/server.log" | head -20 >&2
  status=1
fi
exit "$status"

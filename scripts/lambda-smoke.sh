#!/usr/bin/env bash
# Smoke test of the real Lambda path: the function binaries under
# `cargo lambda watch` (the Lambda runtime API emulator), against the DynamoDB
# endpoint that conduit-local serves. This script builds and starts them; the
# checks are `xtask lambda-smoke` (xtask/src/checks/lambda_smoke.rs): the
# fixtures in events/ via `cargo lambda invoke`, the functions' EMF metrics,
# and the same calls through watch's HTTP router (Cargo.toml,
# [workspace.metadata.lambda.watch.router]).
#
#   scripts/lambda-smoke.sh
#
# Needs .venv/bin/cargo-lambda (scripts/setup.sh venv). Everything runs on
# free ports with a temporary data folder; prints one PASS/FAIL line per check
# and exits non-zero if any failed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PWD/.venv/bin:$PATH"

command -v cargo-lambda >/dev/null || { echo "FAIL: cargo-lambda not found; run scripts/setup.sh venv"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# Build (a no-op when nothing changed): the server, xtask, and the functions
# xtask invokes, these in one cargo call with the same package selection as
# watch's own `cargo run --bin NAME`, so that watch finds them fresh instead
# of compiling each one lazily on its first invocation.
t=$(now)
cargo build --quiet -p conduit-local -p xtask
functions=$(cargo run -q -p xtask -- lambda-smoke --functions)
bin_args=()
for f in $functions; do bin_args+=(--bin "$f"); done
cargo build --quiet "${bin_args[@]}"
echo "build: $(since "$t")"

# conduit-local: the DynamoDB endpoint (embedded dynoxide), table created on start.
ddb_port=$(free_port)
start_server DYNAMODB_PORT="$ddb_port" TABLE_NAME=conduit

# cargo lambda watch. The secret goes through a private env file, not argv.
# TABLE_NAME comes from [workspace.metadata.lambda.env] in Cargo.toml.
watch_port=$(free_port)
(
  umask 077
  cat >"$SERVER_DIR/lambda.env" <<EOF
DYNAMODB_ENDPOINT=http://127.0.0.1:$ddb_port
JWT_SECRET=$(head -c 36 /dev/urandom | base64 | tr '+/' 'xy')
AWS_REGION=us-east-1
AWS_ACCESS_KEY_ID=local
AWS_SECRET_ACCESS_KEY=local
EOF
)
t=$(now)
start_service "cargo lambda watch" "http://127.0.0.1:$watch_port/" "$SERVER_DIR/watch.log" \
  cargo lambda watch --ignore-changes \
  --invoke-address 127.0.0.1 --invoke-port "$watch_port" --env-file "$SERVER_DIR/lambda.env"
echo "watch up: $(since "$t")"

cargo run -q -p xtask -- lambda-smoke "$watch_port" "$SERVER_DIR"

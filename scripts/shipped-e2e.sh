#!/usr/bin/env bash
# The functions that ship, run the way API Gateway and Lambda run them, and
# the official Hurl suite against them: the arm64 bootstraps `sam build`
# put in .aws-sam/build, each under qemu-aarch64 (Debian's qemu-user, with
# the arm64 C library of libc6-arm64-cross), behind `cargo lambda watch`'s
# Runtime API and HTTP router (the HTTP API's routes, generated from the
# route table into Cargo.toml). The table is conduit-local's embedded
# engine; its emulated event source mapping invokes the shipped stream
# consumers through watch's Invoke API (CONSUMERS_INVOKE_URL), and
# tests/hurl/stream-effects.hurl checks what they do. The lambda smoke
# checks run on these binaries too.
#
#   scripts/shipped-e2e.sh          # after make sam-build
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PWD/.venv/bin:$PATH"

ARM64_LIBS=/usr/aarch64-linux-gnu
command -v qemu-aarch64 >/dev/null && [ -d "$ARM64_LIBS" ] \
  || { echo "FAIL: qemu-aarch64 or $ARM64_LIBS missing; run scripts/setup.sh apt"; exit 1; }
[ -f .aws-sam/build/template.yaml ] || { echo "FAIL: no .aws-sam/build; run make sam-build"; exit 1; }
command -v cargo-lambda >/dev/null || { echo "FAIL: cargo-lambda not found; run scripts/setup.sh venv"; exit 1; }
started=$(date +%s)

cargo build --quiet -p conduit-local -p xtask
temp_dir
SERVER_DIR=$TEMP_DIR
watch_port=$(free_port)
# Up when its Invoke API answers (405 to a GET); every other path would wait
# for a function to serve it.
start_service "cargo lambda watch" "http://127.0.0.1:$watch_port/2015-03-31/functions/_/invocations" \
  "$SERVER_DIR/watch.log" \
  cargo lambda watch --only-lambda-apis --ignore-changes \
  --invoke-address 127.0.0.1 --invoke-port "$watch_port"

ddb_port=$(free_port)
start_server DYNAMODB_PORT="$ddb_port" TABLE_NAME=conduit \
  CONSUMERS_INVOKE_URL="http://127.0.0.1:$watch_port"

# What Lambda and the template give each function. The secret goes through
# a private file, never a command line.
(
  umask 077
  cat >"$SERVER_DIR/lambda.env" <<ENV
AWS_LAMBDA_FUNCTION_VERSION=1
AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256
AWS_REGION=us-east-1
AWS_ACCESS_KEY_ID=local
AWS_SECRET_ACCESS_KEY=local
DYNAMODB_ENDPOINT=http://127.0.0.1:$ddb_port
TABLE_NAME=conduit
JWT_SECRET=$(head -c 36 /dev/urandom | base64 | tr '+/' 'xy')
TOKEN_TTL_SECONDS=86400
ALLOWED_ORIGINS=*
RUST_LOG=info
SERVICE_NAME=conduit-shipped
ENV
)
count=0
while read -r name dir; do
  bootstrap=.aws-sam/build/$dir/bootstrap
  [ -x "$bootstrap" ] || { echo "FAIL: $bootstrap missing"; exit 1; }
  setsid bash -c 'set -a; . "$1"; set +a
    export AWS_LAMBDA_FUNCTION_NAME=$2 AWS_LAMBDA_RUNTIME_API=$3
    exec qemu-aarch64 -L "$4" "$5"' _ \
    "$SERVER_DIR/lambda.env" "$name" "http://127.0.0.1:$watch_port/.rt/$name" \
    "$ARM64_LIBS" "$bootstrap" > "$SERVER_DIR/function-$name.log" 2>&1 &
  on_exit _stop_group "$!"
  on_exit _show_log_if_failed "$name" "$SERVER_DIR/function-$name.log"
  count=$((count + 1))
done < <(cargo run -q -p xtask -- shipped-functions)
echo "$count shipped functions (arm64, under qemu) polling watch's Runtime API"

status=0
hurl_suite "the shipped arm64 functions" "http://127.0.0.1:$watch_port" "$SERVER_DIR" || status=1
stream_effects "the shipped arm64 functions" "http://127.0.0.1:$watch_port" "$SERVER_DIR" || status=1
# Then the lambda smoke checks (xtask/src/checks/lambda_smoke.rs): the
# events/ fixtures through `cargo lambda invoke`, the EMF metrics in every
# function's log, the same calls through the router. Not first: its
# GET /api/tags would be the list_tags process's cached answer (10 s) when
# tags.hurl reads them.
cargo run -q -p xtask -- lambda-smoke "$watch_port" "$SERVER_DIR" || status=1
echo "shipped functions: $(( $(date +%s) - started )) s"
exit "$status"

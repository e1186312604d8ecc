#!/usr/bin/env bash
# The functions as Lambda runs them, each polling `cargo lambda watch`'s
# Runtime API, on conduit-local's table (its event source mapping invokes the
# consumers through watch): the Hurl suite, stream-effects.hurl, then xtask
# lambda-smoke (every events/ fixture, the EMF metrics).
#   scripts/shipped-e2e.sh        # sam build's arm64 bootstraps, under qemu-aarch64
#   scripts/shipped-e2e.sh debug  # debug builds, native (make lambda-smoke)
cd "$(dirname "$0")/.." && source scripts/lib.sh || exit 1
export PATH="$PWD/.venv/bin:$PATH"
command -v cargo-lambda >/dev/null || { echo "FAIL: no cargo-lambda; run scripts/setup.sh venv"; exit 1; }
started=$(date +%s)
mode=${1:-shipped}
ARM64_LIBS=/usr/aarch64-linux-gnu
if [ "$mode" = debug ]; then
  cargo build -q --workspace --examples --bins # the test build's features
else
  command -v qemu-aarch64 >/dev/null && [ -d "$ARM64_LIBS" ] ||
    { echo "FAIL: qemu-aarch64 or $ARM64_LIBS missing; run scripts/setup.sh apt"; exit 1; }
  current_build || exit 1
  cargo_build --bin xtask --bin conduit-local
fi
temp_dir
watch=http://127.0.0.1:$(free_port)
# Up when its Invoke API answers (405 to a GET).
start_service "cargo lambda watch" "$watch/2015-03-31/functions/_/invocations" "$TEMP_DIR/watch.log" \
  cargo lambda watch --only-lambda-apis --ignore-changes --invoke-address 127.0.0.1 --invoke-port "${watch##*:}"
otlp=$(free_port) # the functions' traces, for lambda-smoke: the collector stand-in
start_service "otlp-sink" "http://127.0.0.1:$otlp" "$TEMP_DIR/otlp.log" "$BIN/xtask" otlp-sink "$otlp" "$TEMP_DIR"
ddb_port=$(free_port)
start_server DYNAMODB_PORT="$ddb_port" TABLE_NAME=conduit CONSUMERS_INVOKE_URL="$watch"
# What Lambda and the template give each function; the secret never on a command line.
(umask 077; cat >"$TEMP_DIR/lambda.env" <<ENV
AWS_LAMBDA_FUNCTION_VERSION=1 AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256 AWS_REGION=us-east-1
AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local TABLE_NAME=conduit
DYNAMODB_ENDPOINT=http://127.0.0.1:$ddb_port TOKEN_TTL_SECONDS=86400 ALLOWED_ORIGINS=*
OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$otlp RUST_LOG=info SERVICE_NAME=conduit-shipped JWT_SECRET=$(head -c 36 /dev/urandom | base64 | tr '+/' 'xy')
ENV
)
while read -r name dir; do
  bin=(qemu-aarch64 -L "$ARM64_LIBS" ".aws-sam/build/$dir/bootstrap")
  [ "$mode" = shipped ] || bin=("$BIN/$name")
  [ -x "${bin[-1]}" ] || { echo "FAIL: ${bin[-1]} missing"; exit 1; }
  start_service "$name" "" "$TEMP_DIR/function-$name.log" bash -c 'set -a; . "$1"; set +a; shift; exec "$@"' _ \
    "$TEMP_DIR/lambda.env" env AWS_LAMBDA_FUNCTION_NAME="$name" AWS_LAMBDA_RUNTIME_API="$watch/.rt/$name" "${bin[@]}"
done < <(xtask shipped-functions)
status=0
hurl_suite "the $mode functions" "$watch" || status=1
# Not first: its list_tags would cache the tags (10 s) that tags.hurl reads.
xtask lambda-smoke "${watch##*:}" "$TEMP_DIR" || status=1
echo "$mode functions: $(($(date +%s) - started)) s"
exit "$status"

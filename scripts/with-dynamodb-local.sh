#!/usr/bin/env bash
# Runs a command with AWS DynamoDB Local up on a free port, its URL in
# DYNAMODB_LOCAL_ENDPOINT, and stops the server afterwards.
#
#   scripts/with-dynamodb-local.sh COMMAND [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

port=$(free_port)
temp_dir
start_service "DynamoDB Local" "http://127.0.0.1:$port" "$TEMP_DIR/dynamodb-local.log" \
  scripts/dynamodb-local.sh "$port"
echo "DynamoDB Local up at http://127.0.0.1:$port"
DYNAMODB_LOCAL_ENDPOINT="http://127.0.0.1:$port" "$@"

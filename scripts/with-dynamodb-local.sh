#!/usr/bin/env bash
# Runs COMMAND with AWS DynamoDB Local (in memory, from the npm package
# amplify-dynamodb-simulator: scripts/setup.sh dynamodb-local) up on a free
# port, its URL in DYNAMODB_LOCAL_ENDPOINT, and stops it afterwards.
#
#   scripts/with-dynamodb-local.sh COMMAND [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
jar=$PWD/node_modules/amplify-dynamodb-simulator/emulator
[ -f "$jar/DynamoDBLocal.jar" ] || { echo "no $jar/DynamoDBLocal.jar: scripts/setup.sh dynamodb-local" >&2; exit 1; }
port=$(free_port)
temp_dir
# Its metadata file goes in its working directory, even in memory. Quick-start
# JVM flags: a short-lived test server. DynamoDBLocal_lib holds sqlite4java.
start_service "DynamoDB Local" "http://127.0.0.1:$port" "$TEMP_DIR/dynamodb-local.log" \
  bash -c 'cd "$1" && shift && exec "$@"' _ "$TEMP_DIR" env DDB_LOCAL_TELEMETRY=0 \
  java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.library.path="$jar/DynamoDBLocal_lib" \
  -jar "$jar/DynamoDBLocal.jar" -inMemory -sharedDb -disableTelemetry -port "$port"
echo "DynamoDB Local up at http://127.0.0.1:$port"
DYNAMODB_LOCAL_ENDPOINT="http://127.0.0.1:$port" "$@"

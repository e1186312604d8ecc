#!/usr/bin/env bash
# scripts/with-dynamodb-local.sh COMMAND [ARGS...]: COMMAND with AWS DynamoDB
# Local up (in memory; setup.sh dynamodb-local), its URL in DYNAMODB_LOCAL_ENDPOINT.
cd "$(dirname "$0")/.." && source scripts/lib.sh || exit 1
jar=$PWD/node_modules/amplify-dynamodb-simulator/emulator
[ -f "$jar/DynamoDBLocal.jar" ] || { echo "no $jar/DynamoDBLocal.jar: scripts/setup.sh dynamodb-local" >&2; exit 1; }
port=$(free_port)
temp_dir
# In TEMP_DIR: it writes a file in its working directory, even in memory.
start_service "DynamoDB Local" "http://127.0.0.1:$port" "$TEMP_DIR/dynamodb-local.log" \
  bash -c 'cd "$1" && shift && exec "$@"' _ "$TEMP_DIR" env DDB_LOCAL_TELEMETRY=0 \
  java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.library.path="$jar/DynamoDBLocal_lib" \
  -jar "$jar/DynamoDBLocal.jar" -inMemory -sharedDb -disableTelemetry -port "$port"
DYNAMODB_LOCAL_ENDPOINT="http://127.0.0.1:$port" "$@"

#!/usr/bin/env bash
# Runs AWS DynamoDB Local (in memory) in the foreground on 127.0.0.1:PORT.
# `exec`s java, so the caller can background this script and kill its PID.
# The jar comes from the npm package amplify-dynamodb-simulator (scripts/setup.sh dynamodb-local).
#
#   scripts/dynamodb-local.sh [PORT]   (default 8000)
set -euo pipefail

port=${1:-8000}
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/node_modules/amplify-dynamodb-simulator/emulator"
if [ ! -f "$dir/DynamoDBLocal.jar" ]; then
  echo "dynamodb-local: $dir/DynamoDBLocal.jar missing; run scripts/setup.sh dynamodb-local" >&2
  exit 1
fi

# It writes dynamodb-local-metadata.json into its working directory, even in memory: keep that in .data/.
mkdir -p "$root/.data/dynamodb-local"
cd "$root/.data/dynamodb-local"
export DDB_LOCAL_TELEMETRY=0

# DynamoDBLocal_lib holds the sqlite4java native libs; the jar finds its other jars itself.
# Quick-start JVM flags: this is a short-lived test server, not a long-running one.
exec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
  -Djava.library.path="$dir/DynamoDBLocal_lib" \
  -jar "$dir/DynamoDBLocal.jar" -inMemory -sharedDb -disableTelemetry -port "$port"

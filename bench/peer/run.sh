#!/usr/bin/env bash
# Side-by-side throughput of our conduit-local and the peer,
# launchbadge/realworld-axum-sqlx on PostgreSQL (see README.md).
#
# Each round starts each server alone on core 0 (fresh data, seeded alike
# through the API by seed.py), then runs wrk from core 1 for every workload
# (workload.lua); report.py prints the table and writes docs/benchmarks-peer.md.
#
# Environment (all optional): ROUNDS (2), DURATION (15s), CONNECTIONS (8),
# SEED (42), CACHE_TTL_SECONDS (10), OURS_RUST_LOG (warn: no per-request log
# lines, as the peer writes none by default), OURS_BIN, PEER_BIN, OUT (results dir).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OURS_BIN=${OURS_BIN:-$ROOT/target/release/conduit-local}
PEER_BIN=${PEER_BIN:-${PEER_TARGET:-/tmp/peer-target}/release/realworld-axum-sqlx}
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-8}
SEED=${SEED:-42}
CACHE_TTL_SECONDS=${CACHE_TTL_SECONDS:-10}
OURS_RUST_LOG=${OURS_RUST_LOG:-warn}
OURS_PORT=${OURS_PORT:-18380}
OURS_DYNAMODB_PORT=${OURS_DYNAMODB_PORT:-18381}
PEER_PORT=8080 # hard-coded in the peer (src/http/mod.rs)
PG_PORT=${PG_PORT:-55432}
WORKLOADS=(mix mix-nologin article feed tags profile)
SECRET=benchmark-secret-benchmark-secret-0123456789
OUT=${OUT:-$(mktemp -d /tmp/peer-bench.XXXXXX)}
mkdir -p "$OUT"
chmod 755 "$OUT" # PostgreSQL runs as its own user below

for tool in wrk taskset python3 initdb pg_ctl psql; do
  command -v "$tool" >/dev/null || { echo "missing $tool (wrk: apt-get install -y wrk)" >&2; exit 1; }
done
[ -x "$OURS_BIN" ] || { echo "missing $OURS_BIN (cargo build --release -p conduit-local)" >&2; exit 1; }
[ -x "$PEER_BIN" ] || "$HERE/build-peer.sh"
for port in "$OURS_PORT" "$OURS_DYNAMODB_PORT" "$PEER_PORT" "$PG_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "port $port is in use" >&2; exit 1; fi
done

AS_PG=()
[ "$(id -u)" = 0 ] && AS_PG=(runuser -u postgres --)
SERVER_PID=
PG_DATA=
stop() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  SERVER_PID=
  if [ -n "$PG_DATA" ]; then "${AS_PG[@]}" pg_ctl -D "$PG_DATA" -m fast stop >/dev/null 2>&1 || true; fi
  PG_DATA=
}
trap stop EXIT

start_ours() { # $1: scratch dir
  mkdir -p "$1/data"
  PORT=$OURS_PORT DYNAMODB_PORT=$OURS_DYNAMODB_PORT DATA_DIR="$1/data" JWT_SECRET=$SECRET \
    SERVER_TIMING=0 CACHE_TTL_SECONDS=$CACHE_TTL_SECONDS LOGIN_MAX_FAILURES_PER_CLIENT=100000 RUST_LOG=$OURS_RUST_LOG \
    taskset -c 0 "$OURS_BIN" >"$1/server.log" 2>&1 &
  SERVER_PID=$!
  URL=http://127.0.0.1:$OURS_PORT
}

start_peer() { # $1: scratch dir
  mkdir -p "$1/pg"
  [ "$(id -u)" = 0 ] && chown postgres "$1/pg"
  PG_DATA=$1/pg/data
  "${AS_PG[@]}" initdb -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  taskset -c 0 "${AS_PG[@]}" pg_ctl -D "$PG_DATA" -l "$1/pg/log" -w \
    -o "-p $PG_PORT -k $1/pg -c listen_addresses=127.0.0.1" start >/dev/null
  psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -c "create database realworld"
  DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/realworld HMAC_KEY=$SECRET \
    taskset -c 0 "$PEER_BIN" >"$1/server.log" 2>&1 &
  SERVER_PID=$!
  URL=http://127.0.0.1:$PEER_PORT
}

STARTED=$(date +%s)
uptime >"$OUT/load-before.txt"
for round in $(seq 1 "$ROUNDS"); do
  for server in ours peer; do
    dir=$OUT/$server-r$round
    echo "== round $round: $server"
    "start_$server" "$dir"
    python3 "$HERE/seed.py" "$URL" "$dir"
    # Warm-up (not recorded): caches, connection pools, page cache.
    taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d3s -s "$HERE/workload.lua" "$URL" -- mix-nologin "$dir" "9$round" "$SEED" >/dev/null
    for i in "${!WORKLOADS[@]}"; do
      w=${WORKLOADS[$i]}
      taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$HERE/workload.lua" "$URL" \
        -- "$w" "$dir" "$round$i" "$SEED" >"$OUT/$server-r$round-$w.txt"
      grep '^RESULT' "$OUT/$server-r$round-$w.txt" | sed "s/^/  $w: /"
    done
    stop
  done
done
uptime >"$OUT/load-after.txt"

python3 "$HERE/report.py" "$OUT" "$ROOT/docs/benchmarks-peer.md" \
  --rounds "$ROUNDS" --duration "$DURATION" --connections "$CONNECTIONS" --seed "$SEED" \
  --cache-ttl "$CACHE_TTL_SECONDS" --rust-log "$OURS_RUST_LOG" --elapsed "$(( $(date +%s) - STARTED ))" \
  --workloads "${WORKLOADS[*]}" --peer-bin "$PEER_BIN" --ours-bin "$OURS_BIN" \
  --peer-commit "$(sed -n 's/^PEER_COMMIT=//p' "$HERE/build-peer.sh")"
echo "raw output: $OUT"

#!/usr/bin/env bash
# Builds the peer, launchbadge/realworld-axum-sqlx, in release, outside this
# repository: source in $PEER_SRC (cloned at the pinned commit if absent),
# target in $PEER_TARGET. Its queries are sqlx compile-time checked and it
# ships no offline data, so the build runs against a scratch PostgreSQL with
# its migrations applied (removed afterwards).
#
# The one patch: its Cargo.lock pins sha2 0.9.8, whose AVX2 SHA-512 crashes
# (SIGSEGV in sha512_compress_x86_64_avx2, reached from HMAC-SHA384 when the
# server signs a token) when built with a current rustc; sha2 0.9.9, a
# semver-compatible patch release, does not. Nothing else changes.
set -euo pipefail

PEER_SRC=${PEER_SRC:-/tmp/peer-src}
PEER_TARGET=${PEER_TARGET:-/tmp/peer-target}
PEER_COMMIT=f1b25654773228297e35c292f357d33b7121a101
PG_PORT=${PG_BUILD_PORT:-55431}

if [ ! -f "$PEER_SRC/Cargo.toml" ]; then
  git clone https://github.com/launchbadge/realworld-axum-sqlx "$PEER_SRC"
  git -C "$PEER_SRC" checkout --detach "$PEER_COMMIT"
fi

PG=$(mktemp -d /tmp/peer-pg-build.XXXXXX)
AS_PG=()
if [ "$(id -u)" = 0 ]; then chown postgres "$PG"; AS_PG=(runuser -u postgres --); fi
trap '"${AS_PG[@]}" pg_ctl -D "$PG/data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$PG"' EXIT

"${AS_PG[@]}" initdb -D "$PG/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${AS_PG[@]}" pg_ctl -D "$PG/data" -l "$PG/log" -w \
  -o "-p $PG_PORT -k $PG -c listen_addresses=127.0.0.1" start >/dev/null
psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -c "create database realworld"
for f in "$PEER_SRC"/migrations/*.sql; do
  psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d realworld -f "$f" >/dev/null
done

cd "$PEER_SRC"
grep -q '^version = "0.9.8"' <(grep -A1 '^name = "sha2"' Cargo.lock) && cargo update -p sha2 --precise 0.9.9
DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/realworld" CARGO_TARGET_DIR="$PEER_TARGET" \
  nice -n 19 cargo build --release --locked
ls -l "$PEER_TARGET/release/realworld-axum-sqlx"

# shellcheck shell=bash
# Shared by the scripts: the workspace's tools, free ports, services started,
# waited for, and stopped when the script exits.

# cargo_build ARGS...: in the test build's selection (make unit-tests; the
# --examples, of which there are none, bring the dev-dependencies): cargo
# resolves features per selection, and any other would build again.
cargo_build() { cargo build -q --workspace --exclude conduit-functions --examples "$@"; }
BIN=${CARGO_TARGET_DIR:-target}/debug
xtask() { cargo_build --bin xtask && "$BIN/xtask" "$@"; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# on_exit COMMAND...: run when the script exits, however, before those
# registered earlier; they see its status in EXIT_STATUS. The one EXIT trap.
_on_exit=()
on_exit() {
  _on_exit=("$(printf '%q ' "$@")" "${_on_exit[@]}")
  trap _run_on_exit EXIT
  trap 'exit 130' INT TERM
}
_run_on_exit() {
  EXIT_STATUS=$?
  local command
  for command in "${_on_exit[@]}"; do eval "$command" || true; done
}

# temp_dir: TEMP_DIR, removed on exit.
temp_dir() { [ -n "${TEMP_DIR:-}" ] || { TEMP_DIR=$(mktemp -d) && on_exit rm -rf "$TEMP_DIR"; }; }

# start_service NAME URL LOG COMMAND...: COMMAND in its own process group,
# output in LOG, until URL (if any) answers (60 s at most). On exit the group
# is stopped and, if the script failed, LOG's tail shown. Not in $(...).
start_service() {
  local name=$1 url=$2 log=$3 pid i
  shift 3
  setsid "$@" >"$log" 2>&1 &
  pid=$!
  on_exit _stop_group "$pid"
  on_exit _show_log_if_failed "$name" "$log"
  for ((i = 0; i < 600; i++)); do
    [ -z "$url" ] || curl -s -o /dev/null --max-time 1 "$url" && return 0
    kill -0 "$pid" 2>/dev/null || { echo "$name exited before it answered at $url" >&2; return 1; }
    sleep 0.1
  done
  echo "$name did not come up at $url within 60s" >&2
  return 1
}
_stop_group() {
  local i
  kill -TERM -- "-$1" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
_show_log_if_failed() {
  [ "$EXIT_STATUS" -eq 0 ] || { echo "--- $1 log (tail) ---" && tail -40 "$2"; } >&2
}

# start_server [NAME=VALUE...]: conduit-local on a free port, a fresh
# DATA_DIR, DYNAMODB_PORT=0, RUST_LOG=warn unless given. Sets SERVER_URL and
# SERVER_DIR (its DATA_DIR, with server.log).
start_server() {
  local port
  [ -x "$BIN/conduit-local" ] || { echo "no $BIN/conduit-local: cargo build -p conduit-local" >&2; return 1; }
  temp_dir
  SERVER_DIR=$(mktemp -d -p "$TEMP_DIR" server.XXXX)
  port=$(free_port)
  SERVER_URL=http://127.0.0.1:$port
  start_service conduit-local "$SERVER_URL/api/tags" "$SERVER_DIR/server.log" \
    env DATA_DIR="$SERVER_DIR" PORT="$port" DYNAMODB_PORT=0 RUST_LOG=warn "$@" "$BIN/conduit-local"
}

REALWORLD_DIR=${REALWORLD_DIR:-../shared/realworld}
# hurl_file NAME FILE HOST DIR: tests/hurl/FILE.hurl (or the path FILE)
# against HOST, output in DIR; says how many requests passed, or FAIL.
hurl_file() {
  local name=$1 file=$2 host=$3 out=$4/${2##*/}.out
  [[ $file == */* ]] || file=tests/hurl/$file.hurl
  if hurl --test --variable host="$host" --variable uid="u$(date +%s%N)" "$file" >"$out" 2>&1; then
    echo "${file##*/} on $name: $(grep -c '^\(GET\|POST\|PUT\|DELETE\) ' "$file") requests passed"
  else
    cat "$out" && echo "${file##*/} on $name: FAIL" && return 1
  fi
}

# hurl_suite NAME HOST DIR: the RealWorld Hurl suite and stream-effects.hurl
# against HOST; then the server's word (in DIR) that its consumers run and
# no batch failed.
hurl_suite() {
  local name=$1 host=$2 dir=$3 status=0 requests failed
  hurl --test --jobs 1 --variable host="$host" --variable uid="$(date +%s)$$" \
    "$REALWORLD_DIR"/hurl/*.hurl >"$dir/hurl.out" 2>&1 || status=1
  cat "$dir/hurl.out"
  # Hurl stops a file at its first failure: one failed request per failed file.
  requests=$(sed -n 's/.*Executed requests: *\([0-9]*\).*/\1/p' "$dir/hurl.out" | tail -1)
  failed=$(sed -n 's/.*Failed files: *\([0-9]*\).*/\1/p' "$dir/hurl.out" | tail -1)
  echo "Hurl suite on $name: $((${requests:-0} - ${failed:-0})) of ${requests:-0} requests passed"
  hurl_file "$name" stream-effects "$host" "$dir" || status=1
  if grep -q "stream consumers running" "$dir/server.log" && ! [ -s "$dir/stream-failures.jsonl" ]; then
    echo "stream consumers on $name: running, no failed batch"
  else
    cat "$dir/server.log" "$dir/stream-failures.jsonl" 2>/dev/null | tail -20
    echo "stream consumers on $name: FAIL: not announced, or a batch failed (above)" && status=1
  fi
  return "$status"
}

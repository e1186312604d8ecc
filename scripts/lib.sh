# Shared by the test scripts: free ports, starting servers and waiting for
# them, and stopping everything a script started when it exits.

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for NAME URL [SECONDS [PID]]: until URL answers HTTP at all (any
# status); fails at once if process PID is gone.
wait_for() {
  local name=$1 url=$2 seconds=${3:-60} pid=${4:-} i
  for ((i = 0; i < seconds * 10; i++)); do
    if curl -s -o /dev/null --max-time 1 "$url"; then return 0; fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      echo "$name exited before it answered at $url" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "$name did not come up at $url within ${seconds}s" >&2
  return 1
}

# on_exit COMMAND [ARGS...]: run it when the script exits, however it exits
# (Ctrl-C and kill too), before the commands registered earlier. Bash has one
# EXIT trap: register cleanups here, never with `trap`. They see the script's
# exit status in EXIT_STATUS.
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

# temp_dir: a temporary directory in TEMP_DIR, removed on exit; one per
# script (a second call keeps the first).
temp_dir() {
  [ -z "${TEMP_DIR:-}" ] || return 0
  TEMP_DIR=$(mktemp -d)
  on_exit rm -rf "$TEMP_DIR"
}

# start_service NAME URL LOG COMMAND...: COMMAND in the background, in its own
# process group, its output in LOG, and wait (60 s at most) until URL answers.
# On exit: the whole group is stopped (TERM, KILL after 5 s), and if the
# script failed, LOG's tail is shown. Call these helpers directly, not in
# $(...) or a pipeline, so that the cleanups are registered in the script.
start_service() {
  local name=$1 url=$2 log=$3
  shift 3
  setsid "$@" >"$log" 2>&1 &
  local pid=$!
  on_exit _stop_group "$pid"
  on_exit _show_log_if_failed "$name" "$log"
  wait_for "$name" "$url" 60 "$pid"
}
_stop_group() {
  local i
  kill -TERM -- "-$1" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
_show_log_if_failed() {
  [ "$EXIT_STATUS" -eq 0 ] && return
  echo "--- $1 log (tail) ---" >&2
  tail -40 "$2" >&2
}

# start_server [NAME=VALUE...]: the local server (SERVER_BIN, default
# target/debug/conduit-local) on a free port with a fresh temporary DATA_DIR,
# DYNAMODB_PORT=0 and RUST_LOG=warn unless given, and the given environment.
# Sets SERVER_URL and SERVER_DIR (its DATA_DIR, which also holds its log,
# server.log, and the script's own temporary files, if it likes). Each call
# starts another server, in a directory of its own.
start_server() {
  local bin=${SERVER_BIN:-target/debug/conduit-local} port
  [ -x "$bin" ] || { echo "$bin not found: cargo build -p conduit-local" >&2; return 1; }
  temp_dir
  SERVER_DIR=$(mktemp -d -p "$TEMP_DIR" server.XXXX)
  port=$(free_port)
  SERVER_URL=http://127.0.0.1:$port
  start_service conduit-local "$SERVER_URL/api/tags" "$SERVER_DIR/server.log" \
    env DATA_DIR="$SERVER_DIR" PORT="$port" DYNAMODB_PORT=0 RUST_LOG=warn "$@" "$bin"
}

# hurl_suite NAME HOST DIR: the official RealWorld Hurl suite against HOST,
# its output in DIR/hurl.out, and the count of passed requests printed as
# "Hurl suite on NAME: P of N requests passed". Fails if any failed.
hurl_suite() {
  local name=$1 host=$2 dir=$3 realworld=${REALWORLD_DIR:-../shared/realworld} status
  set +e
  hurl --test --jobs 1 \
    --variable host="$host" \
    --variable uid="$(date +%s)$$" \
    "$realworld"/hurl/*.hurl 2>&1 | tee "$dir/hurl.out"
  status=${PIPESTATUS[0]}
  set -e
  # Hurl stops a file at its first failing request: one failure per failed file.
  local requests failed
  requests=$(sed -n 's/.*Executed requests: *\([0-9]*\).*/\1/p' "$dir/hurl.out" | tail -1)
  failed=$(sed -n 's/.*Failed files: *\([0-9]*\).*/\1/p' "$dir/hurl.out" | tail -1)
  echo "Hurl suite on $name: $((${requests:-0} - ${failed:-0})) of ${requests:-0} requests passed"
  return "$status"
}

# stream_effects NAME HOST DIR: tests/hurl/stream-effects.hurl against HOST
# (what only the stream consumers do, seen through the API), then the
# server's word that its consumers ran, and no batch in DIR's
# stream-failures.jsonl. Prints one line; fails if anything did not hold.
stream_effects() {
  local name=$1 host=$2 dir=$3
  if ! hurl --test --variable host="$host" --variable uid="$(date +%s%N)" \
      tests/hurl/stream-effects.hurl >"$dir/stream-effects.out" 2>&1; then
    cat "$dir/stream-effects.out"
    echo "stream consumers on $name: FAIL, an effect did not show (above)"
    return 1
  fi
  if ! grep -q "stream consumers running" "$dir/server.log" ||
      [ -s "$dir/stream-failures.jsonl" ]; then
    echo "stream consumers on $name: not announced, or a batch failed:"
    cat "$dir/server.log" "$dir/stream-failures.jsonl" 2>/dev/null | tail -20
    return 1
  fi
  echo "stream consumers on $name: a deleted article's and a deleted account's clean-ups seen in feeds and favorites; no failed batch"
}

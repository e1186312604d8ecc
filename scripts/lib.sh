# shellcheck shell=bash
# Sourced by the scripts, from the repository's root: strict mode, the
# workspace's tools, free ports, services started and stopped on exit.
set -euo pipefail
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# cargo_build ARGS...: in the test build's selection (--examples brings the
# dev-dependencies): cargo resolves features per selection; another would rebuild.
cargo_build() { cargo build -q --workspace --exclude conduit-functions --examples "$@"; }
BIN=${CARGO_TARGET_DIR:-target}/debug
xtask() { cargo_build --bin xtask && "$BIN/xtask" "$@"; }

# current_build: .aws-sam/build is sam-build.sh's build of the current infra/template.yaml.
current_build() { sha256sum --status -c .aws-sam/template.sha256 2>/dev/null || { echo "FAIL: no .aws-sam/build of this infra/template.yaml; run make sam-build"; return 1; }; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# on_exit COMMAND...: run when the script exits, however, before those
# registered earlier; they see its status in EXIT_STATUS. The one EXIT trap.
_on_exit=()
on_exit() {
  _on_exit=("$(printf '%q ' "$@")" "${_on_exit[@]}")
  trap _run_on_exit EXIT
  trap 'exit 130' INT TERM
}
_run_on_exit() { EXIT_STATUS=$? && for _c in "${_on_exit[@]}"; do eval "$_c" || true; done; }

# temp_dir: TEMP_DIR, removed on exit.
temp_dir() { [ -n "${TEMP_DIR:-}" ] || { TEMP_DIR=$(mktemp -d) && on_exit rm -rf "$TEMP_DIR"; }; }

# start_service NAME URL LOG COMMAND...: COMMAND in its own process group,
# output in LOG, until URL (if any) answers (60 s at most). On exit the group
# is stopped and, if the script failed, LOG's tail shown. Not in $(...).
start_service() {
  local name=$1 url=$2 log=$3 pid i
  setsid "${@:4}" >"$log" 2>&1 & pid=$!
  on_exit _stop_group "$pid"
  on_exit _show_log_if_failed "$name" "$log"
  for ((i = 0; i < 600; i++)); do
    [ -z "$url" ] || curl -s -o /dev/null --max-time 1 "$url" && return 0
    kill -0 "$pid" 2>/dev/null || { echo "$name exited before it answered at $url" >&2; return 1; }
    sleep 0.1
  done
  echo "$name did not come up at $url within 60s" >&2 && return 1
}
_stop_group() {
  kill -TERM -- "-$1" 2>/dev/null || true
  for _ in {1..50}; do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
_show_log_if_failed() { [ "$EXIT_STATUS" -eq 0 ] || { echo "--- $1 log (tail) ---" && tail -40 "$2"; } >&2; }

# start_server [NAME=VALUE...]: conduit-local on a free port, the embedded engine
# on another; sets SERVER_URL and SERVER_DIR (its DATA_DIR, with server.log).
start_server() {
  [ -x "$BIN/conduit-local" ] || { echo "no $BIN/conduit-local: cargo build -p conduit-local" >&2; return 1; }
  temp_dir
  SERVER_DIR=$(mktemp -d -p "$TEMP_DIR" server.XXXX)
  local port; port=$(free_port)
  SERVER_URL=http://127.0.0.1:$port
  start_service conduit-local "$SERVER_URL/api/tags" "$SERVER_DIR/server.log" \
    env DATA_DIR="$SERVER_DIR" PORT="$port" DYNAMODB_PORT=0 RUST_LOG=warn "$@" "$BIN/conduit-local"
}

REALWORLD_DIR=${REALWORLD_DIR:-../shared/realworld}
# hurl_file NAME FILE HOST: tests/hurl/FILE.hurl (or the path FILE) against
# HOST, its output in SERVER_DIR, shown if it fails.
hurl_file() {
  local file=$2 out=$SERVER_DIR/${2##*/}.out
  [[ $file == */* ]] || file=tests/hurl/$file.hurl
  hurl --test --variable host="$3" --variable uid="u$(date +%s%N)" "$file" >"$out" 2>&1 ||
    { cat "$out"; echo "${file##*/} on $1: FAIL"; return 1; }
  echo "${file##*/} on $1: passed"
}

# hurl_suite NAME HOST: the RealWorld Hurl suite and stream-effects.hurl
# against HOST; then the server's word that its consumers run, no batch failed.
hurl_suite() {
  local status=0
  hurl --test --jobs 1 --variable host="$2" --variable uid="$(date +%s)$$" "$REALWORLD_DIR"/hurl/*.hurl || status=1
  hurl_file "$1" stream-effects "$2" || status=1
  if ! grep -q "stream consumers running" "$SERVER_DIR/server.log" || [ -s "$SERVER_DIR/stream-failures.jsonl" ]; then
    cat "$SERVER_DIR/server.log" "$SERVER_DIR/stream-failures.jsonl" 2>/dev/null | tail -20
    echo "stream consumers on $1: FAIL: not announced, or a batch failed (above)" && return 1
  fi
  echo "stream consumers on $1: running, no failed batch" && return "$status"
}

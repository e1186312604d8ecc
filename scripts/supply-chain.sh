#!/usr/bin/env bash
# The dependencies' supply chain (make supply-chain, in make test):
#   cargo deny (deny.toml): licences, banned crates and sources, always;
#     RustSec's advisories when its database (on GitHub) can be fetched,
#     said and skipped when it cannot. Fails on any finding.
#   npm audit of the test tooling (package.json: DynamoDB Local, the
#     browser driver): reported, never failing; none of it ships.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

status=0
if cargo deny fetch >target/cargo-deny-fetch.log 2>&1; then
  cargo deny check --hide-inclusion-graph || status=1
else
  echo "supply chain: RustSec's advisory database could not be fetched ($(grep -m1 -o 'fatal: .*\|error: .*' target/cargo-deny-fetch.log)): advisories NOT checked; licences, bans and sources are"
  cargo deny --offline check --hide-inclusion-graph bans licenses sources || status=1
fi

echo "--- npm audit (test tooling, reported only)"
npm audit --omit=optional 2>&1 | tail -5 || true
exit "$status"

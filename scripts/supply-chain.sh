#!/usr/bin/env bash
# cargo deny (deny.toml; RustSec's advisories when its database can be fetched,
# said when not): any finding fails. npm audit and pip-audit of the test
# tooling: reported only, with how many packages could not be looked up.
cd "$(dirname "$0")/.." && source scripts/lib.sh || exit 1
set +e # every check runs
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
echo "--- pip-audit (test tooling, reported only)"
# pip-audit passes what PyPI has no advisories for, or cannot be asked about.
pip_audit() {
  local out
  out=$(.venv-audit/bin/pip-audit --progress-spinner off --path "$(echo "$1"/lib/python3*/site-packages)" 2>&1)
  grep -v 'could not be audited' <<<"$out"
  echo "$1: $(grep -c 'could not be audited' <<<"$out") packages NOT checked, PyPI could not be asked about them"
}
for venv in .venv .venv-checkov .venv-rehearsal; do pip_audit "$venv" >"target/pip-audit$venv.log" & done
wait
cat target/pip-audit.venv*.log
exit "$status"

#!/usr/bin/env bash
# cargo deny (deny.toml; RustSec's advisories when its database can be fetched, said
# when not): any finding fails. npm audit and pip-audit of the test tooling: reported only.
cd "$(dirname "$0")/.." && source scripts/lib.sh || exit 1
set +e && status=0 # every check runs
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
# pip_audit VENV: its advisories, and of how many packages (pip-audit passes those PyPI cannot answer for).
pip_audit() {
  local site=("$1"/lib/python3*/site-packages) out all skipped
  [[ -x .venv-audit/bin/pip-audit && -d ${site[0]} ]] || { echo "$1: NOT checked, no venv (scripts/setup.sh venv)"; return; }
  out=$(.venv-audit/bin/pip-audit --progress-spinner off --path "${site[0]}" 2>&1) ||
    grep -q '^Name  *Version  *ID' <<<"$out" || { echo "$1: NOT checked: $(tail -1 <<<"$out")"; return; }
  all=$(find "${site[0]}" -maxdepth 1 -name '*.dist-info' | wc -l) skipped=$(grep -c 'could not be audited' <<<"$out")
  grep -Ev 'could not be audited|^No known vulnerabilities found|^Name  *Skip Reason|^-+ -+$' <<<"$out"
  echo "$1: $((all - skipped)) of $all packages checked; PyPI could not answer for $skipped"
}
for venv in .venv .venv-checkov .venv-rehearsal; do pip_audit "$venv" >"target/pip-audit$venv.log" & done
wait && cat target/pip-audit.venv*.log
exit "$status"

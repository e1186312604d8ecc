#!/usr/bin/env bash
# The deploy rehearsal, first part: infra/template.yaml as SAM's transform
# turns it into what CloudFormation creates (infra/rehearsal/transform.py,
# the translator the SAM CLI ships), checked for dev and prod against the
# route table; then known mistakes the linters miss, each applied to a copy
# and shown to be caught. The checks are xtask's (xtask/src/checks/
# transformed.rs, breaks.rs). Offline: no AWS account or network.
#
#   scripts/deploy-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=.venv/bin/python   # scripts/setup.sh venv
[ -x "$PYTHON" ] || { echo "FAIL: $PYTHON not found; run scripts/setup.sh venv"; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

started=$(date +%s)
"$PYTHON" infra/rehearsal/transform.py infra/template.yaml "$out/transformed.json"
cargo run -q -p xtask -- check-transformed "$out/transformed.json"
cargo run -q -p xtask -- check-template-breaks "$PYTHON"
echo "deploy check: $(( $(date +%s) - started )) s"

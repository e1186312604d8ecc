#!/usr/bin/env bash
# Static checks of the infrastructure and the workflows, offline (no AWS
# account, credentials or network): sam validate --lint; cfn-lint and
# checkov of infra/template.yaml and infra/edge.yaml (a checkov finding is
# waived only on its resource, with the reason, in xtask/src/template/,
# which generates both); every deployed environment described in
# samconfig.toml; cargo feature parity; actionlint (with shellcheck on
# `run:` blocks). Runs them all, then fails if any failed.
#
#   scripts/check-infra.sh     # tools from scripts/setup.sh venv
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
source scripts/lib.sh
# checkov pins an older boto3 than aws-sam-cli: it has a venv of its own.
export PATH=$PWD/.venv/bin:$PWD/.venv-checkov/bin:$PATH
for tool in sam cfn-lint checkov actionlint; do
  command -v $tool >/dev/null || echo "check-infra: no $tool; run scripts/setup.sh venv"
done
# sam validate makes a boto3 session: a region and dummy credentials, so it
# neither stops for want of them nor reaches a real account.
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export AWS_ACCESS_KEY_ID=offline-check AWS_SECRET_ACCESS_KEY=offline-check SAM_CLI_TELEMETRY=0
unset AWS_PROFILE AWS_SESSION_TOKEN

failed=()
check() { # check NAME COMMAND...
  echo "==> $1"
  if "${@:2}"; then echo "<== $1: ok"; else echo "<== $1: FAILED"; failed+=("$1"); fi
  echo
}
check "sam validate --lint" sam validate --lint -t infra/template.yaml
check cfn-lint cfn-lint infra/template.yaml infra/edge.yaml
# --skip-download: no Prisma Cloud look-ups; waivers are read from the template.
check checkov checkov -f infra/template.yaml -f infra/edge.yaml --framework cloudformation \
  --quiet --compact --skip-download
check samconfig.toml xtask check-samconfig
check "feature parity" xtask check-feature-parity
check actionlint actionlint .github/workflows/*.yml

[ ${#failed[@]} -eq 0 ] || { echo "check-infra: FAILED: ${failed[*]}"; exit 1; }
echo "check-infra: all 6 checks passed"

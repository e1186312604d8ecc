#!/usr/bin/env bash
# Offline (no AWS account or network); every check runs, then any failure fails.
# A checkov finding is waived on its resource, with the reason, in xtask/src/template/.
cd "$(dirname "$0")/.." && source scripts/lib.sh || exit 1
set +e # every check runs
# checkov pins an older boto3 than aws-sam-cli: a venv of its own.
export PATH=$PWD/.venv/bin:$PWD/.venv-checkov/bin:$PATH
for tool in sam cfn-lint checkov actionlint; do command -v $tool >/dev/null || echo "check-infra: no $tool; run scripts/setup.sh venv"; done
# sam validate's boto3 session: neither stopped for want of credentials nor reaching AWS.
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export AWS_ACCESS_KEY_ID=offline-check AWS_SECRET_ACCESS_KEY=offline-check SAM_CLI_TELEMETRY=0
unset AWS_PROFILE AWS_SESSION_TOKEN
failed=()
check() { # check NAME COMMAND...
  echo "==> $1"
  if "${@:2}"; then echo "<== $1: ok"; else echo "<== $1: FAILED"; failed+=("$1"); fi
}
check "sam validate --lint" sam validate --lint -t infra/template.yaml
check cfn-lint cfn-lint infra/template.yaml infra/edge.yaml
# --skip-download: no Prisma Cloud look-ups.
check checkov checkov -f infra/template.yaml -f infra/edge.yaml --framework cloudformation \
  --quiet --compact --skip-download
check samconfig.toml xtask check-samconfig
check "feature parity" xtask check-feature-parity
check actionlint actionlint .github/workflows/*.yml
[ ${#failed[@]} -eq 0 ] || { echo "check-infra: FAILED: ${failed[*]}"; exit 1; }
echo "check-infra: all 6 checks passed"

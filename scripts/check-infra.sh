#!/usr/bin/env bash
# Static checks of the infrastructure and the GitHub workflows:
#   sam validate --lint (infra/template.yaml), cfn-lint and checkov (it and
#   infra/edge.yaml, the edge stack), samconfig.toml sanity, template
#   binaries vs Cargo [[bin]]s and cargo feature parity (all three
#   xtask/src/checks/), actionlint.
# Offline: no AWS account, credentials or network needed. Runs every check,
# then exits non-zero if any failed.
#
#   scripts/check-infra.sh            # tools from .venv/ and .venv-checkov/
#   VENV=/path/to/venv scripts/check-infra.sh
#
# Tools come from `scripts/setup.sh venv`. Checks are never skipped wholesale:
# a checkov finding is waived only on its resource, with the reason, in
# the template (xtask/src/template/, which generates both).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1

VENV=${VENV:-.venv}
# checkov pins an older boto3 than aws-sam-cli, so setup.sh gives it its own venv.
CHECKOV_VENV=${CHECKOV_VENV:-${VENV}-checkov}
TEMPLATE=infra/template.yaml
# Plain CloudFormation (no SAM transform), deployed to us-east-1.
EDGE_TEMPLATE=infra/edge.yaml
WORKFLOWS=(.github/workflows/*.yml)

# sam validate creates a boto3 session: give it a region and dummy credentials
# so it neither stops for lack of them nor ever touches a real account.
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=offline-check AWS_SECRET_ACCESS_KEY=offline-check
unset AWS_PROFILE AWS_SESSION_TOKEN
export AWS_EC2_METADATA_DISABLED=true
export SAM_CLI_TELEMETRY=0

tool() { # tool NAME -> path of NAME in the venvs, or fail with a hint
  local dir
  for dir in "$VENV" "$CHECKOV_VENV"; do
    if [ -x "$dir/bin/$1" ]; then echo "$dir/bin/$1"; return 0; fi
  done
  echo "check-infra: $1 not found in $VENV/bin or $CHECKOV_VENV/bin (run scripts/setup.sh venv)" >&2
  return 1
}

failed=()
passed=0
run() { # run NAME CMD... : run one check, record its outcome
  local name=$1; shift
  echo "==> $name"
  if "$@"; then
    echo "<== $name: ok"
    passed=$((passed + 1))
  else
    echo "<== $name: FAILED"
    failed+=("$name")
  fi
  echo
}

check_sam() {
  local sam; sam=$(tool sam) || return 1
  "$sam" validate --lint -t "$TEMPLATE"
}

check_cfn_lint() {
  local cfn_lint; cfn_lint=$(tool cfn-lint) || return 1
  "$cfn_lint" "$TEMPLATE" "$EDGE_TEMPLATE"
}

check_checkov() {
  local checkov; checkov=$(tool checkov) || return 1
  # --skip-download: no Prisma Cloud look-ups (offline); waivers are read from
  # each resource's Metadata.checkov.skip in the template.
  "$checkov" -f "$TEMPLATE" -f "$EDGE_TEMPLATE" --framework cloudformation --quiet --compact --skip-download
}

check_actionlint() {
  local actionlint; actionlint=$(tool actionlint) || return 1
  # Also runs shellcheck on `run:` blocks when shellcheck is on PATH.
  "$actionlint" "${WORKFLOWS[@]}" && echo "${#WORKFLOWS[@]} workflow file(s) clean"
}

run "sam validate --lint" check_sam
run "cfn-lint" check_cfn_lint
run "checkov" check_checkov
# Every environment that CI deploys is fully described in samconfig.toml,
# its edge stack in us-east-1, every override a parameter of its template.
run "samconfig.toml" cargo run -q -p xtask -- check-samconfig
# sam build runs `cargo lambda build --bin <Binary>` per function: every Binary
# in the template must be a [[bin]] of conduit-functions, and vice versa.
run "template binaries" cargo run -q -p xtask -- check-binaries
# The scripts' own cargo builds (xtask, the local server) reuse the test
# build's dependencies instead of compiling them again.
run "feature parity" cargo run -q -p xtask -- check-feature-parity
run "actionlint" check_actionlint

if [ ${#failed[@]} -gt 0 ]; then
  echo "check-infra: ${#failed[@]} failed (${failed[*]}), $passed passed"
  exit 1
fi
echo "check-infra: all $passed checks passed"

#!/usr/bin/env bash
# The deploy rehearsal: what `make deploy` and the deploy workflow do, done
# to an emulated AWS account on loopback, with the checks that a real
# deploy would have to pass. No AWS account, no Docker, no network.
#
#   1. infra/template.yaml through SAM's transform (the SAM CLI's own
#      translator), checked for dev and prod against the route table; then
#      mistakes that every linter passes, each applied to a copy and shown
#      caught (xtask check-transformed).
#   2. The real `sam deploy --config-env dev`, then prod, of the
#      .aws-sam/build that `make sam-build` produced, into moto with SAM
#      support added (infra/rehearsal/emulator.py); each stack read back
#      (read_back.py) and checked (xtask check-deployed).
#   3. `sam delete` of dev keeps the table and the secret (check-retained),
#      and a redeploy succeeds and checks out.
#   4. Each mistake of step 1, made in a copy of the built template and
#      deployed as a stack of its own, fails check-deployed with its problem.
#
#   scripts/deploy-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

SAM_PYTHON=.venv/bin/python            # scripts/setup.sh venv
REHEARSAL_PYTHON=.venv-rehearsal/bin/python
for python in "$SAM_PYTHON" "$REHEARSAL_PYTHON"; do
  [ -x "$python" ] || { echo "FAIL: $python not found; run scripts/setup.sh venv"; exit 1; }
done
[ -f .aws-sam/build/template.yaml ] || { echo "FAIL: no .aws-sam/build; run make sam-build"; exit 1; }
export PATH="$PWD/.venv/bin:$PATH"
started=$(date +%s)
temp_dir

echo "==> the template after SAM's transform"
cargo run -q -p xtask -- check-transformed "$SAM_PYTHON"

echo "==> sam deploy into an emulated account"
port=$(free_port)
start_service "emulated AWS" "http://127.0.0.1:$port/moto-api/" "$TEMP_DIR/emulator.log" \
  "$REHEARSAL_PYTHON" infra/rehearsal/emulator.py "$port"
# `localhost`, not 127.0.0.1: with an IP, moto misreads the URL of the
# template sam uploads to its S3.
export AWS_ENDPOINT_URL="http://localhost:$port"
export AWS_ACCESS_KEY_ID=rehearsal AWS_SECRET_ACCESS_KEY=rehearsal
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 SAM_CLI_TELEMETRY=0
unset AWS_PROFILE AWS_SESSION_TOKEN

setting() { cargo run -q -p xtask -- samconfig "$@"; }

# deploy ENV [sam deploy options]: as the workflow runs it, then read back
# into $TEMP_DIR/ENV.json and checked.
deploy() {
  local env=$1; shift
  "$SAM_PYTHON" scripts/ensure-jwt-secret.py "$(setting "$env" JwtSecretParameterName)"
  sam deploy --config-env "$env" --no-progressbar "$@" > "$TEMP_DIR/deploy-$env.log" 2>&1 \
    || { tail -40 "$TEMP_DIR/deploy-$env.log"; echo "FAIL: sam deploy --config-env $env"; return 1; }
  "$REHEARSAL_PYTHON" infra/rehearsal/read_back.py "$(setting "$env" stack_name)" "$TEMP_DIR/$env.json"
  cargo run -q -p xtask -- check-deployed "$TEMP_DIR/$env.json" "$env"
}

deploy dev
# The workflow's promote job answers the change set's confirmation itself.
deploy prod --no-confirm-changeset

echo "==> sam delete keeps the table and the secret; a redeploy succeeds"
sam delete --config-env dev --no-prompts > "$TEMP_DIR/delete-dev.log" 2>&1 \
  || { tail -20 "$TEMP_DIR/delete-dev.log"; echo "FAIL: sam delete"; exit 1; }
cp "$TEMP_DIR/dev.json" "$TEMP_DIR/dev-before-delete.json"
"$REHEARSAL_PYTHON" infra/rehearsal/read_back.py "$(setting dev stack_name)" "$TEMP_DIR/dev-deleted.json"
cargo run -q -p xtask -- check-retained "$TEMP_DIR/dev-before-delete.json" "$TEMP_DIR/dev-deleted.json" dev
deploy dev

echo "==> the known mistakes, deployed, are caught"
for n in $(cargo run -q -p xtask -- template-breaks); do
  # Beside the built template: its CodeUris are relative to it.
  broken=.aws-sam/build/rehearsal-break-$n.yaml
  on_exit rm -f "$broken"
  cargo run -q -p xtask -- write-template-break "$n" .aws-sam/build/template.yaml "$broken"
  # sam looks for samconfig.toml beside the template unless told.
  sam deploy --config-file "$PWD/samconfig.toml" --config-env dev \
    --template-file "$broken" --stack-name "rehearsal-break-$n" \
    --no-progressbar > "$TEMP_DIR/deploy-break-$n.log" 2>&1 \
    || { tail -40 "$TEMP_DIR/deploy-break-$n.log"; echo "FAIL: sam deploy of break $n"; exit 1; }
  "$REHEARSAL_PYTHON" infra/rehearsal/read_back.py "rehearsal-break-$n" "$TEMP_DIR/break-$n.json"
  cargo run -q -p xtask -- check-deployed-break "$n" "$TEMP_DIR/break-$n.json" dev
done

echo "deploy check: all passed in $(( $(date +%s) - started )) s"

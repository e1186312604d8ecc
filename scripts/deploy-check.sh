#!/usr/bin/env bash
# The deploy rehearsal: what `make deploy` and the deploy workflow do, done
# to an emulated AWS account on loopback, with the checks that a real
# deploy would have to pass. No AWS account, no Docker, no network.
#
#   1. infra/template.yaml through SAM's transform (the SAM CLI's own
#      translator), checked for dev and prod against the route table; then
#      mistakes that every linter passes, each applied to a copy and shown
#      caught (xtask check-transformed).
#   2. scripts/deploy.sh dev, the deploy's one entry point (make deploy,
#      the deploy workflow), of the .aws-sam/build that `make sam-build`
#      produced, into moto with SAM support added
#      (infra/rehearsal/emulator.py): secrets, edge stack, API stack, data
#      migrations. Read back (read_back.py) and checked (xtask
#      check-deployed); the origin secret rotated and retired
#      (scripts/origin-secret.py, as deploy.sh --rotate-origin-secret calls
#      it); then scripts/deploy.sh dev --delete keeps the table and the
#      secret (check-retained), and a redeploy succeeds and checks out.
#      The API's stack without the edge (Edge=disabled): moto has no
#      CloudFront or WAF, so the edge is checked in step 1.
#   3. Meanwhile, each in an emulated account of its own: prod (deploy.sh
#      prod, as the workflow's promote job runs it), checked the same way; each mistake of step 1, made in a copy of
#      the built template and deployed as a stack of its own, fails
#      check-deployed with its problem.
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
xtask check-transformed "$SAM_PYTHON"

echo "==> sam deploy into emulated accounts, side by side"
# emulated_account VAR: a fresh emulated AWS account; its endpoint in VAR.
# One per lane below: moto now and then answers two deploys at once in one
# account wrongly (a change set's execution failed to parse).
emulated_account() {
  local port; port=$(free_port)
  start_service "emulated AWS ($1)" "http://127.0.0.1:$port/moto-api/" "$TEMP_DIR/emulator-$1.log" \
    "$REHEARSAL_PYTHON" infra/rehearsal/emulator.py "$port"
  # `localhost`, not 127.0.0.1: with an IP, moto misreads the URL of the
  # template sam uploads to its S3.
  printf -v "$1" 'http://localhost:%s' "$port"
}
export AWS_ACCESS_KEY_ID=rehearsal AWS_SECRET_ACCESS_KEY=rehearsal
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 SAM_CLI_TELEMETRY=0
unset AWS_PROFILE AWS_SESSION_TOKEN

# Read once, up front: the lanes below run side by side, and concurrent
# cargo builds would queue on cargo's lock (deploy.sh's own, no-ops, wait
# their turn).
declare -A stack secret
for env in dev prod; do
  stack[$env]=$(xtask samconfig "$env" stack_name)
  secret[$env]=$(xtask samconfig "$env" JwtSecretParameterName)
done
origin_secret=$(xtask samconfig dev OriginSecretParameterName)
# samconfig.toml's parameters, without the edge, for the breaks' own deploys.
dev_overrides=$(xtask samconfig-overrides dev Edge=disabled)
breaks=$(xtask template-breaks)
cargo_build --bin xtask --bin conduit-admin
xtask=${CARGO_TARGET_DIR:-target}/debug/xtask

# deploy ENV [deploy.sh options]: scripts/deploy.sh as the workflow runs it
# (the build it is given, no questions), then the stack read back into
# $TEMP_DIR/ENV.json and checked. Without the edge: the emulated account has
# no CloudFront or WAF (the edge stack deploys there, its web ACL a mere name
# and ARN), so the edge is checked in step 1.
deploy() {
  local env=$1; shift
  DEPLOY_OVERRIDES=Edge=disabled scripts/deploy.sh "$env" --built --yes "$@" \
    > "$TEMP_DIR/deploy-$env.log" 2>&1 \
    || { tail -40 "$TEMP_DIR/deploy-$env.log"; echo "FAIL: scripts/deploy.sh $env"; return 1; }
  "$REHEARSAL_PYTHON" infra/rehearsal/read_back.py "${stack[$env]}" "$TEMP_DIR/$env.json"
  "$xtask" check-deployed "$TEMP_DIR/$env.json" "$env"
}

# sam delete of dev keeps the table and the secret; a redeploy succeeds.
delete_and_redeploy_dev() {
  scripts/deploy.sh dev --delete --yes > "$TEMP_DIR/delete-dev.log" 2>&1 \
    || { tail -20 "$TEMP_DIR/delete-dev.log"; echo "FAIL: scripts/deploy.sh dev --delete"; return 1; }
  cp "$TEMP_DIR/dev.json" "$TEMP_DIR/dev-before-delete.json"
  "$REHEARSAL_PYTHON" infra/rehearsal/read_back.py "${stack[dev]}" "$TEMP_DIR/dev-deleted.json"
  "$xtask" check-retained "$TEMP_DIR/dev-before-delete.json" "$TEMP_DIR/dev-deleted.json" dev
  deploy dev
}

# deploy_break N: known mistake N, made in a copy of the built template and
# deployed as a stack of its own, is caught.
deploy_break() {
  local n=$1
  # Beside the built template: its CodeUris are relative to it.
  local broken=.aws-sam/build/rehearsal-break-$n.yaml
  "$xtask" write-template-break "$n" .aws-sam/build/template.yaml "$broken"
  local parameters
  read -ra parameters <<<"$dev_overrides"
  # sam looks for samconfig.toml beside the template unless told.
  sam deploy --config-file "$PWD/samconfig.toml" --config-env dev \
    --template-file "$broken" --stack-name "rehearsal-break-$n" \
    --parameter-overrides "${parameters[@]}" \
    --no-progressbar > "$TEMP_DIR/deploy-break-$n.log" 2>&1 \
    || { tail -40 "$TEMP_DIR/deploy-break-$n.log"; echo "FAIL: sam deploy of break $n"; return 1; }
  "$REHEARSAL_PYTHON" infra/rehearsal/read_back.py "rehearsal-break-$n" "$TEMP_DIR/break-$n.json"
  "$xtask" check-deployed-break "$n" "$TEMP_DIR/break-$n.json" dev
}

# lane NAME COMMAND...: COMMAND in the background, its output kept for
# `join_lanes`. A deploy is a single-threaded Python process most of its
# time: side by side, the lanes take half as long on 2 cores.
lane_pids=() lane_names=()
lane() {
  local name=$1; shift
  "$@" > "$TEMP_DIR/lane-$name.log" 2>&1 &
  lane_pids+=($!) lane_names+=("$name")
}
# join_lanes: waits for every lane, shows each one's output in order, and
# fails if any failed.
join_lanes() {
  local i failed=0
  for i in "${!lane_pids[@]}"; do
    wait "${lane_pids[$i]}" || { failed=1; echo "FAIL: ${lane_names[$i]}"; }
    cat "$TEMP_DIR/lane-${lane_names[$i]}.log"
  done
  lane_pids=() lane_names=()
  return $failed
}

for n in $breaks; do on_exit rm -f ".aws-sam/build/rehearsal-break-$n.yaml"; done

# The origin secret as deploys keep it, after the first (version 1): left
# alone, then rotated (version 2: the new digest, and version 1's while
# CloudFront sends it), then version 1 retired once CloudFront sends 2.
rehearse_origin_secret() {
  local first again rotated retired
  first=$("$SAM_PYTHON" scripts/origin-secret.py "$origin_secret" --also 1 2>/dev/null)
  again=$("$SAM_PYTHON" scripts/origin-secret.py "$origin_secret" --also 1 2>/dev/null)
  rotated=$("$SAM_PYTHON" scripts/origin-secret.py "$origin_secret" --rotate --also 1 2>/dev/null)
  retired=$("$SAM_PYTHON" scripts/origin-secret.py "$origin_secret" --also 2 2>/dev/null)
  if [[ ! $first =~ ^1\ ([0-9a-f]{64})$ ]] || [ "$again" != "$first" ] ||
    [[ ! $rotated =~ ^2\ ([0-9a-f]{64}),${first#1 }$ ]] || [ "$retired" != "2 ${BASH_REMATCH[1]}" ]; then
    echo "FAIL: origin secret: '$first', then '$again', rotated '$rotated', retired '$retired'"
    return 1
  fi
  echo "origin secret: created at version 1 by the deploy, rotated to 2 with version 1 accepted, then retired"
}

# Each in an account of its own: dev, then its delete and redeploy; prod
# (the workflow's promote job answers the change set's confirmation
# itself); each known mistake, deployed with dev's settings.
dev_lane() {
  deploy dev
  rehearse_origin_secret
  delete_and_redeploy_dev
}
break_lane() {
  "$SAM_PYTHON" scripts/ensure-jwt-secret.py "${secret[dev]}"
  deploy_break "$1"
}
emulated_account DEV_ACCOUNT
AWS_ENDPOINT_URL=$DEV_ACCOUNT lane dev dev_lane
emulated_account PROD_ACCOUNT
AWS_ENDPOINT_URL=$PROD_ACCOUNT lane prod deploy prod
for n in $breaks; do
  emulated_account "BREAK_ACCOUNT_$n"
  account=BREAK_ACCOUNT_$n
  AWS_ENDPOINT_URL=${!account} lane "break-$n" break_lane "$n"
done
join_lanes

echo "deploy check: all passed in $(( $(date +%s) - started )) s"

#!/usr/bin/env bash
# shellcheck disable=SC2154 # stack, region, ...: set by eval of xtask samconfig
# The deploy rehearsal: the template after SAM's transform, known mistakes
# caught (xtask check-transformed); then deploy.sh into emulated accounts on
# loopback (moto, infra/rehearsal/emulator.py), no AWS account or network:
# dev (its origin secret rotated, deleted, redeployed) and prod, each checked
# for what only a deploy shows (xtask check-deployed). Without the edge (moto
# has no CloudFront or WAF): the first step checks it.
cd "$(dirname "$0")/.." && source scripts/lib.sh || exit 1
SAM_PYTHON=.venv/bin/python REHEARSAL_PYTHON=.venv-rehearsal/bin/python
for python in "$SAM_PYTHON" "$REHEARSAL_PYTHON"; do [ -x "$python" ] || { echo "FAIL: no $python; run scripts/setup.sh venv"; exit 1; }; done
current_build || exit 1
export PATH="$PWD/.venv/bin:$PATH"
started=$(date +%s)
temp_dir
# Built once, before the lanes: concurrent cargo runs queue on its lock.
cargo_build --bin xtask --bin conduit-admin
echo "==> the template after SAM's transform"
"$BIN/xtask" check-transformed "$REHEARSAL_PYTHON" # the emulator's SAM translator
echo "==> sam deploy into emulated accounts, side by side"
export AWS_ACCESS_KEY_ID=rehearsal AWS_SECRET_ACCESS_KEY=rehearsal
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 SAM_CLI_TELEMETRY=0
unset AWS_PROFILE AWS_SESSION_TOKEN
# samconfig ENV: ENV's settings (stack, jwt_secret, overrides...) in this shell.
samconfig() { local settings; settings=$("$BIN/xtask" samconfig "$1") && eval "$settings"; }
# read_back STACK NAME: the stack, read back into $TEMP_DIR/NAME.json.
read_back() { "$REHEARSAL_PYTHON" infra/rehearsal/read_back.py "$1" "$TEMP_DIR/$2.json"; }
# run LOG COMMAND...: COMMAND, its output in $TEMP_DIR/LOG.log, shown if it fails.
run() { "${@:2}" >"$TEMP_DIR/$1.log" 2>&1 || { tail -40 "$TEMP_DIR/$1.log"; echo "FAIL: ${*:2}"; return 1; }; }
# deploy ENV: as the workflow deploys (the flags its test compares), checked.
deploy() {
  local env=$1
  samconfig "$env"
  run "deploy-$env" env DEPLOY_OVERRIDES=Edge=disabled scripts/deploy.sh "$env" --built --yes
  read_back "$stack" "$env"
  "$BIN/xtask" check-deployed "$TEMP_DIR/$env.json" "$env"
}
# The origin secret after the first deploy (version 1): left alone, rotated
# (2, with 1 accepted while CloudFront sends it), then 1 retired.
rehearse_origin_secret() {
  local first again rotated retired admin=("$BIN/conduit-admin" origin-secret "$origin_secret")
  first=$("${admin[@]}" --also 1 2>/dev/null) again=$("${admin[@]}" --also 1 2>/dev/null)
  rotated=$("${admin[@]}" --rotate --also 1 2>/dev/null) retired=$("${admin[@]}" --also 2 2>/dev/null)
  [[ $first =~ ^1\ [0-9a-f]{64}$ && $again == "$first" && $rotated =~ ^2\ ([0-9a-f]{64}),${first#1 }$ &&
    $retired == "2 ${BASH_REMATCH[1]}" ]] ||
    { echo "FAIL: origin secret: '$first', then '$again', rotated '$rotated', retired '$retired'"; return 1; }
  echo "origin secret: created at version 1 by the deploy, rotated to 2 with version 1 accepted, then retired"
}

dev_lane() {
  deploy dev
  rehearse_origin_secret
  run delete-dev scripts/deploy.sh dev --delete --yes
  read_back "$stack" dev-deleted
  "$BIN/xtask" check-retained "$TEMP_DIR/dev.json" "$TEMP_DIR/dev-deleted.json" dev
  deploy dev
}
# lane NAME COMMAND...: COMMAND in the background (side by side, twice as fast
# on 2 cores), in an emulated account of its own (moto now and then gets two
# deploys at once in one account wrong).
lanes=()
lane() {
  local port
  port=$(free_port)
  start_service "emulated AWS ($1)" "http://127.0.0.1:$port/moto-api/" "$TEMP_DIR/emulator-$1.log" \
    "$REHEARSAL_PYTHON" infra/rehearsal/emulator.py "$port"
  # localhost: with an IP, moto misreads the URL of the template sam uploads.
  AWS_ENDPOINT_URL=http://localhost:$port "${@:2}" >"$TEMP_DIR/lane-$1.log" 2>&1 &
  lanes+=("$1:$!")
}
lane dev dev_lane
lane prod deploy prod
failed=0
for lane in "${lanes[@]}"; do
  wait "${lane#*:}" || { failed=1; echo "FAIL: ${lane%%:*}"; }
  cat "$TEMP_DIR/lane-${lane%%:*}.log"
done
[ $failed = 0 ] || exit 1
echo "deploy check: all passed in $(($(date +%s) - started)) s"

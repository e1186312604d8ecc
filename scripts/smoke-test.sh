#!/usr/bin/env bash
# shellcheck disable=SC2154 # stack, origin_secret: set by eval of xtask samconfig
# After a deploy: CloudFront answers; the API's own URL refuses (403) what
# skipped it. --suite (dev only: it leaves users behind): the Hurl suite at the
# API's own URL with the origin secret (the edge's cache would answer reads
# right after writes, as designed), and feed.hurl 20 times through the edge.
#   scripts/smoke-test.sh dev|prod [--suite]   (DEPLOY_REGION as deploy.sh's; RUN_ID)
cd "$(dirname "$0")/.." && source scripts/lib.sh || exit 1
export PATH="$PWD/.venv/bin:$PATH"
settings=$(xtask samconfig "${1:?usage: scripts/smoke-test.sh dev|prod [--suite]}")
eval "$settings"
region=${DEPLOY_REGION:-$region}
output() {
  aws cloudformation describe-stacks --region "$region" --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
api=$(output ApiUrl)
origin=$(output OriginUrl)
curl --fail --silent --show-error --retry 5 --retry-all-errors -o /dev/null "$api/api/tags"
status=$(curl --silent --output /dev/null --write-out '%{http_code}' "$origin/api/tags")
[ "$status" = 403 ] || { echo "the origin answered $status without the origin secret"; exit 1; }
echo "$api answers; $origin refuses without the origin secret"
[ "${2:-}" = --suite ] || exit 0
run=${RUN_ID:-$(date +%s)}
secret=$(aws ssm get-parameter --region "$region" --output text --query Parameter.Value --name "$origin_secret")
[ -z "${GITHUB_ACTIONS:-}" ] || echo "::add-mask::$secret"
# On hurl's command line (its only way): where only this job's processes see it.
hurl --test --jobs 1 --header "x-origin-verify: $secret" --variable host="$origin" \
  --variable uid="$run" "$REALWORLD_DIR"/hurl/*.hurl
for n in $(seq 20); do
  hurl --test --variable host="$api" --variable uid="feed${run}x$n" "$REALWORLD_DIR"/hurl/feed.hurl
done

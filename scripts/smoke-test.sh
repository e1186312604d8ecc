#!/usr/bin/env bash
# shellcheck disable=SC2154 # stack, origin_secret: set by eval of xtask samconfig
# After a deploy (scripts/deploy.sh): the deployed API answers as it should.
#
#   scripts/smoke-test.sh dev|prod [--suite]
#
# Always, read-only: CloudFront answers, and the API's own URL refuses what
# did not come through it (and so through the web ACL) with 403. With
# --suite (dev only: it leaves test users and articles behind), also:
# - the RealWorld Hurl suite against the API itself, with the origin
#   secret: the suite reads anonymously right after its writes, which the
#   edge's shared cache answers from its copy for up to 5 s, as designed;
# - feed.hurl 20 times through the edge (every read signed in, so never
#   cached): the feed's promise where GSIs lag and the stream is real.
# Environment: AWS credentials that may read the stack and the origin
# secret; DEPLOY_REGION as for deploy.sh; REALWORLD_DIR (the Hurl files are
# $REALWORLD_DIR/hurl/*.hurl); RUN_ID, what makes this run's users unique.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PWD/.venv/bin:$PATH"

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
secret=$(aws ssm get-parameter --region "$region" --output text --query Parameter.Value \
  --name "$origin_secret")
[ -z "${GITHUB_ACTIONS:-}" ] || echo "::add-mask::$secret"
# On hurl's command line (it reads headers from nowhere else): run where
# only this job's processes can see it.
hurl --test --jobs 1 --header "x-origin-verify: $secret" --variable host="$origin" \
  --variable uid="$run" "$REALWORLD_DIR"/hurl/*.hurl
for n in $(seq 20); do
  hurl --test --variable host="$api" --variable uid="feed${run}x$n" "$REALWORLD_DIR"/hurl/feed.hurl
done

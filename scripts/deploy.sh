#!/usr/bin/env bash
# The one way an environment is deployed: by hand (`make deploy`), by the
# deploy workflow, and in the rehearsal (scripts/deploy-check.sh), which runs
# it against an emulated account.
#
#   scripts/deploy.sh dev|prod [--built] [--yes] [--rotate-origin-secret | --delete]
#
# In order: the JWT key set and the origin secret made sure of (created
# randomly the first time, never printed); `sam build` unless --built; the
# edge stack (conduit-ENV-edge, infra/edge.yaml, us-east-1: the web ACL, the
# domain's certificate); the API's stack with the edge's outputs and the
# origin secret's version and digests; the data migrations not yet finished.
#
#   --built   deploy what .aws-sam/build holds (the workflow's dev build,
#             promoted to prod unchanged)
#   --yes     no questions (change sets, sam delete): the workflow's
#             environment approval is the review
#   --rotate-origin-secret
#             a new origin secret (what CloudFront sends the API in
#             x-origin-verify), in three deploys: the functions accept the new
#             one besides the one CloudFront sends (the stack's
#             OriginSecretVersion output); CloudFront sends the new one; the
#             old one is refused. Every deploy accepts the one CloudFront sends
#             and the latest, so an interrupted rotation ends with the next.
#   --delete  the stack, then its edge stack (the table, the secrets and the
#             edge's log bucket are retained)
#
# Environment: AWS credentials allowed to deploy in the API's region and
# us-east-1; DEPLOY_REGION, the API stack's region when not samconfig.toml's;
# DEPLOY_OVERRIDES, more Name=value parameter overrides for the API's stack
# (the rehearsal's Edge=disabled: its emulated account has no CloudFront).
# Tools: `scripts/setup.sh venv`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PWD/.venv/bin:$PATH"

usage="usage: scripts/deploy.sh dev|prod [--built] [--yes] [--rotate-origin-secret | --delete]"
env=${1:?$usage}
case "$env" in dev | prod) ;; *) echo "unknown environment $env" >&2; exit 2 ;; esac
shift
built=false mode="" sam_flags=() delete_flags=()
for arg; do
  case "$arg" in
    --built) built=true ;;
    --yes) sam_flags=(--no-confirm-changeset --no-progressbar) delete_flags=(--no-prompts) ;;
    --rotate-origin-secret | --delete) mode=$arg ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done

if [ "$mode" = --delete ]; then
  # The API's stack first: its distribution uses the edge stack's web ACL
  # and certificate until it is gone.
  sam delete --config-env "$env" "${delete_flags[@]}"
  sam delete --config-env "$env-edge" "${delete_flags[@]}"
  echo "Stacks deleted. The DynamoDB table, the SSM secrets and the edge's log bucket are kept on purpose; delete them by hand if wanted."
  exit 0
fi

region=${DEPLOY_REGION:-$(xtask samconfig "$env" region)}
stack=$(xtask samconfig "$env" stack_name)

# stack_output STACK REGION KEY: the output's value, empty if it has none.
stack_output() {
  sam list stack-outputs --stack-name "$1" --region "$2" --output json |
    .venv/bin/python -c 'import json, sys
print(next((o["OutputValue"] for o in json.load(sys.stdin) if o["OutputKey"] == sys.argv[1]), ""))' "$3"
}

# The edge stack, in us-east-1 (its samconfig.toml section says so), with
# the domain of the API's section. sam's --parameter-overrides replace
# samconfig.toml's whole, hence `xtask samconfig-overrides`: its own, and
# these. Sets web_acl and certificate from its outputs.
deploy_edge() {
  local domain zone line edge_overrides edge_stack edge_region
  domain=$(xtask samconfig "$env" DomainName)
  zone=$(xtask samconfig "$env" HostedZoneId)
  line=$(xtask samconfig-overrides "$env-edge" "DomainName=$domain" "HostedZoneId=$zone")
  read -ra edge_overrides <<<"$line"
  sam deploy --config-env "$env-edge" --parameter-overrides "${edge_overrides[@]}" "${sam_flags[@]}"
  edge_stack=$(xtask samconfig "$env-edge" stack_name)
  edge_region=$(xtask samconfig "$env-edge" region)
  web_acl=$(stack_output "$edge_stack" "$edge_region" WebAclArn)
  certificate=$(stack_output "$edge_stack" "$edge_region" CertificateArn)
  [ -n "$web_acl" ] || { echo "the edge stack $edge_stack has no WebAclArn output" >&2; exit 1; }
}

# The origin secret, in the API's region (the template reads it there):
# sets version (the latest) and digests (the latest's, and the one of
# version $1, the one CloudFront sends, until it sends the latest).
# $2: --rotate, or nothing.
origin_secret() {
  local name out also=$1
  shift
  name=$(xtask samconfig "$env" OriginSecretParameterName)
  out=$(AWS_REGION=$region .venv/bin/python scripts/origin-secret.py "$name" "$@" --also "$also")
  read -r version digests <<<"$out"
}

# deploy_api VERSION: the API's stack, CloudFront sending version VERSION
# of the origin secret.
deploy_api() {
  local line overrides
  # shellcheck disable=SC2086 # DEPLOY_OVERRIDES: words, by design
  line=$(xtask samconfig-overrides "$env" "WebAclArn=$web_acl" "CertificateArn=$certificate" \
    "OriginSecretVersion=$1" "OriginVerifySha256=$digests" ${DEPLOY_OVERRIDES:-})
  read -ra overrides <<<"$line"
  sam deploy --config-env "$env" --region "$region" --parameter-overrides "${overrides[@]}" "${sam_flags[@]}"
}

jwt_secret=$(xtask samconfig "$env" JwtSecretParameterName)
AWS_REGION=$region .venv/bin/python scripts/ensure-jwt-secret.py "$jwt_secret"

$built || sam build --config-env "$env"
[ -f .aws-sam/build/template.yaml ] || { echo "no .aws-sam/build to deploy" >&2; exit 1; }
deploy_edge

# The version CloudFront sends now (empty before the first deploy with the edge).
sent=$(stack_output "$stack" "$region" OriginSecretVersion 2>/dev/null || true)
if [ "$mode" = --rotate-origin-secret ]; then
  origin_secret "$sent" --rotate
  if [ -n "$sent" ]; then
    # First the functions accept the new secret too (the stack waits for
    # CodeDeploy to move every alias), CloudFront still sending the old.
    deploy_api "$sent"
  fi
  # Then CloudFront sends the new one (the stack waits until every edge
  # has it), the old one still accepted meanwhile.
  deploy_api "$version"
  sent=$version
fi
# The secret CloudFront sends, and the latest (the same but after an
# interrupted rotation): the old one is no longer accepted.
origin_secret "$sent"
deploy_api "$version"

# The data migrations not yet finished (common/src/db/migrations.rs), run
# against the stack's table with these credentials; each resumes where an
# interrupted run stopped, and a finished one is skipped. I/O-bound: the
# debug build (the one make test builds) serves.
table=$(stack_output "$stack" "$region" TableName)
cargo_build --bin conduit-admin
TABLE_NAME=$table AWS_REGION=$region "${CARGO_TARGET_DIR:-target}/debug/conduit-admin" migrate
echo "API: $(stack_output "$stack" "$region" ApiUrl)"

#!/usr/bin/env bash
# Builds and deploys one environment from samconfig.toml: its edge stack in
# us-east-1, then its API's stack behind it.
#
#   scripts/deploy.sh dev|prod          build; make sure the JWT secret and the origin
#                                       secret exist; deploy the edge stack (conduit-ENV-edge,
#                                       infra/edge.yaml: the web ACL, the domain's certificate);
#                                       deploy the stack with the edge stack's outputs and the
#                                       origin secret's version and digests; run the data
#                                       migrations
#   scripts/deploy.sh dev|prod --rotate-origin-secret
#                                       the same with a new origin secret (what CloudFront sends
#                                       the API in x-origin-verify), deployed in three steps: the
#                                       functions accept the new secret besides the one CloudFront
#                                       sends (the stack's OriginSecretVersion output); CloudFront
#                                       sends the new one (the stack waits until every edge has
#                                       it); the old one is no longer accepted. Any deploy accepts
#                                       the secret CloudFront sends and the latest, so an
#                                       interrupted rotation is finished by the next deploy.
#   scripts/deploy.sh dev|prod --edge   for the deploy workflow: the edge stack and the origin
#                                       secret only; prints the API stack's parameter overrides
#                                       (samconfig.toml's and the edge's) for its own sam deploy
#   scripts/deploy.sh dev|prod --delete tear the stack down, then its edge stack (the table, the
#                                       secrets and the edge's log bucket are retained)
#
# Needs AWS credentials in the environment (profile, SSO or keys) allowed to
# deploy SAM stacks in the environment's region and in us-east-1, and the
# tools from `scripts/setup.sh venv`. DEPLOY_REGION: the API stack's region
# when not samconfig.toml's (the deploy workflow's AWS_REGION); the edge
# stack's is always us-east-1.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PWD/.venv/bin:$PATH"

usage="usage: scripts/deploy.sh dev|prod [--rotate-origin-secret | --edge | --delete]"
env=${1:?$usage}
case "$env" in dev | prod) ;; *) echo "unknown environment $env" >&2; exit 2 ;; esac
mode=${2:-}
case "$mode" in "" | --rotate-origin-secret | --edge | --delete) ;; *) echo "$usage" >&2; exit 2 ;; esac

xtask() { cargo run -q -p xtask -- "$@"; }

if [ "$mode" = --delete ]; then
  # The API's stack first: its distribution uses the edge stack's web ACL
  # and certificate until it is gone.
  sam delete --config-env "$env"
  sam delete --config-env "$env-edge"
  echo "Stacks deleted. The DynamoDB table, the SSM secrets and the edge's log bucket are kept on purpose; delete them by hand if wanted."
  exit 0
fi

region=${DEPLOY_REGION:-$(xtask samconfig "$env" region)}

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
  local domain zone line edge_overrides stack edge_region
  domain=$(xtask samconfig "$env" DomainName)
  zone=$(xtask samconfig "$env" HostedZoneId)
  line=$(xtask samconfig-overrides "$env-edge" "DomainName=$domain" "HostedZoneId=$zone")
  read -ra edge_overrides <<<"$line"
  sam deploy --config-env "$env-edge" --parameter-overrides "${edge_overrides[@]}" "$@" >&2
  stack=$(xtask samconfig "$env-edge" stack_name)
  edge_region=$(xtask samconfig "$env-edge" region)
  web_acl=$(stack_output "$stack" "$edge_region" WebAclArn)
  certificate=$(stack_output "$stack" "$edge_region" CertificateArn)
  [ -n "$web_acl" ] || { echo "the edge stack $stack has no WebAclArn output" >&2; exit 1; }
}

# The version of the origin secret CloudFront sends now (the stack's
# output; empty before the first deploy with the edge).
sent_version() {
  stack_output "$(xtask samconfig "$env" stack_name)" "$region" OriginSecretVersion 2>/dev/null || true
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

# api_overrides VERSION: the API stack's parameter overrides, CloudFront
# sending version VERSION of the origin secret.
api_overrides() {
  xtask samconfig-overrides "$env" "WebAclArn=$web_acl" "CertificateArn=$certificate" \
    "OriginSecretVersion=$1" "OriginVerifySha256=$digests"
}

if [ "$mode" = --edge ]; then
  # The workflow's environment approval is the review.
  deploy_edge --no-confirm-changeset --no-progressbar
  origin_secret "$(sent_version)"
  api_overrides "$version"
  exit 0
fi

jwt_secret=$(xtask samconfig "$env" JwtSecretParameterName)
AWS_REGION=$region .venv/bin/python scripts/ensure-jwt-secret.py "$jwt_secret"

sam build --config-env "$env"
deploy_edge

# deploy_api VERSION
deploy_api() {
  local line overrides
  line=$(api_overrides "$1")
  read -ra overrides <<<"$line"
  sam deploy --config-env "$env" --region "$region" --parameter-overrides "${overrides[@]}"
}

sent=$(sent_version)
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
# against the stack's table with this machine's credentials; each resumes
# where an interrupted run stopped, and a finished one is skipped.
stack=$(xtask samconfig "$env" stack_name)
table=$(stack_output "$stack" "$region" TableName)
TABLE_NAME=$table AWS_REGION=$region cargo run -q --release -p conduit-local --bin conduit-admin -- migrate
echo "API: $(stack_output "$stack" "$region" ApiUrl)"

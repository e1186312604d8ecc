#!/usr/bin/env bash
# shellcheck disable=SC2154 # stack, region, ...: set by eval of xtask samconfig
# The one way an environment is deployed: make deploy, the deploy workflow,
# the rehearsal (deploy-check.sh).
#   scripts/deploy.sh dev|prod [--built] [--yes] [--rotate-origin-secret | --delete]
#
#   --built   deploy .aws-sam/build as it is (the workflow promotes dev's build)
#   --yes     no questions: the workflow's environment approval is the review
#   --rotate-origin-secret   a new origin secret, in three deploys: the functions
#             accept it too; CloudFront sends it; the old one is refused.
#   --delete  the stacks; the table, the secrets and the edge's logs are kept
# DEPLOY_REGION: the API stack's region, if not samconfig.toml's;
# DEPLOY_OVERRIDES: more Name=value overrides (the rehearsal's Edge=disabled).
cd "$(dirname "$0")/.." && source scripts/lib.sh || exit 1
export PATH="$PWD/.venv/bin:$PATH"
usage() { sed -n 's/^#   \(scripts.*\)/usage: \1/p' "$0" >&2; exit 2; }
env=${1:-}
case "$env" in dev | prod) shift ;; *) usage ;; esac
built=false mode="" sam_flags=() delete_flags=()
for arg; do case "$arg" in
  --built) built=true ;;
  --yes) sam_flags=(--no-confirm-changeset --no-progressbar) delete_flags=(--no-prompts) ;;
  --rotate-origin-secret | --delete) mode=$arg ;;
  *) usage ;;
esac; done
if [ "$mode" = --delete ]; then # the API's first: its distribution uses the edge's web ACL
  sam delete --config-env "$env" "${delete_flags[@]}"
  sam delete --config-env "$env-edge" "${delete_flags[@]}"
  echo "Stacks deleted; the table, the SSM secrets and the edge's log bucket are kept."
  exit 0
fi
cargo_build --bin xtask --bin conduit-admin
settings=$("$BIN/xtask" samconfig "$env")
eval "$settings"
region=${DEPLOY_REGION:-$region}
admin() { AWS_REGION=$region "$BIN/conduit-admin" "$@"; }
# stack_output STACK REGION KEY: the output's value, empty if none.
stack_output() {
  sam list stack-outputs --stack-name "$1" --region "$2" --output json | python3 -c 'import json, sys
print(next((o["OutputValue"] for o in json.load(sys.stdin) if o["OutputKey"] == sys.argv[1]), ""))' "$3"
}
# origin_secret SENT [--rotate]: version, the latest, and digests, those the
# functions accept: the latest's, and SENT's, which CloudFront sends.
origin_secret() { local out && out=$(admin origin-secret "$origin_secret" --also "$@") && read -r version digests <<<"$out"; }
# deploy_api VERSION: the API's stack, CloudFront sending VERSION. sam takes
# the last of a name; an empty value must be "".
deploy_api() {
  # shellcheck disable=SC2086 # DEPLOY_OVERRIDES: words, by design
  sam deploy --config-env "$env" --region "$region" "${sam_flags[@]}" --parameter-overrides \
    "${overrides[@]}" "WebAclArn=$web_acl" "CertificateArn=${certificate:-\"\"}" \
    "OriginSecretVersion=$1" "OriginVerifySha256=$digests" ${DEPLOY_OVERRIDES:-}
}

admin ensure-jwt-secret "$jwt_secret"
$built || sam build --config-env "$env"
[ -f .aws-sam/build/template.yaml ] || { echo "no .aws-sam/build to deploy" >&2; exit 1; }
sam deploy --config-env "$env-edge" --parameter-overrides "${edge_overrides[@]}" "${sam_flags[@]}"
web_acl=$(stack_output "$edge_stack" "$edge_region" WebAclArn)
certificate=$(stack_output "$edge_stack" "$edge_region" CertificateArn)
[ -n "$web_acl" ] || { echo "the edge stack $edge_stack has no WebAclArn output" >&2; exit 1; }
sent=$(stack_output "$stack" "$region" OriginSecretVersion 2>/dev/null || true) # none at first
if [ "$mode" = --rotate-origin-secret ]; then
  origin_secret "$sent" --rotate
  # The functions accept the new one too (the stack waits for CodeDeploy),
  # then CloudFront sends it (the stack waits for every edge).
  [ -z "$sent" ] || deploy_api "$sent"
  deploy_api "$version"
  sent=$version
fi
# The one CloudFront sends and the latest: the old one no longer accepted.
origin_secret "$sent"
deploy_api "$version"
# Each migration resumes where an interrupted run stopped; a finished one is skipped.
table=$(stack_output "$stack" "$region" TableName)
TABLE_NAME=$table admin migrate
echo "API: $(stack_output "$stack" "$region" ApiUrl)"

#!/usr/bin/env bash
# Builds and deploys the stack of one environment from samconfig.toml.
#
#   scripts/deploy.sh dev|prod          build, make sure the JWT secret exists, deploy,
#                                       then run the data migrations
#   scripts/deploy.sh dev|prod --delete tear the stack down (the table is retained)
#
# Needs AWS credentials in the environment (profile, SSO or keys) allowed to
# deploy SAM stacks, and the tools from `scripts/setup.sh venv`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PWD/.venv/bin:$PATH"

env=${1:?usage: scripts/deploy.sh dev|prod [--delete]}
case "$env" in dev | prod) ;; *) echo "unknown environment $env" >&2; exit 2 ;; esac

if [ "${2:-}" = "--delete" ]; then
  sam delete --config-env "$env"
  echo "Stack deleted. The DynamoDB table and the SSM secret are kept on purpose; delete them by hand if wanted."
  exit 0
fi

.venv/bin/python scripts/ensure-jwt-secret.py \
  "$(cargo run -q -p xtask -- samconfig "$env" JwtSecretParameterName)"

sam build --config-env "$env"
sam deploy --config-env "$env"

# The data migrations not yet finished (common/src/db/migrations.rs), run
# against the stack's table with this machine's credentials; each resumes
# where an interrupted run stopped, and a finished one is skipped.
stack=$(cargo run -q -p xtask -- samconfig "$env" stack_name)
region=$(cargo run -q -p xtask -- samconfig "$env" region)
table=$(sam list stack-outputs --stack-name "$stack" --region "$region" --output json |
  .venv/bin/python -c 'import json, sys; print(next(o["OutputValue"] for o in json.load(sys.stdin) if o["OutputKey"] == "TableName"))')
TABLE_NAME=$table AWS_REGION=$region cargo run -q --release -p conduit-local --bin conduit-admin -- migrate

#!/usr/bin/env bash
# `sam build` of every function in infra/template.yaml (arm64, through
# cargo-lambda), then each function's bootstrap, raw and zipped, in a table
# (and .aws-sam/sizes.json, for make bench): every zip at most 4 MB, since
# cold starts grow with the code Lambda fetches (xtask check-artifacts).
# No AWS account or network needed: sam build only compiles and copies.
#
#   scripts/sam-build.sh [sam build options]   e.g. --config-env prod (not --build-dir)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
# SAM finds cargo and cargo-lambda on PATH; cargo-lambda links with the venv's zig.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PWD/.venv/bin:$PATH"
export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"

# Built as the deploy builds them: without make test's clippy-driver.
release() { env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS "$@"; }
# Every binary first, in one cargo run from functions/ (as SAM runs cargo
# lambda, so these are the artefacts it looks for), linked side by side:
# SAM's one run per function would link them one after another (85 s ->
# 48 s, and its own runs are then no-ops, on 2 cores after an edit of common/).
(cd functions && release cargo lambda build --release --arm64)
# samconfig.toml sets the template, cached = false and parallel = false.
# rust-cargolambda builds in the source tree whatever the flag says;
# --build-in-source only stops SAM warning once per function that it ignores it.
release sam build --build-in-source "$@"

xtask check-artifacts .aws-sam/build .aws-sam/sizes.json

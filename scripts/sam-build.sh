#!/usr/bin/env bash
# sam build (arm64, cargo-lambda; no AWS account needed), then each bootstrap's
# size, raw and zipped (and .aws-sam/sizes.json, for make bench): every zip
# within 4 MB, since cold starts grow with the code Lambda fetches.
#   scripts/sam-build.sh [sam build options]   e.g. --config-env prod (not --build-dir)
cd "$(dirname "$0")/.." && source scripts/lib.sh || exit 1
# cargo-lambda links with the venv's zig.
export PATH="$PWD/.venv/bin:$PATH"
export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
# As the deploy builds them: without make test's clippy-driver.
release() { env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS "$@"; }
# Every binary in one cargo run, as SAM runs cargo lambda (so SAM's own runs
# are no-ops), linked side by side rather than one after another (85 -> 48 s).
(cd functions && release cargo lambda build --release --arm64)
# --build-in-source: rust-cargolambda does anyway; it only stops SAM warning.
rm -f .aws-sam/template.sha256
release sam build --build-in-source "$@"
sha256sum infra/template.yaml >.aws-sam/template.sha256 # what it was built from
xtask check-artifacts .aws-sam/build .aws-sam/sizes.json

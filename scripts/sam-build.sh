#!/usr/bin/env bash
# `sam build` of every function in infra/template.yaml (arm64, through
# cargo-lambda), then the size of each function's bootstrap, raw and zipped,
# checked against the budget: every zip at most 4 MB (cold starts grow with
# the code Lambda has to fetch and load), and no OpenSSL anywhere.
#
# Usage: scripts/sam-build.sh [sam build options]   e.g. --config-env prod
#        (not --build-dir: the table reads .aws-sam/build)
#
# Needs no AWS account and no network: sam build only compiles and copies.
set -euo pipefail
cd "$(dirname "$0")/.."

# SAM finds cargo and cargo-lambda on PATH, and cargo-lambda links through the
# zig that comes with the venv's ziglang package.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PWD/.venv/bin:$PATH"
# No telemetry from CI. The region only fills in AWS::Region.
export SAM_CLI_TELEMETRY=0
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"

# The checks are xtask's (xtask/src/checks/): OpenSSL first, not to wait for
# the build to find it.
cargo run -q -p xtask -- check-no-openssl

# Every function's binary first, in one cargo run from functions/ (as SAM
# runs cargo lambda, so the artefacts are the ones it looks for): cargo links
# the 35 binaries side by side, where SAM's one run per function would link
# them one after another (85 s -> 48 s + 26 s for SAM's own runs, now
# no-ops, on 2 cores after an edit of common/).
# Built as the deploy builds them: without make test's clippy-driver.
release() { env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS "$@"; }
(cd functions && release cargo lambda build --release --arm64)

# samconfig.toml sets the template, cached = false and parallel = false.
# rust-cargolambda always builds in the source tree. Nothing (not target/,
# .venv/ or node_modules/) is copied to a scratch dir. --build-in-source
# changes nothing; it only stops SAM from warning once per function that it
# ignores the default (--no-build-in-source). SAM runs
# `cargo lambda build --release --arm64 --bin <Binary>` once per function,
# which finds each one built. Cargo's output appears only if a build fails.
release sam build --build-in-source "$@"

# The table of sizes, and the same in .aws-sam/sizes.json for `make bench`.
cargo run -q -p xtask -- check-artifacts .aws-sam/build .aws-sam/sizes.json

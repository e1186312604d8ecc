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

# samconfig.toml sets the template, cached = false and parallel = false.
# rust-cargolambda always builds in the source tree. Nothing (not target/,
# .venv/ or node_modules/) is copied to a scratch dir. --build-in-source
# changes nothing; it only stops SAM from warning once per function that it
# ignores the default (--no-build-in-source). SAM runs
# `cargo lambda build --release --arm64 --bin <Binary>` once per function. The
# runs share target/, so the first one compiles the dependencies and the rest
# only link. Cargo's output appears only if a build fails.
# OpenSSL would mean a second TLS stack, a larger binary and a slower cold
# start; the SDK is configured for rustls (with aws-lc) only.
openssl=$(cargo tree -q -p conduit-functions -e normal --target aarch64-unknown-linux-gnu -i openssl-sys 2>&1) && {
  echo "$openssl" >&2
  echo "sam-build: openssl-sys is in the functions' dependency tree" >&2
  exit 1
}
grep -q "did not match any packages" <<<"$openssl" || { echo "$openssl" >&2; exit 1; }

sam build --build-in-source "$@"

# The zip is deflate level 9. `sam deploy` uploads deflate at the default
# level, which comes out about 0.3% larger. Lambda's limits are 50 MB zipped
# (direct upload) and 250 MB unzipped.
python3 - <<'EOF'
import io, json, pathlib, sys, zipfile

BUDGET = 4_000_000  # bytes, per zipped function

rows = []
for bootstrap in sorted(pathlib.Path(".aws-sam/build").glob("*/bootstrap")):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.write(bootstrap, "bootstrap")
    rows.append((bootstrap.parent.name, bootstrap.stat().st_size, len(buf.getvalue())))
if not rows:
    sys.exit("sam-build: no .aws-sam/build/*/bootstrap after sam build")

mb = lambda n: f"{n / 1e6:8.2f} MB"
print(f"\n{'function':<28}{'bootstrap':>12}{'zipped':>12}")
for name, raw, zipped in rows:
    print(f"{name:<28}{mb(raw)}{mb(zipped)}")
print(f"{f'total ({len(rows)} functions)':<28}"
      f"{mb(sum(r[1] for r in rows))}{mb(sum(r[2] for r in rows))}")
# For `make bench`, which reports the sizes beside the cold starts.
pathlib.Path(".aws-sam/sizes.json").write_text(json.dumps(
    {name: {"bootstrap_bytes": raw, "zip_bytes": zipped} for name, raw, zipped in rows}, indent=1))
over = [name for name, _, zipped in rows if zipped > BUDGET]
if over:
    sys.exit(f"sam-build: over the {mb(BUDGET).strip()} zip budget: {', '.join(over)}")
print(f"every zip within the {mb(BUDGET).strip()} budget; no OpenSSL")
EOF

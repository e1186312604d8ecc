# The two commands a newcomer needs are `make dev` and `make test`;
# everything else here is what they are built from.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PORT ?= 3000
ENV ?= dev
REALWORLD_DIR ?= ../shared/realworld
export REALWORLD_DIR
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/.venv/bin:$(PATH)

.PHONY: help dev test end-to-end setup fmt-check clippy test-build unit-tests build-local e2e fidelity shared-cache supply-chain api-fuzz browser-test lambda-smoke infra-check deploy-check shipped-e2e sam-build stress-test bench generate admin repair rotate-keys deploy rotate-origin-secret destroy clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

dev: ## The whole API at http://127.0.0.1:$(PORT), data kept in .data/
	PORT=$(PORT) cargo run -p conduit-local

# Side by side where one waits and the other computes, measured on 2 cores:
# - setup (downloads: venvs, npm) runs with the Rust build, which needs none
#   of it;
# - the arm64 release build (sam-build: 3 min of both cores) runs with the
#   tests, from the moment the test build is done, at the lowest CPU
#   priority: they wait on servers, DynamoDB Local and a browser more than
#   they compute, and the heavy handler tests run alone (a core idle for a
#   minute); the build takes what they leave. Its output follows theirs;
# - shipped-e2e and deploy-check, which both only read what sam build made.
# clippy's lints run in the test build itself: clippy-driver compiles the
# workspace's own crates (what `cargo clippy` does for `cargo check`), so the
# dependencies are built once instead of also checked (72 s on 2 cores).
# Every cargo run of make test goes through it (a crate built without it
# would be built again) but the tools setup installs (`cargo install hurl`
# would lint hurl) and the release build (sam-build.sh: as the deploy
# builds it). Not linted so: the 35 one-line binary shims, generated and
# checked against the route table.
# lambda-smoke is shipped-e2e on debug builds of the functions: make test
# runs it on the binaries sam build made, not on another build of them.
test: export RUSTC_WORKSPACE_WRAPPER = $(shell rustc --print sysroot)/bin/clippy-driver
test: export CLIPPY_ARGS = -Dwarnings
test: ## Everything CI runs
	@mkdir -p target
	@env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS $(MAKE) --no-print-directory setup >target/setup.log 2>&1 & setup=$$!; \
	  status=0; $(MAKE) --no-print-directory fmt-check test-build || status=$$?; \
	  ready=0; wait $$setup || ready=$$?; \
	  echo "--- make setup (alongside) ---"; cat target/setup.log; \
	  [ $$status -eq 0 ] && [ $$ready -eq 0 ] || exit 1; \
	  nice -n 19 $(MAKE) --no-print-directory sam-build >target/sam-build.log 2>&1 & build=$$!; \
	  status=0; $(MAKE) --no-print-directory unit-tests end-to-end || status=$$?; \
	  built=0; wait $$build || built=$$?; \
	  echo "--- make sam-build (alongside) ---"; cat target/sam-build.log; \
	  [ $$status -eq 0 ] && [ $$built -eq 0 ]
	@$(MAKE) --no-print-directory shipped-e2e >target/shipped-e2e.log 2>&1 & shipped=$$!; \
	  status=0; $(MAKE) --no-print-directory deploy-check || status=$$?; \
	  passed=0; wait $$shipped || passed=$$?; \
	  echo "--- make shipped-e2e (alongside) ---"; cat target/shipped-e2e.log; \
	  [ $$status -eq 0 ] && [ $$passed -eq 0 ]
	@echo "make test: all checks passed"

end-to-end: e2e fidelity shared-cache api-fuzz browser-test infra-check supply-chain

setup: ## Install the tools the checks need (idempotent)
	scripts/setup.sh all

fmt-check:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

# The function binaries are one-line shims with no tests of their own
# (their handlers are tested through tests/): skipping their harnesses saves
# 35 links. The functions' library tests run in the second call, whose
# selection (the whole workspace) resolves the same features, so it
# compiles only their harness.
UNIT_TESTS := "--workspace --exclude conduit-functions" "--workspace --lib"

test-build: ## Build what unit-tests runs
	for selection in $(UNIT_TESTS); do cargo test $$selection --no-run; done

unit-tests: ## Unit and handler tests on the embedded engine
	for selection in $(UNIT_TESTS); do cargo test $$selection; done

build-local:
	cargo build -p conduit-local

e2e: build-local ## The official Hurl suite against the local server
	scripts/e2e.sh

fidelity: build-local ## Handler tests and the Hurl suite again, on AWS DynamoDB Local
	scripts/with-dynamodb-local.sh bash -c '\
	  TEST_DYNAMODB_ENDPOINT=$$DYNAMODB_LOCAL_ENDPOINT cargo test -p conduit-tests && \
	  scripts/e2e.sh $$DYNAMODB_LOCAL_ENDPOINT'

shared-cache: ## The API behind nginx's proxy_cache, set up as CloudFront is: no reader served another's response, the staleness window, the hit ratio
	# The same build as fidelity's (one package selected, same features).
	cargo test -p conduit-tests --test api shared_cache -- --ignored --nocapture

api-fuzz: build-local ## schemathesis against /api/openapi.json: no 5xx, no schema violation
	scripts/schemathesis.sh

browser-test: build-local ## Swagger UI in headless Chromium: a user sees their own changes, not a cached page
	scripts/browser-test.sh

admin: ## Grant a role while `make dev` runs: make admin USERNAME=jake [ROLE=admin]
	DYNAMODB_ENDPOINT=http://127.0.0.1:$${DYNAMODB_PORT:-8000} \
	  cargo run -q -p conduit-local --bin conduit-admin -- grant "$(USERNAME)" "$(or $(ROLE),admin)"

repair: ## Recount every counter from its items and fix drift, while `make dev` runs (RATE: read units a second)
	DYNAMODB_ENDPOINT=http://127.0.0.1:$${DYNAMODB_PORT:-8000} \
	  cargo run -q -p conduit-local --bin conduit-admin -- repair $(or $(RATE),100)

rotate-keys: ## Rotate the token signing keys of make dev's data one step (FORCE=1 within 30 days of the last; in AWS: JWT_SECRET_PARAM=<name> conduit-admin rotate-keys)
	cargo run -q -p conduit-local --bin conduit-admin -- rotate-keys $(if $(FORCE),--force)

lambda-smoke: ## shipped-e2e's checks against debug builds of the functions, native
	scripts/shipped-e2e.sh debug

supply-chain: ## cargo deny (deny.toml: licences, bans, sources; advisories where RustSec is reachable); npm audit and pip-audit of the test tooling, reported
	scripts/supply-chain.sh

infra-check: ## Lint the SAM template and the workflows
	scripts/check-infra.sh

shipped-e2e: ## The Hurl suite, the stream effects, every events/ fixture invoked and the EMF metrics, against the arm64 functions sam build made, under qemu behind cargo lambda watch
	scripts/shipped-e2e.sh

deploy-check: ## Rehearse sam deploy (dev, prod, delete, redeploy) into an emulated account; needs make sam-build
	scripts/deploy-check.sh

sam-build: ## sam build of every function (arm64, cargo-lambda), with each zipped size
	scripts/sam-build.sh

stress-test: ## Not in make test: make fidelity 10 times and make test 3 times in a row, one core kept busy (FIDELITY_RUNS, TEST_RUNS)
	scripts/stress-test.sh

bench: setup sam-build ## Benchmarks, not part of make test: the mix, sizes, cold starts, the stream's work, token algorithms -> docs/benchmarks*.md
	cargo build --release -p conduit-local -p conduit-functions -p conduit-bench --bins
	$${CARGO_TARGET_DIR:-target}/release/conduit-bench run $(BENCH_ARGS)
	$${CARGO_TARGET_DIR:-target}/release/conduit-bench events
	$${CARGO_TARGET_DIR:-target}/release/conduit-bench tokens

generate: ## Regenerate what derives from the route table: template, OpenAPI, watch router, binary shims
	cargo run -q -p xtask -- generate

deploy: ## Build and deploy to AWS: make deploy ENV=dev|prod
	scripts/deploy.sh $(ENV)

rotate-origin-secret: ## A new origin secret between CloudFront and the API, in three deploys: make rotate-origin-secret ENV=dev|prod
	scripts/deploy.sh $(ENV) --rotate-origin-secret

destroy: ## Delete the stack of ENV, then its edge stack (keeps the table, the secrets and the edge's log bucket)
	scripts/deploy.sh $(ENV) --delete

clean:
	cargo clean
	rm -rf .data .aws-sam

#!/usr/bin/env bash
# Swagger UI and GraphiQL in a real browser (headless Chromium, puppeteer-core): starts
# the local server on a free port with an empty database (its stream
# consumers paused) and runs
# tests/browser/ with node's test runner. The test prints where it put its
# screenshots (target/browser-screenshots/<time>/).
#
#   scripts/browser-test.sh   (CHROMIUM=/path/to/chrome to use another browser)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

# Consumers paused: what the user sees of their own changes must not wait for them.
start_server STREAM_CONSUMERS=paused
CONDUIT_URL=$SERVER_URL node --test --test-reporter=spec tests/browser/

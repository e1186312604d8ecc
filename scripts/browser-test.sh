#!/usr/bin/env bash
# Swagger UI and GraphiQL in a real browser (headless Chromium, puppeteer-core): starts
# the local server on a free port with an empty database and runs
# tests/browser/ with node's test runner. The test prints where it put its
# screenshots (target/browser-screenshots/<time>/).
#
#   scripts/browser-test.sh   (CHROMIUM=/path/to/chrome to use another browser)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

start_server
CONDUIT_URL=$SERVER_URL node --test --test-reporter=spec tests/browser/

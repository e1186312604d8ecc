#!/usr/bin/env bash
# Swagger UI and GraphiQL in headless Chromium (puppeteer-core, tests/browser/,
# node's test runner) against the local server, empty, its consumers paused:
# what a user sees of their own changes must not wait for them. The test says
# where it put its screenshots.   (CHROMIUM=/path/to/chrome for another browser)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
start_server STREAM_CONSUMERS=paused
CONDUIT_URL=$SERVER_URL node --test --test-reporter=spec tests/browser/

#!/usr/bin/env bash
# Swagger UI and GraphiQL in headless Chromium (puppeteer-core, tests/browser/)
# against the local server, its consumers paused: what users see of their own
# changes must not wait for them.   (CHROMIUM=/path/to/chrome for another browser)
cd "$(dirname "$0")/.." && source scripts/lib.sh || exit 1
start_server STREAM_CONSUMERS=paused
CONDUIT_URL=$SERVER_URL node --test --test-reporter=spec tests/browser/

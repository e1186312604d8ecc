// GraphiQL at /api/graphql in a real browser (headless Chromium, driven by
// puppeteer-core): the page loads with no internet (every request that
// leaves the API is refused, and counted), runs its default query, and
// shows an article written through the REST API a moment before.
//
//   CONDUIT_URL=http://127.0.0.1:PORT node --test tests/browser/
//
// scripts/browser-test.sh (`make browser-test`) starts a server for it;
// chromium.mjs says what else it reads from the environment.

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { API, SHOTS, TIMEOUT, launchChromium } from "./chromium.mjs";

async function rest(method, route, body, token) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Token ${token}`;
  const response = await fetch(`${API}${route}`, { method, headers, body: JSON.stringify(body) });
  assert.ok(response.ok, `${method} ${route}: ${response.status}`);
  return response.json();
}

test("GraphiQL in a real browser, offline: runs a query", { timeout: 60_000 }, async (t) => {
  assert.ok(API, "set CONDUIT_URL to the API's base URL (scripts/browser-test.sh does)");
  fs.mkdirSync(SHOTS, { recursive: true });
  const name = `graphiql${Date.now()}`;
  const { user } = await rest("POST", "/api/users", {
    user: { username: name, email: `${name}@example.com`, password: "password123" },
  });
  const title = `Explored ${name}`;
  const { article } = await rest(
    "POST",
    "/api/articles",
    { article: { title, description: "d", body: "b" } },
    user.token,
  );
  await rest("POST", `/api/articles/${article.slug}/comments`, { comment: { body: "Seen in GraphiQL" } }, user.token);

  const browser = await launchChromium(t);

  const page = await browser.newPage();
  page.setDefaultTimeout(TIMEOUT);
  // No internet: anything not from the API is refused.
  const origin = new URL(API).origin;
  const elsewhere = [];
  await page.setRequestInterception(true);
  page.on("request", (request) => {
    if (request.url().startsWith(origin) || request.url().startsWith("data:")) {
      request.continue();
    } else {
      elsewhere.push(request.url());
      request.abort();
    }
  });
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));

  const response = await page.goto(`${API}/api/graphql`, { waitUntil: "load" });
  assert.equal(response.status(), 200);
  await page.waitForSelector(".graphiql-execute-button");
  await page.screenshot({ path: path.join(SHOTS, "graphiql-loaded.png") });
  await page.click(".graphiql-execute-button");
  await page.waitForFunction(
    (expected) => document.querySelector(".result-window")?.innerText.includes(expected),
    {},
    "Seen in GraphiQL",
  );
  const result = await page.$eval(".result-window", (element) => element.innerText);
  await page.screenshot({ path: path.join(SHOTS, "graphiql-result.png") });
  assert.ok(result.includes(title), result);
  assert.ok(result.includes('"articlesCount"'), result);
  assert.deepEqual(elsewhere, [], "the page asked for something outside the API");
  assert.deepEqual(errors, [], "the page threw");
});

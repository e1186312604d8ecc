// A real browser (headless Chromium, driven by puppeteer-core) uses the API's
// own Swagger UI at /api/docs the way a person would, and checks that after
// their own change the browser shows fresh data, not a page it cached before.
//
//   CONDUIT_URL=http://127.0.0.1:PORT node --test tests/browser/
//
// scripts/browser-test.sh (`make browser-test`) starts a server for it.
// Environment:
//   CONDUIT_URL         the API (required)
//   CHROMIUM            the browser (default /usr/bin/chromium, from Debian's package)
//   SCREENSHOT_DIR      where the screenshots go (default target/browser-screenshots/<time>)
//   SIMULATE_PUBLIC_CACHE_CONTROL  e.g. "public, max-age=5": the proxy below
//                       puts that on anonymous reads instead of the API's own
//                       policy, to see this test fail as it should under it.
//
// Why it fails under a `max-age` policy: the article's anonymous GET URL is
// loaded in the browser before the favorite, so the browser holds a copy
// stamped "fresh for N seconds". Opening that URL again within N seconds is
// answered from the browser's cache, without asking the server: the page
// still shows `favoritesCount: 0`. Under `max-age=0, must-revalidate` (what
// the API sends; `s-maxage` is for shared caches only) the browser must
// revalidate (If-None-Match) first, and the server's new ETag brings the new
// body. The test sees both sides: the count on the page, and the hits the
// server got for that URL (counted by a small proxy in front of the API, so
// it does not rely on the browser's own account of its cache), plus
// puppeteer's `response.fromCache()`.

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { API, SHOTS, TIMEOUT, launchChromium } from "./chromium.mjs";

const SIMULATE = process.env.SIMULATE_PUBLIC_CACHE_CONTROL || "";

/**
 * A pass-through HTTP proxy in front of the API that counts the requests
 * reaching the server per method and path (the browser's cache sits in front
 * of it, so a page served from that cache is not counted).
 */
function startProxy(target) {
  const upstream = new URL(target);
  const seen = new Map(); // "METHOD /path" -> { count, last: the last request's headers }
  const server = http.createServer((req, res) => {
    const key = `${req.method} ${req.url.split("?")[0]}`;
    seen.set(key, { count: (seen.get(key)?.count || 0) + 1, last: req.headers });
    const forward = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
      },
      (answer) => {
        const headers = { ...answer.headers };
        if (SIMULATE && /^public\b/.test(headers["cache-control"] || "")) {
          headers["cache-control"] = SIMULATE;
        }
        res.writeHead(answer.statusCode, headers);
        answer.pipe(res);
      },
    );
    forward.on("error", (error) => {
      res.writeHead(502, { "content-type": "text/plain" });
      res.end(`proxy: ${error.message}`);
    });
    req.pipe(forward);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        hits: (method, p) => seen.get(`${method} ${p}`)?.count || 0,
        lastHeaders: (method, p) => seen.get(`${method} ${p}`)?.last || {},
        close: () =>
          new Promise((done) => {
            server.close(done);
            server.closeAllConnections();
          }),
      });
    });
  });
}

test("Swagger UI in a real browser: a user sees their own changes", { timeout: 120_000 }, async (t) => {
  assert.ok(API, "set CONDUIT_URL to the API's base URL (scripts/browser-test.sh does)");
  fs.mkdirSync(SHOTS, { recursive: true });
  console.log(`# screenshots: ${SHOTS}`);

  const proxy = await startProxy(API);
  t.after(() => proxy.close());
  const browser = await launchChromium(t);

  const docs = await browser.newPage();
  docs.setDefaultTimeout(TIMEOUT);
  let shot = 0;
  // A page or one element of it.
  const screenshot = async (name, target = docs, options = {}) => {
    const file = path.join(SHOTS, `${String(++shot).padStart(2, "0")}-${name}.png`);
    await target.screenshot({ path: file, ...options });
  };

  // Each step runs only if every earlier one passed: they build on each other.
  let broken = false;
  const step = (name, fn) =>
    t.test(name, { skip: broken && "an earlier step failed" }, async () => {
      try {
        await fn();
      } catch (error) {
        broken = true;
        await screenshot(`FAILED-${name.replace(/\W+/g, "-")}`).catch(() => {});
        throw error;
      }
    });

  /** Opens an operation, presses "Try it out", fills it in, presses Execute
   *  and returns the live response (status and parsed JSON body, if any).
   *  Run again, it clears the last response first. */
  async function tryItOut(name, opId, { params = {}, body } = {}) {
    const op = `#operations-${opId}`;
    await docs.waitForSelector(op);
    if (!(await docs.$(`${op}.is-open`))) {
      await docs.click(`${op} .opblock-summary-control`);
    }
    await docs.waitForSelector(`${op} .try-out__btn`);
    if (!(await docs.$(`${op} .try-out__btn.cancel`))) {
      await docs.click(`${op} .try-out__btn`);
    }
    for (const [name, value] of Object.entries(params)) {
      const input = await docs.waitForSelector(`${op} tr[data-param-name="${name}"] input`);
      await input.click({ count: 3 });
      await input.type(value);
    }
    if (body !== undefined) {
      const editor = await docs.waitForSelector(`${op} textarea.body-param__text`);
      await editor.click();
      await docs.keyboard.down("Control");
      await docs.keyboard.press("A");
      await docs.keyboard.up("Control");
      await docs.keyboard.press("Backspace");
      // Inserted at once, as a paste would be (typing it key by key takes seconds).
      await docs.keyboard.sendCharacter(JSON.stringify(body, null, 2));
    }
    // Run before: clear its response first, so the one read below is new.
    if (await docs.$(`${op} button.btn-clear`)) {
      await docs.click(`${op} button.btn-clear`);
      await docs.waitForSelector(`${op} .live-responses-table`, { hidden: true });
    }
    await docs.click(`${op} button.execute`);
    const row = `${op} .live-responses-table tr.response`;
    const response = await docs.waitForSelector(row);
    const code = Number(await response.evaluate((el) => el.querySelector(".response-col_status").textContent));
    // The response body's block is absent when there is none (204).
    const text = await response.evaluate(
      (el) => el.querySelector(".response-col_description .highlight-code pre")?.textContent ?? "",
    );
    await screenshotOperation(name, op);
    return { status: code, json: text.trim() ? JSON.parse(text) : null };
  }

  /** The operation from its title down to the live response (not the
   *  documented responses below it). */
  async function screenshotOperation(name, op) {
    const top = await (await docs.$(op)).boundingBox();
    const bottom = await (await docs.$(`${op} .live-responses-table`)).boundingBox();
    const scroll = await docs.evaluate(() => ({ x: window.scrollX, y: window.scrollY }));
    await screenshot(name, docs, {
      clip: {
        x: top.x + scroll.x,
        y: top.y + scroll.y,
        width: top.width,
        height: bottom.y + bottom.height - top.y + 8,
      },
    });
  }

  /** Opens the URL in a new tab of the same browser (same HTTP cache), as a
   *  person following a link would, and returns what the page shows. */
  async function openInTab(url, name) {
    const tab = await browser.newPage();
    try {
      const response = await tab.goto(url, { waitUntil: "load", timeout: TIMEOUT });
      const shown = await tab.$eval("body", (el) => el.querySelector("pre")?.textContent ?? el.innerText);
      await screenshot(name, tab);
      return { status: response.status(), fromCache: response.fromCache(), shown };
    } finally {
      await tab.close();
    }
  }

  const uid = `${Date.now()}${process.pid}`;
  const user = { username: `browser${uid}`, email: `browser${uid}@example.com`, password: "password123" };
  let token;
  let slug;
  let articleUrl;
  let articlePath;

  await step("Swagger UI loads at /api/docs", async () => {
    await docs.goto(`${proxy.url}/api/docs`, { waitUntil: "load" });
    await docs.waitForSelector("#operations-users-register");
    await screenshot("swagger-ui");
  });

  await step("register through Try it out", async () => {
    const { status, json } = await tryItOut("register", "users-register", { body: { user } });
    assert.equal(status, 201, JSON.stringify(json));
    assert.equal(json.user.username, user.username);
    token = json.user.token;
    assert.ok(token);
  });

  await step("authorize with the token", async () => {
    await docs.click(".auth-wrapper .btn.authorize");
    const input = await docs.waitForSelector(".modal-ux .auth-container input#api_key_value");
    await input.type(`Token ${token}`);
    await docs.click(".modal-ux .auth-btn-wrapper button.authorize");
    // Once applied, the value is masked and "Authorize" becomes "Logout".
    await docs.waitForSelector('.modal-ux button[aria-label="Remove authorization"]');
    assert.equal(await docs.$eval(".modal-ux .auth-container h6", (el) => el.textContent), "Authorized");
    await screenshot("authorized", await docs.$(".modal-ux .modal-dialog-ux"));
    await docs.click(".modal-ux .auth-btn-wrapper .btn-done");
    await docs.waitForSelector(".modal-ux", { hidden: true });
  });

  // Someone to follow, with an article from before the follow: set up
  // directly over HTTP, not through the page. The server's stream consumers
  // are paused (scripts/browser-test.sh), so what the feed shows below is
  // the follow's and the unfollow's own doing.
  const author = { username: `author${uid}`, email: `author${uid}@example.com`, password: "password123" };
  let authorSlug;

  await step("an author with an article (set up over HTTP)", async () => {
    const call = async (path, body, authToken) => {
      const headers = { "content-type": "application/json" };
      if (authToken) headers.authorization = `Token ${authToken}`;
      const response = await fetch(`${API}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
      assert.equal(response.status, 201, await response.clone().text());
      return response.json();
    };
    const { user: registered } = await call("/api/users", { user: author });
    const { article } = await call(
      "/api/articles",
      { article: { title: `Before the follow ${uid}`, description: "d", body: "b" } },
      registered.token,
    );
    authorSlug = article.slug;
  });

  await step("follow the author through Try it out", async () => {
    const { status, json } = await tryItOut("follow", "profiles-follow_user", { params: { username: author.username } });
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(json.profile.following, true);
  });

  await step("the feed has the author's article at once", async () => {
    const { status, json } = await tryItOut("feed-after-follow", "articles-feed_articles");
    assert.equal(status, 200, JSON.stringify(json));
    assert.deepEqual(
      { count: json.articlesCount, slugs: json.articles.map((a) => a.slug) },
      { count: 1, slugs: [authorSlug] },
    );
  });

  await step("unfollow the author through Try it out", async () => {
    const { status, json } = await tryItOut("unfollow", "profiles-unfollow_user", { params: { username: author.username } });
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(json.profile.following, false);
  });

  await step("the feed is empty at once", async () => {
    const { status, json } = await tryItOut("feed-after-unfollow", "articles-feed_articles");
    assert.equal(status, 200, JSON.stringify(json));
    assert.deepEqual({ count: json.articlesCount, articles: json.articles }, { count: 0, articles: [] });
  });

  await step("create an article through Try it out", async () => {
    const article = {
      title: `Fresh pages ${uid}`,
      description: "written from Swagger UI",
      body: "Seen by a real browser.",
      tagList: ["browser"],
    };
    const { status, json } = await tryItOut("create-article", "articles-create_article", { body: { article } });
    assert.equal(status, 201, JSON.stringify(json));
    slug = json.article.slug;
    assert.ok(slug);
    articlePath = `/api/articles/${slug}`;
    articleUrl = `${proxy.url}${articlePath}`;
  });

  await step("the article's anonymous URL, loaded once before the change", async () => {
    const before = proxy.hits("GET", articlePath);
    const page = await openInTab(articleUrl, "article-before-favorite");
    assert.equal(page.status, 200);
    assert.equal(JSON.parse(page.shown).article.favoritesCount, 0);
    assert.equal(proxy.hits("GET", articlePath), before + 1, "the first load reaches the server");
  });

  await step("favorite it through Try it out", async () => {
    const { status, json } = await tryItOut("favorite", "articles-favorite_article", { params: { slug } });
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(json.article.favoritesCount, 1);
    assert.equal(json.article.favorited, true);
  });

  await step("the same URL in the same browser shows the new count", async () => {
    // Under `public, max-age=5` this load is answered from the browser's
    // cache (the copy from two steps ago is still "fresh"): no request
    // reaches the server, puppeteer reports it from the cache, and the page
    // still says 0.
    const before = proxy.hits("GET", articlePath);
    const page = await openInTab(articleUrl, "article-after-favorite");
    assert.deepEqual(
      {
        favoritesCount: JSON.parse(page.shown).article.favoritesCount,
        serverHits: proxy.hits("GET", articlePath) - before,
        fromCache: page.fromCache,
        status: page.status,
      },
      { favoritesCount: 1, serverHits: 1, fromCache: false, status: 200 },
      "the page must show the new count, from the server, not the browser's cached copy",
    );
    // The browser did hold the earlier copy: it asked with its ETag
    // (revalidation), and the server's answer was the new body.
    assert.match(String(proxy.lastHeaders("GET", articlePath)["if-none-match"]), /^"/);
  });

  await step("delete it through Try it out", async () => {
    const { status } = await tryItOut("delete", "articles-delete_article", { params: { slug } });
    assert.equal(status, 204);
  });

  await step("the same URL in the same browser is now a 404", async () => {
    const before = proxy.hits("GET", articlePath);
    const page = await openInTab(articleUrl, "article-after-delete");
    assert.equal(proxy.hits("GET", articlePath), before + 1, "the browser must ask the server again");
    assert.equal(page.status, 404, page.shown);
  });
});

// What the browser tests share: their settings, and Debian's Chromium,
// headless, on a profile of its own that goes when the test ends.
//
// Environment:
//   CONDUIT_URL     the API (required)
//   CHROMIUM        the browser (default /usr/bin/chromium, from Debian's package)
//   SCREENSHOT_DIR  where the screenshots go (default target/browser-screenshots/<time>)

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer from "puppeteer-core";

export const API = process.env.CONDUIT_URL;
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
export const TIMEOUT = 15_000; // for any one wait
const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const SHOTS = path.resolve(
  process.env.SCREENSHOT_DIR || path.join(REPO, "target/browser-screenshots", stamp),
);

/** Chromium for the test `t`, closed (and its profile removed) after it. */
export async function launchChromium(t) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "conduit-chromium-"));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox", // we run as root
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profile}`,
    ],
    defaultViewport: { width: 1280, height: 900 },
  });
  t.after(async () => {
    await browser.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  });
  return browser;
}

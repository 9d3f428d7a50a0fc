/** Headless Chromium from the system (Debian's `chromium`) driven by playwright-core: never its own browser download. */
import * as fs from "node:fs";
import * as path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

export const CHROMIUM = process.env.KILN_CHROMIUM ?? "/usr/bin/chromium";
export const hasChromium = () => fs.existsSync(CHROMIUM);

/** Where screenshots go: $KILN_SCREENSHOT_DIR, else .kiln/screenshots (git-ignored). */
export function screenshotDir(): string {
  const dir = process.env.KILN_SCREENSHOT_DIR ?? path.resolve(__dirname, "../../../.kiln/screenshots");
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export function launch(): Promise<Browser> {
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
}

/** A page that records script errors and CSP violations, so a test can assert there were none. */
export async function watchedPage(browser: Browser): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  return { page, errors };
}

/** Text of every cell of the table rows matching `selector`. */
export const cellTexts = (page: Page, selector: string) =>
  page.$$eval(selector, (rows) =>
    // biome-ignore lint/performance/useDomNodeTextContent: the text as rendered (what a user reads), not the DOM's
    rows.map((r) => Array.from(r.querySelectorAll("td")).map((td) => td.innerText.replace(/\s+/g, " ").trim())),
  );

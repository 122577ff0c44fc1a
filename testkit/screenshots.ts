/**
 * Screenshots of the pages, written on every run of the browser tests to
 * `screenshots/` at the top of the repository (ignored by git), so that a
 * person can look at what the tests saw.
 *
 * @module
 */

import type { Page } from "playwright-core";

/** Where screenshots go: `screenshots/` beside `deno.json`. */
export const SCREENSHOT_DIR = new URL("../screenshots/", import.meta.url);

/**
 * Saves what `page` shows in its viewport as `screenshots/<name>.png`,
 * after its fonts have loaded, with animations stopped; returns the path.
 */
export async function saveScreenshot(
  page: Page,
  name: string,
): Promise<string> {
  if (!/^[a-z0-9-]+$/.test(name)) {
    throw new Error(`Screenshot name ${name} is not a plain file name`);
  }
  await Deno.mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.evaluate("document.fonts.ready.then(() => true)");
  const path = new URL(`${name}.png`, SCREENSHOT_DIR).pathname;
  await page.screenshot({ path, animations: "disabled", caret: "hide" });
  return path;
}

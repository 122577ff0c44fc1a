/**
 * Screenshots of the pages, written on every run of the browser tests to
 * `screenshots/` at the top of the repository, so that a person can look at
 * what the tests saw. Git ignores them but the `design-*` ones, each state
 * of the pages at 375 and 1280 px (tests/screenshots_design_test.ts).
 *
 * @module
 */

// @ts-types="@types/upng-js"
import UPNG from "upng-js";
import type { Page } from "playwright-core";

/**
 * Colours a screenshot keeps: 256 hold the pages' flat colours and
 * anti-aliased text without a visible change, at under half the bytes.
 */
const PALETTE_COLOURS = 256;

/** `png` re-encoded with a palette of {@linkcode PALETTE_COLOURS}. */
function withPalette(png: Uint8Array): Uint8Array {
  const image = UPNG.decode(png.slice().buffer);
  const [rgba] = UPNG.toRGBA8(image);
  if (rgba === undefined) throw new Error("The screenshot has no frame");
  return new Uint8Array(
    UPNG.encode([rgba], image.width, image.height, PALETTE_COLOURS),
  );
}

/** Where screenshots go: `screenshots/` beside `deno.json`. */
export const SCREENSHOT_DIR = new URL("../screenshots/", import.meta.url);

/**
 * Saves what `page` shows in its viewport as `screenshots/<name>.png`,
 * after its fonts have loaded, with animations stopped, in a palette of
 * 256 colours (small enough to keep in git); returns the path.
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
  const png = await page.screenshot({ animations: "disabled", caret: "hide" });
  await Deno.writeFile(path, withPalette(png));
  return path;
}

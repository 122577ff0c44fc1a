/**
 * Headless Chromium for browser tests, driven by playwright-core. Chromium
 * comes from the system (`apt-get install chromium`); Playwright never
 * downloads a browser here.
 *
 * @module
 */

import { type Browser, chromium } from "playwright-core";

/** Where Debian installs Chromium. */
export const CHROMIUM = "/usr/bin/chromium";

/** Whether Chromium is installed. */
export function hasChromium(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

/**
 * Browser tests run wherever Chromium is installed, and always in CI (which
 * installs it); elsewhere they are reported as ignored, not passed.
 */
export const ignoreWithoutChromium = !hasChromium() &&
  Deno.env.get("CI") !== "true";

/** Launches headless Chromium with the flags this machine needs. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Chromium that closes when it leaves scope: `await using browser = ...`. */
export async function openChromium(): Promise<Browser & AsyncDisposable> {
  const browser = await launchChromium();
  return Object.assign(browser, {
    [Symbol.asyncDispose]: () => browser.close(),
  });
}

/** Options shared by the room-page tests that drive Chromium. @module */

import { ignoreWithoutChromium } from "./browser.ts";

// Every test here drives Chromium through playwright-core, whose pipes and
// timers to the browser stay open between steps; each test closes the
// browser in `finally`, so Deno's op and resource sanitizers are off.
export const BROWSER_TEST = {
  ignore: ignoreWithoutChromium,
  sanitizeOps: false,
  sanitizeResources: false,
} as const;

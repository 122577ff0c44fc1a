import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { ignoreWithoutChromium, launchChromium } from "../testkit/browser.ts";
import {
  COLOR_SCHEMES,
  DEVICES,
  documentWidth,
  LOCALES,
} from "../testkit/chat_page.ts";
import { openChatScene } from "../testkit/chat_scene.ts";
import { saveScreenshot } from "../testkit/screenshots.ts";

/** Saves `page` as `<name>-light.png` and `<name>-dark.png`. */
async function shoot(page: Page, name: string): Promise<void> {
  for (const colorScheme of COLOR_SCHEMES) {
    await page.emulateMedia({ colorScheme });
    const path = await saveScreenshot(page, `${name}-${colorScheme}`);
    const { size } = await Deno.stat(path);
    assert.ok(size > 1000, `${path} is ${size} bytes`);
  }
}

Deno.test({
  name:
    "screenshots of both pages: desktop and phone, English and Korean, light and dark",
  ignore: ignoreWithoutChromium,
  // playwright-core keeps pipes and timers to Chromium open between steps;
  // the browser is closed in `finally`.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const browser = await launchChromium();
    try {
      for (const locale of LOCALES) {
        const language = locale.slice(0, 2);
        for (const [device, viewport] of DEVICES) {
          await t.step(`${locale} on a ${device}`, async () => {
            await using scene = await openChatScene(browser, {
              locale,
              viewport,
            });
            const { page } = scene.visitor;
            await shoot(page, `room-${device}-${language}`);
            assert.equal(await documentWidth(page), viewport.width);
            await page.goto(`${scene.server.origin}/chat/`);
            await page.locator("#room-list li a").nth(1).waitFor();
            await shoot(page, `index-${device}-${language}`);
            assert.equal(await documentWidth(page), viewport.width);
            assert.deepEqual(scene.visitor.problems, []);
          });
        }
      }
    } finally {
      await browser.close();
    }
  },
});

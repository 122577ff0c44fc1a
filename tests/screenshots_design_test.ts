import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { openChromium } from "../testkit/browser.ts";
import {
  DEVICES,
  documentWidth,
  type Locale,
  openChatPage,
  roomPath,
  say,
  type Viewport,
  waitForMessage,
  waitUntilConnected,
} from "../testkit/chat_page.ts";
import { openChatScene } from "../testkit/chat_scene.ts";
import { saveScreenshot } from "../testkit/screenshots.ts";
import { uniqueRoom } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";
import { BROWSER_TEST } from "../testkit/ui.ts";

/** The most a committed screenshot may weigh. */
const MAX_BYTES = 300 * 1024;

/** Saves `page` as `design-<state>-<device>-<language>.png`, checked. */
async function shoot(
  page: Page,
  state: string,
  device: string,
  locale: Locale,
  viewport: Viewport,
): Promise<void> {
  const path = await saveScreenshot(
    page,
    `design-${state}-${device}-${locale.slice(0, 2)}`,
  );
  const { size } = await Deno.stat(path);
  assert.ok(size > 1000 && size < MAX_BYTES, `${path} is ${size} bytes`);
  assert.equal(await documentWidth(page), viewport.width, path);
}

/** A page of its own on a new room of `server`, connected. */
async function freshRoom(
  browser: Browser,
  origin: string,
  options: { locale: Locale; viewport: Viewport; name?: string },
) {
  const visitor = await openChatPage(browser, options);
  await visitor.page.goto(`${origin}${roomPath(uniqueRoom("design"))}`);
  await waitUntilConnected(visitor.page);
  return visitor;
}

Deno.test({
  name:
    "screenshots of each state of the pages a designer looks at, on a phone and a desktop",
  ...BROWSER_TEST,
  async fn(t) {
    await using browser = await openChromium();
    for (const locale of ["en-US", "ko-KR"] as const) {
      for (const [device, viewport] of DEVICES) {
        await t.step(`${locale} on a ${device}`, async () => {
          const snap = (page: Page, state: string) =>
            shoot(page, state, device, locale, viewport);
          await using scene = await openChatScene(browser, {
            locale,
            viewport,
          });
          const { page } = scene.visitor;
          const { origin } = scene.server;
          // The header, a lived-in log, the Online list (a drawer on a
          // phone) marking the reader.
          await snap(page, "room");
          await page.click("#chat-my-name");
          await page.fill("#chat-name-input", "admin");
          await page.click("#chat-name-save");
          await page.locator("#chat-name-error").waitFor();
          await snap(page, "rename-refused");
          await page.click("#chat-name-cancel");
          if (device === "phone") {
            await page.click("#chat-online-toggle");
            await page.locator("#chat-users-backdrop").waitFor();
            await snap(page, "online-drawer");
            await page.keyboard.press("Escape");
          }

          // An empty room on a first visit: the invitation and the greeting.
          await using first = await freshRoom(browser, origin, {
            locale,
            viewport,
          });
          await first.page.locator("#chat-empty").waitFor();
          await first.page.locator("#chat-welcome").waitFor();
          await snap(first.page, "empty-first-visit");

          // Scrolled up while messages arrive.
          await using bot = await TestClient.join(
            scene.server.wsUrl(`/ws/chat/${scene.room}/?name=bot`),
          );
          // Enough text that the log scrolls, then the reader scrolls up.
          const long = locale === "en-US"
            ? "Here are the release notes for today, section by section. "
              .repeat(6)
            : "오늘 배포의 릴리스 노트를 항목별로 정리했습니다. ".repeat(8);
          for (const part of [1, 2, 3, 4]) {
            const text = `${part}. ${long.trim()}`;
            bot.send({ message: text });
            await waitForMessage(page, text);
          }
          await page.evaluate(
            `document.getElementById("chat-scroller").scrollTop = 0`,
          );
          for (const text of ["one", "two", "three"]) {
            bot.send({ message: text });
            await waitForMessage(page, text);
          }
          await page.locator("#chat-new-messages").waitFor();
          await snap(page, "new-messages");

          // The index page: product, rules, active and recent rooms.
          await using index = await openChatPage(browser, {
            locale,
            viewport,
          });
          await index.page.goto(`${origin}/chat/`);
          await index.page.locator("#room-list li a").nth(1).waitFor();
          await snap(index.page, "index");

          // Offline: the banner above the log, the count greyed.
          await say(page, "📶");
          await scene.stopServer();
          await page.locator("#chat-status").waitFor();
          await snap(page, "offline");
          assert.deepEqual(scene.visitor.problems, []);
        });
      }
    }
  },
});

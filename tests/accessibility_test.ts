import assert from "node:assert/strict";
import { assertAccessible } from "../testkit/axe.ts";
import { ignoreWithoutChromium, launchChromium } from "../testkit/browser.ts";
import {
  DEVICES,
  LOCALES,
  openChatPage,
  roomPath,
  waitUntilConnected,
} from "../testkit/chat_page.ts";
import { openChatScene } from "../testkit/chat_scene.ts";
import { uniqueRoom } from "../testkit/server.ts";

Deno.test({
  name: "axe finds nothing on either page, light and dark, desktop and phone",
  ignore: ignoreWithoutChromium,
  // playwright-core keeps pipes and timers to Chromium open between steps;
  // the browser is closed in `finally`.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const browser = await launchChromium();
    try {
      for (const locale of LOCALES) {
        for (const [device, viewport] of DEVICES) {
          await t.step(`${locale} on a ${device}`, async (t) => {
            await using scene = await openChatScene(browser, {
              locale,
              viewport,
            });
            const { page } = scene.visitor;
            const where = `${locale} ${device}`;

            await t.step("the room page", async () => {
              await assertAccessible(page, `the room page (${where})`);
            });

            await t.step("the room page with its panels open", async () => {
              if (device === "phone") {
                await page.click("#chat-online-toggle");
                await page.locator("#chat-users-panel").waitFor({
                  state: "visible",
                });
                await assertAccessible(page, `the open Online list (${where})`);
                await page.click("#chat-online-toggle");
                await page.locator("#chat-users-panel").waitFor({
                  state: "hidden",
                });
              }
              await page.click("#chat-my-name");
              await page.locator("#chat-name-form").waitFor({
                state: "visible",
              });
              await assertAccessible(page, `the open name form (${where})`);
              await page.keyboard.press("Escape");
              await page.locator("#chat-name-form").waitFor({
                state: "hidden",
              });
            });

            await t.step("the index page", async () => {
              await page.goto(`${scene.server.origin}/chat/`);
              await page.locator("#room-list li a").first().waitFor();
              await assertAccessible(page, `the index page (${where})`);
              await page.goBack();
              await page.locator("#chat-users li.me").waitFor({
                state: "attached",
              });
            });

            await t.step(
              "an empty room on a first visit, inviting a name",
              async () => {
                await using first = await openChatPage(browser, {
                  locale,
                  viewport,
                });
                await first.page.goto(
                  `${scene.server.origin}${roomPath(uniqueRoom("first"))}`,
                );
                await waitUntilConnected(first.page);
                await first.page.locator("#chat-welcome").waitFor();
                await first.page.locator("#chat-empty").waitFor();
                await assertAccessible(
                  first.page,
                  `a first visit to an empty room (${where})`,
                );
              },
            );

            await t.step("the room page while disconnected", async () => {
              await scene.stopServer();
              await page.locator("#chat-status").waitFor({ state: "visible" });
              await assertAccessible(
                page,
                `the room page while disconnected (${where})`,
              );
            });
            assert.deepEqual(scene.visitor.problems, []);
          });
        }
      }
    } finally {
      await browser.close();
    }
  },
});

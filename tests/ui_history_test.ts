import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchChromium } from "../testkit/browser.ts";
import {
  DESKTOP,
  exactly,
  focusedId,
  holdsWithin,
  openChatPage,
  roomPath,
  waitForMessage,
  waitUntilConnected,
} from "../testkit/chat_page.ts";
import { startServer, uniqueRoom } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";
import { BROWSER_TEST } from "../testkit/ui.ts";

/**
 * A string expression: whether the log line whose text is exactly `text`
 * is on screen, not scrolled away and not covered by anything.
 */
function lineOnScreen(text: string): string {
  return `(() => {
    const line = [...document.querySelectorAll("#chat-log li.message")]
      .find((li) => li.querySelector(".text")?.textContent === ${
    JSON.stringify(text)
  });
    const part = line?.querySelector(".text");
    if (!part) return false;
    const box = part.getBoundingClientRect();
    const x = box.left + Math.min(box.width / 2, 10);
    const y = box.top + box.height / 2;
    const hit = document.elementFromPoint(x, y);
    return hit !== null && line.contains(hit);
  })()`;
}

/**
 * Waits until the log line whose text is exactly `text` is back at `top`
 * (a page may restore its scroll position a frame after inserting lines),
 * then asserts that it is there.
 */
async function assertLineStaysAt(
  page: Page,
  text: string,
  top: number,
): Promise<void> {
  const settled = `(() => {
    const line = [...document.querySelectorAll("#chat-log li.message")]
      .find((li) => li.querySelector(".text")?.textContent === ${
    JSON.stringify(text)
  });
    const part = line?.querySelector(".text");
    return part !== undefined && part !== null &&
      Math.abs(part.getBoundingClientRect().top - ${top}) <= 1;
  })()`;
  await holdsWithin(page, settled, 2000);
  const after = await lineTop(page, text);
  assert.ok(
    Math.abs(after - top) <= 1,
    `${text} moved from y=${top} to y=${after} in the viewport`,
  );
}

/**
 * The top of the message text `text` in the viewport, in CSS pixels: what
 * the reader's eye is on. (Its line's header may come and go as lines
 * regroup around it.)
 */
async function lineTop(page: Page, text: string): Promise<number> {
  const box = await page.locator("#chat-log li.message .text", {
    hasText: exactly(text),
  }).boundingBox();
  assert.ok(box, `the line "${text}" is not displayed`);
  return box.y;
}

Deno.test({
  name: "Load older keeps the scroll position and the focus",
  ...BROWSER_TEST,
  async fn(t) {
    // 120 messages seeded at once: no rate limit.
    await using server = await startServer({ CHAT_RATE_LIMIT: "0" });
    const browser = await launchChromium();
    try {
      const room = uniqueRoom("older");
      await using seeder = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/?name=seed`),
      );
      for (let i = 1; i <= 120; i++) seeder.send({ message: `m${i}` });
      await seeder.waitForType("message", 120);

      await using visitor = await openChatPage(browser, { viewport: DESKTOP });
      const { page } = visitor;
      await page.goto(`${server.origin}${roomPath(room)}`);
      await waitUntilConnected(page);
      await waitForMessage(page, "m120");
      assert.equal(await page.locator("#chat-log li.message").count(), 50);
      await page.locator("#chat-log").getAttribute("aria-live").then((live) =>
        assert.equal(live, "polite")
      );

      await t.step(
        "by keyboard, the lines in view stay put and focus stays on the button",
        async () => {
          await page.focus("#chat-load-older");
          const before = await lineTop(page, "m71");
          await page.keyboard.press("Enter");
          await waitForMessage(page, "m21");
          assert.equal(await page.locator("#chat-log li.message").count(), 100);
          await assertLineStaysAt(page, "m71", before);
          await page.locator("#chat-load-older").waitFor({ state: "visible" });
          assert.equal(await focusedId(page), "chat-load-older");
        },
      );

      await t.step(
        "the last page of history hides the button; focus goes to the log",
        async () => {
          const before = await lineTop(page, "m21");
          await page.keyboard.press("Enter");
          await waitForMessage(page, "m1");
          await page.locator("#chat-load-older").waitFor({ state: "hidden" });
          await assertLineStaysAt(page, "m21", before);
          assert.equal(await focusedId(page), "chat-log");
          assert.equal(await page.locator("#chat-log li.message").count(), 120);
        },
      );

      await t.step(
        "a message arriving while scrolled up waits behind New messages",
        async () => {
          await page.locator("#chat-log li.message").first()
            .scrollIntoViewIfNeeded();
          assert.equal(await page.evaluate(lineOnScreen("m1")), true);
          seeder.send({ message: "fresh" });
          await page.locator("#chat-new-messages").waitFor({
            state: "visible",
          });
          await waitForMessage(page, "fresh");
          assert.equal(
            await page.evaluate(lineOnScreen("fresh")),
            false,
            "the log did not jump to the new message",
          );
          assert.equal(await page.evaluate(lineOnScreen("m1")), true);
          await page.click("#chat-new-messages");
          assert.ok(
            await holdsWithin(page, lineOnScreen("fresh")),
            'the message "fresh" comes into view',
          );
          await page.locator("#chat-new-messages").waitFor({ state: "hidden" });
        },
      );

      await t.step("at the bottom, the log follows new messages", async () => {
        seeder.send({ message: "fresher" });
        await waitForMessage(page, "fresher");
        assert.ok(
          await holdsWithin(page, lineOnScreen("fresher")),
          'the message "fresher" comes into view',
        );
        assert.ok(await page.locator("#chat-new-messages").isHidden());
      });
      assert.deepEqual(visitor.problems, []);
    } finally {
      await browser.close();
    }
  },
});

import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchChromium, openChromium } from "../testkit/browser.ts";
import {
  box,
  DESKTOP,
  openRoom,
  waitForMessage,
} from "../testkit/chat_page.ts";
import { startServer, uniqueRoom } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";
import { BROWSER_TEST } from "../testkit/ui.ts";

/**
 * Runs `steps` (a script body) against a fresh ChatLog of the page's own
 * room_log.js, in a scroller 100 px high, whose clock is `now` (ms,
 * settable by the steps); resolves with `outcome`, an expression of the
 * script evaluated after the steps.
 */
async function chatLogAfter(
  page: Page,
  steps: string,
  outcome: string,
): Promise<unknown> {
  return await page.evaluate(`(async () => {
    const { ChatLog } = await import("/static/room_log.js");
    const scroller = document.createElement("div");
    scroller.style.height = "100px";
    scroller.style.overflowY = "auto";
    const log = document.createElement("ol");
    const pill = document.createElement("button");
    const count = document.createElement("span");
    count.className = "count";
    pill.append(count);
    scroller.append(log);
    document.body.append(scroller, pill);
    let now = 0;
    const text = {
      joined: "{user} joined",
      left: "{user} left",
      renamed: "{from} is now {to}",
      newMessages: "{count} new",
      verified: "verified",
    };
    const chatLog = new ChatLog({
      log, scroller, pill, empty: document.createElement("div"),
      lang: "en", text, now: () => now,
    });
    const say = (id, user, ts) =>
      chatLog.appendMessage({ type: "message", id, user, message: "m", ts });
    const local = (...parts) => new Date(...parts).toISOString();
    ${steps}
    const outcome = ${outcome};
    scroller.remove();
    pill.remove();
    return outcome;
  })()`);
}

/**
 * The log's lines after `steps` (see {@linkcode chatLogAfter}) as
 * `kind:what` (a message by id, a separator by its day, a system line by
 * its text).
 */
async function logAfter(page: Page, steps: string): Promise<string[]> {
  const lines = await chatLogAfter(
    page,
    steps,
    `[...log.children].map((li) =>
      li.classList[0] + ":" + (li.dataset.id ?? li.dataset.day ?? li.textContent))`,
  );
  assert.ok(Array.isArray(lines));
  return lines.map(String);
}

Deno.test({
  name: "system lines keep their time order among messages",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer();
    await using browser = await openChromium();
    await using visitor = await openRoom(
      browser,
      server.origin,
      uniqueRoom("order"),
      { name: "Ana" },
    );
    const { page } = visitor;

    await t.step(
      "a join that trails its user's message goes above it",
      async () => {
        // The join is sent up to 150 ms after the message it preceded.
        const lines = await logAfter(
          page,
          `now = Date.parse("2026-12-07T10:00:00Z");
             say(1, "Bob", "2026-12-07T09:59:00Z");
             say(2, "Alice", "2026-12-07T09:59:59.900Z");
             now += 150;
             chatLog.joined("Alice");`,
        );
        assert.deepEqual(lines.slice(1), [
          "message:1",
          "presence:Alice joined",
          "message:2",
        ]);
      },
    );

    await t.step(
      "a join that trails a message leaves a reader who has just scrolled up where they are",
      async () => {
        // The join comes in the same task as the reader's scroll, before
        // the browser has dispatched its scroll event.
        const scrollTop = await chatLogAfter(
          page,
          `now = Date.parse("2026-12-07T10:00:00Z");
             for (let id = 1; id <= 30; id++) {
               say(id, "Bob", "2026-12-07T09:59:59.900Z");
             }
             scroller.scrollTop = 0;
             now += 150;
             chatLog.joined("Bob");`,
          `scroller.scrollTop`,
        );
        assert.equal(scrollTop, 0);
      },
    );

    await t.step(
      "a join long after its user's last message goes at the end",
      async () => {
        const lines = await logAfter(
          page,
          `now = Date.parse("2026-12-07T10:00:00Z");
             say(1, "Carol", "2026-12-07T09:40:00Z");
             say(2, "Dave", "2026-12-07T09:59:59Z");
             now += 150;
             chatLog.joined("Carol");
             now += 10000;
             chatLog.joined("Dave");`,
        );
        assert.deepEqual(lines.slice(1), [
          "message:1",
          "message:2",
          "presence:Carol joined",
          "presence:Dave joined",
        ]);
      },
    );

    await t.step(
      "a new day's separator goes above its first line, a rename included; yesterday's history goes above both",
      async () => {
        const lines = await logAfter(
          page,
          `now = Date.parse(local(2026, 11, 6, 23, 55));
             say(1, "Bob", local(2026, 11, 6, 23, 50));
             now = Date.parse(local(2026, 11, 7, 0, 5));
             chatLog.renamed("Bob", "Robert");
             say(2, "Eve", local(2026, 11, 6, 23, 58));
             say(3, "Robert", local(2026, 11, 7, 0, 6));`,
        );
        assert.deepEqual(lines, [
          "day:2026-12-06",
          "message:1",
          "message:2",
          "day:2026-12-07",
          "presence:Bob is now Robert",
          "message:3",
        ]);
      },
    );
    assert.deepEqual(visitor.problems, []);
  },
});

Deno.test({
  name:
    "the banner and the new messages button sit beside the log, never over a line; the count greys offline",
  ...BROWSER_TEST,
  async fn(t) {
    const server = await startServer({ CHAT_RATE_LIMIT: "0" });
    let serverUp = true;
    const browser = await launchChromium();
    try {
      const room = uniqueRoom("beside");
      await using bot = await TestClient.join(
        server.wsUrl(`/ws/chat/${room}/?name=bot`),
      );
      for (let index = 1; index <= 40; index++) {
        bot.send({ message: `line ${index}` });
      }
      await bot.waitForType("message", 40);
      await using visitor = await openRoom(browser, server.origin, room, {
        viewport: DESKTOP,
        name: "Ana",
      });
      const { page } = visitor;
      await waitForMessage(page, "line 40");

      await t.step(
        "scrolled up, three new messages are counted on a button below the log",
        async () => {
          await page.evaluate(
            `document.getElementById("chat-scroller").scrollTop = 0`,
          );
          for (const index of [41, 42, 43]) {
            bot.send({ message: `line ${index}` });
          }
          await waitForMessage(page, "line 43");
          await page.locator("#chat-new-messages", {
            hasText: "3 new messages",
          }).waitFor();
          const pill = await box(page, "#chat-new-messages");
          const scroller = await box(page, "#chat-scroller");
          assert.ok(
            pill.y >= scroller.y + scroller.height - 0.5,
            `the button (y=${pill.y}) is below the log (ends at ${
              scroller.y + scroller.height
            })`,
          );
          await page.click("#chat-new-messages");
          await page.locator("#chat-new-messages").waitFor({ state: "hidden" });
        },
      );

      const dot = `getComputedStyle(document.querySelector(
        "#chat-online-toggle .dot")).backgroundColor`;
      const green = String(await page.evaluate(dot));

      await t.step(
        "offline, the banner is above the log's first line and the count is grey",
        async () => {
          await page.evaluate(
            `document.getElementById("chat-scroller").scrollTop = 0`,
          );
          await server[Symbol.asyncDispose]();
          serverUp = false;
          await page.locator("#chat-status").waitFor({ state: "visible" });
          const banner = await box(page, "#chat-status");
          const scroller = await box(page, "#chat-scroller");
          assert.ok(
            banner.y + banner.height <= scroller.y + 0.5,
            `the banner (ends at ${
              banner.y + banner.height
            }) is above the log (from ${scroller.y})`,
          );
          const first = await box(page, "#chat-log li.message .text >> nth=0");
          assert.ok(first.y >= banner.y + banner.height);
          const grey = String(await page.evaluate(dot));
          assert.notEqual(grey, green, "the dot is no longer green");
          assert.equal(grey, "rgba(0, 0, 0, 0)");
        },
      );
    } finally {
      await browser.close();
      if (serverUp) await server[Symbol.asyncDispose]();
    }
  },
});

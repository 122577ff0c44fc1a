import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchChromium } from "../testkit/browser.ts";
import {
  type ChatPage,
  countMessages,
  exactly,
  onlineNames,
  openChatPage,
  PHONE,
  roomPath,
  send,
  waitForMessage,
  waitUntilConnected,
} from "../testkit/chat_page.ts";
import { freePort } from "../testkit/process.ts";
import { RestartableServer } from "../testkit/restartable_server.ts";
import { storedMessages, uniqueRoom } from "../testkit/server.ts";
import { BROWSER_TEST } from "../testkit/ui.ts";

/** Rounds of the Retry step before it gives up; see the step. */
const RETRY_ROUNDS = 3;

/**
 * Clicks Retry now if the page still shows it, in one task of the page so
 * that the page cannot reconnect between the look and the click; true when
 * it clicked.
 */
const CLICK_RETRY_IF_SHOWN = `(() => {
  const retry = document.getElementById("chat-retry");
  if (!retry || !retry.checkVisibility()) return false;
  retry.click();
  return true;
})()`;

/** When `page`'s banner hides (`Date.now()`), or why it did not. */
function whenBack(page: Page, timeoutMs: number): Promise<number | Error> {
  return page.locator("#chat-status").waitFor({
    state: "hidden",
    timeout: timeoutMs,
  }).then(
    () => Date.now(),
    (error: unknown) =>
      error instanceof Error ? error : new Error(String(error)),
  );
}

Deno.test({
  name: "after a server restart both pages are back within 6 s, nothing lost",
  ...BROWSER_TEST,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "chat-ui-restart-" });
    await using server = new RestartableServer({
      port: freePort(),
      env: { CHAT_DB: `${dir}/chat.db`, CHAT_RATE_LIMIT: "0" },
    });
    await server.start();
    const browser = await launchChromium();
    try {
      const room = uniqueRoom("restart");
      await using ana = await openChatPage(browser, { name: "Ana" });
      await using minji = await openChatPage(browser, {
        name: "민지",
        locale: "ko-KR",
        viewport: PHONE,
      });
      const attempts = new Map<ChatPage, number>();
      for (const visitor of [ana, minji]) {
        attempts.set(visitor, 0);
        visitor.page.on(
          "websocket",
          () => attempts.set(visitor, (attempts.get(visitor) ?? 0) + 1),
        );
        await visitor.page.goto(`${server.origin}${roomPath(room)}`);
      }
      for (const { page } of [ana, minji]) {
        await waitUntilConnected(page);
        await page.locator("#chat-online-count", { hasText: "2" }).waitFor();
      }

      const fromAna = "Ana wrote this while the server was down";
      const fromMinji = "서버가 꺼져 있을 때 민지가 쓴 글";
      const draft = "Ana's draft, not sent yet";

      await t.step("the server stops: a banner, a stale list", async () => {
        await server.stop();
        for (const { page } of [ana, minji]) {
          await page.locator("#chat-status").waitFor({ state: "visible" });
          await page.locator("#chat-retry").waitFor({ state: "visible" });
          await page.locator("#chat-users-panel.stale").waitFor({
            state: "attached",
          });
        }
      });

      await t.step(
        "what is sent while disconnected waits as pending",
        async () => {
          await send(ana.page, fromAna);
          await send(minji.page, fromMinji);
          await ana.page.locator("#chat-log li.pending", {
            hasText: fromAna,
          }).waitFor();
          await minji.page.locator("#chat-log li.pending", {
            hasText: fromMinji,
          }).waitFor();
          await ana.page.fill("#chat-message-input", draft);
        },
      );

      await t.step(
        "both pages are back within 6 s of the server's start line",
        async () => {
          // Long enough down that both pages have backed off a few times.
          for (const visitor of [ana, minji]) {
            const before = attempts.get(visitor) ?? 0;
            const deadline = Date.now() + 30_000;
            while ((attempts.get(visitor) ?? 0) < before + 3) {
              assert.ok(
                Date.now() < deadline,
                "a page tried to reconnect fewer than 3 times in 30 s",
              );
              await visitor.page.waitForEvent("websocket", { timeout: 30_000 });
            }
          }
          const anaBack = whenBack(ana.page, 30_000);
          const minjiBack = whenBack(minji.page, 30_000);
          const started = await server.start();
          const times = {
            "en-US desktop page": await anaBack,
            "ko-KR phone page": await minjiBack,
          };
          for (const [which, at] of Object.entries(times)) {
            if (at instanceof Error) {
              assert.fail(`The ${which} was not back within 30 s: ${at}`);
            }
            assert.ok(
              at - started <= 6000,
              `The ${which}'s #chat-status hid ${
                at - started
              } ms after the server's start line`,
            );
          }
          for (const { page } of [ana, minji]) {
            await page.locator("#chat-users-panel:not(.stale)").waitFor({
              state: "attached",
            });
          }
        },
      );

      await t.step(
        "messages sent meanwhile arrive exactly once, nothing typed is lost",
        async () => {
          await waitForMessage(minji.page, fromAna);
          await waitForMessage(ana.page, fromMinji);
          assert.equal(
            await ana.page.inputValue("#chat-message-input"),
            draft,
            "the draft typed while disconnected is still in the composer",
          );
          // A later message from each: anything resent would come before it.
          await send(minji.page, "민지: 다시 연결됨");
          await send(ana.page, "Ana: back");
          await waitForMessage(ana.page, "민지: 다시 연결됨");
          await waitForMessage(minji.page, "Ana: back");
          for (const { page } of [ana, minji]) {
            assert.equal(await countMessages(page, fromAna), 1, fromAna);
            assert.equal(await countMessages(page, fromMinji), 1, fromMinji);
            assert.equal(await page.locator("#chat-log li.pending").count(), 0);
          }
          const stored = (await storedMessages(server, room)).map((m) =>
            m.message
          );
          assert.equal(stored.filter((m) => m === fromAna).length, 1);
          assert.equal(stored.filter((m) => m === fromMinji).length, 1);
          // Who came back is announced at the end of a 150 ms presence
          // window, which the messages above can outrun.
          const expected = [
            { page: ana.page, other: "민지" },
            { page: minji.page, other: "Ana" },
          ];
          for (const { page, other } of expected) {
            await page.locator("#chat-users li bdi", {
              hasText: exactly(other),
            })
              .waitFor({ state: "attached" });
            assert.deepEqual(await onlineNames(page), ["Ana", "민지"]);
          }
          // Their message cannot come before they came back: a join line,
          // if any, is above it.
          const order = [
            { page: ana.page, other: "민지", text: fromMinji },
            { page: minji.page, other: "Ana", text: fromAna },
          ];
          for (const { page, other, text } of order) {
            const lines: unknown = await page.evaluate(
              `[...document.querySelectorAll("#chat-log > li")].map((li) =>
                li.className + " " + li.textContent)`,
            );
            assert.ok(Array.isArray(lines));
            const texts = lines.map(String);
            const message = texts.findIndex((line) => line.includes(text));
            assert.ok(message >= 0, text);
            texts.forEach((line, index) => {
              if (line.startsWith(`presence ${other}`)) {
                assert.ok(index < message, `"${line}" after "${text}"`);
              }
            });
          }
        },
      );

      await t.step("Retry now reconnects at once", async () => {
        // The page's own next try comes at a random moment up to 5 s away
        // (full jitter), so it can fall between the server's start and the
        // click. Such a round shows nothing of the button: it is played
        // again.
        for (let round = 1; round <= RETRY_ROUNDS; round++) {
          await server.stop();
          await ana.page.locator("#chat-retry").waitFor({ state: "visible" });
          // Let the backoff grow past what a click should take.
          const before = attempts.get(ana) ?? 0;
          while ((attempts.get(ana) ?? 0) < before + 4) {
            await ana.page.waitForEvent("websocket", { timeout: 30_000 });
          }
          await server.start();
          const back = whenBack(ana.page, 30_000);
          const clicked = Date.now();
          const clickedWhileDown = await ana.page.evaluate(
            CLICK_RETRY_IF_SHOWN,
          );
          const at = await back;
          assert.ok(!(at instanceof Error), `not back: ${at}`);
          if (clickedWhileDown !== true) continue;
          assert.ok(
            at - clicked <= 1500,
            `#chat-status hid ${at - clicked} ms after Retry now`,
          );
          return;
        }
        assert.fail(
          `the page came back by itself before each of ${RETRY_ROUNDS} clicks`,
        );
      });

      await t.step(
        "the browser coming back online reconnects at once",
        async () => {
          await server.stop();
          await minji.page.locator("#chat-status").waitFor({
            state: "visible",
          });
          const before = attempts.get(minji) ?? 0;
          while ((attempts.get(minji) ?? 0) < before + 4) {
            await minji.page.waitForEvent("websocket", { timeout: 30_000 });
          }
          await server.start();
          await minji.context.setOffline(true);
          const back = whenBack(minji.page, 30_000);
          await minji.context.setOffline(false);
          const online = Date.now();
          const at = await back;
          assert.ok(!(at instanceof Error), `not back: ${at}`);
          assert.ok(
            at - online <= 1500,
            `#chat-status hid ${at - online} ms after the online event`,
          );
        },
      );

      assert.deepEqual(ana.problems, []);
      assert.deepEqual(minji.problems, []);
    } finally {
      await browser.close();
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

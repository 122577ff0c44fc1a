import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { openChromium } from "../testkit/browser.ts";
import {
  box,
  DESKTOP,
  focusedId,
  type Locale,
  myName,
  openChatPage,
  openRoom,
  PHONE,
  roomPath,
  say,
  waitUntilConnected,
} from "../testkit/chat_page.ts";
import { startServer, uniqueRoom } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";
import { BROWSER_TEST } from "../testkit/ui.ts";

/** What each language says, as the tests look for it. */
const WORDS: Record<Locale, {
  rooms: string;
  empty: string;
  reserved: string;
  invisible: string;
  you: string;
}> = {
  "en-US": {
    rooms: "Rooms",
    empty: "No messages yet",
    reserved: "That name is reserved, or looks like a reserved one.",
    invisible:
      "That name holds invisible characters (such as zero-width or right-to-left marks).",
    you: "(you)",
  },
  "ko-KR": {
    rooms: "채팅방 목록",
    empty: "아직 메시지가 없습니다",
    reserved: "예약된 이름이거나 예약된 이름과 비슷해 보입니다.",
    invisible:
      "이름에 보이지 않는 문자(폭 없는 공백, 오른쪽에서 왼쪽 표시 등)가 들어 있습니다.",
    you: "(나)",
  },
};

/** Whether the element `selector` shows all of its text (no ellipsis). */
async function showsWhole(page: Page, selector: string): Promise<boolean> {
  return await page.evaluate(`(() => {
    const element = document.querySelector(${JSON.stringify(selector)});
    return element.scrollWidth <= element.clientWidth + 1 &&
      element.scrollHeight <= element.clientHeight + 1;
  })()`) === true;
}

Deno.test({
  name:
    "the phone header shows the room's name whole, a labelled way back, and the reader's name with its ✎",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer();
    await using browser = await openChromium();
    for (const locale of ["en-US", "ko-KR"] as const) {
      await t.step(locale, async () => {
        await using visitor = await openRoom(
          browser,
          server.origin,
          uniqueRoom("design-review"),
          {
            locale,
            viewport: PHONE,
          },
        );
        const { page } = visitor;
        assert.ok(await showsWhole(page, "#room-title"), "the room name");
        assert.match(await myName(page), /^guest-/);
        assert.ok(await showsWhole(page, "#chat-my-name-text"), "the name");
        const edit = await box(page, "#chat-my-name .edit");
        assert.ok(edit.x + edit.width <= PHONE.width, "✎ is on screen");
        const back = page.getByRole("link", { name: WORDS[locale].rooms });
        assert.ok(await back.isVisible(), "the way back says where");
        assert.deepEqual(visitor.problems, []);
      });
    }

    await t.step("a 32-character name shrinks, its ✎ stays", async () => {
      await using visitor = await openRoom(
        browser,
        server.origin,
        uniqueRoom("long"),
        {
          viewport: PHONE,
          name: "Wolfeschlegelsteinhausenbergerdo",
        },
      );
      const { page } = visitor;
      const button = await box(page, "#chat-my-name");
      const edit = await box(page, "#chat-my-name .edit");
      assert.ok(button.x >= 0 && button.x + button.width <= PHONE.width);
      assert.ok(edit.x + edit.width <= button.x + button.width);
      assert.equal(await showsWhole(page, "#chat-my-name-text"), false);
    });
  },
});

Deno.test({
  name:
    "an empty room greets the visitor, and a first visit invites a name without blocking the composer",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer();
    await using browser = await openChromium();
    for (const locale of ["en-US", "ko-KR"] as const) {
      const words = WORDS[locale];
      await t.step(locale, async (t) => {
        await using visitor = await openRoom(
          browser,
          server.origin,
          uniqueRoom("first-visit"),
          { locale },
        );
        const { page } = visitor;

        await t.step("the empty room says so", async () => {
          await page.locator("#chat-empty", { hasText: words.empty })
            .waitFor();
        });

        await t.step(
          "the invitation holds the guest name; the composer keeps the focus",
          async () => {
            await page.locator("#chat-welcome").waitFor();
            const guest = await myName(page);
            assert.match(guest, /^guest-/);
            assert.equal(
              await page.inputValue("#chat-welcome-input"),
              guest,
            );
            assert.equal(await focusedId(page), "chat-message-input");
          },
        );

        await t.step(
          "typing and sending works with the invitation open",
          async () => {
            await say(page, "hello");
            await page.locator("#chat-empty").waitFor({ state: "hidden" });
            assert.ok(await page.locator("#chat-welcome").isVisible());
          },
        );

        await t.step("a refused name says why", async () => {
          await page.fill("#chat-welcome-input", "admin");
          await page.click("#chat-welcome-save");
          await page.locator("#chat-welcome-error", {
            hasText: words.reserved,
          }).waitFor();
          // The header's form says why too.
          await page.click("#chat-my-name");
          await page.fill("#chat-name-input", "ali\u200Bce");
          await page.click("#chat-name-save");
          await page.locator("#chat-name-error", {
            hasText: words.invisible,
          }).waitFor();
          await page.click("#chat-name-cancel");
        });

        await t.step(
          "a chosen name is taken and remembered; the invitation is gone",
          async () => {
            await page.fill("#chat-welcome-input", "Ada");
            await page.click("#chat-welcome-save");
            await page.locator("#chat-my-name-text", { hasText: "Ada" })
              .waitFor();
            await page.locator("#chat-welcome").waitFor({ state: "hidden" });
            assert.equal(await focusedId(page), "chat-message-input");
            await page.reload();
            await waitUntilConnected(page);
            assert.equal(await myName(page), "Ada");
            assert.ok(await page.locator("#chat-welcome").isHidden());
            assert.ok(await page.locator("#chat-empty").isHidden());
          },
        );
        assert.deepEqual(visitor.problems, []);
      });
    }

    await t.step("keeping the guest name remembers it", async () => {
      await using visitor = await openRoom(
        browser,
        server.origin,
        uniqueRoom("keep"),
      );
      const { page } = visitor;
      const guest = await myName(page);
      await page.click("#chat-welcome-keep");
      await page.locator("#chat-welcome").waitFor({ state: "hidden" });
      await page.reload();
      await waitUntilConnected(page);
      assert.equal(await myName(page), guest);
      assert.ok(await page.locator("#chat-welcome").isHidden());
    });
  },
});

Deno.test({
  name:
    "the Online drawer on a phone closes by its button, its backdrop and Escape, and marks the reader",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer();
    await using browser = await openChromium();
    for (const locale of ["en-US", "ko-KR"] as const) {
      await t.step(locale, async (t) => {
        await using visitor = await openRoom(
          browser,
          server.origin,
          uniqueRoom("drawer"),
          {
            locale,
            viewport: PHONE,
            name: "Ana",
          },
        );
        const { page } = visitor;
        const panel = page.locator("#chat-users-panel");
        const open = async () => {
          await page.click("#chat-online-toggle");
          await panel.waitFor({ state: "visible" });
          await page.locator("#chat-users-backdrop").waitFor();
          assert.equal(await focusedId(page), "chat-users-close");
        };
        const closed = async () => {
          await panel.waitFor({ state: "hidden" });
          assert.ok(await page.locator("#chat-users-backdrop").isHidden());
          assert.equal(await focusedId(page), "chat-online-toggle");
        };

        await t.step("the list marks the reader", async () => {
          await open();
          const mark = await page.evaluate(
            `getComputedStyle(document.querySelector("#chat-users li.me"), "::after").content`,
          );
          assert.equal(mark, `" ${WORDS[locale].you}"`);
        });
        await t.step("the close button closes it", async () => {
          await page.click("#chat-users-close");
          await closed();
        });
        await t.step("Escape closes it", async () => {
          await open();
          await page.keyboard.press("Escape");
          await closed();
        });
        await t.step("a tap beside it closes it", async () => {
          await open();
          await page.mouse.click(20, PHONE.height / 2);
          await closed();
        });
      });
    }

    await t.step(
      "a desktop has neither close button nor backdrop",
      async () => {
        await using visitor = await openRoom(
          browser,
          server.origin,
          uniqueRoom("wide"),
          {
            viewport: DESKTOP,
          },
        );
        const { page } = visitor;
        await page.locator("#chat-users-panel").waitFor();
        assert.ok(await page.locator("#chat-users-close").isHidden());
        assert.ok(await page.locator("#chat-users-backdrop").isHidden());
      },
    );
  },
});

Deno.test({
  name:
    "the index page names the product, states the room-name rules, and lists recently active rooms",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer();
    await using browser = await openChromium();
    // A room where someone spoke and left: nobody is online in it.
    const quiet = uniqueRoom("quiet");
    const talker = await TestClient.join(
      server.wsUrl(`/ws/chat/${quiet}/?name=talker`),
    );
    talker.send({ message: "anyone?" });
    await talker.waitForType("message", 1);
    await talker.close();
    for (
      const [locale, product, rule, ago] of [
        ["en-US", "Deno chat", "up to 100 characters", /^last message /],
        ["ko-KR", "Deno 채팅", "100자까지", /^마지막 메시지 /],
      ] as const
    ) {
      await t.step(locale, async () => {
        await using visitor = await openChatPage(browser, { locale });
        const { page } = visitor;
        await page.goto(`${server.origin}/chat/`);
        await page.locator(".brand", { hasText: product }).waitFor();
        const hint = page.locator("#room-name-hint");
        assert.ok(await hint.isVisible(), "the rules show before any error");
        assert.match(await hint.textContent() ?? "", new RegExp(rule));
        assert.equal(
          await page.getAttribute("#room-name-input", "aria-describedby"),
          "room-name-hint room-name-error",
        );
        const row = page.locator(`#room-list a[href="${roomPath(quiet)}"]`);
        await row.waitFor();
        assert.match(
          await row.locator(".room-count").textContent() ?? "",
          ago,
        );
        assert.deepEqual(visitor.problems, []);
      });
    }
  },
});

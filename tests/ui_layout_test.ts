import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { openChromium } from "../testkit/browser.ts";
import {
  DESKTOP,
  documentWidth,
  exactly,
  openRoom,
  PHONE,
  roomPath,
  say,
  type Viewport,
  waitForMessage,
} from "../testkit/chat_page.ts";
import { startServer, uniqueRoom } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";
import { BROWSER_TEST } from "../testkit/ui.ts";

/** Asserts that `selector`'s box lies inside the viewport. */
async function assertInViewport(
  page: Page,
  selector: string,
  viewport: Viewport,
): Promise<void> {
  const box = await page.locator(selector).boundingBox();
  assert.ok(box, `${selector} has no box (not displayed)`);
  const where =
    `${selector} at x=${box.x} y=${box.y} ${box.width}×${box.height}`;
  assert.ok(box.x >= 0 && box.y >= 0, `${where} starts off-screen`);
  assert.ok(
    box.x + box.width <= viewport.width + 0.5,
    `${where} goes past the right edge (${viewport.width})`,
  );
  assert.ok(
    box.y + box.height <= viewport.height + 0.5,
    `${where} goes past the bottom edge (${viewport.height})`,
  );
}

/** Asserts that the composer sits at the bottom of the viewport. */
async function assertAtTheBottom(
  page: Page,
  viewport: Viewport,
): Promise<void> {
  const box = await page.locator("#chat-composer").boundingBox();
  assert.ok(box, "#chat-composer is displayed");
  const gap = viewport.height - (box.y + box.height);
  assert.ok(
    gap >= 0 && gap <= 24,
    `#chat-composer ends ${gap} px above the bottom of the viewport`,
  );
}

/** Asserts that the page does not scroll sideways. */
async function assertNoSidewaysScroll(
  page: Page,
  viewport: Viewport,
  when: string,
): Promise<void> {
  assert.equal(
    await documentWidth(page),
    viewport.width,
    `document.documentElement.scrollWidth ${when}`,
  );
}

Deno.test({
  name: "the room page fits a phone: no sideways scrolling, composer in view",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer();
    await using browser = await openChromium();
    // 100 Latin letters: the longest room name there is, and no spaces.
    const room = "abcdefghij".repeat(10);
    const latin = "0123456789".repeat(60);
    const korean = "가나다라마바사아자차".repeat(60);
    for (const locale of ["en-US", "ko-KR"] as const) {
      await t.step(`in ${locale}`, async (t) => {
        await using visitor = await openRoom(browser, server.origin, room, {
          locale,
          viewport: PHONE,
        });
        const { page } = visitor;

        await t.step(
          "a 100-character room name gets the header's width, on two lines at most",
          async () => {
            await assertNoSidewaysScroll(page, PHONE, "with the long name");
            await assertInViewport(page, "#room-title", PHONE);
            assert.ok(
              (await page.textContent("#room-title"))?.includes(room),
              "the title holds the whole name",
            );
            const title = await page.locator("#room-title").boundingBox();
            assert.ok(title, "#room-title is displayed");
            assert.ok(
              title.width >= PHONE.width - 40,
              `#room-title is ${title.width} px wide`,
            );
            const lines = Number(
              await page.evaluate(`(() => {
                const title = document.getElementById("room-title");
                const style = getComputedStyle(title);
                return title.clientHeight / parseFloat(style.lineHeight);
              })()`),
            );
            assert.ok(
              lines > 1.5 && lines <= 2.2,
              `#room-title shows ${lines} lines`,
            );
            // Beside it, a labelled way back and the own name's ✎.
            await assertInViewport(page, ".room-back .label", PHONE);
            await assertInViewport(page, "#chat-my-name .edit", PHONE);
          },
        );

        await t.step(
          "the composer is in view, its Send button 44 px high",
          async () => {
            await assertInViewport(page, "#chat-composer", PHONE);
            await assertAtTheBottom(page, PHONE);
            await assertInViewport(page, "#chat-message-submit", PHONE);
            const button = await page.locator("#chat-message-submit")
              .boundingBox();
            assert.ok(
              button && button.height >= 44,
              `#chat-message-submit is ${button?.height} px high`,
            );
          },
        );

        await t.step(
          "the Online list opens from the header and closes again",
          async () => {
            const toggle = page.locator("#chat-online-toggle");
            const panel = page.locator("#chat-users-panel");
            assert.ok(await panel.isHidden(), "#chat-users-panel is hidden");
            assert.equal(await toggle.getAttribute("aria-expanded"), "false");
            assert.equal(
              await toggle.getAttribute("aria-controls"),
              "chat-users-panel",
            );
            assert.equal(await page.textContent("#chat-online-count"), "1");
            await toggle.click();
            await panel.waitFor({ state: "visible" });
            assert.equal(await toggle.getAttribute("aria-expanded"), "true");
            await assertNoSidewaysScroll(page, PHONE, "with the list open");
            await page.locator("#chat-users li.me").waitFor();
            await toggle.click();
            await panel.waitFor({ state: "hidden" });
            assert.equal(await toggle.getAttribute("aria-expanded"), "false");
          },
        );

        for (const [what, text] of [["Latin", latin], ["Korean", korean]]) {
          await t.step(
            `600 ${what} characters without a space wrap inside the screen`,
            async () => {
              assert.ok(text !== undefined && what !== undefined);
              await say(page, text);
              await assertNoSidewaysScroll(page, PHONE, `with ${what} text`);
              const line = page.locator(
                "#chat-log li.message:not(.pending)",
                {
                  has: page.locator(".text", { hasText: exactly(text) }),
                },
              ).last();
              // boundingBox() does not wait: the line is looked up again
              // until it is on screen.
              await line.waitFor({ state: "visible" });
              const box = await line.boundingBox();
              assert.ok(box, "the message is displayed");
              assert.ok(
                box.x >= 0 && box.x + box.width <= PHONE.width + 0.5,
                `the message spans x=${box.x}..${box.x + box.width}`,
              );
              await assertInViewport(page, "#chat-composer", PHONE);
            },
          );
        }

        await t.step(
          "the index page lists the long room without widening",
          async () => {
            await page.goto(`${server.origin}/chat/`);
            // The room is empty once the room page has gone; someone stays.
            await using _stay = await TestClient.join(
              server.wsUrl(`/ws/chat/${room}/?name=stay`),
            );
            await page.locator(`#room-list a[href="${roomPath(room)}"]`)
              .waitFor();
            await assertNoSidewaysScroll(page, PHONE, "on the index page");
            await assertInViewport(page, "#room-name-submit", PHONE);
          },
        );
        assert.deepEqual(visitor.problems, []);
      });
    }
  },
});

Deno.test({
  name:
    "the room page on a desktop: Online list beside the log, composer below, Shift+Enter breaks a line",
  ...BROWSER_TEST,
  async fn() {
    await using server = await startServer();
    await using browser = await openChromium();
    await using visitor = await openRoom(
      browser,
      server.origin,
      uniqueRoom("wide"),
      { viewport: DESKTOP },
    );
    const { page } = visitor;
    await page.locator("#chat-users-panel").waitFor({ state: "visible" });
    await assertInViewport(page, "#chat-users-panel", DESKTOP);
    await assertInViewport(page, "#chat-composer", DESKTOP);
    await assertNoSidewaysScroll(page, DESKTOP, "on a desktop");
    await page.locator("#chat-message-input:focus").waitFor();
    await assertAtTheBottom(page, DESKTOP);

    // The composer is a text area: Shift+Enter breaks the line, Enter sends.
    await page.keyboard.type("line one");
    await page.keyboard.press("Shift+Enter");
    await page.keyboard.type("line two");
    assert.equal(
      await page.inputValue("#chat-message-input"),
      "line one\nline two",
    );
    await page.keyboard.press("Enter");
    await waitForMessage(page, "line one\nline two");
    assert.equal(await page.inputValue("#chat-message-input"), "");
    assert.equal(
      await page.locator("#chat-log li.message.mine").count(),
      1,
      "the page's own message is marked as its own",
    );
    assert.deepEqual(visitor.problems, []);
  },
});

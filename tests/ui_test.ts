import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { ignoreWithoutChromium, launchChromium } from "../testkit/browser.ts";
import {
  type ChatPage,
  countMessages,
  DESKTOP,
  documentWidth,
  exactly,
  focusedId,
  holdsWithin,
  myName,
  onlineNames,
  openChatPage,
  PHONE,
  roomPath,
  send,
  type Viewport,
  waitForMessage,
  waitUntilConnected,
} from "../testkit/chat_page.ts";
import { freePort } from "../testkit/process.ts";
import { RestartableServer } from "../testkit/restartable_server.ts";
import {
  startServer,
  storedMessages,
  TestClient,
  uniqueRoom,
} from "../testkit/server.ts";

// Every test here drives Chromium through playwright-core, whose pipes and
// timers to the browser stay open between steps; each test closes the
// browser in `finally`, so Deno's op and resource sanitizers are off.
const BROWSER_TEST = {
  ignore: ignoreWithoutChromium,
  sanitizeOps: false,
  sanitizeResources: false,
} as const;

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
  name: "the room page fits a phone: no sideways scrolling, composer in view",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer();
    const browser = await launchChromium();
    try {
      // 100 Latin letters: the longest room name there is, and no spaces.
      const room = "abcdefghij".repeat(10);
      const latin = "0123456789".repeat(60);
      const korean = "가나다라마바사아자차".repeat(60);
      for (const locale of ["en-US", "ko-KR"] as const) {
        await t.step(`in ${locale}`, async (t) => {
          await using visitor = await openChatPage(browser, {
            locale,
            viewport: PHONE,
          });
          const { page } = visitor;
          await page.goto(`${server.origin}${roomPath(room)}`);
          await waitUntilConnected(page);

          await t.step("a 100-character room name is cut short", async () => {
            await assertNoSidewaysScroll(page, PHONE, "with the long name");
            await assertInViewport(page, "#room-title", PHONE);
            assert.ok(
              (await page.textContent("#room-title"))?.includes(room),
              "the title holds the whole name",
            );
            const ellipsis = await page.evaluate(`(() => {
              const title = document.getElementById("room-title");
              return [title, ...title.querySelectorAll("*")].some((element) =>
                getComputedStyle(element).textOverflow === "ellipsis" &&
                element.scrollWidth > element.clientWidth
              );
            })()`);
            assert.equal(ellipsis, true, "#room-title ends in an ellipsis");
          });

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
                await send(page, text);
                await waitForMessage(page, text);
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
    } finally {
      await browser.close();
    }
  },
});

Deno.test({
  name:
    "the room page on a desktop: Online list beside the log, composer below, Shift+Enter breaks a line",
  ...BROWSER_TEST,
  async fn() {
    await using server = await startServer();
    const browser = await launchChromium();
    try {
      await using visitor = await openChatPage(browser, { viewport: DESKTOP });
      const { page } = visitor;
      await page.goto(`${server.origin}${roomPath(uniqueRoom("wide"))}`);
      await waitUntilConnected(page);
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
    } finally {
      await browser.close();
    }
  },
});

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
        },
      );

      await t.step("Retry now reconnects at once", async () => {
        await server.stop();
        await ana.page.locator("#chat-retry").waitFor({ state: "visible" });
        // Let the backoff grow past what a click should take.
        const before = attempts.get(ana) ?? 0;
        while ((attempts.get(ana) ?? 0) < before + 4) {
          await ana.page.waitForEvent("websocket", { timeout: 30_000 });
        }
        await server.start();
        const clicked = Date.now();
        const back = whenBack(ana.page, 30_000);
        await ana.page.click("#chat-retry");
        const at = await back;
        assert.ok(!(at instanceof Error), `not back: ${at}`);
        assert.ok(
          at - clicked <= 1500,
          `#chat-status hid ${at - clicked} ms after Retry now`,
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

Deno.test({
  name: "a rate-limited message stays in the composer, refused in Korean",
  ...BROWSER_TEST,
  async fn() {
    // One message a second, two at once: three at once are one too many.
    await using server = await startServer({
      CHAT_RATE_LIMIT: "1",
      CHAT_RATE_BURST: "2",
    });
    const browser = await launchChromium();
    try {
      const room = uniqueRoom("limit");
      await using visitor = await openChatPage(browser, {
        locale: "ko-KR",
        name: "민지",
      });
      const { page } = visitor;
      await page.goto(`${server.origin}${roomPath(room)}`);
      await waitUntilConnected(page);

      // The budget belongs to the sender, this browser's key: another
      // socket with the same key (another tab) spends it.
      const key = await page.evaluate('localStorage.getItem("chat.key")');
      assert.equal(typeof key, "string");
      await using drain = await TestClient.join(
        server.wsUrl(
          `/ws/chat/${room}/?name=${encodeURIComponent("민지")}&key=${key}`,
        ),
      );
      for (let i = 0; i < 3; i++) drain.send({ message: `drain ${i}` });
      await drain.waitForMatching(
        (frame) => frame.type === "error" && frame.code === "rate_limited",
        1,
      );
      const text = "이 메시지는 사라지면 안 됩니다";
      await send(page, text);

      const error = page.locator("#chat-composer-error");
      await error.waitFor({ state: "visible" });
      assert.equal(await error.getAttribute("role"), "alert");
      const reason = await error.textContent() ?? "";
      assert.match(reason, /메시지를 너무 빨리 보내고 있습니다/);
      assert.doesNotMatch(reason, /Too many messages/);
      await page.locator("#chat-message-input").waitFor();
      assert.equal(await page.inputValue("#chat-message-input"), text);
      assert.equal(
        await countMessages(page, text),
        0,
        "the refused message is not shown as sent",
      );
      const stored = await storedMessages(server, room);
      assert.ok(!stored.some((m) => m.message === text), "and not stored");
      assert.deepEqual(visitor.problems, []);
    } finally {
      await browser.close();
    }
  },
});

Deno.test({
  name: "a rename is one line, and every page's Online list follows",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer();
    const browser = await launchChromium();
    try {
      const room = uniqueRoom("rename");
      await using english = await openChatPage(browser);
      await using korean = await openChatPage(browser, {
        locale: "ko-KR",
        name: "민지",
      });
      for (const { page } of [english, korean]) {
        await page.goto(`${server.origin}${roomPath(room)}`);
        await waitUntilConnected(page);
      }
      const page = english.page;
      await korean.page.locator("#chat-online-count", { hasText: "2" })
        .waitFor();
      await page.locator("#chat-online-count", { hasText: "2" }).waitFor();
      const old = await myName(page);
      assert.ok(old !== "", "#chat-my-name shows the name");
      const renamed = "하늘";

      await t.step(
        "Escape closes the name form, changing nothing",
        async () => {
          await page.click("#chat-my-name");
          await page.locator("#chat-name-form").waitFor({ state: "visible" });
          await page.locator("#chat-name-input:focus").waitFor();
          await page.keyboard.press("Escape");
          await page.locator("#chat-name-form").waitFor({ state: "hidden" });
          assert.equal(await myName(page), old);
        },
      );

      await t.step("the new name is one line on every page", async () => {
        await page.click("#chat-my-name");
        await page.fill("#chat-name-input", renamed);
        await page.click("#chat-name-save");
        await page.locator("#chat-name-form").waitFor({ state: "hidden" });
        await page.locator("#chat-log li.presence", {
          hasText: `${old} is now ${renamed}`,
        }).waitFor();
        await korean.page.locator("#chat-log li.presence", {
          hasText: `${old} 님이 이름을 ${renamed}(으)로 바꿨습니다`,
        }).waitFor();
        // A message after it from each side: nothing else about the rename
        // can still be on its way.
        await send(page, "after the rename");
        await send(korean.page, "이름 바뀐 뒤");
        for (const { page } of [english, korean]) {
          await waitForMessage(page, "after the rename");
          await waitForMessage(page, "이름 바뀐 뒤");
          const lines = await page.locator(
            "#chat-log li.presence, #chat-log li.notice",
          )
            .allTextContents();
          const about = lines.filter((line) =>
            line.includes(old) || line.includes(renamed)
          );
          assert.equal(about.length, 1, `lines about the rename: ${about}`);
        }
      });

      await t.step("every Online list shows the new name", async () => {
        for (const { page } of [english, korean]) {
          await page.locator("#chat-users li bdi", {
            hasText: exactly(renamed),
          })
            .waitFor({ state: "attached" });
          assert.deepEqual(await onlineNames(page), [renamed, "민지"].sort());
        }
        assert.equal(
          await page.locator("#chat-users li.me bdi").textContent(),
          renamed,
        );
        assert.equal(
          await myName(page),
          renamed,
        );
      });

      await t.step("the name is remembered across a reload", async () => {
        assert.equal(
          await page.evaluate("localStorage.getItem('chat.name')"),
          renamed,
        );
        await page.reload();
        await waitUntilConnected(page);
        assert.equal(
          await myName(page),
          renamed,
        );
      });

      await t.step("a name someone here has is refused in place", async () => {
        await page.click("#chat-my-name");
        await page.fill("#chat-name-input", "민지");
        await page.click("#chat-name-save");
        await page.locator("#chat-name-error").waitFor({ state: "visible" });
        assert.ok((await page.textContent("#chat-name-error"))?.trim());
        await page.click("#chat-name-cancel");
        await page.locator("#chat-name-form").waitFor({ state: "hidden" });
        assert.equal(
          await myName(page),
          renamed,
        );
        assert.deepEqual(
          await onlineNames(korean.page),
          [renamed, "민지"].sort(),
        );
      });
      assert.deepEqual(english.problems, []);
      assert.deepEqual(korean.problems, []);
    } finally {
      await browser.close();
    }
  },
});

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

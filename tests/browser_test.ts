import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { ignoreWithoutChromium, launchChromium } from "../testkit/browser.ts";
import { freePort } from "../testkit/process.ts";
import { startServer, type TestServer, uniqueRoom } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";

async function logTexts(page: Page): Promise<string[]> {
  return await page.locator("#chat-log li.message .text").allTextContents();
}

// Locators and selectors only: this file is type-checked without the DOM
// library, so nothing here runs a typed function inside the page.
async function waitForLog(page: Page, text: string): Promise<void> {
  await page.locator("#chat-log li.message .text", { hasText: exactly(text) })
    .first().waitFor();
}

function exactly(text: string): RegExp {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
}

async function waitForUser(
  page: Page,
  name: string,
  selector = "#chat-users li",
) {
  await page.locator(selector, { hasText: exactly(name) }).waitFor();
}

Deno.test({
  name: "the room page in Chromium",
  ignore: ignoreWithoutChromium,
  // Playwright keeps its own pipes and timers to the browser process open
  // between steps; the browser is closed in `finally`.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "chat-browser-" });
    const port = freePort();
    // The test seeds 60 messages at once: no rate limit.
    const env = { CHAT_DB: `${dir}/chat.db`, CHAT_RATE_LIMIT: "0" };
    let server: TestServer | undefined = await startServer(env, { port });
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ locale: "en-US" });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error") problems.push(message.text());
      });
      page.on("pageerror", (error) => problems.push(error.message));
      const sockets: string[] = [];
      page.on("websocket", (socket) => sockets.push(socket.url()));

      const room = uniqueRoom("browser");
      const roomUrl = `${server.origin}/chat/${room}/`;
      const online = () => page.locator("#chat-users li").allTextContents();

      await t.step(
        "asks for a name and remembers it across reloads",
        async () => {
          await page.goto(roomUrl);
          // The header shows the guest name the server gave, as a button
          // that opens the name form.
          await page.locator("#chat-my-name-text", { hasText: /^guest-/ })
            .waitFor();
          await page.click("#chat-my-name");
          await page.fill("#chat-name-input", "민지");
          await page.click("#chat-name-save");
          await waitForUser(page, "민지", "#chat-users .me");
          await page.locator("#chat-name-form").waitFor({ state: "hidden" });
          assert.equal(await page.textContent("#chat-my-name-text"), "민지");
          await page.reload();
          await waitForUser(page, "민지", "#chat-users .me");
          assert.equal(await page.textContent("#chat-my-name-text"), "민지");
          assert.deepEqual(await online(), ["민지"]);
        },
      );

      await t.step(
        "shows name and time with each message; a reload shows history",
        async () => {
          await page.fill("#chat-message-input", "안녕 <b>there</b>");
          await page.press("#chat-message-input", "Enter");
          await waitForLog(page, "안녕 <b>there</b>");
          assert.equal(await page.inputValue("#chat-message-input"), "");
          const line = page.locator("#chat-log li.message").last();
          assert.equal(await line.locator(".user").textContent(), "민지");
          assert.match(
            await line.locator("time").textContent() ?? "",
            /\d{1,2}:\d\d/,
          );
          assert.equal(
            await page.locator("#chat-log b").count(),
            0,
            "no HTML injected",
          );
          await page.reload();
          await waitForLog(page, "안녕 <b>there</b>");
          assert.deepEqual(await logTexts(page), ["안녕 <b>there</b>"]);
        },
      );

      await t.step("lists who is online as people come and go", async () => {
        const bot = await TestClient.join(
          server!.wsUrl(`/ws/chat/${room}/?name=bot`),
        );
        await waitForUser(page, "bot");
        assert.deepEqual((await online()).sort(), ["bot", "민지"].sort());
        await bot.close();
        await page.locator("#chat-users li", { hasText: exactly("bot") })
          .waitFor({ state: "detached" });
        assert.match(
          await page.locator("#chat-log").textContent() ?? "",
          /bot joined.*bot left/s,
        );
      });

      await t.step("loads older messages on demand", async () => {
        {
          await using seeder = await TestClient.join(
            server!.wsUrl(`/ws/chat/${room}/?name=seed`),
          );
          for (let i = 1; i <= 60; i++) seeder.send({ message: `m${i}` });
          await seeder.waitForType("message", 60);
        }
        await page.reload();
        await waitForLog(page, "m60");
        assert.equal((await logTexts(page)).length, 50);
        assert.ok(await page.isVisible("#chat-load-older"));
        await page.click("#chat-load-older");
        await waitForLog(page, "m1");
        const texts = await logTexts(page);
        assert.equal(texts.length, 61);
        assert.deepEqual(texts.slice(0, 2), ["안녕 <b>there</b>", "m1"]);
        await page.waitForSelector("#chat-load-older", { state: "hidden" });
      });

      await t.step(
        "shows a banner while disconnected and catches up with since=",
        async () => {
          sockets.length = 0;
          await server?.[Symbol.asyncDispose]();
          server = undefined;
          await page.waitForSelector("#chat-status:not([hidden])");
          assert.match(
            await page.textContent("#chat-status") ?? "",
            /Connection lost/,
          );

          // Typed while disconnected: shown as pending, not lost.
          await page.fill("#chat-message-input", "typed while offline");
          await page.press("#chat-message-input", "Enter");
          await page.locator("#chat-log li.pending", {
            hasText: "typed while offline",
          }).waitFor();

          server = await startServer(env, { port });
          {
            await using other = await TestClient.join(
              server.wsUrl(`/ws/chat/${room}/?name=other`),
            );
            other.send({ message: "while you were away" });
            await other.waitForType("message", 1);
          }
          await waitForLog(page, "while you were away");
          await waitForLog(page, "typed while offline");
          await page.locator("#chat-log li.pending").waitFor({
            state: "detached",
          });
          const stored = await (await fetch(
            `${server.origin}/api/rooms/${room}/messages?limit=200`,
          )).json();
          assert.equal(
            stored.messages.filter((m: { message: string }) =>
              m.message === "typed while offline"
            ).length,
            1,
            "stored once",
          );
          await page.waitForSelector("#chat-status", { state: "hidden" });
          // With the epoch of the log that id is in (see protocol.md).
          assert.ok(
            sockets.some((url) =>
              /[?&]since=61&epoch=[0-9a-f]{16}(&|$)/.test(url)
            ),
            `reconnected with since= and epoch=: ${sockets.join(", ")}`,
          );
          const ids = await Promise.all(
            (await page.locator("#chat-log li.message").all())
              .map((item) => item.getAttribute("data-id")),
          );
          assert.equal(new Set(ids).size, ids.length, "no message shown twice");
          // Their order depends on when the page got back; both come once.
          assert.deepEqual((await logTexts(page)).slice(-2).sort(), [
            "typed while offline",
            "while you were away",
          ]);
        },
      );

      await t.step(
        "isolates every name and text in <bdi>, and shows names exactly",
        async () => {
          const name = "a$&b";
          const trick = "\u202Eevil text";
          {
            await using spoofer = await TestClient.join(
              server!.wsUrl(
                `/ws/chat/${room}/?name=${encodeURIComponent(name)}`,
              ),
            );
            spoofer.send({ message: trick });
            await waitForLog(page, trick);
            // Seen to come before it goes (a come-and-go within one presence
            // window is announced to nobody).
            await page.locator("#chat-log li.presence", {
              hasText: exactly(`${name} joined`),
            }).first().waitFor();
          }
          const line = page.locator("#chat-log li.message").last();
          assert.equal(await line.locator("bdi.user").textContent(), name);
          assert.equal(await line.locator("bdi.text").textContent(), trick);
          assert.equal(
            await page.locator("#chat-log li.message").count(),
            await page.locator("#chat-log li.message bdi.text").count(),
            "every message text is isolated",
          );
          await page.locator("#chat-log li.presence", {
            hasText: exactly(`${name} joined`),
          }).first().waitFor();
          assert.equal(
            await page.locator("#chat-log li.presence bdi", {
              hasText: exactly(name),
            }).count() > 0,
            true,
          );
        },
      );

      await t.step(
        "another browser cannot take a name that is online here",
        async () => {
          const other = await browser.newContext({ locale: "en-US" });
          try {
            const second = await other.newPage();
            await second.goto(roomUrl);
            await second.locator("#chat-my-name-text", { hasText: /^guest-/ })
              .waitFor();
            await second.click("#chat-my-name");
            await second.fill("#chat-name-input", "민지");
            await second.click("#chat-name-save");
            await second.locator("#chat-name-error", {
              hasText: "Someone else in this room is using that name.",
            }).waitFor();
            assert.match(
              await second.textContent("#chat-my-name-text") ?? "",
              /^guest-/,
              "the refused page keeps its own name",
            );
            assert.deepEqual(
              (await online()).filter((user) => user === "민지"),
              ["민지"],
              "the first page keeps its name",
            );
          } finally {
            await other.close();
          }
        },
      );

      await t.step(
        "runs under the Content-Security-Policy without errors",
        () => {
          const relevant = problems.filter((text) =>
            !/WebSocket connection .* failed|ERR_CONNECTION_REFUSED/.test(text)
          );
          assert.deepEqual(relevant, []);
        },
      );
    } finally {
      await browser.close();
      await server?.[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "from the index page to a chat between two browsers",
  ignore: ignoreWithoutChromium,
  // As above: Playwright's pipes stay open until the browser is closed.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using server = await startServer();
    const browser = await launchChromium();
    try {
      const person = async () => {
        const context = await browser.newContext({ locale: "ko-KR" });
        return await context.newPage();
      };
      const minji = await person();
      const room = `잡담_${crypto.randomUUID().slice(0, 6)}`;
      const roomPath = `/chat/${encodeURIComponent(room)}/`;

      await t.step(
        "the index page focuses the input and refuses an invalid name in place",
        async () => {
          await minji.goto(`${server.origin}/chat/`);
          await minji.locator("#room-name-input:focus").waitFor();
          await minji.keyboard.type("a/b");
          await minji.keyboard.press("Enter");
          await minji.locator("#room-name-error").waitFor();
          assert.equal(
            await minji.textContent("#room-name-error"),
            "채팅방 이름에는 글자, 숫자, '_', '-', '.'만 쓸 수 있습니다.",
          );
          assert.equal(new URL(minji.url()).pathname, "/chat/");
        },
      );

      await t.step(
        "Enter on a Korean room name opens its page, message input focused",
        async () => {
          await minji.fill("#room-name-input", room);
          await minji.press("#room-name-input", "Enter");
          await minji.waitForURL(`${server.origin}${roomPath}`);
          assert.equal(await minji.textContent("#room-title"), room);
          assert.equal(await minji.title(), `채팅방: ${room}`);
          await minji.locator("#chat-message-input:focus").waitFor();
        },
      );

      await t.step(
        "a message reaches everyone in the room and nobody else",
        async () => {
          const jun = await person();
          await jun.goto(`${server.origin}/chat/`);
          await jun.fill("#room-name-input", room);
          await jun.click("#room-name-submit");
          await jun.waitForURL(`${server.origin}${roomPath}`);
          const outsider = await person();
          await outsider.goto(`${server.origin}/chat/${uniqueRoom("other")}/`);
          for (const page of [minji, jun, outsider]) {
            await page.locator("#chat-users li.me").waitFor();
          }

          await minji.fill("#chat-message-input", "안녕하세요 👋");
          await minji.press("#chat-message-input", "Enter");
          await waitForLog(jun, "안녕하세요 👋");
          await waitForLog(minji, "안녕하세요 👋");
          await jun.fill("#chat-message-input", "반가워요");
          await jun.click("#chat-message-submit");
          await waitForLog(minji, "반가워요");

          // A message of its own, to know the outsider's socket is live.
          await outsider.fill("#chat-message-input", "marker");
          await outsider.press("#chat-message-input", "Enter");
          await waitForLog(outsider, "marker");
          assert.deepEqual(await logTexts(outsider), ["marker"]);
          assert.deepEqual(await logTexts(jun), ["안녕하세요 👋", "반가워요"]);
        },
      );
    } finally {
      await browser.close();
    }
  },
});

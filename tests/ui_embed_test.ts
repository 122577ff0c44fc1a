import assert from "node:assert/strict";
import type { ConsoleMessage, Frame, Page } from "playwright-core";
import { launchChromium } from "../testkit/browser.ts";
import { exactly, roomPath } from "../testkit/chat_page.ts";
import { startServer, uniqueRoom } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";
import {
  secondsFromNow,
  signedToken,
  TEST_AUTH_SECRET,
} from "../testkit/tokens.ts";
import { saveScreenshot } from "../testkit/screenshots.ts";
import { BROWSER_TEST } from "../testkit/ui.ts";

/**
 * The site's page that embeds the room, as docs/integration.md writes it:
 * the frame with the token in its fragment, and a script that hands the
 * frame a fresh token from the site's backend (`/chat-token`).
 */
function embeddingPage(chatUrl: string, token: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>A site with a chat</title></head>
<body>
  <iframe id="chat" title="Chat"
    src="${chatUrl}#token=${token}"
    style="width: 100%; height: 32rem; border: 0"></iframe>
  <script>
    const chat = document.getElementById("chat");
    const chatOrigin = new URL(chat.src).origin;
    async function refreshChatToken() {
      const response = await fetch("/chat-token", { method: "POST" });
      const { token } = await response.json();
      chat.contentWindow.postMessage({ type: "chat.token", token }, chatOrigin);
    }
    setInterval(refreshChatToken, 50 * 60 * 1000);
    addEventListener("message", (event) => {
      if (event.origin === chatOrigin && event.data?.type === "chat.token_needed") {
        refreshChatToken();
      }
    });
  </script>
</body>
</html>`;
}

/** The site: serves the embedding page and mints tokens for Ann. */
function startSite(hostname: string, chatOrigin: () => string) {
  const minted: string[] = [];
  const controller = new AbortController();
  const listening = Promise.withResolvers<number>();
  const server = Deno.serve({
    hostname,
    port: 0,
    signal: controller.signal,
    onListen: ({ port }) => listening.resolve(port),
  }, async (request) => {
    const url = new URL(request.url);
    const token = await signedToken({ sub: "u-ann", name: "Ann" });
    if (url.pathname === "/chat-token") {
      minted.push(token);
      return Response.json({ token });
    }
    if (url.pathname === "/embed") {
      const room = url.searchParams.get("room") ?? "lobby";
      minted.push(token);
      return new Response(
        embeddingPage(`${chatOrigin()}${roomPath(room)}`, token),
        { headers: { "Content-Type": "text/html; charset=utf-8" } },
      );
    }
    return new Response("<!DOCTYPE html><title>blank</title>", {
      headers: { "Content-Type": "text/html; charset=utf-8" },
    });
  });
  return {
    minted,
    origin: listening.promise.then((port) => `http://${hostname}:${port}`),
    async [Symbol.asyncDispose]() {
      controller.abort();
      await server.finished;
    },
  };
}

/** The first frame of `page` whose URL starts with `origin`. */
async function frameOf(page: Page, origin: string): Promise<Frame> {
  const found = () => page.frames().find((f) => f.url().startsWith(origin));
  while (!found()) await page.waitForEvent("framenavigated");
  const frame = found();
  assert.ok(frame);
  return frame;
}

/** Waits for a console message of `page` (or its frames) that `matches`. */
function consoleSays(page: Page, matches: RegExp): Promise<ConsoleMessage> {
  return page.waitForEvent("console", {
    predicate: (message) => matches.test(message.text()),
  });
}

Deno.test({
  name: "the room page embedded in a site's iframe, in Chromium",
  ...BROWSER_TEST,
  async fn(t) {
    let chatOrigin = "";
    // Two sites on other origins (other loopback addresses): one listed in
    // CHAT_FRAME_ANCESTORS, one not.
    await using listed = startSite("127.0.0.2", () => chatOrigin);
    await using unlisted = startSite("127.0.0.3", () => chatOrigin);
    const listedOrigin = await listed.origin;
    const unlistedOrigin = await unlisted.origin;
    await using server = await startServer({
      CHAT_AUTH: "optional",
      CHAT_AUTH_SECRET: TEST_AUTH_SECRET,
      CHAT_FRAME_ANCESTORS: listedOrigin,
    });
    chatOrigin = server.origin;
    const room = uniqueRoom("embed");
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ locale: "en-US" });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on("pageerror", (error) => problems.push(error.message));
      const sockets: string[] = [];
      page.on("websocket", (socket) => sockets.push(socket.url()));
      let chat: Frame | undefined;

      await t.step(
        "a listed site's page shows the room in its frame",
        async () => {
          await page.goto(`${listedOrigin}/embed?room=${room}`);
          chat = await frameOf(page, server.origin);
          await chat.locator("#chat-users li.me bdi", {
            hasText: exactly("Ann"),
          })
            .waitFor();
          assert.equal(
            await chat.locator("#chat-users li.me .verified").count(),
            1,
          );
          // The frame takes no focus on its own: that would scroll the
          // site's page to it.
          assert.equal(
            await page.evaluate("document.activeElement?.tagName"),
            "BODY",
          );
          await chat.fill("#chat-message-input", "hello from the frame");
          await chat.press("#chat-message-input", "Enter");
          await chat.locator("#chat-log li.message:not(.pending) .text", {
            hasText: exactly("hello from the frame"),
          }).waitFor();
          await saveScreenshot(page, "embed-listed-site");
        },
      );

      await t.step(
        "a fresh token from the parent (postMessage) reconnects with it, losing nothing",
        async () => {
          assert.ok(chat);
          const before = sockets.length;
          await using other = await TestClient.join(
            server.wsUrl(`/ws/chat/${room}/?name=Ben`),
          );
          const sent = ["one", "two", "three", "four", "five"];
          // The parent fetches a token and posts it while Ben talks.
          const refreshed = page.evaluate("refreshChatToken()");
          for (const text of sent.slice(0, 3)) other.send({ message: text });
          await refreshed;
          const fresh = listed.minted.at(-1) ?? "";
          await page.waitForEvent("websocket", {
            predicate: (socket) =>
              socket.url().includes(`token=${encodeURIComponent(fresh)}`),
          });
          for (const text of sent.slice(3)) other.send({ message: text });
          await chat.fill("#chat-message-input", "after the new token");
          await chat.press("#chat-message-input", "Enter");
          for (const text of [...sent, "after the new token"]) {
            await chat.locator("#chat-log li.message:not(.pending) .text", {
              hasText: exactly(text),
            }).waitFor();
          }
          const shown = await chat.locator("#chat-log li.message .text")
            .allTextContents();
          assert.deepEqual(
            shown.filter((text) => sent.includes(text)),
            sent,
            "each of Ben's messages once, in order",
          );
          assert.equal(
            shown.filter((text) => text === "after the new token").length,
            1,
          );
          const reconnect = sockets.slice(before).find((url) =>
            url.includes(`token=${encodeURIComponent(fresh)}`)
          ) ?? "";
          assert.match(reconnect, /[?&]since=\d+/, "reconnected with since=");
          assert.ok(await chat.isHidden("#chat-status"));
        },
      );

      await t.step(
        "a fresh #token= in the frame's src reconnects with it, without a reload",
        async () => {
          assert.ok(chat);
          await chat.evaluate("globalThis.loadedOnce = true");
          const response = await fetch(`${listedOrigin}/chat-token`, {
            method: "POST",
          });
          const { token } = await response.json();
          assert.equal(typeof token, "string");
          const reconnected = page.waitForEvent("websocket", {
            predicate: (socket) =>
              socket.url().includes(`token=${encodeURIComponent(token)}`),
          });
          await page.evaluate(`(() => {
            const chat = document.getElementById("chat");
            chat.src = chat.src.split("#")[0] + "#token=" + ${
            JSON.stringify(token)
          };
          })()`);
          assert.match((await reconnected).url(), /[?&]since=\d+/);
          assert.equal(await chat.evaluate("globalThis.loadedOnce"), true);
          await chat.locator("#chat-status").waitFor({ state: "hidden" });
        },
      );

      await t.step(
        "a token posted by another origin's frame on the page is ignored",
        async () => {
          assert.ok(chat);
          const before = sockets.length;
          await page.evaluate(`(() => {
            const other = document.createElement("iframe");
            other.id = "other";
            other.src = ${JSON.stringify(`${unlistedOrigin}/blank`)};
            document.body.append(other);
          })()`);
          const intruder = await frameOf(page, unlistedOrigin);
          await intruder.waitForLoadState();
          const warned = consoleSays(
            page,
            /ignored a chat\.token message from/,
          );
          await intruder.evaluate(
            `parent.frames[0].postMessage({ type: "chat.token", token: "forged" }, "*")`,
          );
          assert.match((await warned).text(), new RegExp(unlistedOrigin));
          // Still on the same socket: a message goes through, no reconnect.
          await chat.fill("#chat-message-input", "still here");
          await chat.press("#chat-message-input", "Enter");
          await chat.locator("#chat-log li.message:not(.pending) .text", {
            hasText: exactly("still here"),
          }).waitFor();
          assert.equal(sockets.length, before, "no reconnect");
          assert.ok(
            !sockets.some((url) =>
              url.includes("forged")
            ),
          );
        },
      );

      await t.step(
        "a token that expires is renewed by the parent when the page asks, losing nothing",
        async () => {
          assert.ok(chat);
          const short = await signedToken({
            sub: "u-ann",
            name: "Ann",
            exp: secondsFromNow(2),
          });
          const shortSocket = page.waitForEvent("websocket", {
            predicate: (socket) =>
              socket.url().includes(`token=${encodeURIComponent(short)}`),
          });
          // The server closes the socket with 4001 when the token expires;
          // the page asks the parent, which fetches and posts a fresh one.
          const mintedBefore = listed.minted.length;
          const renewed = page.waitForEvent("websocket", {
            timeout: 15_000,
            predicate: (socket) => {
              const token = new URL(socket.url()).searchParams.get("token");
              return token !== null &&
                listed.minted.indexOf(token) >= mintedBefore;
            },
          });
          await page.evaluate(`document.getElementById("chat").contentWindow
            .postMessage({ type: "chat.token", token: ${
            JSON.stringify(short)
          } }, ${JSON.stringify(server.origin)})`);
          await shortSocket;
          await using other = await TestClient.join(
            server.wsUrl(`/ws/chat/${room}/?name=Cleo`),
          );
          const sent = ["six", "seven", "eight"];
          for (const text of sent.slice(0, 2)) other.send({ message: text });
          assert.match((await renewed).url(), /[?&]since=\d+/);
          other.send({ message: sent[2] });
          for (const text of sent) {
            await chat.locator("#chat-log li.message:not(.pending) .text", {
              hasText: exactly(text),
            }).waitFor();
          }
          const shown = await chat.locator("#chat-log li.message .text")
            .allTextContents();
          assert.deepEqual(shown.filter((text) => sent.includes(text)), sent);
          await chat.locator("#chat-status").waitFor({ state: "hidden" });
        },
      );

      await t.step("an unlisted site's frame is refused", async () => {
        const other = await context.newPage();
        const otherSockets: string[] = [];
        other.on("websocket", (socket) => otherSockets.push(socket.url()));
        const refused = consoleSays(
          other,
          /violates the following Content Security Policy directive: "frame-ancestors/,
        );
        await other.goto(`${unlistedOrigin}/embed?room=${room}`);
        assert.match((await refused).text(), new RegExp(server.origin));
        assert.equal(
          await other.locator("#chat").contentFrame().locator("#chat-log")
            .count(),
          0,
        );
        assert.deepEqual(otherSockets, []);
        await saveScreenshot(other, "embed-unlisted-site");
      });

      await t.step("the room page raised no errors", () => {
        assert.deepEqual(problems, []);
      });
    } finally {
      await browser.close();
    }
  },
});

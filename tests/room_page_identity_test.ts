import assert from "node:assert/strict";
import { type JWTPayload, SignJWT } from "jose";
import type { Browser, Page } from "playwright-core";
import { ignoreWithoutChromium, launchChromium } from "../testkit/browser.ts";
import { startServer, uniqueRoom } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";

const SECRET = "site-and-chat-share-this-32-byte-secret";
const API_KEY = "server-api-key-of-32-characters!";

/** A token the site would mint: valid for an hour unless `claims` say. */
function token(claims: JWTPayload): Promise<string> {
  return new SignJWT({ exp: Math.floor(Date.now() / 1000) + 3600, ...claims })
    .setProtectedHeader({ alg: "HS256" })
    .sign(new TextEncoder().encode(SECRET));
}

function exactly(text: string): RegExp {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
}

/** Calls the server API as the site's backend does. */
function api(
  origin: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Response> {
  return fetch(`${origin}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${API_KEY}`,
      "Content-Type": "application/json",
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** A fresh tab in a browser of its own (own storage), in English. */
async function newPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ locale: "en-US" });
  return await context.newPage();
}

// Locators, and page.evaluate with expressions as strings only: this file
// is type-checked without the DOM library.
Deno.test({
  name: "the room page with signed identities in Chromium",
  ignore: ignoreWithoutChromium,
  // Playwright keeps its own pipes and timers to the browser process open
  // between steps; the browser is closed in `finally`.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using server = await startServer({
      CHAT_AUTH: "required",
      CHAT_AUTH_SECRET: SECRET,
      CHAT_API_KEY: API_KEY,
    });
    const browser = await launchChromium();
    try {
      const room = uniqueRoom("signed");
      const roomUrl = `${server.origin}/chat/${room}/`;
      const alice = await newPage(browser);
      const problems: string[] = [];
      alice.on("pageerror", (error) => problems.push(error.message));
      const sockets: string[] = [];
      alice.on("websocket", (socket) => sockets.push(socket.url()));
      // A name chosen earlier in this browser: the token's name wins.
      await alice.context().addInitScript({
        content: 'localStorage.setItem("chat.name", "Mallory");',
      });
      const aliceToken = await token({ sub: "u-alice", name: "Alice" });

      await t.step(
        "a #token= signs the page in, leaves the address bar and stays in the tab",
        async () => {
          await alice.goto(`${roomUrl}#token=${aliceToken}`);
          await alice.locator("#chat-users li.me bdi", {
            hasText: exactly("Alice"),
          }).waitFor();
          // The Online list marks the signed name, and the page offers no
          // name change: the token's name is the name.
          assert.equal(
            await alice.locator("#chat-users li.me .verified").count(),
            1,
          );
          assert.equal(await alice.textContent("#chat-my-name-text"), "Alice");
          assert.ok(await alice.isDisabled("#chat-my-name"));
          assert.equal(alice.url(), roomUrl);
          assert.equal(
            await alice.evaluate('sessionStorage.getItem("chat.token")'),
            aliceToken,
          );
          assert.ok(
            sockets.some((url) =>
              url.includes(`token=${encodeURIComponent(aliceToken)}`) &&
              url.includes("name=Mallory")
            ),
            `joined with the token: ${sockets.join(", ")}`,
          );

          await alice.fill("#chat-message-input", "hello, signed");
          await alice.press("#chat-message-input", "Enter");
          const line = alice.locator("#chat-log li.message", {
            hasText: "hello, signed",
          });
          await line.waitFor();
          assert.equal(await line.locator(".user").textContent(), "Alice");
          const mark = line.locator(".verified");
          assert.equal(await mark.count(), 1);
          assert.equal(
            await mark.getAttribute("aria-label"),
            "Verified by the site",
          );
          assert.equal(await mark.getAttribute("role"), "img");
          // A badge the stylesheet draws, with no text a name could hold:
          // the line's text is the name, the time and the message alone.
          assert.equal(await mark.textContent(), "");
          const drawn = await alice.evaluate(`(() => {
            const mark = document.querySelector("#chat-log li.message .verified");
            const box = getComputedStyle(mark);
            const check = getComputedStyle(mark, "::after");
            return [mark.getBoundingClientRect().width > 0,
              box.backgroundColor !== "rgba(0, 0, 0, 0)",
              check.content, check.borderBottomStyle];
          })()`);
          assert.deepEqual(drawn, [true, true, '""', "solid"]);
          assert.equal(await line.getAttribute("class"), "message mine");
        },
      );

      await t.step(
        "a message from the site's backend is marked as the site's, and a delete removes it",
        async () => {
          const posted = await api(
            server.origin,
            "POST",
            `/api/rooms/${room}/messages`,
            { user: "Site", message: "The room closes at 22:00" },
          );
          assert.equal(posted.status, 201);
          const { id } = await posted.json();
          assert.ok(Number.isInteger(id));
          const line = alice.locator(`#chat-log li.message[data-id="${id}"]`);
          await line.waitFor();
          assert.equal(await line.getAttribute("class"), "message from-site");
          assert.equal(await line.locator(".user").textContent(), "Site");
          assert.equal(await line.locator(".verified").count(), 1);

          const deleted = await api(
            server.origin,
            "DELETE",
            `/api/rooms/${room}/messages/${id}`,
          );
          assert.equal(deleted.status, 204);
          await line.waitFor({ state: "detached" });
          assert.deepEqual(
            await alice.locator("#chat-log li.message .text")
              .allTextContents(),
            ["hello, signed"],
          );
        },
      );

      await t.step(
        "a user the site removes is told so and stays out",
        async () => {
          const socketsBefore = sockets.length;
          const removed = await api(
            server.origin,
            "POST",
            `/api/rooms/${room}/disconnect`,
            { user: "Alice" },
          );
          assert.deepEqual(await removed.json(), { closed: 1 });
          await alice.locator("#chat-status", {
            hasText: "The site has removed you from this room.",
          }).waitFor();
          assert.equal(sockets.length, socketsBefore, "no reconnect");
        },
      );

      await t.step(
        "without a token the page says it was refused and stops",
        async () => {
          const guest = await newPage(browser);
          await guest.goto(roomUrl);
          await guest.locator("#chat-status", {
            hasText: "The server refused the connection.",
          }).waitFor();
          assert.equal(await guest.locator("#chat-users li").count(), 0);
        },
      );

      await t.step(
        "a token that expires ends in a message, and a new #token= from the site reconnects with since=",
        async () => {
          const bob = await newPage(browser);
          const bobSockets: string[] = [];
          bob.on("websocket", (socket) => bobSockets.push(socket.url()));
          const shortLived = await token({
            sub: "u-bob",
            name: "Bob",
            // Long enough to join on a loaded machine (it joined signed in
            // before it expires), short enough to wait for.
            exp: Math.floor(Date.now() / 1000) + 5,
          });
          await bob.goto(`${roomUrl}#token=${shortLived}`);
          await bob.locator("#chat-users li.me bdi", {
            hasText: exactly("Bob"),
          })
            .waitFor();
          await bob.locator("#chat-status", {
            hasText: "Your sign-in expired",
          }).waitFor();

          const renewed = await token({ sub: "u-bob", name: "Bob" });
          await bob.goto(`${roomUrl}#token=${renewed}`);
          await bob.locator("#chat-status").waitFor({ state: "hidden" });
          assert.equal(bob.url(), roomUrl);
          assert.equal(
            await bob.evaluate('sessionStorage.getItem("chat.token")'),
            renewed,
          );
          const last = bobSockets.at(-1) ?? "";
          assert.ok(
            last.includes(`token=${encodeURIComponent(renewed)}`) &&
              /[?&]since=\d+/.test(last),
            `reconnected with the new token and since=: ${last}`,
          );
        },
      );

      await t.step("runs under the Content-Security-Policy", () => {
        assert.deepEqual(problems, []);
      });
    } finally {
      await browser.close();
    }
  },
});

Deno.test({
  name: "the room page marks signed names only, in Chromium",
  ignore: ignoreWithoutChromium,
  // As above: Playwright's pipes stay open until the browser is closed.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using server = await startServer({
      CHAT_AUTH: "optional",
      CHAT_AUTH_SECRET: SECRET,
    });
    const browser = await launchChromium();
    try {
      await t.step("a guest's name gets no verified mark", async () => {
        const room = uniqueRoom("mixed");
        const page = await newPage(browser);
        const signed = await token({ sub: "u-carol", name: "Carol" });
        await page.goto(`${server.origin}/chat/${room}/#token=${signed}`);
        await page.locator("#chat-users li.me bdi", {
          hasText: exactly("Carol"),
        })
          .waitFor();
        {
          await using guest = await TestClient.join(
            server.wsUrl(`/ws/chat/${room}/?name=carol2`),
          );
          guest.send({ message: "from a guest" });
          await guest.waitForType("message", 1);
          // In the Online list too: Carol is marked, the guest is not.
          const listed = page.locator("#chat-users li", { hasText: "carol2" });
          await listed.waitFor();
          assert.equal(await listed.locator(".verified").count(), 0);
          assert.equal(await page.locator("#chat-users .verified").count(), 1);
        }
        const line = page.locator("#chat-log li.message", {
          hasText: "from a guest",
        });
        await line.waitFor();
        assert.equal(await line.locator(".user").textContent(), "carol2");
        assert.equal(await line.locator(".verified").count(), 0);
      });
    } finally {
      await browser.close();
    }
  },
});

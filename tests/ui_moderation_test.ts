import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { assertAccessible } from "../testkit/axe.ts";
import { openChromium } from "../testkit/browser.ts";
import {
  DEVICES,
  documentWidth,
  exactly,
  type Locale,
  LOCALES,
  openChatPage,
  openRoom,
  problemsBesidesRefusal,
  roomPath,
  say,
  send,
  waitForMessage,
  waitUntilConnected,
} from "../testkit/chat_page.ts";
import {
  line,
  onlineLine,
  openAsModerator,
  openDialog,
} from "../testkit/moderation_page.ts";
import { saveScreenshot } from "../testkit/screenshots.ts";
import { startServer, storedMessages, uniqueRoom } from "../testkit/server.ts";
import { OPTIONAL_SIGN_IN, signedToken } from "../testkit/tokens.ts";
import { BROWSER_TEST } from "../testkit/ui.ts";

/** The most a committed screenshot may weigh. */
const MAX_BYTES = 300 * 1024;

/** The words the tests click, by language. */
const WORDS: Record<Locale, { actions: string; mute: string; ban: string }> = {
  "en-US": { actions: "Message actions", mute: "Mute", ban: "Ban" },
  "ko-KR": { actions: "메시지 메뉴", mute: "채팅 금지", ban: "내보내기" },
};

Deno.test({
  name:
    "a moderator deletes, mutes and bans from the room page, and the guest sees each take effect without a reconnect loop, in Chromium",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer(OPTIONAL_SIGN_IN);
    await using browser = await openChromium();
    const room = uniqueRoom("moderated");
    await using mia = await openAsModerator(browser, server.origin, room);
    await using bob = await openRoom(browser, server.origin, room, {
      name: "Bob",
    });
    await onlineLine(mia.page, "Bob").waitFor();

    await t.step("a plain guest sees no moderator tools", async () => {
      await say(mia.page, "welcome, everyone");
      await waitForMessage(bob.page, "welcome, everyone");
      await onlineLine(bob.page, "Mia").waitFor();
      assert.equal(await bob.page.locator(".user-tools").count(), 0);
      await line(bob.page, "welcome, everyone").getByRole("button", {
        name: "Message actions",
      }).click();
      await line(bob.page, "welcome, everyone").locator(".actions").waitFor();
      assert.equal(
        await line(bob.page, "welcome, everyone").locator(".delete").count(),
        0,
      );
      await bob.page.keyboard.press("Escape");
    });

    await t.step("a signed user without a role sees none either", async () => {
      const token = await signedToken({ sub: "u-sam", name: "Sam" });
      await using sam = await openChatPage(browser);
      await sam.page.goto(`${server.origin}${roomPath(room)}#token=${token}`);
      await waitUntilConnected(sam.page);
      await onlineLine(sam.page, "Bob").waitFor();
      await waitForMessage(sam.page, "welcome, everyone");
      // A round trip on Sam's socket: a role frame would have come first.
      await say(sam.page, "hello from Sam");
      assert.equal(await sam.page.locator(".user-tools").count(), 0);
      await line(sam.page, "welcome, everyone").getByRole("button", {
        name: "Message actions",
      }).click();
      await line(sam.page, "welcome, everyone").locator(".actions").waitFor();
      assert.equal(
        await line(sam.page, "welcome, everyone").locator(".delete").count(),
        0,
      );
      assert.deepEqual(sam.problems, []);
    });

    await t.step(
      "the moderator deletes the guest's message and it leaves the guest's log",
      async () => {
        await say(bob.page, "buy cheap watches");
        await waitForMessage(mia.page, "buy cheap watches");
        await line(mia.page, "buy cheap watches").getByRole("button", {
          name: "Message actions",
        }).click();
        await line(mia.page, "buy cheap watches").getByRole("button", {
          name: "Delete",
        }).click();
        await line(bob.page, "buy cheap watches").waitFor({
          state: "detached",
        });
        await line(mia.page, "buy cheap watches").waitFor({
          state: "detached",
        });
      },
    );

    await t.step(
      "the moderator mutes the guest for 10 minutes with a reason: the guest reads why and until when, and its message is refused",
      async () => {
        await openDialog(mia.page, "mute", "Bob");
        // The keyboard alone: the first duration (10 minutes) has focus.
        assert.equal(
          await mia.page.evaluate("document.activeElement.value"),
          "600",
        );
        await mia.page.keyboard.press("Tab");
        await mia.page.keyboard.type("spam links");
        await mia.page.keyboard.press("Enter");
        await mia.page.locator(".moderation-dialog[open]").waitFor({
          state: "detached",
        });
        await mia.page.locator("#chat-log .notice", {
          hasText: /^Bob is muted until /,
        }).waitFor();
        const notice = bob.page.locator("#chat-muted");
        await notice.waitFor();
        const said = await notice.textContent() ?? "";
        assert.match(said, /^A moderator muted you until .+: you can read/);
        assert.match(said, /Reason: spam links$/);
        // Refused, it comes back into the composer with the reason.
        await send(bob.page, "you cannot stop me");
        await bob.page.locator("#chat-composer-error").waitFor();
        assert.equal(
          await bob.page.inputValue("#chat-message-input"),
          "you cannot stop me",
        );
        const stored = await storedMessages(server, room);
        assert.ok(!stored.some((m) => m.message === "you cannot stop me"));
        // Focus is back on Bob's line, whose Mute is now Unmute.
        assert.equal(
          await mia.page.evaluate("document.activeElement.ariaLabel"),
          "Unmute Bob",
        );
      },
    );

    await t.step(
      "a reload of the muted guest's page shows the notice again",
      async () => {
        await bob.page.reload();
        await waitUntilConnected(bob.page);
        await bob.page.locator("#chat-muted", {
          hasText: /Reason: spam links$/,
        }).waitFor();
      },
    );

    await t.step(
      "the moderator unmutes the guest: the notice goes and the guest writes again",
      async () => {
        await onlineLine(mia.page, "Bob").getByRole("button", {
          name: "Unmute Bob",
        }).click();
        await mia.page.locator("#chat-log .notice", {
          hasText: exactly("Bob can write again"),
        }).waitFor();
        await bob.page.locator("#chat-muted").waitFor({ state: "hidden" });
        await bob.page.fill("#chat-message-input", "");
        await say(bob.page, "sorry about that");
        await waitForMessage(mia.page, "sorry about that");
      },
    );

    await t.step(
      "a mute's notice goes by itself when the mute ends",
      async () => {
        // The guest's page on a clock the test can move.
        await bob.page.clock.install();
        await openDialog(mia.page, "mute", "Bob");
        await mia.page.locator(".moderation-dialog button.primary").click();
        await bob.page.locator("#chat-muted").waitFor();
        // The guest's page lives ten minutes and a second on.
        await bob.page.clock.fastForward("10:01");
        await bob.page.locator("#chat-muted").waitFor({ state: "hidden" });
      },
    );

    await t.step(
      "the moderator bans the guest: the guest sees the banned page and opens no further socket",
      async () => {
        const sockets: string[] = [];
        bob.page.on("websocket", (socket) => sockets.push(socket.url()));
        await openDialog(mia.page, "ban", "Bob");
        await mia.page.getByLabel("For good").check();
        await mia.page.getByLabel("Reason").fill("repeated spam");
        await mia.page.locator(".moderation-dialog button.danger").click();
        await mia.page.locator("#chat-log .notice", {
          hasText: exactly("Bob is banned from this room"),
        }).waitFor();
        const banned = bob.page.locator("#chat-banned");
        await banned.waitFor();
        assert.equal(
          await bob.page.textContent("#chat-banned-title"),
          "You are banned from this room",
        );
        assert.equal(
          await bob.page.textContent("#chat-banned-detail"),
          "A moderator banned you for good. Reason: repeated spam",
        );
        assert.ok(await bob.page.isHidden("#chat-composer"));
        assert.ok(await bob.page.isHidden("#chat-log"));
        // A client waiting to reconnect would go at once on these; a banned
        // one stays put. The moderator's round trip after them shows that
        // the server had time to see a socket if one came.
        await bob.page.evaluate(
          "globalThis.dispatchEvent(new Event('online')), true",
        );
        await say(mia.page, "back to the topic");
        await onlineLine(mia.page, "Bob").waitFor({ state: "detached" });
        assert.deepEqual(sockets, []);
      },
    );

    await t.step(
      "a reload of the banned guest's page shows the banned page again",
      async () => {
        await bob.page.reload();
        await bob.page.locator("#chat-banned").waitFor();
        assert.equal(
          await bob.page.textContent("#chat-banned-detail"),
          "A moderator banned you for good. Reason: repeated spam",
        );
      },
    );
    for (const visitor of [mia, bob]) {
      assert.deepEqual(problemsBesidesRefusal(visitor.problems), []);
    }
  },
});

Deno.test({
  name:
    "the mute dialog, the muted notice and the banned page pass axe in English and Korean, on a phone and a desktop",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer(OPTIONAL_SIGN_IN);
    await using browser = await openChromium();
    for (const locale of LOCALES) {
      for (const [device, viewport] of DEVICES) {
        const lang = locale.slice(0, 2);
        await t.step(`${locale} on a ${device}`, async () => {
          const room = uniqueRoom("moderation");
          await using mia = await openAsModerator(
            browser,
            server.origin,
            room,
            {
              locale,
              viewport,
            },
          );
          await using bob = await openRoom(browser, server.origin, room, {
            name: "Bob",
            locale,
            viewport,
            colorScheme: "dark",
          });
          // Kept in git: a desktop in English, a phone in Korean.
          const kept = (device === "desktop") === (lang === "en");
          const snap = async (page: Page, state: string) => {
            if (!kept) return;
            await page.emulateMedia({
              colorScheme: device === "desktop" ? "light" : "dark",
            });
            const path = await saveScreenshot(
              page,
              `moderation-${state}-${device}-${lang}`,
            );
            const { size } = await Deno.stat(path);
            assert.ok(size > 1000 && size < MAX_BYTES, `${path} is ${size} B`);
            assert.equal(await documentWidth(page), viewport.width, path);
          };
          await say(bob.page, "first!!!");
          await waitForMessage(mia.page, "first!!!");
          await line(mia.page, "first!!!").getByRole("button", {
            name: WORDS[locale].actions,
          }).click();
          await line(mia.page, "first!!!").locator(".actions .delete")
            .waitFor();
          await mia.page.keyboard.press("Escape");

          await openDialog(mia.page, "mute", "Bob");
          await mia.page.locator("#moderation-reason").fill("spam");
          await assertAccessible(mia.page, `the mute dialog, ${locale}`);
          await snap(mia.page, "dialog");
          await mia.page.locator(".moderation-dialog button.primary").click();
          await bob.page.locator("#chat-muted").waitFor();
          await assertAccessible(bob.page, `the muted notice, ${locale}`);
          await snap(bob.page, "muted");

          await openDialog(mia.page, "ban", "Bob");
          await mia.page.locator("#moderation-reason").fill("spam");
          await mia.page.locator(".moderation-dialog button.danger").click();
          await bob.page.locator("#chat-banned").waitFor();
          await assertAccessible(bob.page, `the banned page, ${locale}`);
          await snap(bob.page, "banned");
          for (const visitor of [mia, bob]) {
            assert.deepEqual(problemsBesidesRefusal(visitor.problems), []);
          }
        });
      }
    }
  },
});

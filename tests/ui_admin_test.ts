import assert from "node:assert/strict";
import { SIGN_IN_FAILURES } from "../http/admin_sign_in_limit.ts";
import { signedInConsole, signInWithKey } from "../testkit/admin_page.ts";
import { assertAccessible } from "../testkit/axe.ts";
import { openChromium } from "../testkit/browser.ts";
import {
  countMessages,
  DEVICES,
  documentWidth,
  exactly,
  LOCALES,
  openChatPage,
  openRoom,
  roomPath,
  say,
  waitForMessage,
  waitUntilConnected,
} from "../testkit/chat_page.ts";
import { startServer, uniqueRoom } from "../testkit/server.ts";
import { OPTIONAL_SIGN_IN, signedToken } from "../testkit/tokens.ts";
import { BROWSER_TEST } from "../testkit/ui.ts";

const KEY = "console-ui-key-0123456789abcdef";
const ENV = { ...OPTIONAL_SIGN_IN, CHAT_API_KEY: KEY };

Deno.test({
  name:
    "the admin console signs in with the API key and refuses a wrong one, in Chromium",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer(ENV);
    await using browser = await openChromium();

    await t.step(
      "the key opens the overview and sets an HttpOnly, SameSite=Strict cookie on /admin",
      async () => {
        await using tab = await signedInConsole(browser, server.origin, KEY);
        const cookies = await tab.context.cookies();
        assert.equal(cookies.length, 1);
        const [cookie] = cookies;
        assert.equal(cookie?.name, "chat_admin");
        assert.equal(cookie?.httpOnly, true);
        assert.equal(cookie?.sameSite, "Strict");
        assert.equal(cookie?.path, "/admin");
        assert.ok((cookie?.expires ?? 0) > Date.now() / 1000);
        assert.equal(
          await tab.page.evaluate("document.cookie"),
          "",
          "the page's script cannot read it",
        );
        await tab.page.locator("#ov-store", { hasText: /sqlite/ }).waitFor();

        await tab.page.click(".admin-signout button");
        await tab.page.locator("#admin-key").waitFor();
        assert.deepEqual(await tab.context.cookies(), []);
        assert.deepEqual(tab.problems, []);
      },
    );

    await t.step("a wrong key is refused and sets no cookie", async () => {
      await using tab = await openChatPage(browser);
      await signInWithKey(
        tab.page,
        server.origin,
        "wrong-key-0123456789abcdef",
      );
      await tab.page.locator("#admin-key-error").waitFor();
      assert.equal(
        await tab.page.textContent("#admin-key-error"),
        "That key is not the server's API key.",
      );
      assert.deepEqual(await tab.context.cookies(), []);
    });

    await t.step(
      "after too many wrong keys the form says to wait, and the right key waits too",
      async () => {
        await using tab = await openChatPage(browser);
        const error = tab.page.locator("#admin-key-error");
        // One wrong key was sent in the step before, from this address.
        for (let sent = 1; sent < SIGN_IN_FAILURES; sent++) {
          await signInWithKey(tab.page, server.origin, "wrong-key-0123456789");
          await error.filter({ hasText: /not the server's API key/ }).waitFor();
        }
        await signInWithKey(tab.page, server.origin, KEY);
        await error.filter({ hasText: /^Too many failed sign-ins/ }).waitFor();
        assert.equal(
          await tab.page.getAttribute("#admin-key", "aria-invalid"),
          "true",
        );
        assert.deepEqual(await tab.context.cookies(), []);
        await assertAccessible(tab.page, "the sign-in page after a lock-out");
      },
    );
  },
});

Deno.test({
  name:
    "a message deleted and a user banned from the console's room view take effect in the room's pages, in Chromium",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer(ENV);
    await using browser = await openChromium();
    const room = uniqueRoom("moderated");
    const token = await signedToken({ sub: "u-troll", name: "troll" });
    await using troll = await openChatPage(browser);
    await troll.page.goto(`${server.origin}${roomPath(room)}#token=${token}`);
    await waitUntilConnected(troll.page);
    await using bob = await openRoom(browser, server.origin, room, {
      name: "bob",
    });
    await say(bob.page, "keep this");
    await say(troll.page, "spam spam");
    await waitForMessage(bob.page, "spam spam");
    await using admin = await signedInConsole(browser, server.origin, KEY);
    const { page } = admin;

    await t.step(
      "the rooms page links the room, whose log follows the room",
      async () => {
        await page.goto(`${server.origin}/admin/rooms`);
        await page.fill("#rooms-search", room.slice(-8));
        await page.locator("#rooms-list a", { hasText: exactly(room) }).click();
        await page.locator("#room-online bdi", { hasText: exactly("troll") })
          .waitFor();
        await say(bob.page, "said while the console looks");
        await page.locator("#room-log .text", {
          hasText: exactly("said while the console looks"),
        }).waitFor();
      },
    );

    await t.step(
      "delete: the message leaves the other browser's log",
      async () => {
        const spam = page.locator("#room-log li", { hasText: "spam spam" });
        await spam.getByRole("button", { name: "Delete the message of troll" })
          .click();
        await spam.waitFor({ state: "detached" });
        await bob.page.locator("#chat-log li.message .text", {
          hasText: exactly("spam spam"),
        }).waitFor({ state: "detached" });
        assert.equal(await countMessages(bob.page, "keep this"), 1);
      },
    );

    await t.step(
      "ban: the user is put out, and the ban is listed",
      async () => {
        await page.getByRole("button", { name: "Ban troll" }).click();
        await page.selectOption("#act-duration", "3600");
        await page.fill("#act-reason", "spamming");
        await page.click("#act-apply");
        await page.locator("#room-sanctions li", { hasText: "spamming" })
          .waitFor();
        await bob.page.locator("#chat-users li bdi", {
          hasText: exactly("troll"),
        }).waitFor({ state: "detached" });
        // The banned reader gets the banned page, with the console's reason.
        await troll.page.locator("#chat-banned", { hasText: "spamming" })
          .waitFor();
        const refused = await fetch(
          `${server.origin}/ws/chat/${room}/?token=${token}`,
        );
        assert.equal(refused.status, 403);
        assert.equal((await refused.json()).code, "banned");
      },
    );

    await t.step(
      "the ban and the delete are in the audit log, and unban lifts it",
      async () => {
        await page.goto(`${server.origin}/admin/audit`);
        await page.locator("#audit-list tr", { hasText: "Banned" }).waitFor();
        await page.locator("#audit-list tr", { hasText: "Deleted a message" })
          .waitFor();
        await page.goto(`${server.origin}/admin/sanctions`);
        await page.getByRole("button", { name: "Unban troll" }).click();
        await page.locator("#sanctions-empty").waitFor();
        const allowed = await fetch(
          `${server.origin}/ws/chat/${room}/?token=${token}`,
        );
        assert.equal(allowed.status, 426, "a plain GET would now be let in");
        await allowed.body?.cancel();
      },
    );
    assert.deepEqual(admin.problems, []);
  },
});

Deno.test({
  name:
    "an admin token in the console's #token= signs in and leaves the address bar, in Chromium",
  ...BROWSER_TEST,
  async fn() {
    await using server = await startServer(ENV);
    await using browser = await openChromium();
    await using tab = await openChatPage(browser);
    const token = await signedToken({
      sub: "u-ada",
      name: "Ada",
      role: "admin",
    });
    await tab.page.goto(`${server.origin}/admin/#token=${token}`);
    await tab.page.locator("#ov-connections", { hasText: /^\d+$/ }).waitFor();
    assert.equal(tab.page.url(), `${server.origin}/admin/`);
    assert.equal((await tab.context.cookies())[0]?.httpOnly, true);

    await using plain = await openChatPage(browser);
    const moderator = await signedToken({
      sub: "u-mo",
      name: "Mo",
      role: "moderator",
    });
    await plain.page.goto(`${server.origin}/admin/#token=${moderator}`);
    await plain.page.locator("#admin-token-error", { hasText: /admin role/ })
      .waitFor();
    assert.deepEqual(await plain.context.cookies(), []);
  },
});

Deno.test({
  name:
    "axe finds nothing on the console's pages, English and Korean, light and dark, phone and desktop",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer(ENV);
    await using browser = await openChromium();
    const room = uniqueRoom("audited");
    await using member = await openRoom(browser, server.origin, room, {
      name: "ann",
    });
    await say(member.page, "hello");
    for (const locale of LOCALES) {
      for (const [device, viewport] of DEVICES) {
        await t.step(`${locale} on a ${device}`, async () => {
          const where = `${locale} ${device}`;
          await using visitor = await openChatPage(browser, {
            locale,
            viewport,
          });
          await visitor.page.goto(`${server.origin}/admin/`);
          await visitor.page.locator("#admin-key").waitFor();
          await assertAccessible(visitor.page, `sign-in (${where})`);

          await using tab = await signedInConsole(browser, server.origin, KEY, {
            locale,
            viewport,
          });
          const { page } = tab;
          await assertAccessible(page, `the overview (${where})`);
          await page.goto(`${server.origin}/admin/rooms`);
          await page.locator("#rooms-list a").first().waitFor();
          await assertAccessible(page, `the rooms (${where})`);
          await page.goto(
            `${server.origin}/admin/rooms/${encodeURIComponent(room)}`,
          );
          await page.locator("#room-log li").first().waitFor();
          await page.locator("#room-online li").first().waitFor();
          await assertAccessible(page, `a room (${where})`);
          await page.locator("#room-online button[data-action=mute]").click();
          await page.locator("#act-form").waitFor();
          await assertAccessible(page, `the mute form (${where})`);
          await page.fill("#act-reason", "axe");
          await page.click("#act-apply");
          await page.locator("#room-sanctions li").first().waitFor();
          await assertAccessible(page, `a room with a mute (${where})`);
          assert.ok(await documentWidth(page) <= viewport.width, where);
          await page.goto(`${server.origin}/admin/sanctions`);
          await page.locator("#sanctions-list tr").first().waitFor();
          await assertAccessible(page, `the bans and mutes (${where})`);
          assert.ok(await documentWidth(page) <= viewport.width, where);
          await page.goto(`${server.origin}/admin/audit`);
          await page.locator("#audit-list tr").first().waitFor();
          await assertAccessible(page, `the audit log (${where})`);
          assert.ok(await documentWidth(page) <= viewport.width, where);
          assert.deepEqual(tab.problems, []);
        });
      }
    }
  },
});

import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { assertAccessible } from "../testkit/axe.ts";
import { openChromium } from "../testkit/browser.ts";
import {
  type ChatPage,
  DEVICES,
  exactly,
  LOCALES,
  openChatPage,
  openRoom,
  say,
  type Visitor,
} from "../testkit/chat_page.ts";
import { startServer, uniqueRoom } from "../testkit/server.ts";
import { OPTIONAL_SIGN_IN } from "../testkit/tokens.ts";
import { BROWSER_TEST } from "../testkit/ui.ts";

const KEY = "console-ui-key-0123456789abcdef";
const ENV = { ...OPTIONAL_SIGN_IN, CHAT_API_KEY: KEY };

/** A console tab signed in with the API key, on its overview. */
async function signedInConsole(
  browser: Browser,
  origin: string,
  visitor: Visitor = {},
): Promise<ChatPage> {
  const tab = await openChatPage(browser, visitor);
  try {
    await signInWithKey(tab.page, origin, KEY);
    await tab.page.locator("#ov-connections", { hasText: /^\d+$/ }).waitFor();
  } catch (error) {
    await tab[Symbol.asyncDispose]();
    throw error;
  }
  return tab;
}

async function signInWithKey(page: Page, origin: string, key: string) {
  await page.goto(`${origin}/admin/`);
  await page.fill("#admin-key", key);
  await page.click("#admin-signin button[type=submit]");
}

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
        await using tab = await signedInConsole(browser, server.origin);
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
  },
});

Deno.test({
  name:
    "a message deleted from the console's room view leaves the room's pages, in Chromium",
  ...BROWSER_TEST,
  async fn() {
    await using server = await startServer(ENV);
    await using browser = await openChromium();
    const room = uniqueRoom("moderated");
    await using member = await openRoom(browser, server.origin, room, {
      name: "ann",
    });
    await say(member.page, "keep this");
    await say(member.page, "spam spam");
    await using admin = await signedInConsole(browser, server.origin);
    const { page } = admin;
    await page.goto(`${server.origin}/admin/rooms`);
    await page.locator("#rooms-list a", { hasText: exactly(room) }).click();
    await page.locator("#room-online bdi", { hasText: exactly("ann") })
      .waitFor();
    const spam = page.locator("#room-log li", { hasText: "spam spam" });
    await spam.getByRole("button", { name: "Delete the message of ann" })
      .click();
    await spam.waitFor({ state: "detached" });
    await member.page.locator("#chat-log li.message .text", {
      hasText: exactly("spam spam"),
    }).waitFor({ state: "detached" });
    assert.equal(
      await member.page.locator("#chat-log li.message .text", {
        hasText: exactly("keep this"),
      }).count(),
      1,
    );
    assert.deepEqual(admin.problems, []);
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

          await using tab = await signedInConsole(browser, server.origin, {
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
        });
      }
    }
  },
});

import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { assertAccessible } from "../testkit/axe.ts";
import { openChromium } from "../testkit/browser.ts";
import {
  RoomVisitors,
  say,
  waitForMessage,
  waitUntilConnected,
} from "../testkit/chat_page.ts";
import { startServer, uniqueRoom } from "../testkit/server.ts";
import { BROWSER_TEST } from "../testkit/ui.ts";

Deno.test({
  name:
    "a mention of the reader (@name, any case) is highlighted on their page only",
  ...BROWSER_TEST,
  async fn() {
    await using server = await startServer();
    await using browser = await openChromium();
    const room = uniqueRoom("mention");
    await using people = new RoomVisitors(browser, server.origin, room);
    const alice = await people.join({ name: "Alice" });
    const bob = await people.join({ name: "Bob" });
    const text = "hey @alice, see https://example.com @Alicea @bob";
    await say(bob.page, text);
    await waitForMessage(alice.page, text);
    const mentions = alice.page.locator("#chat-log li.mentions-me mark");
    assert.deepEqual(await mentions.allTextContents(), ["@alice"]);
    assert.equal(await alice.page.locator("#chat-log .text a").count(), 1);
    // Bob's own line mentions Bob, but one's own words are not a call.
    assert.equal(await bob.page.locator("#chat-log mark").count(), 0);
    await assertAccessible(alice.page, "a mention");
    assert.deepEqual(people.problems, []);
  },
});

/**
 * Runs in the page before its scripts: records the permission requests and
 * the notifications the page makes, on `window.recorded`.
 */
const RECORD_NOTIFICATIONS = `(() => {
  const Real = window.Notification;
  const recorded = { asked: 0, shown: [] };
  window.recorded = recorded;
  window.Notification = class extends Real {
    constructor(title, options) {
      super(title, options);
      recorded.shown.push({ title, body: options?.body ?? "" });
    }
    static get permission() {
      return Real.permission;
    }
    static requestPermission() {
      recorded.asked += 1;
      return Real.requestPermission();
    }
  };
})()`;

/** Makes the page believe its tab was hidden (or shown again). */
async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate(`(() => {
    const hidden = ${hidden};
    Object.defineProperty(document, "visibilityState", {
      configurable: true,
      get: () => hidden ? "hidden" : "visible",
    });
    Object.defineProperty(document, "hidden", {
      configurable: true,
      get: () => hidden,
    });
    document.dispatchEvent(new Event("visibilitychange"));
  })()`);
}

async function recorded(
  page: Page,
): Promise<{ asked: number; shown: { title: string; body: string }[] }> {
  const value: unknown = await page.evaluate("window.recorded");
  assert.ok(typeof value === "object" && value !== null);
  assert.ok("asked" in value && typeof value.asked === "number");
  assert.ok("shown" in value && Array.isArray(value.shown));
  return {
    asked: value.asked,
    shown: value.shown.map((item: unknown) => {
      assert.ok(typeof item === "object" && item !== null);
      assert.ok("title" in item && typeof item.title === "string");
      assert.ok("body" in item && typeof item.body === "string");
      return { title: item.title, body: item.body };
    }),
  };
}

async function waitForTitle(page: Page, title: string): Promise<void> {
  await page.waitForFunction(`document.title === ${JSON.stringify(title)}`);
}

Deno.test({
  name:
    "with the bell on, a mention while the tab is hidden raises a notification, and the title counts what came until the tab shows again",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer();
    await using browser = await openChromium();
    const room = uniqueRoom("notify");
    await using people = new RoomVisitors(browser, server.origin, room);
    const alice = await people.join({ name: "Alice" });
    const bob = await people.join({ name: "Bob" });
    const carol = await people.join({ name: "Carol", locale: "ko-KR" });
    await alice.context.grantPermissions(["notifications"], {
      origin: server.origin,
    });
    await alice.context.addInitScript(RECORD_NOTIFICATIONS);
    await alice.page.reload();
    await waitUntilConnected(alice.page);
    const bell = alice.page.locator("#chat-notify");
    const title = `Chat room: ${room}`;

    await t.step("on load the bell is off and nothing is asked", async () => {
      assert.equal(await bell.getAttribute("aria-pressed"), "false");
      await alice.page.getByRole("button", { name: "Notify me of mentions" })
        .waitFor();
      await carol.page.getByRole("button", { name: "멘션 알림 받기" })
        .waitFor();
      assert.equal((await recorded(alice.page)).asked, 0);
      await assertAccessible(carol.page, "the bell, off");
    });

    await t.step("a click on the bell asks and turns it on", async () => {
      await bell.click();
      await alice.page.locator('#chat-notify[aria-pressed="true"]').waitFor();
      assert.equal(
        await bell.getAttribute("title"),
        "Notifications of mentions are on",
      );
      assert.equal((await recorded(alice.page)).asked, 1);
      await assertAccessible(alice.page, "the bell, on");
    });

    await t.step(
      "hidden, the title counts and a mention notifies",
      async () => {
        await setHidden(alice.page, true);
        await say(bob.page, "just talking");
        await waitForTitle(alice.page, `(1) ${title}`);
        await say(bob.page, "hey @alice, look");
        await waitForTitle(alice.page, `(2) ${title}`);
        assert.deepEqual((await recorded(alice.page)).shown, [
          { title: "Bob mentioned you", body: "hey @alice, look" },
        ]);
      },
    );

    await t.step("shown again, the count goes", async () => {
      await setHidden(alice.page, false);
      await waitForTitle(alice.page, title);
    });

    await t.step("with the bell off, a mention does not notify", async () => {
      await bell.click();
      await alice.page.locator('#chat-notify[aria-pressed="false"]').waitFor();
      await setHidden(alice.page, true);
      await say(bob.page, "@Alice again");
      await waitForTitle(alice.page, `(1) ${title}`);
      assert.equal((await recorded(alice.page)).shown.length, 1);
    });
    assert.deepEqual(people.problems, []);
  },
});

Deno.test({
  name:
    "typing @ in the composer offers the people online as a listbox, picked with the keyboard or a click, and Escape closes it",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer();
    await using browser = await openChromium();
    const room = uniqueRoom("complete");
    await using people = new RoomVisitors(browser, server.origin, room);
    const alice = await people.join({ name: "Alice" });
    await people.join({ name: "Bob" });
    const bonnie = await people.join({ name: "Bonnie", locale: "ko-KR" });
    await people.join({ name: "Carol" });
    const { page } = alice;
    const input = page.locator("#chat-message-input");
    const list = page.getByRole("listbox", { name: "People to mention" });
    const options = list.getByRole("option");
    await page.locator("#chat-users li", { hasText: "Carol" }).waitFor();

    await t.step("@ and a start lists the matching names", async () => {
      await input.pressSequentially("hi @bo");
      await list.waitFor();
      assert.deepEqual(await options.allTextContents(), ["Bob", "Bonnie"]);
      assert.equal(
        await input.getAttribute("aria-activedescendant"),
        await options.nth(0).getAttribute("id"),
      );
      assert.equal(await options.nth(0).getAttribute("aria-selected"), "true");
      await assertAccessible(page, "the @ completion");
    });

    await t.step("↓ moves and Enter puts the name in, not sent", async () => {
      await input.press("ArrowDown");
      assert.equal(await options.nth(1).getAttribute("aria-selected"), "true");
      assert.equal(
        await input.getAttribute("aria-activedescendant"),
        await options.nth(1).getAttribute("id"),
      );
      await input.press("Enter");
      await list.waitFor({ state: "hidden" });
      assert.equal(await input.inputValue(), "hi @Bonnie ");
      assert.equal(await input.getAttribute("aria-activedescendant"), null);
    });

    await t.step("Tab picks too; the reader is not offered", async () => {
      await input.pressSequentially("and @");
      await list.waitFor();
      assert.deepEqual(await options.allTextContents(), [
        "Bob",
        "Bonnie",
        "Carol",
      ]);
      await input.pressSequentially("c");
      assert.deepEqual(await options.allTextContents(), ["Carol"]);
      await input.press("Tab");
      await list.waitFor({ state: "hidden" });
      assert.equal(await input.inputValue(), "hi @Bonnie and @Carol ");
    });

    await t.step("a click picks, and Escape closes", async () => {
      await input.pressSequentially("@");
      await options.filter({ hasText: "Bob" }).click();
      assert.equal(await input.inputValue(), "hi @Bonnie and @Carol @Bob ");
      await input.pressSequentially("@");
      await list.waitFor();
      await input.press("Escape");
      await list.waitFor({ state: "hidden" });
      await input.press("Enter");
      await waitForMessage(bonnie.page, "hi @Bonnie and @Carol @Bob @");
      await bonnie.page.locator("#chat-log li.mentions-me").waitFor();
    });
    assert.deepEqual(people.problems, []);
  },
});

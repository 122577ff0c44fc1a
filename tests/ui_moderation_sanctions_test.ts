/**
 * The room page's list of who is muted or banned, in Chromium: a moderator
 * opens it from the Online panel, sees the mute and the ban it gave, lifts
 * them from there, and the banned guest comes back; axe finds nothing in
 * light and dark, in English and Korean; others have no such button.
 *
 * @module
 */

import assert from "node:assert/strict";
import { assertAccessible } from "../testkit/axe.ts";
import { openChromium } from "../testkit/browser.ts";
import {
  exactly,
  openChatPage,
  openRoom,
  PHONE,
  problemsBesidesRefusal,
  roomPath,
  say,
  waitForMessage,
  waitUntilConnected,
} from "../testkit/chat_page.ts";
import {
  onlineLine,
  openAsModerator,
  openDialog,
  openSanctions,
  sanctionEntry,
} from "../testkit/moderation_page.ts";
import { startServer, uniqueRoom } from "../testkit/server.ts";
import { OPTIONAL_SIGN_IN, signedToken } from "../testkit/tokens.ts";
import { BROWSER_TEST } from "../testkit/ui.ts";

Deno.test({
  name:
    "a moderator lists who is muted or banned on the room page, unmutes and unbans from it, and the guest comes back, in Chromium",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer(OPTIONAL_SIGN_IN);
    await using browser = await openChromium();
    const room = uniqueRoom("sanctions");
    await using mia = await openAsModerator(browser, server.origin, room);
    await using bob = await openRoom(browser, server.origin, room, {
      name: "Bob",
    });
    await onlineLine(mia.page, "Bob").waitFor();
    const button = (page: typeof mia.page) =>
      page.getByRole("button", { name: "Muted and banned" });

    await t.step("a guest and a plain signed user have no list", async () => {
      const token = await signedToken({ sub: "u-sam", name: "Sam" });
      await using sam = await openChatPage(browser);
      await sam.page.goto(`${server.origin}${roomPath(room)}#token=${token}`);
      await waitUntilConnected(sam.page);
      // A round trip on each socket: a role frame would have come first.
      await say(sam.page, "hello from Sam");
      await say(bob.page, "hello from Bob");
      await waitForMessage(sam.page, "hello from Bob");
      await button(mia.page).waitFor();
      for (const page of [bob.page, sam.page]) {
        assert.equal(await button(page).count(), 0);
        assert.equal(await page.locator(".sanctions-dialog[open]").count(), 0);
      }
      assert.deepEqual(sam.problems, []);
    });

    await t.step(
      "the moderator mutes and bans the guest and finds both in the list, with until when and why",
      async () => {
        await openDialog(mia.page, "mute", "Bob");
        await mia.page.getByLabel("Reason").fill("spam links");
        await mia.page.locator(".moderation-dialog button.primary").click();
        await bob.page.locator("#chat-muted").waitFor();
        await openDialog(mia.page, "ban", "Bob");
        await mia.page.getByLabel("For good").check();
        await mia.page.getByLabel("Reason").fill("repeated spam");
        await mia.page.locator(".moderation-dialog button.danger").click();
        await bob.page.locator("#chat-banned").waitFor();

        const dialog = await openSanctions(mia.page);
        const muted = sanctionEntry(dialog, "mute", "Bob");
        const banned = sanctionEntry(dialog, "ban", "Bob");
        await banned.waitFor();
        const [until, why, by] = await muted.locator(".detail")
          .allTextContents();
        assert.match(until ?? "", /^Until .+/);
        assert.equal(why, "Reason: spam links");
        assert.match(by ?? "", /^By Mia \(u-mod-\w+\), .+/);
        assert.deepEqual(
          (await banned.locator(".detail").allTextContents()).slice(0, 2),
          ["For good", "Reason: repeated spam"],
        );
        await assertAccessible(mia.page, "the list of mutes and bans");
      },
    );

    await t.step(
      "Unmute and Unban take effect and leave the list, which is asked again",
      async () => {
        const dialog = mia.page.locator(".sanctions-dialog[open]");
        await dialog.getByRole("button", { name: "Unmute Bob" }).click();
        await dialog.getByText(exactly("Nobody is muted here.")).waitFor();
        await sanctionEntry(dialog, "ban", "Bob").waitFor();
        // Focus stays in the dialog, on the next thing to do.
        assert.equal(
          await mia.page.evaluate("document.activeElement.textContent"),
          "Close",
        );
        await dialog.getByRole("button", { name: "Unban Bob" }).click();
        await dialog.getByText(exactly("Nobody is banned here.")).waitFor();
        await mia.page.locator("#chat-log .notice", {
          hasText: exactly("Bob can come back"),
        }).waitFor();
        await assertAccessible(mia.page, "the empty list");
        await mia.page.keyboard.press("Escape");
        await dialog.waitFor({ state: "detached" });
        assert.equal(
          await mia.page.evaluate("document.activeElement.textContent"),
          "Muted and banned",
        );
      },
    );

    await t.step(
      "the unbanned guest's page joins again and writes",
      async () => {
        await bob.page.reload();
        await waitUntilConnected(bob.page);
        await onlineLine(mia.page, "Bob").waitFor();
        assert.ok(await bob.page.isHidden("#chat-banned"));
        await say(bob.page, "I am back");
        await waitForMessage(mia.page, "I am back");
      },
    );
    for (const visitor of [mia, bob]) {
      assert.deepEqual(problemsBesidesRefusal(visitor.problems), []);
    }
  },
});

Deno.test({
  name:
    "the list of mutes and bans passes axe in Korean, on a phone, in light and dark",
  ...BROWSER_TEST,
  async fn() {
    await using server = await startServer(OPTIONAL_SIGN_IN);
    await using browser = await openChromium();
    const room = uniqueRoom("sanctions-ko");
    const visitor = { locale: "ko-KR", viewport: PHONE } as const;
    await using mia = await openAsModerator(
      browser,
      server.origin,
      room,
      visitor,
    );
    await using bob = await openRoom(browser, server.origin, room, {
      ...visitor,
      name: "Bob",
    });
    // On a phone the Online list is a closed drawer: Bob is there, unseen.
    await onlineLine(mia.page, "Bob").waitFor({ state: "attached" });
    await openDialog(mia.page, "ban", "Bob");
    await mia.page.locator("#moderation-reason").fill("스팸");
    await mia.page.locator(".moderation-dialog button.danger").click();
    await bob.page.locator("#chat-banned").waitFor();
    const dialog = await openSanctions(mia.page, "제재 목록");
    await sanctionEntry(dialog, "ban", "Bob").waitFor();
    await dialog.getByText(exactly("채팅 금지된 사람이 없습니다.")).waitFor();
    await assertAccessible(mia.page, "the list of mutes and bans, ko-KR");
    assert.deepEqual(problemsBesidesRefusal(mia.problems), []);
  },
});

/**
 * The ban dialog's "every room" choice: offered to a moderator of every
 * room (a token with `role`), not to one of listed rooms, and a ban given
 * with it keeps the user out of another room too; only a moderator of
 * every room lifts it from the list of who is banned, in Chromium.
 *
 * @module
 */

import assert from "node:assert/strict";
import { assertAccessible } from "../testkit/axe.ts";
import { openChromium } from "../testkit/browser.ts";
import {
  exactly,
  openRoom,
  roomPath,
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
import { OPTIONAL_SIGN_IN } from "../testkit/tokens.ts";
import { BROWSER_TEST } from "../testkit/ui.ts";

Deno.test({
  name:
    "a moderator of every room bans from every room from the ban dialog; a moderator of listed rooms is not offered it, in Chromium",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer(OPTIONAL_SIGN_IN);
    await using browser = await openChromium();
    const room = uniqueRoom("everywhere");
    const other = uniqueRoom("elsewhere");
    const everywhere = "#moderation-everywhere";
    const LENA = { name: "Lena", moderates: [room] };

    await t.step(
      "a moderator of listed rooms gets the dialog without the choice",
      async () => {
        await using ann = await openRoom(browser, server.origin, room, {
          name: "Ann",
        });
        await using lena = await openAsModerator(
          browser,
          server.origin,
          room,
          {},
          LENA,
        );
        await onlineLine(lena.page, "Ann").waitFor();
        await openDialog(lena.page, "ban", "Ann");
        assert.equal(await lena.page.locator(everywhere).isVisible(), false);
        await lena.page.keyboard.press("Escape");
        await ann.page.close();
      },
    );

    await t.step(
      "a moderator of every room ticks it: the user's page in another room is closed too, and every room refuses them",
      async () => {
        await using mia = await openAsModerator(browser, server.origin, room);
        await using bob = await openRoom(browser, server.origin, room, {
          name: "Bob",
        });
        await onlineLine(mia.page, "Bob").waitFor();
        // Bob's same browser (same key) in another room.
        const elsewhere = await bob.context.newPage();
        await elsewhere.goto(`${server.origin}${roomPath(other)}?name=Bob`);
        await waitUntilConnected(elsewhere);

        await openDialog(mia.page, "ban", "Bob");
        await mia.page.locator(everywhere).waitFor();
        await assertAccessible(mia.page, "the ban dialog with every room");
        await mia.page.locator(everywhere).check();
        await mia.page.fill("#moderation-reason", "spam everywhere");
        await mia.page.locator(".moderation-dialog button[type=submit]")
          .click();
        await mia.page.locator("#chat-log", {
          hasText: "Bob is banned from every room",
        }).waitFor();
        await bob.page.locator("#chat-banned", { hasText: "spam everywhere" })
          .waitFor();
        await elsewhere.locator("#chat-banned", { hasText: "spam everywhere" })
          .waitFor();
        const [ban] = await server.chat.hub.moderation.list({ kind: "ban" });
        assert.equal(ban?.room, null);
        assert.equal(ban?.reason, "spam everywhere");
      },
    );

    await t.step(
      "the list shows the ban to a moderator of listed rooms without Unban; a moderator of every room lifts it, and Bob comes back",
      async () => {
        await using lena = await openAsModerator(
          browser,
          server.origin,
          room,
          {},
          LENA,
        );
        const listed = await openSanctions(lena.page);
        const entry = sanctionEntry(listed, "ban", "Bob");
        await entry.getByText(exactly("From every room")).waitFor();
        assert.equal(await entry.getByRole("button").count(), 0);

        await using mia = await openAsModerator(browser, server.origin, room);
        const dialog = await openSanctions(mia.page);
        await dialog.getByRole("button", { name: "Unban Bob from every room" })
          .click();
        await dialog.getByText(exactly("Nobody is banned here.")).waitFor();
        await assertAccessible(mia.page, "the list after an every-room unban");
        assert.deepEqual(await server.chat.hub.moderation.list({}), []);
        await using bob = await openRoom(browser, server.origin, other, {
          name: "Bob",
        });
        assert.ok(await bob.page.isHidden("#chat-banned"));
      },
    );
  },
});

import assert from "node:assert/strict";
import { assertAccessible } from "../testkit/axe.ts";
import { openChromium } from "../testkit/browser.ts";
import {
  openAliceAndBob,
  roomPath,
  say,
  waitForMessage,
  waitUntilConnected,
} from "../testkit/chat_page.ts";
import { startServer, uniqueRoom } from "../testkit/server.ts";
import { BROWSER_TEST } from "../testkit/ui.ts";

Deno.test({
  name:
    "back in a room, the page shows a New messages line above what came since the last visit, and scrolls to it",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer();
    await using browser = await openChromium();
    const room = uniqueRoom("unread");
    await using pair = await openAliceAndBob(browser, server.origin, room);
    const { alice, bob } = pair;
    await say(alice.page, "read this one");
    await waitForMessage(bob.page, "read this one");
    const divider = bob.page.locator("#chat-log li.unread");

    await t.step("nothing new: no line", async () => {
      await bob.page.reload();
      await waitForMessage(bob.page, "read this one");
      await waitUntilConnected(bob.page);
      assert.equal(await divider.count(), 0);
    });

    await t.step("what came while away is under the line", async () => {
      await bob.page.goto(`${server.origin}/chat/`);
      // Long enough that the end of the log is screens below the line.
      const said = Array.from(
        { length: 10 },
        (_, i) => `while away ${i} ${"and on and on ".repeat(20)}`.trim(),
      );
      for (const text of said) await say(alice.page, text);
      await bob.page.goto(`${server.origin}${roomPath(room)}`);
      await waitUntilConnected(bob.page);
      await divider.getByText("새 메시지").waitFor();
      const next = bob.page.locator("#chat-log li.unread + li.message .text");
      assert.equal(await next.textContent(), said[0]);
      // The page scrolled to the line, not to the end.
      assert.ok(await divider.isVisible());
      const line = await divider.boundingBox();
      const scroller = await bob.page.locator("#chat-scroller").boundingBox();
      assert.ok(line && scroller);
      assert.ok(
        line.y >= scroller.y - 1 && line.y < scroller.y + scroller.height,
      );
      await assertAccessible(bob.page, "the New messages line");
    });
    for (const visitor of [alice, bob]) {
      assert.deepEqual(visitor.problems, []);
    }
  },
});

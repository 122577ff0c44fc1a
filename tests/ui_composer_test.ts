import assert from "node:assert/strict";
import { launchChromium } from "../testkit/browser.ts";
import {
  countMessages,
  openChatPage,
  roomPath,
  send,
  waitUntilConnected,
} from "../testkit/chat_page.ts";
import { startServer, storedMessages, uniqueRoom } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";
import { BROWSER_TEST } from "../testkit/ui.ts";

Deno.test({
  name: "a rate-limited message stays in the composer, refused in Korean",
  ...BROWSER_TEST,
  async fn() {
    // One message a second, two at once: three at once are one too many.
    await using server = await startServer({
      CHAT_RATE_LIMIT: "1",
      CHAT_RATE_BURST: "2",
    });
    const browser = await launchChromium();
    try {
      const room = uniqueRoom("limit");
      await using visitor = await openChatPage(browser, {
        locale: "ko-KR",
        name: "민지",
      });
      const { page } = visitor;
      await page.goto(`${server.origin}${roomPath(room)}`);
      await waitUntilConnected(page);

      // The budget belongs to the sender, this browser's key: another
      // socket with the same key (another tab) spends it.
      const key = await page.evaluate('localStorage.getItem("chat.key")');
      assert.equal(typeof key, "string");
      await using drain = await TestClient.join(
        server.wsUrl(
          `/ws/chat/${room}/?name=${encodeURIComponent("민지")}&key=${key}`,
        ),
      );
      for (let i = 0; i < 3; i++) drain.send({ message: `drain ${i}` });
      await drain.waitForMatching(
        (frame) => frame.type === "error" && frame.code === "rate_limited",
        1,
      );
      const text = "이 메시지는 사라지면 안 됩니다";
      await send(page, text);

      const error = page.locator("#chat-composer-error");
      await error.waitFor({ state: "visible" });
      assert.equal(await error.getAttribute("role"), "alert");
      const reason = await error.textContent() ?? "";
      assert.match(reason, /메시지를 너무 빨리 보내고 있습니다/);
      assert.doesNotMatch(reason, /Too many messages/);
      await page.locator("#chat-message-input").waitFor();
      assert.equal(await page.inputValue("#chat-message-input"), text);
      assert.equal(
        await countMessages(page, text),
        0,
        "the refused message is not shown as sent",
      );
      const stored = await storedMessages(server, room);
      assert.ok(!stored.some((m) => m.message === text), "and not stored");
      assert.deepEqual(visitor.problems, []);
    } finally {
      await browser.close();
    }
  },
});

import assert from "node:assert/strict";
import { launchChromium } from "../testkit/browser.ts";
import {
  exactly,
  myName,
  onlineNames,
  openChatPage,
  roomPath,
  send,
  waitForMessage,
  waitUntilConnected,
} from "../testkit/chat_page.ts";
import { startServer, uniqueRoom } from "../testkit/server.ts";
import { BROWSER_TEST } from "../testkit/ui.ts";

Deno.test({
  name: "a rename is one line, and every page's Online list follows",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer();
    const browser = await launchChromium();
    try {
      const room = uniqueRoom("rename");
      await using english = await openChatPage(browser);
      await using korean = await openChatPage(browser, {
        locale: "ko-KR",
        name: "민지",
      });
      for (const { page } of [english, korean]) {
        await page.goto(`${server.origin}${roomPath(room)}`);
        await waitUntilConnected(page);
      }
      const page = english.page;
      await korean.page.locator("#chat-online-count", { hasText: "2" })
        .waitFor();
      await page.locator("#chat-online-count", { hasText: "2" }).waitFor();
      const old = await myName(page);
      assert.ok(old !== "", "#chat-my-name shows the name");
      const renamed = "하늘";

      await t.step(
        "Escape closes the name form, changing nothing",
        async () => {
          await page.click("#chat-my-name");
          await page.locator("#chat-name-form").waitFor({ state: "visible" });
          await page.locator("#chat-name-input:focus").waitFor();
          await page.keyboard.press("Escape");
          await page.locator("#chat-name-form").waitFor({ state: "hidden" });
          assert.equal(await myName(page), old);
        },
      );

      await t.step("the new name is one line on every page", async () => {
        await page.click("#chat-my-name");
        await page.fill("#chat-name-input", renamed);
        await page.click("#chat-name-save");
        await page.locator("#chat-name-form").waitFor({ state: "hidden" });
        await page.locator("#chat-log li.presence", {
          hasText: `${old} is now ${renamed}`,
        }).waitFor();
        await korean.page.locator("#chat-log li.presence", {
          hasText: `${old} 님이 이름을 ${renamed}(으)로 바꿨습니다`,
        }).waitFor();
        // A message after it from each side: nothing else about the rename
        // can still be on its way.
        await send(page, "after the rename");
        await send(korean.page, "이름 바뀐 뒤");
        for (const { page } of [english, korean]) {
          await waitForMessage(page, "after the rename");
          await waitForMessage(page, "이름 바뀐 뒤");
          const lines = await page.locator(
            "#chat-log li.presence, #chat-log li.notice",
          )
            .allTextContents();
          const about = lines.filter((line) =>
            line.includes(old) || line.includes(renamed)
          );
          assert.equal(about.length, 1, `lines about the rename: ${about}`);
        }
      });

      await t.step("every Online list shows the new name", async () => {
        for (const { page } of [english, korean]) {
          await page.locator("#chat-users li bdi", {
            hasText: exactly(renamed),
          })
            .waitFor({ state: "attached" });
          assert.deepEqual(await onlineNames(page), [renamed, "민지"].sort());
        }
        assert.equal(
          await page.locator("#chat-users li.me bdi").textContent(),
          renamed,
        );
        assert.equal(
          await myName(page),
          renamed,
        );
      });

      await t.step("the name is remembered across a reload", async () => {
        assert.equal(
          await page.evaluate("localStorage.getItem('chat.name')"),
          renamed,
        );
        await page.reload();
        await waitUntilConnected(page);
        assert.equal(
          await myName(page),
          renamed,
        );
      });

      await t.step("a name someone here has is refused in place", async () => {
        await page.click("#chat-my-name");
        await page.fill("#chat-name-input", "민지");
        await page.click("#chat-name-save");
        await page.locator("#chat-name-error").waitFor({ state: "visible" });
        assert.ok((await page.textContent("#chat-name-error"))?.trim());
        await page.click("#chat-name-cancel");
        await page.locator("#chat-name-form").waitFor({ state: "hidden" });
        assert.equal(
          await myName(page),
          renamed,
        );
        assert.deepEqual(
          await onlineNames(korean.page),
          [renamed, "민지"].sort(),
        );
      });
      assert.deepEqual(english.problems, []);
      assert.deepEqual(korean.problems, []);
    } finally {
      await browser.close();
    }
  },
});

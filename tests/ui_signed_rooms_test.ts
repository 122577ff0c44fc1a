import assert from "node:assert/strict";
import { openChromium } from "../testkit/browser.ts";
import {
  exactly,
  openChatPage,
  roomPath,
  waitUntilConnected,
} from "../testkit/chat_page.ts";
import { startServer, uniqueRoom } from "../testkit/server.ts";
import { OPTIONAL_SIGN_IN, signedToken } from "../testkit/tokens.ts";
import { saveScreenshot } from "../testkit/screenshots.ts";
import { BROWSER_TEST } from "../testkit/ui.ts";

Deno.test({
  name:
    "a token limited to some rooms follows the reader through the Rooms link, in Chromium",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer(OPTIONAL_SIGN_IN);
    await using browser = await openChromium();
    const first = uniqueRoom("mine-b");
    const second = uniqueRoom("mine-a");
    const token = await signedToken({
      sub: "u-gus",
      name: "Gus",
      rooms: [first, second],
    });

    await t.step(
      "the index page lists the token's rooms, and each link joins signed in",
      async () => {
        await using tab = await openChatPage(browser);
        const { page } = tab;
        await page.goto(`${server.origin}${roomPath(first)}#token=${token}`);
        await waitUntilConnected(page);
        await page.locator(".room-back").click();
        await page.waitForURL(`${server.origin}/chat/`);
        const section = page.locator("#my-rooms");
        await section.waitFor();
        assert.equal(
          await page.textContent("#my-rooms-who"),
          "Signed in as Gus. Your sign-in lets you into these rooms:",
        );
        assert.deepEqual(
          await section.locator("li .room-name").allTextContents(),
          [second, first], // by name
        );
        await saveScreenshot(page, "index-signed-in-rooms");
        await section.locator("a", { hasText: exactly(second) }).click();
        await page.waitForURL(`${server.origin}${roomPath(second)}`);
        await page.locator("#chat-users li.me bdi", {
          hasText: exactly("Gus"),
        }).waitFor();
        assert.equal(
          await page.locator("#chat-users li.me .verified").count(),
          1,
        );
        assert.deepEqual(tab.problems, []);
      },
    );

    await t.step("a token for any room says so", async () => {
      await using tab = await openChatPage(browser, { locale: "ko-KR" });
      const { page } = tab;
      const anyRoom = await signedToken({ sub: "u-hana", name: "Hana" });
      await page.goto(
        `${server.origin}${roomPath(uniqueRoom("any"))}#token=${anyRoom}`,
      );
      await waitUntilConnected(page);
      await page.goto(`${server.origin}/chat/`);
      await page.locator("#my-rooms").waitFor();
      assert.equal(
        await page.textContent("#my-rooms-who"),
        "Hana 님으로 로그인했습니다. 모든 채팅방에 들어갈 수 있습니다.",
      );
      assert.equal(await page.locator("#my-room-list li").count(), 0);
    });

    await t.step("a tab without a token shows no such list", async () => {
      await using tab = await openChatPage(browser);
      const { page } = tab;
      const answered = page.waitForResponse((response) =>
        response.url().endsWith("/api/rooms")
      );
      await page.goto(`${server.origin}/chat/`);
      await answered;
      assert.ok(await page.isHidden("#my-rooms"));
    });
  },
});

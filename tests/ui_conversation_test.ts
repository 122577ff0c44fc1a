import assert from "node:assert/strict";
import { openChromium } from "../testkit/browser.ts";
import { openRoom } from "../testkit/chat_page.ts";
import { startServer, uniqueRoom } from "../testkit/server.ts";
import { BROWSER_TEST } from "../testkit/ui.ts";

Deno.test({
  name:
    "the room page says who is typing above the composer, in English and Korean, and clears it when their message arrives",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer();
    await using browser = await openChromium();
    const room = uniqueRoom("typing");
    await using alice = await openRoom(browser, server.origin, room, {
      name: "Alice",
    });
    await using bob = await openRoom(browser, server.origin, room, {
      name: "Bob",
    });
    await using carol = await openRoom(browser, server.origin, room, {
      name: "Carol",
      locale: "ko-KR",
    });
    await using dave = await openRoom(browser, server.origin, room, {
      name: "Dave",
    });
    const typing = (page: typeof alice.page) => page.locator("#chat-typing");

    await t.step("one typist is named, politely", async () => {
      assert.equal(await typing(bob.page).getAttribute("aria-live"), "polite");
      await alice.page.fill("#chat-message-input", "hel");
      await typing(bob.page).getByText("Alice is typing…").waitFor();
      await typing(carol.page).getByText("Alice 님이 입력 중…").waitFor();
      assert.equal(await typing(alice.page).textContent(), "");
    });

    await t.step("two typists are both named", async () => {
      await bob.page.fill("#chat-message-input", "hi");
      await typing(carol.page).getByText("Alice 님과 Bob 님이 입력 중…")
        .waitFor();
    });

    await t.step("three typists are several people", async () => {
      await carol.page.fill("#chat-message-input", "안녕");
      await typing(dave.page).getByText("Several people are typing…")
        .waitFor();
      // Alice sees only the others: Bob and Carol.
      await typing(alice.page).getByText("Bob and Carol are typing…")
        .waitFor();
    });

    await t.step("a typist's message takes them off the line", async () => {
      await alice.page.press("#chat-message-input", "Enter");
      await typing(carol.page).getByText(/^Bob 님이 입력 중…$/).waitFor();
    });
    for (const visitor of [alice, bob, carol, dave]) {
      assert.deepEqual(visitor.problems, []);
    }
  },
});

import assert from "node:assert/strict";
import { assertAccessible } from "../testkit/axe.ts";
import { openChromium } from "../testkit/browser.ts";
import {
  countMessages,
  documentWidth,
  messageLine as line,
  openAliceAndBob,
  PHONE,
  RoomVisitors,
  say,
  waitForMessage,
} from "../testkit/chat_page.ts";
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
    await using people = new RoomVisitors(browser, server.origin, room);
    const alice = await people.join({ name: "Alice" });
    const bob = await people.join({ name: "Bob" });
    const carol = await people.join({ name: "Carol", locale: "ko-KR" });
    const dave = await people.join({ name: "Dave" });
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
      await assertAccessible(carol.page, "the typing line");
    });

    await t.step("a typist's message takes them off the line", async () => {
      await alice.page.press("#chat-message-input", "Enter");
      await typing(carol.page).getByText(/^Bob 님이 입력 중…$/).waitFor();
    });
    assert.deepEqual(people.problems, []);
  },
});

Deno.test({
  name:
    "the reader edits and deletes their own messages, from the message's menu or ↑ in the composer, and everyone sees it",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer();
    await using browser = await openChromium();
    const room = uniqueRoom("edit");
    await using pair = await openAliceAndBob(browser, server.origin, room);
    const { alice, bob } = pair;

    await t.step("↑ in an empty composer edits the last message", async () => {
      await say(alice.page, "helo wrld");
      await waitForMessage(bob.page, "helo wrld");
      await alice.page.press("#chat-message-input", "ArrowUp");
      assert.equal(
        await alice.page.inputValue("#chat-message-input"),
        "helo wrld",
      );
      await alice.page.locator("#chat-composer-editing").waitFor();
      await alice.page.fill("#chat-message-input", "hello world");
      await alice.page.press("#chat-message-input", "Enter");
      await waitForMessage(bob.page, "hello world");
      await line(bob.page, "hello world").getByText("(수정됨)").waitFor();
      await line(alice.page, "hello world").getByText("(edited)").waitFor();
      assert.equal(await countMessages(bob.page, "helo wrld"), 0);
    });

    await t.step("Escape leaves the edit with nothing changed", async () => {
      await alice.page.press("#chat-message-input", "ArrowUp");
      await alice.page.locator("#chat-composer-editing").waitFor();
      await alice.page.press("#chat-message-input", "Escape");
      await alice.page.locator("#chat-composer-editing").waitFor({
        state: "hidden",
      });
      assert.equal(await alice.page.inputValue("#chat-message-input"), "");
    });

    await t.step("a phone shows the menu button at once", async () => {
      await say(bob.page, "mine to keep");
      await waitForMessage(alice.page, "mine to keep");
      // On a phone (no hover) the menu button of one's own shows at once.
      await line(bob.page, "mine to keep").getByRole("button", {
        name: "메시지 메뉴",
      }).waitFor();
      const opacity = await bob.page.evaluate(
        `getComputedStyle(document.querySelector(
          "#chat-log li.message.mine .actions-toggle")).opacity`,
      );
      assert.equal(opacity, "1");
    });

    await t.step("the keyboard reaches the menu and deletes", async () => {
      await say(alice.page, "take this back");
      await waitForMessage(bob.page, "take this back");
      const toggle = line(alice.page, "take this back").getByRole("button", {
        name: "Message actions",
      });
      await toggle.focus();
      await toggle.press("Enter");
      assert.equal(await toggle.getAttribute("aria-expanded"), "true");
      // The panel takes focus: Edit first, then Delete.
      await alice.page.keyboard.press("Tab");
      await alice.page.keyboard.press("Enter");
      await line(bob.page, "take this back").waitFor({ state: "detached" });
      await line(alice.page, "take this back").waitFor({ state: "detached" });
      assert.equal(await countMessages(bob.page, "hello world"), 1);
    });

    await t.step("the menu's Edit fills the composer", async () => {
      const toggle = line(alice.page, "hello world").getByRole("button", {
        name: "Message actions",
      });
      await line(alice.page, "hello world").hover();
      await toggle.click();
      await line(alice.page, "hello world").getByRole("button", {
        name: "Edit",
      }).click();
      assert.equal(
        await alice.page.inputValue("#chat-message-input"),
        "hello world",
      );
      await alice.page.fill("#chat-message-input", "hello, world");
      await alice.page.press("#chat-message-input", "Enter");
      await waitForMessage(bob.page, "hello, world");
    });
    for (const visitor of [alice, bob]) {
      assert.deepEqual(visitor.problems, []);
    }
  },
});

Deno.test({
  name:
    "reactions from the message's menu show as chips with counts and names, the reader's own highlighted, and a click on a chip takes it back",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer();
    await using browser = await openChromium();
    const room = uniqueRoom("react");
    await using pair = await openAliceAndBob(browser, server.origin, room);
    const { alice, bob } = pair;
    const shipIt = (page: typeof alice.page) => line(page, "ship it?");
    await say(alice.page, "ship it?");
    await waitForMessage(bob.page, "ship it?");

    await t.step("Bob reacts to Alice's message by keyboard", async () => {
      const toggle = shipIt(bob.page).getByRole("button", {
        name: "메시지 메뉴",
      });
      await toggle.focus();
      await toggle.press("Enter");
      await shipIt(bob.page).getByRole("button", { name: "👍 반응 달기" })
        .press("Enter");
      const chip = shipIt(alice.page).getByRole("button", {
        name: "👍 1: Bob",
      });
      await chip.waitFor();
      assert.equal(await chip.getAttribute("aria-pressed"), "false");
      assert.equal(await chip.getAttribute("title"), "👍 1: Bob");
      const mine = shipIt(bob.page).getByRole("button", { name: "👍 1: Bob" });
      await mine.waitFor();
      assert.equal(await mine.getAttribute("aria-pressed"), "true");
      assert.match(await mine.getAttribute("class") ?? "", /\bmine\b/);
    });

    await t.step("Alice adds hers by clicking the chip", async () => {
      await shipIt(alice.page).getByRole("button", { name: "👍 1: Bob" })
        .click();
      const chip = shipIt(alice.page).getByRole("button", {
        name: "👍 2: Bob, Alice",
      });
      await chip.waitFor();
      assert.equal(await chip.getAttribute("aria-pressed"), "true");
      await shipIt(bob.page).getByRole("button", { name: "👍 2: Bob, Alice" })
        .waitFor();
    });

    await t.step("another emoji gets its own chip", async () => {
      await shipIt(alice.page).hover();
      await shipIt(alice.page).getByRole("button", { name: "Message actions" })
        .click();
      await shipIt(alice.page).getByRole("button", { name: "React with 🎉" })
        .click();
      await shipIt(bob.page).getByRole("button", { name: "🎉 1: Alice" })
        .waitFor();
    });

    await t.step("a click on one's own chip takes it back", async () => {
      await shipIt(bob.page).getByRole("button", { name: "👍 2: Bob, Alice" })
        .click();
      await shipIt(alice.page).getByRole("button", { name: "👍 1: Alice" })
        .waitFor();
    });

    await t.step("a reload shows the reactions from history", async () => {
      await bob.page.reload();
      await shipIt(bob.page).getByRole("button", { name: "👍 1: Alice" })
        .waitFor();
      assert.equal(await shipIt(bob.page).locator(".reaction").count(), 2);
    });

    await t.step("axe finds nothing with chips and an open menu", async () => {
      await assertAccessible(bob.page, "reaction chips (phone, ko)");
      await shipIt(alice.page).hover();
      await shipIt(alice.page).getByRole("button", { name: "Message actions" })
        .click();
      await shipIt(alice.page).locator(".actions").waitFor();
      await assertAccessible(alice.page, "the open message menu");
    });
    for (const visitor of [alice, bob]) {
      assert.deepEqual(visitor.problems, []);
    }
  },
});

Deno.test({
  name:
    "http and https addresses in a message are links that carry no referrer or trust, and a long one wraps on a phone",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer();
    await using browser = await openChromium();
    const room = uniqueRoom("links");
    await using people = new RoomVisitors(browser, server.origin, room);
    const alice = await people.join({ name: "Alice" });
    const bob = await people.join({ name: "Bob", viewport: PHONE });
    // Nothing to break at: only the page's overflow-wrap can wrap it.
    const long = `https://example.com/${"abcdefghij".repeat(20)}`;
    const text =
      `read https://example.com/docs?q=1. or (http://example.org/x_(y)) not javascript:alert(1) nor ftp://example.net/f ${long}`;
    await say(alice.page, text);
    await waitForMessage(bob.page, text);
    const links = bob.page.locator("#chat-log li.message .text a");

    await t.step("only http and https become links", async () => {
      assert.deepEqual(await links.allTextContents(), [
        "https://example.com/docs?q=1",
        "http://example.org/x_(y)",
        long,
      ]);
      assert.equal(
        await links.first().getAttribute("href"),
        "https://example.com/docs?q=1",
      );
      for (const anchor of await links.all()) {
        assert.equal(
          await anchor.getAttribute("rel"),
          "noopener noreferrer nofollow ugc",
        );
      }
    });

    await t.step("the text around them stays text", async () => {
      assert.equal(
        await bob.page.locator("#chat-log li.message .text").textContent(),
        text,
      );
      assert.equal(
        await bob.page.locator("#chat-log li.message .text *").count(),
        3,
      );
    });

    await t.step("a long link wraps inside a 375 px page", async () => {
      assert.ok(await documentWidth(bob.page) <= PHONE.width);
      const link = await links.last().boundingBox();
      assert.ok(link && link.x + link.width <= PHONE.width, "the link wraps");
      assert.equal(
        await bob.page.evaluate(`(() => {
          const scroller = document.getElementById("chat-scroller");
          return scroller.scrollWidth <= scroller.clientWidth;
        })()`),
        true,
        "the log does not scroll sideways",
      );
      await assertAccessible(bob.page, "a message with links (phone)");
    });

    await t.step("an edit's links are links too", async () => {
      await alice.page.press("#chat-message-input", "ArrowUp");
      await alice.page.fill("#chat-message-input", "now https://deno.com");
      await alice.page.press("#chat-message-input", "Enter");
      await bob.page.locator("#chat-log .text a", {
        hasText: "https://deno.com",
      }).waitFor();
    });
    assert.deepEqual(people.problems, []);
  },
});

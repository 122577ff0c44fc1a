import assert from "node:assert/strict";
import { errors, type Locator, type Page } from "playwright-core";
import { openChromium } from "../testkit/browser.ts";
import {
  type ColorScheme,
  DESKTOP,
  documentWidth,
  type Locale,
  messageLine as line,
  openRoom,
  PHONE,
  say,
  type Viewport,
  waitForMessage,
  waitUntilConnected,
} from "../testkit/chat_page.ts";
import { saveScreenshot } from "../testkit/screenshots.ts";
import { startServer, uniqueRoom } from "../testkit/server.ts";
import { BROWSER_TEST } from "../testkit/ui.ts";

/** The most a committed screenshot may weigh. */
const MAX_BYTES = 300 * 1024;

/** The typing line when Alice and Bob type, by language. */
const ALICE_AND_BOB_TYPE: Record<Locale, string> = {
  "en-US": "Alice and Bob are typing…",
  "ko-KR": "Alice 님과 Bob 님이 입력 중…",
};

/** The reader's own words for the menu button, by language. */
const MESSAGE_ACTIONS: Record<Locale, string> = {
  "en-US": "Message actions",
  "ko-KR": "메시지 메뉴",
};

const READERS: readonly {
  device: string;
  viewport: Viewport;
  locale: Locale;
  colorScheme: ColorScheme;
}[] = [
  {
    device: "desktop",
    viewport: DESKTOP,
    locale: "en-US",
    colorScheme: "light",
  },
  { device: "phone", viewport: PHONE, locale: "ko-KR", colorScheme: "dark" },
];

/**
 * Types `text` on `typist` until `shown` is visible. A page sends at most
 * one typing frame every 3 s, and none before it has caught up with the
 * room, so on a busy machine the first keystrokes may tell nobody: the
 * typist goes on typing, as a person would, until the line shows.
 */
async function typeUntilShown(
  typist: Page,
  text: string,
  shown: Locator,
): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    await typist.fill("#chat-message-input", `${text}${".".repeat(attempt)}`);
    try {
      await shown.waitFor({ timeout: 3_500 });
      return;
    } catch (error) {
      if (!(error instanceof errors.TimeoutError)) throw error;
    }
  }
  await shown.waitFor();
}

Deno.test({
  name:
    "screenshots of the conversation features: (edited), reactions, a link, a mention, the message menu, @ completion and who is typing",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer();
    await using browser = await openChromium();
    for (const { device, viewport, locale, colorScheme } of READERS) {
      await t.step(`${locale} on a ${device}, ${colorScheme}`, async () => {
        const room = uniqueRoom("conversation");
        await using alice = await openRoom(browser, server.origin, room, {
          name: "Alice",
          locale,
          viewport,
          colorScheme,
        });
        await using bob = await openRoom(browser, server.origin, room, {
          name: "Bob",
        });
        const { page } = alice;
        const snap = async (state: string, shown = page) => {
          const path = await saveScreenshot(
            shown,
            `conversation-${state}-${device}-${locale.slice(0, 2)}`,
          );
          const { size } = await Deno.stat(path);
          assert.ok(size > 1000 && size < MAX_BYTES, `${path} is ${size} B`);
          assert.equal(await documentWidth(shown), viewport.width, path);
        };

        const link =
          "https://example.com/release-notes/2026/12/07/conversation-features";
        await say(bob.page, `Notes for today: ${link}`);
        await say(page, "thanks, reading them");
        await say(bob.page, "@alice can you check the build after lunch?");
        await waitForMessage(
          page,
          "@alice can you check the build after lunch?",
        );
        // Alice fixes her words; Bob answers with reactions.
        await page.press("#chat-message-input", "ArrowUp");
        await page.fill("#chat-message-input", "thanks @Bob, reading them");
        await page.press("#chat-message-input", "Enter");
        await line(page, "thanks @Bob").locator(".edited").waitFor();
        for (const emoji of ["👍", "🎉"]) {
          await line(bob.page, "thanks @Bob").getByRole("button", {
            name: "Message actions",
          }).click();
          await line(bob.page, "thanks @Bob").getByRole("button", {
            name: `React with ${emoji}`,
          }).click();
          await line(page, "thanks @Bob").locator(".reactions .reaction", {
            hasText: emoji,
          }).waitFor();
        }
        await line(page, "thanks @Bob").locator(".reactions .reaction").first()
          .click();
        await line(page, "thanks @Bob")
          .locator('.reactions .reaction[aria-pressed="true"]').waitFor();
        await snap("log");

        await line(page, "can you check the build").getByRole("button", {
          name: MESSAGE_ACTIONS[locale],
        }).click();
        await line(page, "can you check the build")
          .locator(".actions").waitFor();
        await snap("menu");
        await page.keyboard.press("Escape");
        await line(page, "can you check the build").locator(".actions")
          .waitFor({ state: "detached" });

        await page.locator("#chat-message-input").pressSequentially("sure @");
        await page.locator("#chat-mention-list").waitFor();
        await snap("completion");

        // Carol, reading the room as the reader would, sees Alice and Bob
        // type. A reload starts each one's 3 s between typing frames afresh,
        // and comes before Carol arrives so that her log has no "left" line.
        for (const typist of [alice, bob]) {
          await typist.page.reload();
          await waitUntilConnected(typist.page);
        }
        await using carol = await openRoom(browser, server.origin, room, {
          name: "Carol",
          locale,
          viewport,
          colorScheme,
        });
        await waitForMessage(carol.page, "thanks @Bob, reading them");
        const typing = carol.page.locator("#chat-typing");
        await typeUntilShown(page, "on it", typing.getByText("Alice"));
        await typeUntilShown(
          bob.page,
          "thanks!",
          typing.getByText(ALICE_AND_BOB_TYPE[locale]),
        );
        await snap("typing", carol.page);
        for (const visitor of [alice, bob, carol]) {
          assert.deepEqual(visitor.problems, []);
        }
      });
    }
  },
});

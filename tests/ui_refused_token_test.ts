import assert from "node:assert/strict";
import { auditAccessibility, describeViolations } from "../testkit/axe.ts";
import { openChromium } from "../testkit/browser.ts";
import {
  exactly,
  openChatPage,
  PHONE,
  problemsBesidesRefusal,
  roomPath,
  say,
  waitUntilConnected,
} from "../testkit/chat_page.ts";
import { startServer, uniqueRoom } from "../testkit/server.ts";
import {
  OPTIONAL_SIGN_IN,
  secondsFromNow,
  signedToken,
  TEST_AUTH_SECRET,
} from "../testkit/tokens.ts";
import { saveScreenshot } from "../testkit/screenshots.ts";
import { BROWSER_TEST } from "../testkit/ui.ts";

const NO_ACCESS = "You have no access to this room";
const EXPIRED = "Your sign-in expired";
const CLOSED_NOTE = "Messages cannot be sent until the chat connects again";

Deno.test({
  name:
    "with optional sign-in, a page whose token is refused says why and may go on as a guest, in Chromium",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer(OPTIONAL_SIGN_IN);
    await using browser = await openChromium();
    await t.step(
      "a token for other rooms: no access, the composer is off, and the guest way in forgets the token",
      async () => {
        await using tab = await openChatPage(browser, { name: "Dora" });
        const { page } = tab;
        const room = uniqueRoom("closed");
        const elsewhere = await signedToken({
          sub: "u-dora",
          name: "Dora",
          rooms: ["elsewhere"],
        });
        await page.goto(
          `${server.origin}${roomPath(room)}#token=${elsewhere}`,
        );
        await page.locator("#chat-status-text", { hasText: NO_ACCESS })
          .waitFor();
        assert.doesNotMatch(
          await page.textContent("#chat-status-text") ?? "",
          new RegExp(EXPIRED),
        );
        // The same token would be refused again: no "Retry now".
        assert.ok(await page.isHidden("#chat-retry"));
        const guest = page.getByRole("button", {
          name: "Continue as a guest",
        });
        assert.ok(await guest.isVisible());
        // Nothing is queued for a connection that will not come.
        assert.ok(await page.isDisabled("#chat-message-input"));
        assert.ok(await page.isDisabled("#chat-message-submit"));
        await page.locator("#chat-composer-closed", { hasText: CLOSED_NOTE })
          .waitFor();
        await saveScreenshot(page, "room-no-access-desktop");
        for (const colorScheme of ["light", "dark"] as const) {
          await page.emulateMedia({ colorScheme });
          const violations = await auditAccessibility(page);
          assert.equal(
            violations.length,
            0,
            `axe, ${colorScheme}:\n${describeViolations(violations)}`,
          );
        }

        const sockets: string[] = [];
        page.on("websocket", (socket) => sockets.push(socket.url()));
        await guest.click();
        await waitUntilConnected(page);
        assert.equal(
          await page.evaluate('sessionStorage.getItem("chat.token")'),
          null,
        );
        assert.ok(
          sockets.length > 0 &&
            sockets.every((url) => !url.includes("token=")),
          `joined without the token: ${sockets.join(", ")}`,
        );
        assert.equal(await page.textContent("#chat-my-name-text"), "Dora");
        assert.equal(
          await page.locator("#chat-users li.me .verified").count(),
          0,
        );
        assert.ok(await page.isHidden("#chat-composer-closed"));
        assert.ok(await page.isEnabled("#chat-message-input"));
        await say(page, "in as a guest");
        assert.deepEqual(problemsBesidesRefusal(tab.problems), []);
      },
    );

    await t.step(
      "an expired token says the sign-in expired, not that the room is closed",
      async () => {
        await using tab = await openChatPage(browser, { viewport: PHONE });
        const { page } = tab;
        const room = uniqueRoom("expired");
        const stale = await signedToken({
          sub: "u-eve",
          name: "Eve",
          exp: secondsFromNow(-60),
        });
        await page.goto(`${server.origin}${roomPath(room)}#token=${stale}`);
        await page.locator("#chat-status-text", { hasText: EXPIRED })
          .waitFor();
        await saveScreenshot(page, "room-sign-in-expired-phone");
        assert.doesNotMatch(
          await page.textContent("#chat-status-text") ?? "",
          new RegExp(NO_ACCESS),
        );
        assert.ok(await page.isDisabled("#chat-message-input"));
        await page.getByRole("button", { name: "Continue as a guest" })
          .click();
        await waitUntilConnected(page);
        // A guest name chosen by the server, not the token's.
        assert.match(
          await page.textContent("#chat-my-name-text") ?? "",
          /^guest-/,
        );
        assert.deepEqual(problemsBesidesRefusal(tab.problems), []);
      },
    );

    await t.step("the Korean page says the same in Korean", async () => {
      await using tab = await openChatPage(browser, { locale: "ko-KR" });
      const { page } = tab;
      const room = uniqueRoom("ko");
      const elsewhere = await signedToken({ sub: "u-kim", rooms: ["other"] });
      await page.goto(`${server.origin}${roomPath(room)}#token=${elsewhere}`);
      await page.locator("#chat-status-text", {
        hasText: "이 채팅방에 들어갈 권한이 없습니다",
      }).waitFor();
      assert.equal(
        await page.textContent("#chat-continue-guest"),
        "게스트로 계속하기",
      );
    });
  },
});

Deno.test({
  name:
    "with sign-in required, a refused token offers no guest way in, in Chromium",
  ...BROWSER_TEST,
  async fn() {
    await using server = await startServer({
      CHAT_AUTH: "required",
      CHAT_AUTH_SECRET: TEST_AUTH_SECRET,
    });
    await using browser = await openChromium();
    await using tab = await openChatPage(browser);
    const { page } = tab;
    const elsewhere = await signedToken({ sub: "u-fay", rooms: ["other"] });
    await page.goto(
      `${server.origin}${roomPath(uniqueRoom("req"))}#token=${elsewhere}`,
    );
    await page.locator("#chat-status-text", { hasText: NO_ACCESS }).waitFor();
    assert.ok(await page.isHidden("#chat-continue-guest"));
    assert.ok(await page.isDisabled("#chat-message-input"));
    assert.equal(
      await page.getByRole("button", { name: exactly("Continue as a guest") })
        .count(),
      0,
    );
  },
});

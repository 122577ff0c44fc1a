import assert from "node:assert/strict";
import type { CDPSession, Locator, Page } from "playwright-core";
import { assertAccessible } from "../testkit/axe.ts";
import { openChromium } from "../testkit/browser.ts";
import {
  messageLine as line,
  openAliceAndBob,
  openRoom,
  PHONE,
  say,
  waitForMessage,
} from "../testkit/chat_page.ts";
import { startServer, uniqueRoom } from "../testkit/server.ts";
import { BROWSER_TEST } from "../testkit/ui.ts";

/** The middle of `locator`, which must be displayed. */
async function middle(locator: Locator): Promise<{ x: number; y: number }> {
  const found = await locator.boundingBox();
  assert.ok(found, "the element is displayed");
  return { x: found.x + found.width / 2, y: found.y + found.height / 2 };
}

/**
 * A finger on the touch screen of `page`, through the DevTools protocol:
 * Playwright's `touchscreen` only taps, and a long press is a touch held
 * down.
 */
class Finger {
  private constructor(readonly page: Page, readonly cdp: CDPSession) {}

  static async on(page: Page): Promise<Finger> {
    return new Finger(page, await page.context().newCDPSession(page));
  }

  async down(at: { x: number; y: number }): Promise<void> {
    await this.cdp.send("Input.dispatchTouchEvent", {
      type: "touchStart",
      touchPoints: [at],
    });
  }

  async move(to: { x: number; y: number }): Promise<void> {
    await this.cdp.send("Input.dispatchTouchEvent", {
      type: "touchMove",
      touchPoints: [to],
    });
  }

  async up(): Promise<void> {
    await this.cdp.send("Input.dispatchTouchEvent", {
      type: "touchEnd",
      touchPoints: [],
    });
  }

  async tap(locator: Locator): Promise<void> {
    const { x, y } = await middle(locator);
    await this.page.touchscreen.tap(x, y);
  }

  /** Holds on the line of `text` until its menu shows, then lifts. */
  async longPress(text: string): Promise<void> {
    await this.down(await middle(line(this.page, text).locator(".text")));
    await line(this.page, text).locator(".actions").waitFor();
    await this.up();
  }
}

// Records, in the page, the text of each message whose menu opens, so that
// a test can tell which presses opened one.
const RECORD_OPENED = `(() => {
  window.openedMenus = [];
  new MutationObserver((changes) => {
    for (const change of changes) {
      if (change.target.getAttribute("aria-expanded") === "true") {
        window.openedMenus.push(
          change.target.closest("li.message").querySelector(".text")
            .textContent,
        );
      }
    }
  }).observe(document.getElementById("chat-log"), {
    subtree: true,
    attributeFilter: ["aria-expanded"],
  });
})()`;

/** The messages whose menu opened in `page` since {@linkcode RECORD_OPENED}. */
async function openedMenus(page: Page): Promise<unknown> {
  return await page.evaluate("window.openedMenus");
}

Deno.test({
  name:
    "on a phone a long press on a message opens its menu with focus in it, and a tap, a moving finger or a mouse does not",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer();
    await using browser = await openChromium();
    const room = uniqueRoom("press");
    await using pair = await openAliceAndBob(browser, server.origin, room);
    const { alice, bob } = pair;
    // Carol's long presses are the clock of the steps that show that
    // nothing opens: each takes longer than a long press of Bob's or
    // Alice's begun before it would.
    await using carol = await openRoom(browser, server.origin, room, {
      name: "Carol",
      viewport: PHONE,
    });
    await say(alice.page, "hold me");
    await say(alice.page, "tap me");
    await say(bob.page, "my own words");
    for (const { page } of [alice, carol]) {
      await waitForMessage(page, "my own words");
    }
    const { page } = bob;
    const finger = await Finger.on(page);
    const clock = await Finger.on(carol.page);
    const menu = (text: string) => line(page, text).locator(".actions");
    for (const visitor of [alice, bob]) {
      await visitor.page.evaluate(RECORD_OPENED);
    }
    /** Carol holds a finger on a message until its menu shows, and closes it. */
    const tick = async () => {
      await clock.longPress("hold me");
      await carol.page.keyboard.press("Escape");
      await line(carol.page, "hold me").locator(".actions").waitFor({
        state: "detached",
      });
    };

    await t.step("a held finger opens the menu, focus in it", async () => {
      await finger.longPress("hold me");
      assert.deepEqual(await openedMenus(page), ["hold me"]);
      assert.equal(
        await line(page, "hold me").locator(".actions-toggle")
          .getAttribute("aria-expanded"),
        "true",
      );
      assert.equal(
        await page.evaluate(
          `document.activeElement.closest(".actions") !== null`,
        ),
        true,
        "focus is in the menu",
      );
      assert.equal(
        await page.evaluate(`document.getSelection().toString()`),
        "",
        "no text is selected",
      );
      await assertAccessible(page, "the menu opened by a long press");
    });

    await t.step("Escape closes it, focus back on its button", async () => {
      await page.keyboard.press("Escape");
      await menu("hold me").waitFor({ state: "detached" });
      assert.equal(
        await page.evaluate(
          `document.activeElement.classList.contains("actions-toggle")`,
        ),
        true,
      );
    });

    await t.step("a tap outside closes it", async () => {
      await finger.longPress("my own words");
      // One's own message offers Edit and Delete.
      await menu("my own words").getByRole("button", { name: "지우기" })
        .waitFor();
      await finger.tap(page.locator("#chat-composer"));
      await menu("my own words").waitFor({ state: "detached" });
    });

    await t.step("a short tap opens nothing", async () => {
      await finger.tap(line(page, "tap me").locator(".text"));
      await tick();
      assert.deepEqual(await openedMenus(page), ["hold me", "my own words"]);
    });

    await t.step("a finger that moves is not a long press", async () => {
      const start = await middle(line(page, "tap me").locator(".text"));
      await finger.down(start);
      // Past the page's 10 px, short of the drift at which the browser
      // takes the touch for a scroll and cancels the pointer itself.
      await finger.move({ x: start.x + 13, y: start.y });
      await tick();
      await finger.up();
      assert.deepEqual(await openedMenus(page), ["hold me", "my own words"]);
    });

    await t.step("a mouse held down is not a long press", async () => {
      const { x, y } = await middle(
        line(alice.page, "tap me").locator(".text"),
      );
      await alice.page.mouse.move(x, y);
      await alice.page.mouse.down();
      await tick();
      await alice.page.mouse.up();
      assert.deepEqual(await openedMenus(alice.page), []);
    });

    await t.step("the browser's own long press opens it at once", async () => {
      await finger.down(await middle(line(page, "tap me").locator(".text")));
      // A phone whose long press is shorter than the page's asks for its
      // context menu while the finger is down; the evaluation runs whole
      // before any timer of the page's could.
      const answer = await page.evaluate(`(() => {
        const item = [...document.querySelectorAll("#chat-log li.message")]
          .find((item) => item.querySelector(".text").textContent === "tap me");
        const shown = item.querySelector(".text").dispatchEvent(
          new MouseEvent("contextmenu", { bubbles: true, cancelable: true }),
        );
        return { shown, opened: item.querySelector(".actions") !== null };
      })()`);
      await finger.up();
      assert.deepEqual(answer, { shown: false, opened: true });
      await page.keyboard.press("Escape");
      await menu("tap me").waitFor({ state: "detached" });
    });

    await t.step(
      "a finger resting not quite still opens it, and its reaction reaches everyone",
      async () => {
        // A finger never rests quite still: a few pixels are still a press.
        const start = await middle(line(page, "hold me").locator(".text"));
        await finger.down(start);
        await finger.move({ x: start.x + 4, y: start.y + 3 });
        await menu("hold me").waitFor();
        await finger.up();
        await finger.tap(
          menu("hold me").getByRole("button", {
            name: "👍 반응 달기",
          }),
        );
        await line(alice.page, "hold me").getByRole("button", {
          name: "👍 1: Bob",
        }).waitFor();
        await menu("hold me").waitFor({ state: "detached" });
      },
    );
    for (const visitor of [alice, bob, carol]) {
      assert.deepEqual(visitor.problems, []);
    }
  },
});

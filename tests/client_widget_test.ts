/**
 * The browser widget of docs/client.md works as shown, on a site of its
 * own: Chromium opens the HTML file from another origin (listed in
 * `ALLOWED_ORIGINS`), which imports the library cross-origin from the chat
 * server's `/client.js`, and chats with a client on a raw socket.
 *
 * @module
 */

import assert from "node:assert/strict";
import { launchChromium } from "../testkit/browser.ts";
import { ROOT } from "../testkit/cli.ts";
import { startServer } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";
import { BROWSER_TEST } from "../testkit/ui.ts";

/** The address the widget names for the chat server. */
const PUBLIC_SERVER = "https://chat.example";

Deno.test({
  name: "the widget of docs/client.md chats from another site",
  ...BROWSER_TEST,
  async fn() {
    const html = await Deno.readTextFile(
      new URL("docs/examples/client/widget.html", ROOT),
    );
    // The site: one page, the widget pointed at the test's chat server.
    let chatOrigin = "";
    const site = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      () =>
        new Response(html.replaceAll(PUBLIC_SERVER, chatOrigin), {
          headers: { "Content-Type": "text/html; charset=utf-8" },
        }),
    );
    const siteOrigin = `http://127.0.0.1:${site.addr.port}`;
    const browser = await launchChromium();
    try {
      await using server = await startServer({
        ALLOWED_ORIGINS: siteOrigin,
        CHAT_RATE_LIMIT: "0",
      });
      chatOrigin = server.origin;
      await using bob = await TestClient.join(
        server.wsUrl("/ws/chat/lobby/?name=bob"),
      );
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on("pageerror", (error) => problems.push(error.message));
      page.on("console", (message) => {
        if (message.type() === "error") problems.push(message.text());
      });
      await page.goto(`${siteOrigin}/`);
      await page.locator("#you", { hasText: /^guest-/ }).waitFor();
      assert.equal(await page.textContent("#online"), "2");

      await page.fill("#text", "hello from the widget");
      await page.press("#text", "Enter");
      await page.locator("#log p", { hasText: "hello from the widget" })
        .waitFor();
      const [fromWidget] = await bob.waitForType("message", 1);
      assert.equal(fromWidget?.message, "hello from the widget");
      assert.equal(await page.inputValue("#text"), "");

      bob.send({ message: "hello from bob" });
      await page.locator("#log p", { hasText: "bob: hello from bob" })
        .waitFor();
      assert.deepEqual(await page.locator("#log p").allTextContents(), [
        `${fromWidget?.user}: hello from the widget`,
        "bob: hello from bob",
      ]);
      assert.equal(await page.textContent("#status"), "");
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      await site.shutdown();
    }
  },
});

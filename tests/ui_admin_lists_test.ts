import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { signedInConsole } from "../testkit/admin_page.ts";
import { openChromium } from "../testkit/browser.ts";
import { apiExpect, MODERATION_API_KEY } from "../testkit/moderation_api.ts";
import { startServer, uniqueRoom, waitUntil } from "../testkit/server.ts";
import { TestClient } from "../testkit/test_client.ts";
import { BROWSER_TEST } from "../testkit/ui.ts";

const ENV = { CHAT_API_KEY: MODERATION_API_KEY };

/** Entries the audit page shows before "Older entries" (its `PAGE`). */
const AUDIT_PAGE = 50;

/** The room names in the rooms table, top to bottom. */
async function listedRooms(page: Page): Promise<string[]> {
  return await page.locator("#rooms-list tr th bdi").allTextContents();
}

Deno.test({
  name: "the console's audit log pages back with Older entries, in Chromium",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer(ENV);
    await using browser = await openChromium();
    const room = uniqueRoom("audited");
    const total = AUDIT_PAGE + 5;
    const reason = (n: number) => `batch-${String(n).padStart(2, "0")}`;
    for (let n = 1; n <= total; n++) {
      await apiExpect(server, 201, "POST", `/api/rooms/${room}/mutes`, {
        sub: `u-${n}`,
        duration: 600,
        reason: reason(n),
      });
    }
    await using admin = await signedInConsole(
      browser,
      server.origin,
      MODERATION_API_KEY,
    );
    const { page } = admin;
    const rows = page.locator("#audit-list tr");
    const older = page.locator("#audit-older");

    await t.step("the first page holds the newest entries only", async () => {
      await page.goto(`${server.origin}/admin/audit`);
      await rows.filter({ hasText: reason(total) }).waitFor();
      await older.waitFor({ state: "visible" });
      assert.equal(await rows.count(), AUDIT_PAGE);
      assert.equal(await rows.filter({ hasText: reason(1) }).count(), 0);
      assert.match(
        await rows.last().textContent() ?? "",
        new RegExp(reason(total - AUDIT_PAGE + 1)),
        "the oldest of the first page is last",
      );
    });

    await t.step(
      "Older entries adds the rest below, and goes once none are left",
      async () => {
        await older.click();
        await rows.filter({ hasText: reason(1) }).waitFor();
        await older.waitFor({ state: "hidden" });
        assert.equal(await rows.count(), total);
        // The sixth column is the reason (When, By, Action, Room, User).
        const reasons = await page.locator("#audit-list tr td:nth-child(6)")
          .allTextContents();
        assert.deepEqual(
          reasons,
          Array.from({ length: total }, (_, i) => reason(total - i)),
          "newest first, no entry twice",
        );
      },
    );
    assert.deepEqual(admin.problems, []);
  },
});

Deno.test({
  name:
    "the console's rooms sort by people online or by activity, and the search filters them, in Chromium",
  ...BROWSER_TEST,
  async fn(t) {
    await using server = await startServer(ENV);
    await using browser = await openChromium();
    const tag = uniqueRoom("listed");
    const busy = `${tag}a`;
    const quiet = `${tag}b`;
    const idle = `${tag}c`;
    const other = uniqueRoom("elsewhere");
    /** Posts to `room` through the API; waits until the clock has moved on. */
    const post = async (room: string) => {
      const frame = await apiExpect(
        server,
        201,
        "POST",
        `/api/rooms/${room}/messages`,
        { user: "bot", message: `in ${room}` },
      );
      const at = Date.parse(String(frame.ts));
      assert.ok(Number.isFinite(at), JSON.stringify(frame));
      // Rooms sort by their last message's time: no two may share one.
      await waitUntil(() => Date.now() > at, "the clock moves on");
    };
    // Oldest message in the busiest room, newest in the room nobody is in.
    await post(busy);
    await post(quiet);
    await post(other);
    await post(idle);
    const join = (room: string, name: string) =>
      TestClient.join(server.wsUrl(`/ws/chat/${room}/?name=${name}`));
    await using _ann = await join(busy, "ann");
    await using _bob = await join(busy, "bob");
    await using _cat = await join(quiet, "cat");
    await using admin = await signedInConsole(
      browser,
      server.origin,
      MODERATION_API_KEY,
    );
    const { page } = admin;
    await page.goto(`${server.origin}/admin/rooms`);
    await page.locator("#rooms-list bdi", { hasText: other }).waitFor();

    await t.step("the search keeps only the rooms that match", async () => {
      await page.fill("#rooms-search", tag.toUpperCase());
      await page.locator("#rooms-list bdi", { hasText: other }).waitFor({
        state: "detached",
      });
      assert.deepEqual((await listedRooms(page)).sort(), [busy, quiet, idle]);
    });

    await t.step("by people online: the busiest room first", async () => {
      assert.equal(await page.inputValue("#rooms-sort"), "online");
      assert.deepEqual(await listedRooms(page), [busy, quiet, idle]);
    });

    await t.step("by activity: the latest message first", async () => {
      await page.selectOption("#rooms-sort", "activity");
      await waitUntil(
        async () => (await listedRooms(page))[0] === idle,
        "the rooms re-sorted by activity",
      );
      assert.deepEqual(await listedRooms(page), [idle, quiet, busy]);
    });

    await t.step("clearing the search shows every room again", async () => {
      await page.fill("#rooms-search", "");
      await page.locator("#rooms-list bdi", { hasText: other }).waitFor();
      const all = await listedRooms(page);
      assert.deepEqual(
        all.filter((name) => name !== other),
        [idle, quiet, busy],
      );
      assert.equal(all.indexOf(other), 1, "between idle and quiet by time");
    });
    assert.deepEqual(admin.problems, []);
  },
});

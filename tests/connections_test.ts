import assert from "node:assert/strict";
import { ConnectionTracker } from "../routes/connections.ts";

Deno.test("connection tracker", async (t) => {
  await t.step("limits connections per address and in total", () => {
    const tracker = new ConnectionTracker({ maxPerIp: 2, maxTotal: 3 });
    const a1 = tracker.reserve("a");
    const a2 = tracker.reserve("a");
    const a3 = tracker.reserve("a");
    assert.ok(a1.ok && a2.ok);
    assert.ok(!a3.ok);
    assert.equal(a3.status, 429);
    assert.equal(a3.reason, "per_ip");
    assert.ok(tracker.reserve("b").ok);
    const c = tracker.reserve("c");
    assert.ok(!c.ok);
    assert.equal(c.status, 503);
    assert.equal(c.reason, "total");
    assert.equal(tracker.size, 3);
  });

  await t.step("release is idempotent and frees the place", () => {
    const tracker = new ConnectionTracker({ maxPerIp: 1, maxTotal: 10 });
    const first = tracker.reserve("a");
    assert.ok(first.ok);
    first.slot.release();
    first.slot.release();
    assert.equal(tracker.size, 0);
    const again = tracker.reserve("a");
    assert.ok(again.ok);
    assert.ok(
      !tracker.reserve("a").ok,
      "a double release did not free two places",
    );
  });

  await t.step("refuses everything once closing", () => {
    const tracker = new ConnectionTracker({ maxPerIp: 1, maxTotal: 1 });
    tracker.closeAll(1001, "bye");
    const refused = tracker.reserve("a");
    assert.ok(!refused.ok);
    assert.equal(refused.reason, "shutting_down");
    assert.equal(refused.status, 503);
  });
});

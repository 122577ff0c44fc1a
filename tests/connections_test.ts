import assert from "node:assert/strict";
import { ConnectionTracker, CountingLimiter } from "../http/connections.ts";

const tracker = (maxPerIp: number, maxTotal: number) =>
  new ConnectionTracker(new CountingLimiter({ maxPerIp, maxTotal }));

Deno.test("connection tracker", async (t) => {
  await t.step("limits connections per address and in total", async () => {
    const connections = tracker(2, 3);
    const a1 = await connections.reserve("a");
    const a2 = await connections.reserve("a");
    const a3 = await connections.reserve("a");
    assert.ok(a1.ok && a2.ok);
    assert.ok(!a3.ok);
    assert.equal(a3.status, 429);
    assert.equal(a3.reason, "per_ip");
    assert.ok((await connections.reserve("b")).ok);
    const c = await connections.reserve("c");
    assert.ok(!c.ok);
    assert.equal(c.status, 503);
    assert.equal(c.reason, "total");
    assert.equal(connections.size, 3);
  });

  await t.step("release is idempotent and frees the place", async () => {
    const connections = tracker(1, 10);
    const first = await connections.reserve("a");
    assert.ok(first.ok);
    first.slot.release();
    first.slot.release();
    assert.equal(connections.size, 0);
    const again = await connections.reserve("a");
    assert.ok(again.ok);
    assert.ok(
      !(await connections.reserve("a")).ok,
      "a double release did not free two places",
    );
  });

  await t.step("refuses everything once closing", async () => {
    const connections = tracker(1, 1);
    connections.closeAll(1001, "bye");
    const refused = await connections.reserve("a");
    assert.ok(!refused.ok);
    assert.equal(refused.reason, "shutting_down");
    assert.equal(refused.status, 503);
  });

  await t.step(
    "the connect rate refuses a burst of new sockets per address",
    () => {
      const limiter = new CountingLimiter({
        maxPerIp: 100,
        maxTotal: 100,
        connectRate: { rate: 1, burst: 2 },
      });
      assert.equal(limiter.tryAcquire("a"), undefined);
      assert.equal(limiter.tryAcquire("a"), undefined);
      const refused = limiter.tryAcquire("a");
      assert.equal(refused?.reason, "connect_rate");
      assert.equal(refused?.status, 429);
      assert.equal(limiter.tryAcquire("b"), undefined, "another address");
      limiter.release("a");
      assert.equal(
        limiter.tryAcquire("a")?.reason,
        "connect_rate",
        "closing a socket gives back no connect token",
      );
    },
  );

  await t.step("one limiter counts for several trackers", async () => {
    const shared = new CountingLimiter({ maxPerIp: 1, maxTotal: 10 });
    const one = new ConnectionTracker(shared);
    const two = new ConnectionTracker(shared);
    const first = await one.reserve("a");
    assert.ok(first.ok);
    const second = await two.reserve("a");
    assert.ok(!second.ok, "the second isolate saw the first one's place");
    first.slot.release();
    assert.ok((await two.reserve("a")).ok);
    assert.equal(shared.total, 1);
  });
});

import assert from "node:assert/strict";
import { createTurnPacer } from "../routes/turn_pacer.ts";
import { setImmediate } from "node:timers";

/** Lets every queued microtask run, but no timer or I/O. */
async function drainMicrotasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

Deno.test("turn pacer", async (t) => {
  await t.step(
    "lets perTurn messages through at once, then waits",
    async () => {
      const pace = createTurnPacer(3);
      const handled: number[] = [];
      const all = Array.from(
        { length: 7 },
        (_, i) => pace().then(() => handled.push(i)),
      );
      await drainMicrotasks();
      assert.deepEqual(handled, [0, 1, 2], "only a turn's quota before a turn");
      await Promise.all(all);
      assert.deepEqual(handled, [0, 1, 2, 3, 4, 5, 6], "all, in order");
    },
  );

  await t.step("gives a fresh quota in a later turn", async () => {
    const pace = createTurnPacer(2);
    await pace();
    await pace();
    // The end of this turn: where the pacer starts its count again.
    await new Promise((resolve) => setImmediate(resolve));
    let passed = false;
    const next = pace().then(() => (passed = true));
    await drainMicrotasks();
    assert.ok(passed, "a new turn starts a new quota");
    await next;
  });
});

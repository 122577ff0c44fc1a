import assert from "node:assert/strict";
import { createTimedTurnPacer, createTurnPacer } from "../http/turn_pacer.ts";
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

Deno.test("timed turn pacer", async (t) => {
  await t.step(
    "lets work start until the turn has used its time, then waits for the next turn",
    async () => {
      let clock = 0;
      const pace = createTimedTurnPacer(5, () => clock);
      await pace();
      clock = 4;
      let second = false;
      const secondDone = pace().then(() => (second = true));
      await drainMicrotasks();
      assert.ok(second, "within the turn's time: at once");
      await secondDone;
      clock = 5;
      let third = false;
      const thirdDone = pace().then(() => (third = true));
      await drainMicrotasks();
      assert.ok(!third, "the turn's time is used: it waits");
      await thirdDone;
      assert.ok(third, "it starts in a later turn");
    },
  );

  await t.step(
    "waiting work starts in order, a turn's worth at a time",
    async () => {
      let clock = 0;
      const pace = createTimedTurnPacer(5, () => clock);
      await pace();
      clock = 10;
      const started: number[] = [];
      const all = [0, 1, 2].map((i) =>
        pace().then(() => {
          started.push(i);
          clock += 5; // each takes the whole of a turn's time
        })
      );
      await drainMicrotasks();
      assert.deepEqual(started, []);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(started, [0], "one per turn when each uses it all");
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(started, [0, 1]);
      await Promise.all(all);
      assert.deepEqual(started, [0, 1, 2]);
    },
  );
});

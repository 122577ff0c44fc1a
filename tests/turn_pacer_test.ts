import assert from "node:assert/strict";
import { createTurnPacer } from "../routes/turn_pacer.ts";

Deno.test("turn pacer", async (t) => {
  await t.step(
    "runs perTurn tasks at once, then the rest in later turns, in order",
    async () => {
      const pace = createTurnPacer(3);
      const handled: number[] = [];
      const allDone = Promise.withResolvers<void>();
      for (let i = 0; i < 7; i++) {
        pace(() => {
          handled.push(i);
          if (i === 6) allDone.resolve();
        });
      }
      assert.deepEqual(handled, [0, 1, 2], "only a turn's quota at once");
      await allDone.promise;
      assert.deepEqual(handled, [0, 1, 2, 3, 4, 5, 6], "all, in order");
    },
  );

  await t.step("starts the quota over in its turn", async () => {
    const pace = createTurnPacer(2);
    const waited = Promise.withResolvers<void>();
    let ran = 0;
    pace(() => ran++);
    pace(() => ran++);
    pace(() => {
      ran++;
      waited.resolve();
    });
    assert.equal(ran, 2, "the third task waits");
    await waited.promise;
    // That turn ran one task: one more fits in its quota.
    pace(() => ran++);
    assert.equal(ran, 4, "a task runs at once again");
  });
});
